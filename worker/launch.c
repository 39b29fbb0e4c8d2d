/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Starting job shells, watching them, and keeping their results in the
 * spool until the server has them. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <hwloc.h>

#include "lib/log.h"
#include "lib/proto.h"
#include "lib/util.h"
#include "worker/worker.h"

struct wjob *launch_find(struct worker *w, int64_t id, int attempt)
{
    for (struct wjob *j = w->jobs; j; j = j->next)
        if (j->id == id && j->attempt == attempt)
            return j;
    return NULL;
}

static struct wjob *wjob_add(struct worker *w, int64_t id, int attempt)
{
    struct wjob *j = calloc(1, sizeof(*j));

    if (!j)
        return NULL;
    j->id = id;
    j->attempt = attempt;
    j->pidfd = -1;
    snprintf(j->dir, sizeof(j->dir), "%s/jobs/%lld.%d", w->spool, (long long)id,
             attempt);
    j->next = w->jobs;
    w->jobs = j;
    return j;
}

static void wjob_remove(struct worker *w, struct wjob *j)
{
    for (struct wjob **pp = &w->jobs; *pp; pp = &(*pp)->next)
        if (*pp == j) {
            *pp = j->next;
            break;
        }
    if (j->pidfd >= 0)
        close(j->pidfd);
    json_decref(j->result);
    free(j->cpus);
    free(j);
}

void launch_forget_all(struct worker *w)
{
    while (w->jobs)
        wjob_remove(w, w->jobs);
}

/* A job still running here whose cpus overlap cpus, or NULL.  The server
 * never gives a core to two jobs at once; this is the node's own check. */
static struct wjob *cpus_in_use(struct worker *w, const char *cpus)
{
    hwloc_bitmap_t want = hwloc_bitmap_alloc(), have = hwloc_bitmap_alloc();
    struct wjob *found = NULL;

    if (want && have && hwloc_bitmap_list_sscanf(want, cpus) == 0)
        for (struct wjob *j = w->jobs; j && !found; j = j->next)
            if ((j->shell || j->launching || j->relaunch) && !j->result
                && j->cpus && hwloc_bitmap_list_sscanf(have, j->cpus) == 0
                && hwloc_bitmap_intersects(want, have))
                found = j;
    hwloc_bitmap_free(want);
    hwloc_bitmap_free(have);
    return found;
}

/* The cpus of a job in the spool, from its job.json. */
static char *spooled_cpus(const struct wjob *j)
{
    char path[PATH_MAX + 16];
    json_t *msg;
    const char *cpus = NULL;
    char *out = NULL;

    snprintf(path, sizeof(path), "%s/job.json", j->dir);
    if ((msg = json_load_file(path, 0, NULL))
        && json_unpack(msg, "{s:s}", "cpus", &cpus) == 0)
        out = strdup(cpus);
    json_decref(msg);
    return out;
}

/* The result a shell left, or one that says why there is none. */
static json_t *read_result(struct wjob *j)
{
    char path[PATH_MAX + 16];
    json_t *r;

    snprintf(path, sizeof(path), "%s/result.json", j->dir);
    if ((r = json_load_file(path, 0, NULL)) && json_is_object(r))
        return r;
    json_decref(r);
    return json_pack("{s:I, s:i, s:i, s:i, s:s}", "id", (json_int_t)j->id,
                     "attempt", j->attempt, "exit_code", -1, "signal", 0,
                     "reason", "job shell ended without a result");
}

static void finish(struct worker *w, struct wjob *j)
{
    json_t *r = read_result(j);

    /* The result file is the record; the message may be sent many times. */
    json_object_set_new(r, "version", json_integer(KILN_PROTO_VERSION));
    json_object_set_new(r, "id", json_integer(j->id));
    json_object_set_new(r, "attempt", json_integer(j->attempt));
    json_decref(j->result);
    j->result = r;
    j->next_send = 0;
    j->started_due = 0; /* its start_time says it started */
    j->shell = 0;
    if (j->pidfd >= 0) {
        close(j->pidfd);
        j->pidfd = -1;
    }
    exec_job_ended(w, j->id, j->attempt);
    log_msg(LOG_DEBUG, "job %lld.%d ended: exit %lld", (long long)j->id,
            j->attempt,
            (long long)json_integer_value(json_object_get(r, "exit_code")));
}

/* Is the shell named by DIR/shell.pid ("PID STARTTIME") still running?
 * Returns its pid, or 0.  The start time guards against a reused pid. */
static pid_t live_shell(const char *dir)
{
    char path[PATH_MAX + 16], *text;
    unsigned long long start = 0;
    int pid = 0;

    snprintf(path, sizeof(path), "%s/shell.pid", dir);
    if (!(text = util_read_file(path, 64, NULL)))
        return 0;
    /* A start time of 0 is a record of a Kiln whose util_proc_starttime
     * read the wrong field: its pid alone must do. */
    if (sscanf(text, "%d %llu", &pid, &start) != 2 || pid <= 1
        || (start && util_proc_starttime(pid) != start)
        || (!start && kill(pid, 0) < 0))
        pid = 0;
    free(text);
    return pid;
}

static void watch(struct wjob *j)
{
    if ((j->pidfd = util_pidfd_open(j->shell)) < 0)
        log_err("job %lld: cannot watch shell %d", (long long)j->id,
                (int)j->shell);
}

static bool has_file(const struct wjob *j, const char *name)
{
    char path[PATH_MAX + 16];

    snprintf(path, sizeof(path), "%s/%s", j->dir, name);
    return access(path, F_OK) == 0;
}

void launch_reaped(struct worker *w, struct wjob *j)
{
    pid_t other;

    /* A shell that found another holding its job (shell.c, claim) leaves
     * no result: that other is the one to watch. */
    if (!has_file(j, "result.json") && (other = live_shell(j->dir))
        && other != j->shell) {
        close(j->pidfd);
        j->shell = other;
        watch(j);
        if (j->pidfd >= 0)
            return;
    }
    finish(w, j); /* its launcher reaps it, or init, for an adopted one */
}

int launch_recover(struct worker *w)
{
    char dirpath[PATH_MAX + 8];
    struct dirent *de;
    DIR *d;
    int n = 0;

    snprintf(dirpath, sizeof(dirpath), "%s/jobs", w->spool);
    if (!(d = opendir(dirpath)))
        return -1;
    while ((de = readdir(d))) {
        long long id;
        int attempt, used = 0;
        if (sscanf(de->d_name, "%lld.%d%n", &id, &attempt, &used) != 2
            || de->d_name[used] != '\0' || id <= 0)
            continue;
        struct wjob *j = wjob_add(w, id, attempt);
        if (!j)
            break;
        if (!(j->cpus = spooled_cpus(j)) && !has_file(j, "job.json")) {
            /* Stopped as it wrote the start: no shell could have begun.
             * The server, not told of it, puts the job back in its queue. */
            log_msg(LOG_INFO,
                    "job %lld.%d: its start was not written; "
                    "leaving it to the server",
                    id, attempt);
            if (util_rm_rf(j->dir) < 0 && errno != ENOENT)
                log_err("cannot remove %s", j->dir);
            wjob_remove(w, j);
            continue;
        }
        n++;
        if ((j->shell = live_shell(j->dir))) {
            watch(j);
        } else if (!has_file(j, "shell.pid") && !has_file(j, "result.json")) {
            /* Stopped before its shell began, or as it began (the launcher
             * before this worker may still start it): a shell once the
             * server says the attempt is still ours (launch_resume), and
             * of the two, the first to claim the job runs it. */
            j->relaunch = true;
            continue;
        }
        /* The shell may have ended between the checks: the pidfd of a
         * dead process is readable at once, so finishing later is safe. */
        if (j->pidfd < 0)
            finish(w, j);
    }
    closedir(d);
    if (n)
        log_msg(LOG_INFO, "recovered %d jobs from the spool", n);
    return 0;
}

void launch_sync_result(struct wjob *j)
{
    char path[PATH_MAX + 16];
    int fd;

    if (j->synced)
        return;
    snprintf(path, sizeof(path), "%s/result.json", j->dir);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
        if (fsync(fd) < 0)
            log_err("job %lld: cannot sync %s", (long long)j->id, path);
        close(fd);
    }
    j->synced = true;
}

bool launch_holds_group(const char *name, void *arg)
{
    struct worker *w = arg;

    for (struct wjob *j = w->jobs; j; j = j->next)
        if ((j->shell || j->launching || j->relaunch)
            && (!strncmp(name, "job_", 4)
                || (!strncmp(name, "cpus_", 5) && j->cpus
                    && !strcmp(name + 5, j->cpus))))
            return true;
    return false;
}

/* The attempt ends before it starts, for this reason (job.end). */
static void refuse(struct wjob *j, const char *why)
{
    json_decref(j->result);
    j->result =
        json_pack("{s:i, s:I, s:i, s:i, s:i, s:s}", "version",
                  KILN_PROTO_VERSION, "id", (json_int_t)j->id, "attempt",
                  j->attempt, "exit_code", -1, "signal", 0, "reason", why);
    j->next_send = 0;
}

void launch_start(struct worker *w, json_t *msg)
{
    json_int_t id;
    int attempt;
    char path[PATH_MAX + 16], *text;
    const char *cpus;
    struct wjob *j, *other;

    if (json_unpack(msg, "{s:I, s:i, s:o, s:s}", "id", &id, "attempt", &attempt,
                    "spec", &(json_t *){ NULL }, "cpus", &cpus)
            < 0
        || id <= 0) {
        log_msg(LOG_WARNING, "ignoring a malformed job.start");
        return;
    }
    if (launch_find(w, id, attempt))
        return; /* a repeated start: already ours */
    other = cpus_in_use(w, cpus);
    if (!(j = wjob_add(w, id, attempt)) || !(j->cpus = strdup(cpus))) {
        log_msg(LOG_ERR, "job %lld: out of memory", (long long)id);
        return;
    }
    if (other) {
        char why[200];
        log_msg(
            LOG_ERR,
            "job %lld: cpus %s overlap those of job %lld, still running here",
            (long long)id, cpus, (long long)other->id);
        snprintf(why, sizeof(why),
                 "launch failed: cpus %.64s are held by job %lld", cpus,
                 (long long)other->id);
        refuse(j, why);
        return;
    }
    long uid = (long)json_integer_value(
        json_object_get(json_object_get(msg, "spec"), "uid"));
    if (w->auth == AUTH_MUNGE && geteuid() != 0 && uid != (long)geteuid()) {
        char why[200];
        snprintf(why, sizeof(why),
                 "launch failed: this worker runs as uid %u, not root, "
                 "and cannot run the jobs of uid %ld",
                 (unsigned)geteuid(), uid);
        log_msg(LOG_ERR, "job %lld: %s", (long long)id, why + 15);
        refuse(j, why);
        return;
    }
    json_object_set_new(msg, "node", json_string(w->name));
    json_object_set_new(msg, "server", json_string(w->server));
    json_object_set_new(msg, "kiln",
                        json_string(w->kiln_path)); /* for kiln exec */
    json_object_set_new(msg, "as_owner", json_boolean(w->auth == AUTH_MUNGE));
    if (w->auth == AUTH_MUNGE)
        json_object_set_new(msg, "keys", json_string(w->keys_dir));
    if (json_array_size(w->runtimes))
        json_object_set(msg, "runtimes", w->runtimes);
    /* The job's memory comes from the NUMA nodes of its cores. */
    int *idx = w->topo ? calloc(w->topo->npu, sizeof(*idx)) : NULL, k;
    char *mems = idx && (k = topo_indices(w->topo, cpus, idx)) > 0
                     ? topo_memlist(w->topo, idx, k)
                     : NULL;
    if (mems && !w->simulate)
        json_object_set_new(msg, "mems", json_string(mems));
    free(mems);
    free(idx);
    json_object_set_new(msg, "cgroup_scope", json_string(w->cgroup_scope));
    if (w->simulate)
        json_object_set_new(msg, "simulate", json_true());
    if (!(text = json_dumps(msg, JSON_COMPACT)))
        goto fail;
    snprintf(path, sizeof(path), "%s/job.json", j->dir);
    /* 0711: the job's user may run its script here, not list or write. */
    if (mkdir(j->dir, 0711) < 0
        || util_write_atomic(path, text, strlen(text), 0) < 0) {
        free(text);
        goto fail;
    }
    free(text);
    if (launcher_request(w, id, attempt, j->dir) < 0)
        goto fail;
    j->launching = true;
    return;
fail:
    log_err("job %lld: cannot start", (long long)id);
    char why[200];
    snprintf(why, sizeof(why), "launch failed: %s", strerror(errno));
    refuse(j, why);
}

void launch_started(struct worker *w, int64_t id, int attempt, pid_t pid,
                    int pidfd, int err)
{
    struct wjob *j = launch_find(w, id, attempt);

    if (!j || !j->launching) {
        if (pidfd >= 0)
            close(pidfd);
        return;
    }
    j->launching = false;
    if (err) {
        char why[200];
        snprintf(why, sizeof(why), "launch failed: %s",
                 err == EPIPE ? "the launcher of job shells failed"
                              : strerror(err));
        log_msg(LOG_ERR, "job %lld: %s", (long long)id, why);
        refuse(j, why);
        return;
    }
    j->shell = pid;
    j->pidfd = pidfd;
    if (j->kill_pending && kill(pid, SIGTERM) < 0)
        log_err("job %lld: cannot signal shell %d", (long long)id, (int)pid);
    /* A job that ends within the wait says both in its job.end: one
     * message and one server turn fewer for each short job. */
    j->started_due = util_monotonic() + LAUNCH_STARTED_WAIT;
    log_msg(LOG_DEBUG, "job %lld.%d started, shell %d", (long long)id, attempt,
            (int)pid);
}

double launch_started_due(struct worker *w, double now, double next)
{
    for (struct wjob *j = w->jobs; j; j = j->next) {
        if (j->started_due <= 0)
            continue;
        if (now < j->started_due) {
            next = j->started_due < next ? j->started_due : next;
            continue;
        }
        j->started_due = 0;
        worker_send(w, "job.started",
                    json_pack("{s:i, s:I, s:i}", "version", KILN_PROTO_VERSION,
                              "id", (json_int_t)j->id, "attempt", j->attempt));
    }
    return next;
}

void launch_kill(struct worker *w, int64_t id, int attempt, const char *reason)
{
    struct wjob *j = launch_find(w, id, attempt);
    char path[PATH_MAX + 16];

    if (!j) {
        /* A kill for a job this node never got (its start was lost): say
         * so at once, so that the server need not wait for the start
         * timeout to end it. */
        log_msg(LOG_WARNING,
                "job %lld.%d: told to kill it, but this node never got it",
                (long long)id, attempt);
        worker_send(w, "job.end",
                    json_pack("{s:i, s:I, s:i, s:i, s:s}", "version",
                              KILN_PROTO_VERSION, "id", (json_int_t)id,
                              "attempt", attempt, "exit_code", -1, "reason",
                              "launch failed: the node never got the job"));
        return;
    }
    if (j->relaunch) { /* it never began: it ends here */
        j->relaunch = false;
        refuse(j, reason);
        return;
    }
    if (!j->shell && !j->launching)
        return;
    /* The shell reads why it was told to stop from the kill file. */
    snprintf(path, sizeof(path), "%s/kill", j->dir);
    if (util_write_atomic(path, reason, strlen(reason), 0) < 0)
        log_err("job %lld: cannot write %s", (long long)id, path);
    if (j->launching) {
        j->kill_pending = true; /* signalled once its pid is known */
        return;
    }
    if (kill(j->shell, SIGTERM) < 0 && errno != ESRCH)
        log_err("job %lld: cannot signal shell %d", (long long)id,
                (int)j->shell);
}

void launch_resume(struct worker *w)
{
    for (struct wjob *j = w->jobs; j; j = j->next) {
        if (!j->relaunch)
            continue;
        j->relaunch = false;
        log_msg(LOG_INFO, "job %lld.%d: no shell yet; starting one",
                (long long)j->id, j->attempt);
        if (launcher_request(w, j->id, j->attempt, j->dir) == 0) {
            j->launching = true;
        } else {
            char why[200];
            snprintf(why, sizeof(why), "launch failed: %s", strerror(errno));
            refuse(j, why);
        }
    }
}

void launch_ack(struct worker *w, int64_t id, int attempt)
{
    struct wjob *j = launch_find(w, id, attempt);

    if (!j || !j->result)
        return;
    if (util_rm_rf(j->dir) < 0 && errno != ENOENT)
        log_err("cannot remove %s", j->dir);
    wjob_remove(w, j);
}

json_t *launch_job_list(struct worker *w)
{
    json_t *a = json_array();

    for (struct wjob *j = w->jobs; j; j = j->next)
        json_array_append_new(
            a, json_pack("{s:I, s:i, s:b}", "id", (json_int_t)j->id, "attempt",
                         j->attempt, "finished", j->result != NULL));
    return a;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* kiln exec on this node: a command started inside a running job's
 * cgroup, on its cores, as its user, with its environment, its input and
 * output relayed through the server (doc/protocol.md "job.exec"). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <hwloc.h>

#include "lib/base64.h"
#include "lib/cgroup.h"
#include "lib/jobspec.h"
#include "lib/log.h"
#include "lib/proto.h"
#include "lib/util.h"
#include "worker/worker.h"

static void send_end(struct worker *w, int64_t exec, int status,
                     const char *error)
{
    json_t *b = json_pack("{s:i, s:I, s:i}", "version", KILN_PROTO_VERSION,
                          "exec", (json_int_t)exec, "status", status);
    if (b && error)
        json_object_set_new(b, "error", json_string(error));
    worker_send(w, "exec.end", b);
}

/* DIR/exec, which the job's shell writes once the job is contained: the
 * job's cgroup name ("" for none), then its environment, NAME=value, each
 * ended by a NUL.  The text, which *cgname and the strings of *env point
 * into; or NULL with errno (ENOENT: the shell has not got that far). */
static char *read_exec_file(const char *dir, const char **cgname, char ***env)
{
    char path[PATH_MAX + 8], *text;
    size_t len = 0, n = 0;

    snprintf(path, sizeof(path), "%s/exec", dir);
    if (!(text = util_read_file(path, 4 << 20, &len)))
        return NULL;
    for (size_t i = 0; i < len; i++)
        n += text[i] == '\0';
    if (n == 0 || text[len - 1] != '\0') {
        free(text);
        errno = EINVAL;
        return NULL;
    }
    if (!(*env = calloc(n, sizeof(**env)))) {
        free(text);
        return NULL;
    }
    *cgname = text;
    n = 0;
    for (size_t i = strlen(text) + 1; i < len; i += strlen(text + i) + 1)
        (*env)[n++] = text + i;
    return text;
}

/* In the child: become part of the job and run "sh -c ARGV..." as ssh
 * would.  Never returns. */
static void run_child(struct worker *w, struct wjob *j,
                      const struct jobspec *spec, const char *cpus,
                      const char *cgname, char **env, json_t *argv, int in,
                      int out, int err)
{
    char *cmd;
    size_t i, len = 0;
    json_t *v;

    setsid();
    for (int sig = 1; sig < NSIG; sig++)
        signal(sig, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    close_range(3, ~0U, 0);
    if (!w->simulate) {
        /* A job with a cgroup: in it, or not at all (cancel and the
         * limits reach only what is in it). */
        struct cgroup *cg =
            *cgname ? cgroup_open(w->cgroup_scope, cgname) : NULL;
        hwloc_bitmap_t b = hwloc_bitmap_alloc();
        cpu_set_t set;
        CPU_ZERO(&set);
        if (*cgname && (!cg || cgroup_attach(cg, getpid()) < 0)) {
            dprintf(
                2,
                "kiln exec: cannot join the job's cgroup %s (%s): not starting "
                "a process of the job outside it\n",
                cgname, cg ? strerror(errno) : "it cannot be opened");
            _exit(255);
        }
        if (b && hwloc_bitmap_list_sscanf(b, cpus) == 0)
            for (int c = hwloc_bitmap_first(b); c >= 0 && c < CPU_SETSIZE;
                 c = hwloc_bitmap_next(b, c))
                CPU_SET(c, &set);
        if (sched_setaffinity(0, sizeof(set), &set) < 0) {
            dprintf(2, "kiln exec: cannot bind to cpus %s: %s\n", cpus,
                    strerror(errno));
            _exit(255);
        }
    }
    umask((mode_t)spec->umask);
    if (w->auth == AUTH_MUNGE && geteuid() == 0 && (uid_t)spec->uid != 0) {
        if (util_become_user(spec->user, (unsigned)spec->uid,
                             (unsigned)spec->gid)
            < 0) {
            dprintf(2, "kiln exec: cannot become user '%s': %s\n", spec->user,
                    strerror(errno));
            _exit(255);
        }
    }
    if (chdir(spec->cwd) < 0 && chdir("/") < 0)
        _exit(255);
    json_array_foreach (argv, i, v)
        len += json_string_length(v) + 1;
    if (!(cmd = calloc(len + 1, 1)))
        _exit(255);
    json_array_foreach (argv, i, v) {
        if (i)
            strcat(cmd, " ");
        strcat(cmd, json_string_value(v));
    }
    char *sh_argv[] = { "sh", "-c", cmd, NULL };
    execve("/bin/sh", sh_argv, env);
    dprintf(2, "kiln exec: cannot run /bin/sh: %s\n", strerror(errno));
    _exit(127);
}

void exec_start(struct worker *w, json_t *msg)
{
    json_int_t id = 0, exec = 0;
    int attempt = 0;
    json_t *argv, *jobmsg = NULL;
    struct wjob *j;
    struct jobspec spec = { 0 };
    struct kiln_error err;
    char path[PATH_MAX + 16], **env = NULL, *exec_text = NULL;
    const char *cpus = NULL, *cgname = "";
    int in[2] = { -1, -1 }, out[2] = { -1, -1 }, errp[2] = { -1, -1 };
    struct wexec *e = NULL;

    if (json_unpack(msg, "{s:I, s:i, s:I, s:o}", "id", &id, "attempt", &attempt,
                    "exec", &exec, "argv", &argv)
            < 0
        || !json_is_array(argv)) {
        log_msg(LOG_WARNING, "ignoring a malformed exec.start");
        return;
    }
    if (!(j = launch_find(w, id, attempt)) || !j->shell || j->result) {
        send_end(w, exec, 255, "the job does not run on this node");
        return;
    }
    /* The shell writes the exec file once the job is contained: no word
     * from it yet, no start. */
    if (!(exec_text = read_exec_file(j->dir, &cgname, &env))) {
        send_end(w, exec, 255,
                 errno == ENOENT
                     ? "the job has not started on this node yet"
                     : "the job's record on this node is unreadable");
        return;
    }
    snprintf(path, sizeof(path), "%s/job.json", j->dir);
    if (!(jobmsg = json_load_file(path, 0, NULL))
        || json_unpack(jobmsg, "{s:s}", "cpus", &cpus) < 0
        || jobspec_from_json(json_object_get(jobmsg, "spec"), &spec, &err)
               < 0) {
        json_decref(jobmsg);
        free(exec_text);
        free(env);
        send_end(w, exec, 255, "the job's record on this node is unreadable");
        return;
    }
    if (!(e = calloc(1, sizeof(*e))) || pipe2(in, O_CLOEXEC) < 0
        || pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0)
        goto fail;
    pid_t pid = fork();
    if (pid < 0)
        goto fail;
    if (pid == 0)
        run_child(w, j, &spec, cpus, cgname, env, argv, in[0], out[1], errp[1]);
    close(in[0]);
    close(out[1]);
    close(errp[1]);
    fcntl(in[1], F_SETFL, O_NONBLOCK);
    *e = (struct wexec){ .exec = exec,
                         .job = id,
                         .attempt = attempt,
                         .pid = pid,
                         .in = in[1],
                         .out = out[0],
                         .err = errp[0],
                         .next = w->execs };
    w->execs = e;
    log_msg(LOG_DEBUG, "job %lld: exec %lld started, pid %d", (long long)id,
            (long long)exec, (int)pid);
    goto out;
fail:
    log_err("job %lld: cannot start exec %lld", (long long)id, (long long)exec);
    for (int k = 0; k < 2; k++) {
        if (in[k] >= 0)
            close(in[k]);
        if (out[k] >= 0)
            close(out[k]);
        if (errp[k] >= 0)
            close(errp[k]);
    }
    free(e);
    send_end(w, exec, 255, strerror(errno));
out:
    free(exec_text);
    free(env);
    jobspec_release(&spec);
    json_decref(jobmsg);
}

void exec_job_ended(struct worker *w, int64_t id, int attempt)
{
    /* Each exec runs in a session and process group of its own: what is
     * left of them goes with the job, cgroup or none. */
    for (struct wexec *e = w->execs; e; e = e->next)
        if (e->job == id && e->attempt == attempt && !e->reaped)
            kill(-e->pid, SIGKILL);
}

static struct wexec *find(struct worker *w, json_t *msg)
{
    json_int_t exec = 0;

    if (json_unpack(msg, "{s:I}", "exec", &exec) < 0)
        return NULL;
    for (struct wexec *e = w->execs; e; e = e->next)
        if (e->exec == exec)
            return e;
    return NULL;
}

void exec_input(struct worker *w, json_t *msg)
{
    struct wexec *e = find(w, msg);
    const char *data = json_string_value(json_object_get(msg, "data"));
    size_t len = 0;
    unsigned char *bytes;

    if (!e || e->in < 0)
        return;
    if (data && (bytes = base64_decode(data, &len))) {
        /* The command's input pipe: what does not fit now is dropped, as
         * a full pipe to a command that does not read cannot wait. */
        if (len && write(e->in, bytes, len) < 0 && errno != EAGAIN)
            log_err("exec %lld: input", (long long)e->exec);
        free(bytes);
    }
    if (json_is_true(json_object_get(msg, "eof"))) {
        close(e->in);
        e->in = -1;
    }
}

void exec_signal(struct worker *w, json_t *msg)
{
    struct wexec *e = find(w, msg);
    int sig = (int)json_integer_value(json_object_get(msg, "signal"));

    if (e && !e->reaped
        && (sig == SIGTERM || sig == SIGINT || sig == SIGHUP || sig == SIGKILL
            || sig == SIGQUIT))
        kill(-e->pid, sig);
}

int exec_poll_items(struct worker *w, zmq_pollitem_t *items,
                    struct wexec **owners, int max)
{
    int n = 0;

    for (struct wexec *e = w->execs; e; e = e->next)
        for (int k = 0; k < 2; k++) {
            int fd = k ? e->err : e->out;
            if (fd >= 0 && n < max) {
                items[n] = (zmq_pollitem_t){ NULL, fd, ZMQ_POLLIN, 0 };
                owners[n++] = e;
            }
        }
    return n;
}

int exec_count_fds(struct worker *w)
{
    int n = 0;

    for (struct wexec *e = w->execs; e; e = e->next)
        n += (e->out >= 0) + (e->err >= 0);
    return n;
}

/* Send the end once the command has exited and both outputs are drained;
 * exec_sweep frees it after the poll round that may still name it. */
static void maybe_done(struct worker *w, struct wexec *e)
{
    if (!e->reaped || e->out >= 0 || e->err >= 0 || e->done)
        return;
    int status = WIFEXITED(e->status) ? WEXITSTATUS(e->status)
                                      : 128 + WTERMSIG(e->status);
    send_end(w, e->exec, status, NULL);
    e->done = true;
}

void exec_sweep(struct worker *w)
{
    for (struct wexec **pp = &w->execs; *pp;) {
        struct wexec *e = *pp;
        if (!e->done) {
            pp = &e->next;
            continue;
        }
        if (e->in >= 0)
            close(e->in);
        *pp = e->next;
        free(e);
    }
}

void exec_readable(struct worker *w, struct wexec *e, int fd)
{
    char buf[32768];
    ssize_t n = read(fd, buf, sizeof(buf));

    if (n > 0) {
        char *data = base64_encode(buf, (size_t)n);
        if (data)
            worker_send(w, "exec.output",
                        json_pack("{s:i, s:I, s:i, s:s}", "version",
                                  KILN_PROTO_VERSION, "exec",
                                  (json_int_t)e->exec, "fd",
                                  fd == e->out ? 1 : 2, "data", data));
        free(data);
        return;
    }
    if (n < 0 && errno == EINTR)
        return;
    close(fd);
    if (fd == e->out)
        e->out = -1;
    else
        e->err = -1;
    maybe_done(w, e);
}

bool exec_reaped(struct worker *w, pid_t pid, int status)
{
    for (struct wexec *e = w->execs; e; e = e->next)
        if (e->pid == pid) {
            e->reaped = true;
            e->status = status;
            maybe_done(w, e);
            return true;
        }
    return false;
}

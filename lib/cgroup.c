/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A job's control group, on cgroup v2 or v1. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cgroup.h"
#include "lib/util.h"

/* v1 controllers Kiln uses; each has its own directory of the group. */
static const char *v1_ctls[] = { "cpuset", "memory", "pids", "freezer",
                                 "cpuacct" };
enum { NCTL = sizeof(v1_ctls) / sizeof(v1_ctls[0]) };

struct cgroup {
    enum cgroup_version v;
    char path[NCTL][PATH_MAX]; /* v2 uses path[0] only; "" = absent */
    struct cgroup_usage base;  /* the counts when this job began */
    int peak_fd;               /* v2: memory.peak, reset for this job */
    int peak_reset;            /* the peak is this job's alone */
    int reused;                /* the group was there before */
};

static struct cgroup *cgroup_new(void)
{
    struct cgroup *cg = calloc(1, sizeof(*cg));

    if (cg)
        cg->peak_fd = -1;
    return cg;
}

static const char *root(void)
{
    const char *r = getenv("KILN_CGROUP_ROOT");
    return r && *r ? r : "/sys/fs/cgroup";
}

static int exists(const char *fmt, const char *a, const char *b)
{
    char p[PATH_MAX];
    snprintf(p, sizeof(p), fmt, a, b);
    return access(p, W_OK) == 0;
}

/* Found once per process: a node's hierarchy does not change under it.
 * On v1, so are the controllers mounted, and the last of them. */
static int v1_mounted[NCTL], v1_last = -1;

enum cgroup_version cgroup_detect(void)
{
    static int found = -1;

    if (found < 0) {
        if (exists("%s/cgroup.controllers%s", root(), "")
            && exists("%s/cgroup.subtree_control%s", root(), ""))
            found = CGROUP_V2;
        else if (exists("%s/%s/cgroup.procs", root(), "cpuset"))
            found = CGROUP_V1;
        else
            found = CGROUP_NONE;
        for (int i = 0; found == CGROUP_V1 && i < NCTL; i++)
            if ((v1_mounted[i] = exists("%s/%s", root(), v1_ctls[i])))
                v1_last = i;
    }
    return (enum cgroup_version)found;
}

const char *cgroup_version_name(enum cgroup_version v)
{
    return v == CGROUP_V2 ? "cgroup v2" : v == CGROUP_V1 ? "cgroup v1" : "none";
}

static int put(const char *dir, const char *file, const char *val)
{
    char p[PATH_MAX];
    int fd, rc = 0;

    snprintf(p, sizeof(p), "%s/%s", dir, file);
    if ((fd = open(p, O_WRONLY | O_CLOEXEC)) < 0)
        return -1;
    if (write(fd, val, strlen(val)) < 0)
        rc = -1;
    if (close(fd) < 0)
        rc = -1;
    return rc;
}

static char *get(const char *dir, const char *file)
{
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s/%s", dir, file);
    return util_read_file(p, 1 << 20, NULL);
}

/* Write val unless the file says it already: a reused group keeps its
 * cpus, and a cpuset write costs the kernel a rebuild of its scheduling
 * domains on v1. */
static int put_changed(const char *dir, const char *file, const char *val)
{
    char *cur = get(dir, file);
    size_t n = cur ? strcspn(cur, "\n") : 0;
    int same = cur && n == strcspn(val, "\n") && strncmp(cur, val, n) == 0;

    free(cur);
    return same ? 0 : put(dir, file, val);
}

/* cpuset v1 children start with empty cpus and mems: copy the parent's. */
static int v1_cpuset_inherit(const char *dir)
{
    char parent[PATH_MAX];
    const char *files[] = { "cpuset.cpus", "cpuset.mems" };

    snprintf(parent, sizeof(parent), "%s", dir);
    *strrchr(parent, '/') = '\0';
    for (int i = 0; i < 2; i++) {
        char *cur = get(dir, files[i]), *val;
        int empty = !cur || cur[0] == '\n' || cur[0] == '\0';
        free(cur);
        if (!empty)
            continue;
        if (!(val = get(parent, files[i])))
            return -1;
        int rc = put(dir, files[i], val);
        free(val);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* Make every directory from the controller root down to rel, each cpuset
 * level inheriting its parent's cpus and mems. */
static int make_path(const char *ctlroot, const char *rel, int is_cpuset,
                     char *out, size_t outlen)
{
    char buf[PATH_MAX];
    snprintf(buf, sizeof(buf), "%s", rel);
    snprintf(out, outlen, "%s", ctlroot);
    for (char *tok = strtok(buf, "/"); tok; tok = strtok(NULL, "/")) {
        size_t l = strlen(out);
        snprintf(out + l, outlen - l, "/%s", tok);
        if (mkdir(out, 0755) < 0 && errno != EEXIST)
            return -1;
        if (is_cpuset && v1_cpuset_inherit(out) < 0)
            return -1;
    }
    return 0;
}

struct cgroup *cgroup_open(const char *scope, const char *name)
{
    struct cgroup *cg = cgroup_new();

    if (!cg)
        return NULL;
    cg->v = cgroup_detect();
    for (int i = 0; i < NCTL; i++) {
        if (cg->v == CGROUP_V2 && i > 0)
            break;
        if (cg->v == CGROUP_V2)
            snprintf(cg->path[i], PATH_MAX, "%s/%s/%s", root(), scope, name);
        else
            snprintf(cg->path[i], PATH_MAX, "%s/%s/%s/%s", root(), v1_ctls[i],
                     scope, name);
        if (access(cg->path[i], F_OK) < 0)
            cg->path[i][0] = '\0';
    }
    if (cg->v == CGROUP_NONE || !cg->path[0][0]) {
        free(cg);
        errno = ENOENT;
        return NULL;
    }
    return cg;
}

struct cgroup *cgroup_create(const char *scope, const char *name,
                             const char *cpus, const char *mems,
                             int64_t mem_mib, struct kiln_error *err)
{
    struct cgroup *cg = cgroup_new();
    char rel[PATH_MAX], val[64], ctlroot[PATH_MAX];

    if (!cg) {
        errprintf(err, "out of memory");
        return NULL;
    }
    cg->v = cgroup_detect();
    snprintf(rel, sizeof(rel), "%s/%s", scope, name);
    if (cg->v == CGROUP_NONE) {
        errprintf(err, "no writable cgroup hierarchy under %s", root());
        goto error;
    }
    {
        /* On v1 the group of the last controller is made last, when those
         * before are whole (cpuset's cpus and mems written). */
        char leaf[PATH_MAX];
        snprintf(leaf, sizeof(leaf), "%s/%s%s%s", root(),
                 cg->v == CGROUP_V2 ? "" : v1_ctls[v1_last < 0 ? 0 : v1_last],
                 cg->v == CGROUP_V2 ? "" : "/", rel);
        cg->reused = access(leaf, F_OK) == 0;
    }
    if (cg->v == CGROUP_V2) {
        char dir[PATH_MAX], buf[PATH_MAX];
        /* Controllers must be enabled in every ancestor's subtree. */
        snprintf(dir, sizeof(dir), "%s", root());
        snprintf(buf, sizeof(buf), "%s", scope);
        put(dir, "cgroup.subtree_control", "+cpuset +memory +pids");
        for (char *tok = strtok(buf, "/"); tok; tok = strtok(NULL, "/")) {
            size_t l = strlen(dir);
            snprintf(dir + l, sizeof(dir) - l, "/%s", tok);
            if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                goto syserr;
            put(dir, "cgroup.subtree_control", "+cpuset +memory +pids");
        }
        snprintf(cg->path[0], PATH_MAX, "%s/%s", dir, name);
        if (mkdir(cg->path[0], 0755) < 0 && errno != EEXIST)
            goto syserr;
        if (put_changed(cg->path[0], "cpuset.cpus", cpus) < 0
            || (mems && put_changed(cg->path[0], "cpuset.mems", mems) < 0))
            goto syserr;
        /* A reused group drops the limit of the job before. */
        snprintf(val, sizeof(val), "%lld", (long long)mem_mib << 20);
        if (put_changed(cg->path[0], "memory.max", mem_mib > 0 ? val : "max")
            < 0)
            goto syserr;
        put_changed(cg->path[0], "memory.swap.max", mem_mib > 0 ? "0" : "max");
        return cg;
    }
    for (int i = 0; i < NCTL; i++) {
        snprintf(ctlroot, sizeof(ctlroot), "%s/%s", root(), v1_ctls[i]);
        cg->path[i][0] = '\0';
        if (!v1_mounted[i])
            continue; /* controller not mounted: do without it */
        /* The group of a job before is whole, its cpus and mems too (its
         * name says its cpus): nothing to make or check. */
        snprintf(cg->path[i], PATH_MAX, "%s/%s", ctlroot, rel);
        if (cg->reused)
            continue;
        if (make_path(ctlroot, rel, i == 0, cg->path[i], PATH_MAX) < 0)
            goto syserr;
        if (i == 0
            && (put_changed(cg->path[0], "cpuset.cpus", cpus) < 0
                || (mems && put_changed(cg->path[0], "cpuset.mems", mems) < 0)))
            goto syserr;
    }
    if (!cg->path[0][0]) {
        errno = ENOENT;
        goto syserr;
    }
    if (mem_mib > 0 && !cg->path[1][0]) {
        errprintf(err,
                  "memory limit asked but the memory controller is absent");
        goto error;
    }
    if (cg->path[1][0]) {
        /* The memory+swap limit may never be below the memory limit: it
         * goes first to no limit, and last to the job's.  A reused group
         * drops the limit of the job before. */
        const char *unlimited = "-1";
        snprintf(val, sizeof(val), "%lld", (long long)mem_mib << 20);
        put(cg->path[1], "memory.memsw.limit_in_bytes", unlimited);
        if (put(cg->path[1], "memory.limit_in_bytes",
                mem_mib > 0 ? val : unlimited)
                < 0
            && mem_mib > 0)
            goto syserr;
        if (mem_mib > 0)
            put(cg->path[1], "memory.memsw.limit_in_bytes", val);
        char parent[PATH_MAX], *inherited = NULL;
        snprintf(parent, sizeof(parent), "%s", cg->path[1]);
        *strrchr(parent, '/') = '\0';
        if (mem_mib <= 0)
            inherited = get(parent, "memory.swappiness");
        if (mem_mib > 0 || inherited)
            put_changed(cg->path[1], "memory.swappiness",
                        mem_mib > 0 ? "0" : inherited);
        free(inherited);
    }
    return cg;
syserr:
    errprintf(err, "cgroup '%s': %s", rel, strerror(errno));
error:
    cgroup_destroy(cg);
    return NULL;
}

int cgroup_attach(struct cgroup *cg, pid_t pid)
{
    char s[32];

    snprintf(s, sizeof(s), "%d", (int)pid);
    for (int i = 0; i < NCTL; i++)
        if (cg->path[i][0] && put(cg->path[i], "cgroup.procs", s) < 0)
            return -1;
    return 0;
}

/* The directory whose cgroup.procs lists every process of the group. */
static const char *procs_dir(struct cgroup *cg)
{
    if (cg->v == CGROUP_V1 && cg->path[2][0])
        return cg->path[2]; /* pids */
    return cg->path[0];
}

int cgroup_count(struct cgroup *cg)
{
    char *procs = get(procs_dir(cg), "cgroup.procs");
    int n = 0;

    if (!procs)
        return -1;
    for (char *p = procs; *p; p++)
        n += *p == '\n';
    free(procs);
    return n;
}

int cgroup_signal(struct cgroup *cg, int sig)
{
    int n = 0, frozen = 0;
    char *procs;

    if (cgroup_count(cg) == 0)
        return 0; /* nothing to freeze or kill: the common end of a job */
    if (cg->v == CGROUP_V2 && sig == SIGKILL
        && put(cg->path[0], "cgroup.kill", "1") == 0)
        return cgroup_count(cg);
    if (cg->v == CGROUP_V1 && cg->path[3][0] && sig == SIGKILL)
        frozen = put(cg->path[3], "freezer.state", "FROZEN") == 0;
    if ((procs = get(procs_dir(cg), "cgroup.procs"))) {
        for (char *p = strtok(procs, "\n"); p; p = strtok(NULL, "\n")) {
            pid_t pid = (pid_t)atoi(p);
            if (pid > 1 && kill(pid, sig) == 0)
                n++;
        }
        free(procs);
    }
    if (frozen)
        put(cg->path[3], "freezer.state", "THAWED");
    return n;
}

static long oom_kills(struct cgroup *cg)
{
    const char *dir = cg->v == CGROUP_V2 ? cg->path[0] : cg->path[1];
    const char *file =
        cg->v == CGROUP_V2 ? "memory.events" : "memory.oom_control";
    char *text, *p;
    long n = 0;

    if (!dir[0] || !(text = get(dir, file)))
        return 0;
    if ((p = strstr(text, "oom_kill ")))
        n = atol(p + strlen("oom_kill "));
    free(text);
    return n;
}

long cgroup_oom_kills(struct cgroup *cg)
{
    return oom_kills(cg) - cg->base.oom_kills;
}

/* The number after "key " in text (a flat keyed file), or -1. */
static double keyed(const char *text, const char *key)
{
    size_t n = strlen(key);

    for (const char *p = text; p && *p;
         p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp(p, key, n) == 0 && p[n] == ' ')
            return atof(p + n + 1);
    return -1;
}

static double number(const char *dir, const char *file)
{
    char *text = dir[0] ? get(dir, file) : NULL;
    double v = text && (text[0] >= '0' && text[0] <= '9') ? atof(text) : -1;

    free(text);
    return v;
}

/* The group's cpu times since it was made (or they were reset). */
static void cpu_times(struct cgroup *cg, struct cgroup_usage *u)
{
    char *text;

    if (cg->v == CGROUP_V2) {
        if ((text = get(cg->path[0], "cpu.stat"))) {
            double us = keyed(text, "user_usec"),
                   sy = keyed(text, "system_usec");
            u->user_cpu = us >= 0 ? us / 1e6 : -1;
            u->sys_cpu = sy >= 0 ? sy / 1e6 : -1;
            free(text);
        }
    } else {
        double us = number(cg->path[4], "cpuacct.usage_user");
        double sy = number(cg->path[4], "cpuacct.usage_sys");
        u->user_cpu = us >= 0 ? us / 1e9 : -1;
        u->sys_cpu = sy >= 0 ? sy / 1e9 : -1;
    }
}

/* The group's counts since it was made. */
static void usage(struct cgroup *cg, struct cgroup_usage *u)
{
    *u = (struct cgroup_usage){ -1, -1, -1, oom_kills(cg) };
    cpu_times(cg, u);
    if (cg->v == CGROUP_V2) {
        if (cg->peak_fd >= 0) {
            char buf[32];
            ssize_t n = pread(cg->peak_fd, buf, sizeof(buf) - 1, 0);
            buf[n > 0 ? n : 0] = '\0';
            u->peak_bytes = n > 0 ? atoll(buf) : -1;
        } else {
            u->peak_bytes = (int64_t)number(cg->path[0], "memory.peak");
        }
    } else {
        u->peak_bytes =
            (int64_t)number(cg->path[1], "memory.max_usage_in_bytes");
    }
}

void cgroup_begin(struct cgroup *cg)
{
    /* The peak: v1 resets it by a write; v2 (Linux 6.12 on) for one open
     * file, which then reads this job's peak alone. */
    if (cg->v == CGROUP_V1) {
        cg->peak_reset =
            cg->path[1][0]
            && put(cg->path[1], "memory.max_usage_in_bytes", "0") == 0;
    } else {
        char p[PATH_MAX];
        snprintf(p, sizeof(p), "%s/memory.peak", cg->path[0]);
        if (cg->peak_fd < 0)
            cg->peak_fd = open(p, O_RDWR | O_CLOEXEC);
        cg->peak_reset =
            cg->peak_fd >= 0 && write(cg->peak_fd, "reset\n", 6) == 6;
    }
    /* The base the counts at the end are taken from; the peak needs none.
     * v1 cpu times start again from 0 by a write. */
    cg->base = (struct cgroup_usage){ 0, 0, -1, oom_kills(cg) };
    if (cg->v != CGROUP_V1 || !cg->path[4][0]
        || put(cg->path[4], "cpuacct.usage", "0") < 0)
        cpu_times(cg, &cg->base);
}

int cgroup_usage(struct cgroup *cg, struct cgroup_usage *u)
{
    usage(cg, u);
    if (u->user_cpu >= 0 && cg->base.user_cpu >= 0)
        u->user_cpu -= cg->base.user_cpu;
    if (u->sys_cpu >= 0 && cg->base.sys_cpu >= 0)
        u->sys_cpu -= cg->base.sys_cpu;
    u->oom_kills -= cg->base.oom_kills;
    /* A peak from before this job is no measure of it. */
    if (!cg->peak_reset && cg->reused)
        u->peak_bytes = -1;
    return 0;
}

void cgroup_close(struct cgroup *cg)
{
    if (cg && cg->peak_fd >= 0)
        close(cg->peak_fd);
    free(cg);
}

void cgroup_destroy(struct cgroup *cg)
{
    if (cg) {
        int saved = errno;
        for (int i = 0; i < NCTL; i++)
            if (cg->path[i][0])
                rmdir(cg->path[i]);
        cgroup_close(cg);
        errno = saved;
    }
}

void cgroup_prune(const char *scope, bool (*keep)(const char *name, void *arg),
                  void *arg)
{
    enum cgroup_version v = cgroup_detect();
    char dir[PATH_MAX], sub[PATH_MAX + 256];
    struct dirent *de;

    for (int i = 0; i < NCTL && v != CGROUP_NONE; i++) {
        if (v == CGROUP_V2 && i > 0)
            break;
        snprintf(dir, sizeof(dir), "%s/%s%s%s", root(),
                 v == CGROUP_V2 ? "" : v1_ctls[i], v == CGROUP_V2 ? "" : "/",
                 scope);
        DIR *d = opendir(dir);
        if (!d)
            continue;
        while ((de = readdir(d)))
            if (de->d_type == DT_DIR && de->d_name[0] != '.'
                && !(keep && keep(de->d_name, arg))) {
                snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name);
                rmdir(sub); /* refused while a process is in it */
            }
        closedir(d);
        rmdir(dir); /* and the scope, once nothing is left in it */
    }
}

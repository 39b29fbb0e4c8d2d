/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The local provider: an instance is a `kiln worker` process on this
 * machine, started in a session of its own with the server's address,
 * its environment's name and its join token, as an EC2 instance's user
 * data would start it; with kiln.hosts, one in each of these network
 * namespaces (the test hosts of scripts/testhosts), as on machines of
 * their own.  Each lives in DIR/ID (DIR is the server's
 * state/instances): its spool, its keys, its log, and a file "instance"
 * with its pid, the pid's start time and its launch, which is what
 * DescribeInstances is here.  Terminating stops the worker and kills
 * whatever of the instance still runs (processes with its
 * KILN_INSTANCE_ID), as a machine that goes away would. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/hostlist.h"
#include "lib/util.h"
#include "server/provider.h"

extern char **environ;

static const char *arg(const struct op *op, const char *obj, const char *key)
{
    const json_t *o = obj ? json_object_get(op->args, obj) : op->args;
    return json_string_value(json_object_get(o, key));
}

/* The cpus of instance number k: n of this machine's, taken in turn, or
 * "" when the machine has fewer than n (the worker then simulates). */
static void pick_cpus(long k, long n, char *out, size_t len)
{
    cpu_set_t set;
    int cpus[CPU_SETSIZE], m = 0;
    size_t used = 0;

    out[0] = '\0';
    if (sched_getaffinity(0, sizeof(set), &set) < 0)
        return;
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &set))
            cpus[m++] = c;
    if (m == 0 || n > m)
        return;
    for (long i = 0; i < n; i++)
        used += (size_t)snprintf(out + used, used < len ? len - used : 0,
                                 "%s%d", i ? "," : "", cpus[(k * n + i) % m]);
}

static int write_text(const char *path, const char *text, int mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    ssize_t n;

    if (fd < 0)
        return -1;
    n = write(fd, text, strlen(text));
    close(fd);
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* Start one instance's worker (in network namespace netns, when not
 * NULL); 0, or -1 with op failed. */
static int start_one(struct op *op, const char *dir, const char *id, long k,
                     const char *netns)
{
    const json_t *w = json_object_get(op->args, "worker");
    const char *kiln = arg(op, "worker", "kiln"),
               *server = arg(op, "worker", "server"),
               *join = arg(op, "worker", "join"),
               *auth = arg(op, "worker", "auth"),
               *server_key = arg(op, "worker", "server_key");
    long vcpus = (long)json_integer_value(json_object_get(op->args, "vcpus"));
    char home[4096], spool[4200], keys[4200], log[4200], path[4300], cpus[1024],
        topo[64], token_env[300], id_env[128];
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t none;
    pid_t pid;

    snprintf(home, sizeof(home), "%s/%s", dir, id);
    snprintf(spool, sizeof(spool), "%s/spool", home);
    snprintf(keys, sizeof(keys), "%s/keys", home);
    snprintf(log, sizeof(log), "%s/worker.log", home);
    if (util_mkdir_p(home, 0700) < 0 || util_mkdir_p(keys, 0700) < 0) {
        op_fail(op, "LocalError", "cannot create %s: %s", home,
                strerror(errno));
        return -1;
    }
    if (server_key) {
        char text[128];
        snprintf(path, sizeof(path), "%s/server.pub", keys);
        snprintf(text, sizeof(text), "public = %s\n", server_key);
        if (write_text(path, text, 0644) < 0) {
            op_fail(op, "LocalError", "cannot write %s: %s", path,
                    strerror(errno));
            return -1;
        }
    }
    pick_cpus(k, vcpus, cpus, sizeof(cpus));
    snprintf(topo, sizeof(topo), "pack:1 core:%ld pu:1", vcpus);
    const char *argv[36];
    char netarg[4200];
    int n = 0;
    if (netns) {
        /* As scripts/testhosts does: the namespace's network only (ip
         * netns exec would remount /sys and hide the cgroups). */
        snprintf(netarg, sizeof(netarg), "--net=/run/netns/%s", netns);
        argv[n++] = "nsenter";
        argv[n++] = netarg;
    }
    argv[n++] = kiln;
    argv[n++] = "worker";
    argv[n++] = "--foreground";
    argv[n++] = "--server";
    argv[n++] = server;
    argv[n++] = "--name";
    argv[n++] = id;
    argv[n++] = "--ce";
    argv[n++] = op->ce;
    argv[n++] = "--spool";
    argv[n++] = spool;
    argv[n++] = "--keys";
    argv[n++] = keys;
    argv[n++] = "--auth";
    argv[n++] = auth;
    if (!strcmp(auth, "none") && geteuid() == 0)
        argv[n++] = "--allow-root";
    if (cpus[0]) {
        argv[n++] = "--cpus";
        argv[n++] = cpus;
    } else {
        argv[n++] = "--simulate";
        argv[n++] = "--topology";
        argv[n++] = topo;
    }
    if (json_is_true(json_object_get(w, "debug"))) {
        argv[n++] = "--log-level";
        argv[n++] = "debug";
    }
    argv[n] = NULL;
    /* The join token in the environment, not in argv (ps shows argv). */
    size_t ne = 0;
    while (environ[ne])
        ne++;
    char **env = calloc(ne + 3, sizeof(*env));
    if (!env) {
        op_fail(op, "LocalError", "out of memory");
        return -1;
    }
    size_t e = 0;
    for (size_t i = 0; i < ne; i++)
        if (strncmp(environ[i], "KILN_JOIN_TOKEN=", 16)
            && strncmp(environ[i], "KILN_INSTANCE_ID=", 17))
            env[e++] = environ[i];
    snprintf(token_env, sizeof(token_env), "KILN_JOIN_TOKEN=%s", join);
    snprintf(id_env, sizeof(id_env), "KILN_INSTANCE_ID=%s", id);
    env[e++] = token_env;
    env[e++] = id_env;
    env[e] = NULL;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_APPEND,
                                     0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    posix_spawnattr_init(&at);
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK
                                      | POSIX_SPAWN_SETSIGDEF);
    sigset_t all;
    sigfillset(&all);
    posix_spawnattr_setsigdefault(&at, &all);
    int rc =
        netns
            ? posix_spawnp(&pid, "nsenter", &fa, &at, (char *const *)argv, env)
            : posix_spawn(&pid, kiln, &fa, &at, (char *const *)argv, env);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    free(env);
    if (rc != 0) {
        op_fail(op, "LocalError", "cannot start %s: %s", kiln, strerror(rc));
        util_rm_rf(home);
        return -1;
    }
    char text[256];
    snprintf(path, sizeof(path), "%s/instance", home);
    snprintf(text, sizeof(text), "%d %llu %s\n", (int)pid,
             util_proc_starttime(pid), arg(op, NULL, "launch"));
    if (util_write_atomic(path, text, strlen(text), 0) < 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        util_rm_rf(home);
        op_fail(op, "LocalError", "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* With kiln.hosts: one instance in each of these network namespaces
 * (scripts/testhosts makes kiln-th1...), its id the namespace's name. */
static void launch_in_namespaces(struct op *op, const char *hosts)
{
    const char *dir = arg(op, NULL, "dir");
    long count = (long)json_integer_value(json_object_get(op->args, "count"));
    json_t *list = json_array(), *in_use = json_object_get(op->args, "in_use");
    struct kiln_error err;
    int n = 0;
    char **names = hostlist_expand(hosts, 4096, &n, &err);
    static long started;

    if (!names)
        op_fail(op, "InvalidHosts", "%s", err.text);
    for (int i = 0; names && i < n && (long)json_array_size(list) < count;
         i++) {
        char path[4200];
        bool used = false;
        size_t k;
        json_t *v;
        json_array_foreach (in_use, k, v)
            used = used || !strcmp(json_string_value(v), names[i]);
        snprintf(path, sizeof(path), "/run/netns/%s", names[i]);
        if (used || strchr(names[i], '/') || access(path, F_OK) < 0)
            continue;
        if (start_one(op, dir, names[i], started++, names[i]) < 0)
            break;
        json_array_append_new(list, json_pack("{s:s, s:s, s:b}", "id", names[i],
                                              "type", "local", "spot", 0));
    }
    if (names && !json_array_size(list) && op->status == 0)
        op_fail(op, "InsufficientCapacity",
                "no network namespace of %s is free (or there)", hosts);
    hostlist_names_free(names);
    op->result = json_pack("{s:o}", "instances", list);
}

static void launch(struct op *op)
{
    const char *dir = arg(op, NULL, "dir");
    long count = (long)json_integer_value(json_object_get(op->args, "count"));
    json_t *list = json_array();
    static long started; /* spreads the instances over the cpus */
    const char *hosts = json_string_value(
        json_object_get(json_object_get(op->conf, "kiln"), "hosts"));

    if (hosts) {
        json_decref(list);
        launch_in_namespaces(op, hosts);
        return;
    }
    for (long i = 0; i < count; i++) {
        unsigned char r[4] = { 0 };
        char id[80];
        if (getrandom(r, sizeof(r), 0) != sizeof(r))
            r[0] = (unsigned char)i;
        snprintf(id, sizeof(id), "%.40s-%02x%02x%02x%02x", op->ce, r[0], r[1],
                 r[2], r[3]);
        if (start_one(op, dir, id, started++, NULL) < 0)
            break; /* those started are in the result */
        json_array_append_new(list, json_pack("{s:s, s:s, s:b}", "id", id,
                                              "type", "local", "spot", 0));
    }
    op->result = json_pack("{s:o}", "instances", list);
}

/* The instance in home: its pid if its worker still runs, else 0. */
static pid_t alive(const char *home, char *launch_id, size_t len)
{
    char path[4200], *text;
    unsigned long long start = 0;
    int pid = 0;
    char lid[64] = "";

    snprintf(path, sizeof(path), "%s/instance", home);
    if (!(text = util_read_file(path, 512, NULL)))
        return 0;
    sscanf(text, "%d %llu %63s", &pid, &start, lid);
    free(text);
    if (launch_id)
        snprintf(launch_id, len, "%s", lid);
    if (pid <= 0)
        return 0;
    /* Our child that ended is a zombie until waited for. */
    if (waitpid(pid, NULL, WNOHANG) == pid)
        return 0;
    return util_proc_starttime(pid) == start && start ? pid : 0;
}

static void describe(struct op *op)
{
    const char *dir = arg(op, NULL, "dir");
    json_t *list = json_array();
    DIR *d = opendir(dir);
    struct dirent *de;

    while (d && (de = readdir(d))) {
        char home[4200], lid[64];
        if (de->d_name[0] == '.')
            continue;
        snprintf(home, sizeof(home), "%s/%s", dir, de->d_name);
        if (alive(home, lid, sizeof(lid)))
            json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:b}", "id",
                                                  de->d_name, "launch", lid,
                                                  "type", "local", "spot", 0));
        else if (access(home, F_OK) == 0 && lid[0])
            util_rm_rf(home); /* it ended: what a vanished machine leaves */
    }
    if (d)
        closedir(d);
    op->result = json_pack("{s:o}", "instances", list);
}

/* Kill every process whose environment says it is instance id's. */
static int kill_instance_procs(const char *id)
{
    char want[128], path[64];
    DIR *d = opendir("/proc");
    struct dirent *de;
    int n = 0;

    snprintf(want, sizeof(want), "KILN_INSTANCE_ID=%s", id);
    while (d && (de = readdir(d))) {
        int pid = atoi(de->d_name);
        size_t len;
        char *env;
        if (pid <= 1 || pid == getpid())
            continue;
        snprintf(path, sizeof(path), "/proc/%d/environ", pid);
        if (!(env = util_read_file(path, 1 << 20, &len)))
            continue;
        for (size_t i = 0; i < len; i += strlen(env + i) + 1)
            if (!strcmp(env + i, want)) {
                kill(pid, SIGKILL);
                n++;
                break;
            }
        free(env);
    }
    if (d)
        closedir(d);
    return n;
}

static void terminate(struct op *op)
{
    const char *dir = arg(op, NULL, "dir");
    json_t *ids = json_object_get(op->args, "ids"), *v;
    size_t i;

    json_array_foreach (ids, i, v) {
        const char *id = json_string_value(v);
        char home[4200];
        pid_t pid;
        if (!id || !*id || strchr(id, '/') || id[0] == '.')
            continue;
        snprintf(home, sizeof(home), "%s/%s", dir, id);
        if ((pid = alive(home, NULL, 0))) {
            kill(pid, SIGTERM);
            for (int t = 0; t < 100 && alive(home, NULL, 0); t++)
                usleep(50000);
            if (alive(home, NULL, 0))
                kill(-pid, SIGKILL);
            waitpid(pid, NULL, WNOHANG);
        }
        kill_instance_procs(id);
        if (util_rm_rf(home) < 0 && errno != ENOENT) {
            op_fail(op, "LocalError", "cannot remove %s: %s", home,
                    strerror(errno));
            return;
        }
    }
    op->result = json_object();
}

static void run(struct op *op)
{
    switch (op->kind) {
    case OP_LAUNCH: launch(op); break;
    case OP_DESCRIBE: describe(op); break;
    case OP_TERMINATE: terminate(op); break;
    }
}

const struct provider provider_local = { "local", run };

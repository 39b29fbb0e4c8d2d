/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The job shell: the supervisor of one job attempt on one node.  The worker
 * execs it (kiln-shell DIR, worker/shell_main.c) in a session of its own,
 * and it outlives a worker restart.  It puts the job in its cgroup and on
 * its cores, runs the script with its output files and environment,
 * enforces the time limit, kills the whole job on cancel, and leaves
 * DIR/result.json behind. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/cgroup.h"
#include "lib/container.h"
#include "lib/hostlist.h"
#include "lib/jobspec.h"
#include "lib/log.h"
#include "lib/outpath.h"
#include "lib/util.h"
#include "worker/worker.h"

struct shell {
    const char *dir;
    int64_t id;
    int attempt;
    struct jobspec spec;
    const char *cpus, *mems, *node, *cgroup_scope;
    const char
        *kiln;     /* the kiln program, for kiln exec (the worker says which) */
    json_t *tasks; /* each task's cpu list, or NULL */
    json_t *gpus;  /* [{name, index}] the job holds, or NULL */
    int node_index; /* 0: the main node, which runs the script */
    json_t *nodes;  /* every node of the job: [{name, tasks, first_task}] */
    const char *main_address, *token, *server;
    const char *keys; /* where the server's public key is, or NULL */
    int as_owner;     /* the worker runs jobs as their owners (--auth munge) */
    char *nodelist;   /* compressed: node[1-4] */
    char hostfile[PATH_MAX], rankfile[PATH_MAX];
    int shared_host; /* two nodes of the job are one machine */
    const char
        *runtime; /* the runtime for its container, from those the node has */
    json_t *runtimes;
    char *container
        [ENGINE_MAX_ARGV]; /* the runtime's command line, when in one */
    char runtime_buf[32];
    char container_name[96];
    int kill_wait;
    int simulate;     /* cores are made up: do not pin, no cgroup */
    int64_t array_id; /* an array child's parent, else 0 */
    long array_index;
    struct cgroup *cg;
    char cgname[256]; /* its name under the scope, or "" when it has none */
    bool shared_cg;   /* cg is the cores', kept for the next job */
    bool cg_remade;   /* the cores' group was made again (launch) */
    pid_t child;
    json_t *msg; /* job.json, which the strings above point into */
    /* made by the steps of shell_run */
    double deadline;    /* monotonic end of its time limit, or 0 */
    char *early_reason; /* it was cancelled before its exec: why */
    bool early_timeout; /* its time ran out before its exec */
    sigset_t waitset;   /* the signals the shell waits for */
    sigset_t jobmask;   /* the job's signal mask: none blocked */
    cpu_set_t cpuset;   /* its cpus */
    char *outpath, *errpath;
    char script[PATH_MAX];
    char **env;
};

/* For a job on several nodes, on its main node: Open MPI's hostfile (each
 * node and its number of tasks) and rankfile (each rank's cpus, physical
 * numbers), readable by the job's user.  A simulated node's cpus are made
 * up: no rankfile there. */
static int write_mpi_files(struct shell *sh)
{
    FILE *h, *r = NULL;
    size_t i, k;
    json_t *n, *t;

    snprintf(sh->hostfile, sizeof(sh->hostfile), "%s/hostfile", sh->dir);
    if (!(h = fopen(sh->hostfile, "w")))
        return -1;
    if (!sh->simulate) {
        snprintf(sh->rankfile, sizeof(sh->rankfile), "%s/rankfile", sh->dir);
        if (!(r = fopen(sh->rankfile, "w"))) {
            fclose(h);
            return -1;
        }
    }
    json_array_foreach (sh->nodes, i, n) {
        const char *name = json_string_value(json_object_get(n, "name"));
        json_t *tasks = json_object_get(n, "tasks"),
               *slots = json_object_get(n, "slots");
        long first = (long)json_integer_value(json_object_get(n, "first_task"));
        fprintf(h, "%s slots=%zu\n", name, json_array_size(tasks));
        /* Logical slots: each node's ranks are placed within the cores it
         * sees, its own cgroup's, where Kiln put the task. */
        json_array_foreach (slots, k, t)
            if (r)
                fprintf(r, "rank %ld=%s slot=%s\n", first + (long)k, name,
                        json_string_value(t));
    }
    int rc = fclose(h) | (r ? fclose(r) : 0);
    chmod(sh->hostfile, 0644);
    if (r)
        chmod(sh->rankfile, 0644);
    return rc ? -1 : 0;
}

/* What kiln exec needs to start a process of the job on this node later,
 * in DIR/exec (readable by root alone: the environment has the token):
 * the job's cgroup name ("" for none), then its environment, NAME=value,
 * each string ended by a NUL.  Its presence says the job is contained. */
static int write_exec_file(const struct shell *sh, char **env)
{
    char path[PATH_MAX];
    size_t len = strlen(sh->cgname) + 1, n;
    char *buf;
    int rc;

    for (char **e = env; *e; e++)
        len += strlen(*e) + 1;
    if (!(buf = malloc(len)))
        return -1;
    n = strlen(sh->cgname) + 1;
    memcpy(buf, sh->cgname, n);
    for (char **e = env; *e; e++) {
        memcpy(buf + n, *e, strlen(*e) + 1);
        n += strlen(*e) + 1;
    }
    snprintf(path, sizeof(path), "%s/exec", sh->dir);
    rc = util_write_atomic(path, buf, len, 0);
    free(buf);
    return rc;
}

/* Did the kernel kill in the container's own cgroup for memory?  (Its
 * limit is the job's; on cgroup v1 the count stays there.) */
static bool container_oom(const struct shell *sh)
{
    char name[128];
    struct cgroup *cg;
    long n;

    if (!sh->container[0] || !sh->cg)
        return false;
    snprintf(name, sizeof(name), "job_%lld.%d/container", (long long)sh->id,
             sh->attempt);
    if (!(cg = cgroup_open(sh->cgroup_scope, name)))
        return false;
    n = cgroup_oom_kills(cg);
    cgroup_close(cg); /* not cgroup_destroy: the runtime removes it */
    return n > 0;
}

/* The bundle and the runtime's command line for a job in a container; or
 * -1 with why saying what is wrong with it. */
static int prepare_container(struct shell *sh, char **env, const char *script,
                             char *why, size_t len)
{
    struct kiln_error err;
    char cgpath[PATH_MAX];

    char *list = sh->runtimes ? util_json_join(sh->runtimes, NULL, ",") : NULL;
    bool found = list
                 && container_pick(sh->spec.container, list, sh->runtime_buf,
                                   sizeof(sh->runtime_buf));
    free(list);
    if (!found) {
        snprintf(why, len, "no %s works on node %s",
                 sh->spec.container[0] == '/'
                     ? "OCI runtime (runc, crun)"
                     : "container engine (podman, docker)",
                 sh->node);
        return -1;
    }
    sh->runtime = sh->runtime_buf;
    /* Unique on the machine: the scope's NAME-HASH comes from the worker's
     * spool, as for the cgroups. */
    const char *scope = strrchr(sh->cgroup_scope, '/');
    snprintf(sh->container_name, sizeof(sh->container_name), "kiln-%lld.%d-%s",
             (long long)sh->id, sh->attempt,
             scope ? scope + 1 : sh->cgroup_scope);
    /* Inside the job's cgroup, which keeps the limits and the counts. */
    snprintf(cgpath, sizeof(cgpath), "/%s/job_%lld.%d/container",
             sh->cgroup_scope, (long long)sh->id, sh->attempt);
    struct engine_job c = {
        .dir = sh->dir,
        .name = sh->container_name,
        .runtime = sh->runtime,
        .source = sh->spec.container,
        .shebang = strncmp(script, "#!", 2) == 0,
        .args = sh->spec.args,
        .mounts = sh->spec.mounts,
        .env = env,
        .cwd = sh->spec.cwd,
        .submit_dir = sh->spec.submit_dir,
        .script_dir = sh->dir,
        .uid = sh->spec.uid,
        .gid = sh->spec.gid,
        .cpus = sh->cpus,
        .mems = sh->mems,
        .mem_mib = sh->spec.mem,
        .cgroup_path = sh->cg ? cgpath : NULL,
        .simulate = sh->simulate,
        .user = sh->spec.user,
        .as_user = sh->as_owner && geteuid() == 0 && (uid_t)sh->spec.uid != 0,
    };
    /* A runtime left with our name (a restarted attempt) goes first. */
    engine_remove(sh->runtime, sh->container_name);
    if (engine_prepare(&c, sh->container, &err) < 0) {
        snprintf(why, len, "%s", err.text);
        return -1;
    }
    return 0;
}

/* An output pattern expanded for this node: node I > 0 of a job adds
 * ".I", so that the nodes' outputs do not mix.  A new string. */
static char *node_path(const struct shell *sh, const char *pat)
{
    struct outpath_names v = {
        .cwd = sh->spec.cwd,
        .name = sh->spec.name,
        .user = sh->spec.user,
        .node = sh->node,
        .id = sh->id,
        .array_id = sh->array_id,
        .array_index = sh->array_index,
    };
    char *path = outpath_expand(pat, &v), *p = NULL;

    if (!path || sh->node_index == 0)
        return path;
    if (asprintf(&p, "%s.%d", path, sh->node_index) < 0)
        p = NULL;
    free(path);
    return p;
}

/* Is the variable of "NAME=value" s among env[0..k)? */
static bool env_has(char *const *env, size_t k, const char *s)
{
    size_t len = strcspn(s, "=");

    for (size_t i = 0; i < k; i++)
        if (strncmp(env[i], s, len) == 0 && env[i][len] == '=')
            return true;
    return false;
}

/* The job's environment: Kiln's variables, then what the submitter
 * exported under other names.  Kiln's win (CUDA_VISIBLE_DEVICES is the
 * job's GPUs, whatever the submitter had), and each name is there once,
 * so getenv() and a shell agree. */
static char **build_env(const struct shell *sh)
{
    size_t n = json_array_size(sh->spec.env), i, k = 0, ours;
    char **env = calloc(n + 64, sizeof(*env)); /* ours: fewer than 64 */
    json_t *v;

    if (!env)
        return NULL;
#define SETENV(...)                              \
    do {                                         \
        if (asprintf(&env[k], __VA_ARGS__) >= 0) \
            k++;                                 \
    } while (0)
    SETENV("KILN_JOB_ID=%lld", (long long)sh->id);
    SETENV("KILN_JOB_NAME=%s", sh->spec.name);
    SETENV("KILN_JOB_ATTEMPT=%d", sh->attempt);
    SETENV("KILN_NTASKS=%ld", sh->spec.ntasks);
    SETENV("KILN_CPUS_PER_TASK=%ld", sh->spec.cpus_per_task);
    size_t nnodes = json_array_size(sh->nodes) ? json_array_size(sh->nodes) : 1;
    SETENV("KILN_NODELIST=%s", sh->nodelist ? sh->nodelist : sh->node);
    SETENV("KILN_NUM_NODES=%zu", nnodes);
    SETENV("KILN_NODE_INDEX=%d", sh->node_index);
    if (json_array_size(sh->nodes) > 1) {
        /* For kiln run across the nodes: them in order, and their tasks. */
        char *names = util_json_join(sh->nodes, "name", ","), *counts = NULL;
        size_t len = 0, ni;
        json_t *nv;
        FILE *f = open_memstream(&counts, &len);
        /* (ni, not k: k is where the next variable goes) */
        json_array_foreach (sh->nodes, ni, nv)
            if (f)
                fprintf(f, "%s%zu", ni ? "," : "",
                        json_array_size(json_object_get(nv, "tasks")));
        if (f)
            fclose(f);
        if (names)
            SETENV("KILN_JOB_NODES=%s", names);
        if (counts)
            SETENV("KILN_JOB_NODE_TASKS=%s", counts);
        SETENV("KILN_FIRST_TASK=%lld",
               (long long)json_integer_value(json_object_get(
                   json_array_get(sh->nodes, (size_t)sh->node_index),
                   "first_task")));
        free(names);
        free(counts);
    }
    SETENV("KILN_MAIN_NODE=%s",
           json_array_size(sh->nodes) ? json_string_value(
               json_object_get(json_array_get(sh->nodes, 0), "name"))
                                      : sh->node);
    SETENV("AWS_BATCH_JOB_NUM_NODES=%zu", nnodes);
    SETENV("AWS_BATCH_JOB_NODE_INDEX=%d", sh->node_index);
    SETENV("AWS_BATCH_JOB_MAIN_NODE_INDEX=0");
    if (sh->main_address && *sh->main_address)
        SETENV("AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS=%s",
               sh->main_address);
    if (sh->token)
        SETENV("KILN_JOB_TOKEN=%s", sh->token);
    /* The server as this node reaches it (for kiln exec, kiln run). */
    if (sh->server)
        SETENV("KILN_SERVER=%s", sh->server);
    if (sh->keys)
        SETENV("KILN_KEYS=%s", sh->keys);
    if (sh->hostfile[0]) {
        /* Open MPI's mpirun, with no host arguments, starts one rank per
         * task, each on its task's cores, reaching the other nodes through
         * kiln exec: no ssh. */
        SETENV("OMPI_MCA_plm_rsh_agent=%s exec", util_str_or(sh->kiln, "kiln"));
        SETENV("OMPI_MCA_plm_rsh_no_tree_spawn=1");
        SETENV("OMPI_MCA_orte_default_hostfile=%s", sh->hostfile);
        if (sh->rankfile[0])
            SETENV("OMPI_MCA_rmaps_rank_file_path=%s", sh->rankfile);
        /* Each node's daemon sees only its cgroup's cores, and a task's
         * cpus are hardware threads. */
        SETENV("OMPI_MCA_orte_hetero_nodes=1");
        SETENV("OMPI_MCA_hwloc_base_use_hwthreads_as_cpus=1");
    }
    if (sh->shared_host && json_array_size(sh->nodes) > 1) {
        /* Two "nodes" on one machine share /tmp and /dev/shm under one host
         * name: Open MPI's shared-memory pieces would collide there. */
        SETENV("OMPI_MCA_rtc=^hwloc");
        SETENV("OMPI_MCA_btl=^vader");
        SETENV("PMIX_MCA_gds=hash");
    }

    SETENV("KILN_NODENAME=%s", sh->node);
    SETENV("KILN_SUBMIT_DIR=%s", sh->spec.submit_dir);
    SETENV("KILN_CPUS=%s", sh->cpus);
    SETENV("KILN_QUEUE=%s", sh->spec.queue);
    if (sh->spec.mem > 0)
        SETENV("KILN_MEM_MB=%lld", (long long)sh->spec.mem);
    if (sh->spec.ntasks_per_node)
        SETENV("KILN_NTASKS_PER_NODE=%ld", sh->spec.ntasks_per_node);
    if (json_array_size(sh->tasks)) {
        /* kiln run binds task i to the i-th list. */
        char *list = util_json_join(sh->tasks, NULL, ";");
        if (list)
            SETENV("KILN_TASK_CPUS=%s", list);
        free(list);
    }
    if (json_array_size(sh->gpus)) {
        char *idx = util_json_join(sh->gpus, "index", ","),
             *names = util_json_join(sh->gpus, "name", ",");
        if (idx)
            SETENV("CUDA_VISIBLE_DEVICES=%s", idx);
        if (idx && names && strncmp(names, "rsmi", 4) == 0)
            SETENV("ROCR_VISIBLE_DEVICES=%s", idx);
        if (names)
            SETENV("KILN_GPUS=%s", names);
        free(idx);
        free(names);
    }
    if (sh->array_id) {
        SETENV("KILN_ARRAY_JOB_ID=%lld", (long long)sh->array_id);
        SETENV("KILN_ARRAY_INDEX=%ld", sh->array_index);
        SETENV("AWS_BATCH_JOB_ARRAY_INDEX=%ld", sh->array_index);
        SETENV("AWS_BATCH_JOB_ID=%lld:%ld", (long long)sh->array_id,
               sh->array_index);
    } else {
        SETENV("AWS_BATCH_JOB_ID=%lld", (long long)sh->id);
    }
    SETENV("AWS_BATCH_JOB_ATTEMPT=%d", sh->attempt);
    SETENV("AWS_BATCH_JQ_NAME=%s", sh->spec.queue);
#undef SETENV
    ours = k;
    json_array_foreach (sh->spec.env, i, v) {
        const char *s = json_string_value(v);
        if (!s || !strchr(s, '=') || strncmp(s, "KILN_", 5) == 0
            || strncmp(s, "AWS_BATCH_", 10) == 0 || env_has(env, ours, s))
            continue; /* ours to set */
        if ((env[k] = strdup(s)))
            k++;
    }
    if (!env_has(env, k, "PATH=")
        && (env[k] = strdup("PATH=/usr/local/bin:/usr/bin:/bin")))
        k++;
    env[k] = NULL;
    return env;
}

static int read_job(struct shell *sh, struct kiln_error *err)
{
    char path[PATH_MAX];
    json_t *msg, *spec;
    json_error_t jerr;
    json_int_t id, array_id = 0, array_index = 0;

    snprintf(path, sizeof(path), "%s/job.json", sh->dir);
    if (!(msg = json_load_file(path, 0, &jerr)))
        return errprintf(err, "cannot read %s: %s", path, jerr.text);
    /* Kept until the shell ends (shell_release): cpus, node and the rest
     * point into it. */
    sh->msg = msg;
    if (json_unpack_ex(
            msg, &jerr, 0,
            "{s:I, s:i, s:o, s:s, s:s, s:s, s:s, s?i, s?I, s?I, "
            "s?b, s?o, s?o, s?s, s?i, s?o, s?s, s?s, s?s, s?b, s?o, s?b, s?s, s?s}",
            "id", &id, "attempt", &sh->attempt, "spec", &spec, "cpus",
            &sh->cpus, "node", &sh->node, "nodelist", &(const char *){ NULL },
            "cgroup_scope", &sh->cgroup_scope, "kill_wait", &sh->kill_wait,
            "array_id", &array_id, "array_index", &array_index, "simulate",
            &sh->simulate, "tasks", &sh->tasks, "gpus", &sh->gpus, "mems",
            &sh->mems, "node_index", &sh->node_index, "nodes", &sh->nodes,
            "main_address", &sh->main_address, "token", &sh->token, "server",
            &sh->server, "shared_host", &sh->shared_host, "runtimes",
            &sh->runtimes, "as_owner", &sh->as_owner, "keys", &sh->keys, "kiln",
            &sh->kiln)
        < 0)
        return errprintf(err, "invalid %s: %s", path, jerr.text);
    sh->id = id;
    sh->array_id = array_id;
    sh->array_index = (long)array_index;
    if (jobspec_from_json(spec, &sh->spec, err) < 0)
        return -1;
    if (json_array_size(sh->nodes)) {
        const char *names[JOBSPEC_MAX_NODES];
        size_t i, n = 0;
        json_t *v;
        json_array_foreach (sh->nodes, i, v)
            if (n < JOBSPEC_MAX_NODES)
                names[n++] = json_string_value(json_object_get(v, "name"));
        sh->nodelist = hostlist_compress(names, (int)n);
    }
    return 0;
}

/* The child's exit status when it could not join the job's cgroup. */
enum { CHILD_NO_CGROUP = 124 };

/* Say why the job could not start on the error pipe, and leave with
 * status (126, or CHILD_NO_CGROUP). */
static void child_fail_with(int errpipe, int status, const char *fmt,
                            const char *arg)
{
    char msg[600];
    int n = snprintf(msg, sizeof(msg), fmt, arg, strerror(errno));

    if (write(errpipe, msg, (size_t)n) < 0)
        _exit(125);
    _exit(status);
}

static void child_fail(int errpipe, const char *fmt, const char *arg)
{
    child_fail_with(errpipe, 126, fmt, arg);
}

/* Open an output file as the job's user, appending nothing: a new file. */
static int open_output(const char *path)
{
    return open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
}

/* Open the job's output files and make them its stdout and stderr, with
 * /dev/null as stdin. */
static void stdio_to_files(int errpipe, const char *outpath,
                           const char *errpath)
{
    int out, errfd, null;

    if ((out = open_output(outpath)) < 0)
        child_fail(errpipe, "cannot open output file '%s': %s", outpath);
    if (!errpath || strcmp(errpath, outpath) == 0)
        errfd = out;
    else if ((errfd = open_output(errpath)) < 0)
        child_fail(errpipe, "cannot open error file '%s': %s", errpath);
    if ((null = open("/dev/null", O_RDONLY)) >= 0)
        dup2(null, 0);
    dup2(out, 1);
    dup2(errfd, 2);
}

/* The job's process, between fork and exec.  The shell is single-threaded,
 * so the library calls here are safe.  Every failure is reported on
 * errpipe (closed on exec), never in the job's name. */
static void child(struct shell *sh, int errpipe, char **env, const char *script,
                  const char *outpath, const char *errpath,
                  const cpu_set_t *mask, const sigset_t *oldmask)
{
    char *argv[4096 + 2];
    size_t i, n = json_array_size(sh->spec.args);
    json_t *v;

    setpgid(0, 0);
    if (sh->cg && cgroup_attach(sh->cg, getpid()) < 0)
        child_fail_with(errpipe, CHILD_NO_CGROUP,
                        "cannot join the job's cgroup%s: %s", "");
    if (!sh->simulate && sched_setaffinity(0, sizeof(*mask), mask) < 0)
        child_fail(errpipe, "cannot bind to cpus %s: %s", sh->cpus);
    /* Files the job makes, its output first, get the submitter's mask. */
    umask((mode_t)sh->spec.umask);
    bool as_user = sh->as_owner && geteuid() == 0 && (uid_t)sh->spec.uid != 0;
    if (sh->container[0]) {
        /* The runtime runs as root and the container as the job's user;
         * the output files are the user's, opened as the user. */
        if (as_user
            && (initgroups(sh->spec.user, (gid_t)sh->spec.gid) < 0
                || setegid((gid_t)sh->spec.gid) < 0
                || seteuid((uid_t)sh->spec.uid) < 0))
            child_fail(errpipe, "cannot become user '%s': %s", sh->spec.user);
        stdio_to_files(errpipe, outpath, errpath);
        if (as_user
            && (seteuid(0) < 0 || setegid(0) < 0 || setgroups(0, NULL) < 0))
            child_fail(errpipe,
                       "cannot run the container runtime as root%s: %s", "");
        sigprocmask(SIG_SETMASK, oldmask, NULL);
        execvp(sh->container[0], sh->container);
        dprintf(2, "kiln: cannot run the container runtime %s: %s\n",
                sh->container[0], strerror(errno));
        child_fail(errpipe, "cannot run the container runtime %s: %s",
                   sh->container[0]);
    }
    /* A daemon running as root runs jobs as their owner, with their
     * groups: the files the job makes, its output first, are theirs. */
    if (as_user
        && util_become_user(sh->spec.user, (unsigned)sh->spec.uid,
                            (unsigned)sh->spec.gid)
               < 0)
        child_fail(errpipe, "cannot become user '%s': %s", sh->spec.user);
    stdio_to_files(errpipe, outpath, errpath);
    if (chdir(sh->spec.cwd) < 0) {
        dprintf(2, "kiln: cannot enter working directory '%s': %s\n",
                sh->spec.cwd, strerror(errno));
        child_fail(errpipe, "cannot enter working directory '%s': %s",
                   sh->spec.cwd);
    }
    argv[0] = (char *)script;
    json_array_foreach (sh->spec.args, i, v)
        argv[i + 1] = (char *)json_string_value(v);
    argv[n + 1] = NULL;
    sigprocmask(SIG_SETMASK, oldmask, NULL);
    execve(script, argv, env);
    if (errno == ENOEXEC) {
        /* No #! line: run it with /bin/sh, as sbatch does. */
        char *shargv[4096 + 3] = { "/bin/sh", (char *)script };
        for (i = 0; i < n; i++)
            shargv[i + 2] = argv[i + 1];
        shargv[n + 2] = NULL;
        execve("/bin/sh", shargv, env);
    }
    dprintf(2, "kiln: cannot run the job script: %s\n", strerror(errno));
    child_fail(errpipe, "cannot run the job script%s: %s", "");
}

static void kill_job(struct shell *sh, int sig)
{
    if (sh->child > 0)
        kill(-sh->child, sig);
    if (sh->cg)
        cgroup_signal(sh->cg, sig);
}

/* Reap every child that has ended: the job's main process, and the
 * orphans of the job that the kernel hands to us as their subreaper.
 * Returns true once the main process has been reaped. */
static bool reap(struct shell *sh, int *status, struct rusage *ru)
{
    bool main_done = false;
    pid_t p;
    int st;
    struct rusage r;

    while ((p = wait4(-1, &st, WNOHANG, &r)) > 0)
        if (p == sh->child) {
            *status = st;
            *ru = r;
            main_done = true;
        }
    return main_done;
}

static char *read_kill_reason(const struct shell *sh)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/kill", sh->dir);
    char *r = util_read_file(path, 512, NULL);
    return r ? r : strdup("cancelled");
}

static int write_result(const struct shell *sh, json_t *r)
{
    char path[PATH_MAX], *text = json_dumps(r, JSON_COMPACT);
    int rc;

    snprintf(path, sizeof(path), "%s/result.json", sh->dir);
    if (!text)
        return -1;
    /* The result is the job's record on this node.  The worker makes it
     * durable if the server does not take it at once (launch_sync_result). */
    rc = util_write_atomic(path, text, strlen(text), 0);
    free(text);
    return rc;
}

/* How the attempt ended, as result.json says it. */
struct outcome {
    int exit_code, sig; /* -1 and 0 until the job ends */
    double start, end;
    struct rusage ru; /* of the children the shell reaped */
    char why[300];    /* the status reason; "" on success */
};

/* Step 0: DIR/shell.pid, "PID STARTTIME", names this process for a
 * restarted worker.  It is made by link(2), which fails when there is one
 * already: the first shell of an attempt has it, and a second (which a
 * restarted worker starts for an attempt whose shell it could not see, as
 * the launcher of the worker before may still start the first) leaves
 * without a trace, as does one whose job is over and gone.  -1 for them. */
static int claim(const struct shell *sh)
{
    char path[PATH_MAX], text[64];

    snprintf(path, sizeof(path), "%s/shell.pid", sh->dir);
    snprintf(text, sizeof(text), "%d %llu\n", (int)getpid(),
             util_proc_starttime(getpid()));
    if (util_write_atomic(path, text, strlen(text), UTIL_EXCLUSIVE) == 0)
        return 0;
    if (errno == EEXIST || errno == ENOENT) /* held, or over and removed */
        return -1;
    log_err("cannot write %s", path); /* the job runs all the same */
    return 0;
}

/* Step 1: who the shell is for a restarted worker, the job it runs, its
 * signals and its cpus. */
static int prepare(struct shell *sh, struct outcome *o)
{
    struct kiln_error err;

    /* Orphans of the job become our children, not init's: we reap them,
     * and none outlives the job unnoticed. */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    if (read_job(sh, &err) < 0) {
        snprintf(o->why, sizeof(o->why), "%s", err.text);
        return -1;
    }
    /* Block the signals we wait for before the child exists. */
    shell_wait_signals(&sh->waitset);
    sigprocmask(SIG_BLOCK, &sh->waitset, NULL);
    /* The job starts with no signal blocked, whatever this process was
     * started with (the worker starts it with its stop signals blocked, so
     * that a kill sent at once waits here, for sigtimedwait). */
    sigemptyset(&sh->jobmask);
    if (util_cpulist_parse(sh->cpus, &sh->cpuset) < 0) {
        snprintf(o->why, sizeof(o->why), "invalid cpu list '%s'", sh->cpus);
        return -1;
    }
    return 0;
}

/* Step 2: the job's cgroup (cpus, memory), whose name DIR/exec gives (step
 * 3): a process of a job with one starts in it (kiln exec) or not at all. */
static int contain(struct shell *sh, struct outcome *o)
{
    struct kiln_error err;
    char *name = sh->cgname;
    size_t len = sizeof(sh->cgname);

    if (!sh->simulate && cgroup_detect() != CGROUP_NONE) {
        /* A job outside a container takes the group of its cores, kept
         * from one job to the next (no two running jobs of a node share
         * a core); a container's runtime makes groups of its own inside,
         * so that job has one of its own. */
        sh->shared_cg =
            !sh->spec.container && strlen(sh->cpus) < len - sizeof("cpus_");
        if (sh->shared_cg)
            snprintf(name, len, "cpus_%s", sh->cpus);
        else
            snprintf(name, len, "job_%lld.%d", (long long)sh->id, sh->attempt);
        if (!(sh->cg = cgroup_create(sh->cgroup_scope, name, sh->cpus, sh->mems,
                                     sh->spec.mem, &err))) {
            if (sh->spec.mem > 0) {
                snprintf(o->why, sizeof(o->why),
                         "cannot enforce the memory limit: %s", err.text);
                return -1;
            }
            log_msg(LOG_WARNING, "job %lld: %s; running with cpu binding only",
                    (long long)sh->id, err.text);
            name[0] = '\0';
        }
    }
    if (sh->cg) {
        /* What a job before left running on these cores (its shell was
         * killed) goes now; the counts start here. */
        cgroup_signal(sh->cg, SIGKILL);
        cgroup_begin(sh->cg);
    }
    return 0;
}

/* Step 3: what the job's process needs on disk: its output paths, the MPI
 * files, the script, the environment, the container. */
static int stage(struct shell *sh, struct outcome *o)
{
    /* The other nodes of a job on several hold its cores there for what
     * the main node starts through kiln exec, and write no output.  A
     * multinode job definition gives each node its own command, whose
     * output goes to the job's output file with ".NODE_INDEX" added. */
    const char *own = json_string_value(
        json_array_get(sh->spec.node_scripts, (size_t)sh->node_index));
    const char *text = sh->node_index == 0 ? sh->spec.script
                       : own               ? own
                                           : "#!/bin/sh\nexec sleep infinity\n";

    if (sh->node_index == 0 || own) {
        sh->outpath = node_path(sh, sh->spec.output);
        sh->errpath = sh->spec.error ? node_path(sh, sh->spec.error) : NULL;
    } else {
        sh->outpath = strdup("/dev/null");
    }
    if (!sh->outpath
        || (sh->spec.error && (sh->node_index == 0 || own) && !sh->errpath)) {
        snprintf(o->why, sizeof(o->why),
                 "cannot use the output file pattern: %s",
                 errno == ENAMETOOLONG ? "its expansion is longer than PATH_MAX"
                                       : strerror(errno));
        return -1;
    }
    if (json_array_size(sh->nodes) > 1 && sh->node_index == 0
        && write_mpi_files(sh) < 0) {
        snprintf(o->why, sizeof(o->why),
                 "cannot write the MPI host and rank files: %s",
                 strerror(errno));
        return -1;
    }
    snprintf(sh->script, sizeof(sh->script), "%s/script", sh->dir);
    /* The script belongs to the job's user, who must be able to run it; the
     * job directory stays root's (mode 0711). */
    if (util_write_atomic(sh->script, text, strlen(text), 0) < 0
        || chmod(sh->script, 0500) < 0
        || (sh->as_owner && geteuid() == 0
            && chown(sh->script, (uid_t)sh->spec.uid, (gid_t)sh->spec.gid)
                   < 0)) {
        snprintf(o->why, sizeof(o->why), "cannot write the job script: %s",
                 strerror(errno));
        return -1;
    }
    if (!(sh->env = build_env(sh)) || write_exec_file(sh, sh->env) < 0) {
        snprintf(o->why, sizeof(o->why),
                 "cannot write the job's environment: %s", strerror(errno));
        return -1;
    }
    if (sh->spec.container
        && prepare_container(sh, sh->env, text, o->why, sizeof(o->why)) < 0)
        return -1;
    return 0;
}

/* Step 4: the job's process.  It says on a pipe why it could not start;
 * the pipe closes on exec. */
/* The child says on fd why it could not start; fd closes on exec.  Until
 * then the child may block (an output file that is a FIFO, a working
 * directory on a hung mount): a cancel or the time limit kills it there
 * too, so that no job waits without end before it even runs. */
static ssize_t wait_exec(struct shell *sh, int fd, char *buf, size_t len)
{
    struct pollfd p = { fd, POLLIN, 0 };
    bool killed = false;
    ssize_t got;

    for (;;) {
        int r = poll(&p, 1, 100);
        if (r > 0 || (r < 0 && errno != EINTR))
            break;
        sigset_t pending;
        sigpending(&pending);
        bool stop = false;
        for (int sig = 1; sig < SIGRTMIN; sig++)
            stop |= shell_stop_signal(sig) && sigismember(&pending, sig) == 1;
        bool late = sh->deadline && util_monotonic() >= sh->deadline;
        if (!killed && (stop || late)) {
            if (stop)
                sh->early_reason = read_kill_reason(sh);
            sh->early_timeout = !stop;
            kill(sh->child, SIGKILL);
            killed = true;
        }
    }
    while ((got = read(fd, buf, len)) < 0 && errno == EINTR)
        ;
    return got;
}

static int launch(struct shell *sh, struct outcome *o)
{
    int errpipe[2];
    ssize_t got;

    if (pipe2(errpipe, O_CLOEXEC) < 0) {
        snprintf(o->why, sizeof(o->why), "cannot make a pipe: %s",
                 strerror(errno));
        return -1;
    }
    o->start = util_now();
    /* The time limit counts from here, the exec included. */
    if (sh->spec.time_limit > 0)
        sh->deadline = util_monotonic() + (double)sh->spec.time_limit;
    if ((sh->child = fork()) < 0) {
        snprintf(o->why, sizeof(o->why), "cannot fork: %s", strerror(errno));
        close(errpipe[0]);
        close(errpipe[1]);
        return -1;
    }
    if (sh->child == 0) {
        close(errpipe[0]);
        child(sh, errpipe[1], sh->env, sh->script, sh->outpath, sh->errpath,
              &sh->cpuset, &sh->jobmask);
    }
    setpgid(sh->child, sh->child); /* also done in the child: no race */
    close(errpipe[1]);
    got = wait_exec(sh, errpipe[0], o->why, sizeof(o->why) - 1);
    close(errpipe[0]);
    if (got > 0) {
        int status = 0;
        o->why[got] = '\0';
        while (waitpid(sh->child, &status, 0) < 0 && errno == EINTR)
            ;
        sh->child = 0;
        /* A group of cores is reused on trust (cgroup_create): one the job
         * could not join (a part of it removed by hand) goes, and the job
         * starts once more in the group made again.  Any other failure
         * removes it too, before the result lets another job onto these
         * cores. */
        if (sh->shared_cg) {
            bool again = !sh->cg_remade && WIFEXITED(status)
                         && WEXITSTATUS(status) == CHILD_NO_CGROUP;
            cgroup_destroy(sh->cg);
            sh->cg = NULL;
            sh->shared_cg = false;
            if (again) {
                log_msg(LOG_WARNING, "job %lld: %s; making the group again",
                        (long long)sh->id, o->why);
                sh->cg_remade = true;
                if (contain(sh, o) == 0)
                    return launch(sh, o);
            }
        }
        return -1;
    }
    return 0;
}

/* Step 5: wait for the job, a cancel (SIGTERM from the worker), or the
 * time limit.  A kill is SIGTERM to everything, then SIGKILL after the
 * grace period.  Then why it ended. */
static void wait_job(struct shell *sh, struct outcome *o)
{
    double deadline = sh->deadline, kill_at = 0;
    char *reason = sh->early_reason; /* killed before its exec */
    bool timed_out = sh->early_timeout;
    int status = 0;

    sh->early_reason = NULL;

    for (;;) {
        double now = util_monotonic(), wake = 3600;
        if (deadline && !kill_at)
            wake = deadline - now;
        if (kill_at)
            wake = kill_at - now;
        if (wake < 0)
            wake = 0;
        struct timespec ts = { (time_t)wake,
                               (long)((wake - (time_t)wake) * 1e9) };
        int s = sigtimedwait(&sh->waitset, NULL, &ts);
        if (reap(sh, &status, &o->ru))
            break;
        now = util_monotonic();
        if (shell_stop_signal(s)) {
            if (!reason)
                reason = read_kill_reason(sh);
            if (!kill_at) {
                kill_job(sh, SIGTERM);
                kill_at = now + sh->kill_wait;
            }
        } else if (s < 0 && errno == EAGAIN) {
            if (kill_at && now >= kill_at) {
                kill_job(sh, SIGKILL);
                kill_at = now + 3600;
            } else if (deadline && now >= deadline && !kill_at) {
                timed_out = true;
                kill_job(sh, SIGTERM);
                kill_at = now + sh->kill_wait;
            }
        }
    }
    o->end = util_now();
    /* Whatever the script left running dies with it. */
    kill_job(sh, SIGKILL);
    if (WIFEXITED(status)) {
        o->exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        o->sig = WTERMSIG(status);
        o->exit_code = 128 + o->sig;
    }
    if (reason)
        snprintf(o->why, sizeof(o->why), "%s", reason);
    else if (timed_out)
        snprintf(o->why, sizeof(o->why), "timed out");
    else if ((sh->cg && cgroup_oom_kills(sh->cg) > 0) || container_oom(sh))
        snprintf(o->why, sizeof(o->why), "out of memory");
    else if (o->sig)
        snprintf(o->why, sizeof(o->why), "killed by signal %d", o->sig);
    else if (o->exit_code != 0)
        snprintf(o->why, sizeof(o->why), "exit code %d", o->exit_code);
    else
        o->why[0] = '\0';
    free(reason);
}

/* Step 6: empty the cgroup, count what the job used, and write the result
 * (durably) for the worker to send.  0, or 1 when it could not be
 * written. */
static int report(struct shell *sh, struct outcome *o)
{
    if (sh->cg) {
        /* Wait (briefly) for the kernel to empty the group, then remove it. */
        for (int i = 0; i < 5000 && cgroup_count(sh->cg) > 0; i++) {
            cgroup_signal(sh->cg, SIGKILL);
            while (waitpid(-1, NULL, WNOHANG) > 0)
                ;
            usleep(1000);
        }
    }
    /* Orphans of the job outside any cgroup: reap what has died. */
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
    /* Usage: the cgroup's counts cover every process the job made; the
     * rusage of the children the shell reaped is the fallback. */
    struct cgroup_usage cu = { -1, -1, -1, -1 };
    const struct rusage *ru = &o->ru;
    if (sh->cg)
        cgroup_usage(sh->cg, &cu);
    double user = cu.user_cpu >= 0
                      ? cu.user_cpu
                      : ru->ru_utime.tv_sec + ru->ru_utime.tv_usec / 1e6;
    double sys = cu.sys_cpu >= 0
                     ? cu.sys_cpu
                     : ru->ru_stime.tv_sec + ru->ru_stime.tv_usec / 1e6;
    json_int_t peak = cu.peak_bytes >= 0 ? (json_int_t)(cu.peak_bytes >> 10)
                                         : (json_int_t)ru->ru_maxrss;
    json_t *r = json_pack(
        "{s:I, s:i, s:i, s:i, s:s, s:f, s:f, s:f, s:f, s:I, s:I}", "id",
        (json_int_t)sh->id, "attempt", sh->attempt, "exit_code", o->exit_code,
        "signal", o->sig, "reason", o->why, "start_time", o->start, "end_time",
        o->end, "user_cpu", user, "sys_cpu", sys, "max_rss_kib", peak,
        "oom_kills", (json_int_t)cu.oom_kills);
    int rc = write_result(sh, r) < 0 ? 1 : 0;
    if (rc)
        log_err("cannot write the result of job %lld", (long long)sh->id);
    json_decref(r);
    return rc;
}

static void shell_release(struct shell *sh)
{
    if (sh->container[0])
        engine_remove(sh->runtime, sh->container_name);
    if (sh->shared_cg)
        cgroup_close(sh->cg);
    else
        cgroup_destroy(sh->cg);
    free(sh->nodelist);
    free(sh->outpath);
    free(sh->errpath);
    if (sh->env)
        for (char **e = sh->env; *e; e++)
            free(*e);
    free(sh->env);
    jobspec_release(&sh->spec);
    free(sh->early_reason);
    json_decref(sh->msg);
}

int shell_run(const char *dir)
{
    struct shell sh = { .dir = dir, .kill_wait = 10 };
    struct outcome o = { .exit_code = -1 };
    int rc;

    log_init("shell", LOG_INFO, NULL);
    if (claim(&sh) < 0) {
        log_msg(LOG_INFO,
                "%s: another shell has this job, or it is over: leaving it",
                dir);
        return 0;
    }
    o.start = util_now();
    if (prepare(&sh, &o) == 0 && contain(&sh, &o) == 0 && stage(&sh, &o) == 0
        && launch(&sh, &o) == 0) {
        wait_job(&sh, &o);
    } else {
        o.end = util_now();
        log_msg(LOG_ERR, "job %lld: %s", (long long)sh.id, o.why);
    }
    rc = report(&sh, &o);
    shell_release(&sh);
    return rc;
}

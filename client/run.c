/* SPDX-License-Identifier: GPL-2.0-or-later */
/* kiln run (srun): inside a job, start its tasks, each bound to its own
 * cores; outside, submit a job that does, wait for it, and stream its
 * output to the terminal. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client/client.h"
#include "lib/log.h"
#include "lib/util.h"
#include "lib/units.h"

extern char **environ;

static void usage(FILE *f)
{
    fprintf(
        f,
        "Usage: kiln run [OPTIONS] COMMAND [ARGS...]\n"
        "Inside a job: start its tasks (-n N, default all), task i bound to the\n"
        "cores Kiln chose for it (KILN_TASK_CPUS).  Outside: submit a job with\n"
        "the kiln submit OPTIONS that does that, wait, and show its output here.\n"
        "  -n, --ntasks N            tasks to start\n"
        "      --cpu-bind=verbose    say where each task is bound (to stderr)\n"
        "      --cpu-bind=none       do not bind the tasks\n");
}

/* The cpu list of task i: the i-th of KILN_TASK_CPUS ("0-1;2-3"), or, for
 * a job without task lists, KILN_CPUS.  A new string. */
static char *task_cpus(int i)
{
    const char *lists = getenv("KILN_TASK_CPUS"), *p;
    int k = 0;

    if (!lists || !*lists)
        return getenv("KILN_CPUS") ? strdup(getenv("KILN_CPUS")) : NULL;
    for (p = lists; k < i && p; k++) {
        p = strchr(p, ';');
        p = p ? p + 1 : NULL;
    }
    return p ? strndup(p, strcspn(p, ";")) : NULL;
}

static int count_tasks(void)
{
    const char *lists = getenv("KILN_TASK_CPUS");
    int n = 1;

    if (!lists || !*lists)
        return 1;
    for (const char *p = lists; *p; p++)
        n += *p == ';';
    return n;
}

/* Append s to buf, single-quoted for sh. */
static void quote(char **buf, size_t *len, const char *s)
{
    FILE *f = open_memstream(buf, len);

    if (!f)
        die("out of memory");
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'')
            fputs("'\\''", f);
        else
            fputc(*s, f);
    }
    fputs("' ", f);
    fclose(f);
}

/* Start "kiln exec NODE kiln run --node-tasks N ... ARGV" for another node
 * of the job; returns its pid. */
static pid_t run_remote(const char *node, int n, int bind, int total,
                        char **argv)
{
    char exe[4096], count[16], all[16];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    int argc = 0;
    while (argv[argc])
        argc++;
    char **a = calloc(argc + 12, sizeof(*a));
    if (len <= 0 || !a)
        die("cannot find the kiln program");
    exe[len] = '\0';
    snprintf(count, sizeof(count), "%d", n);
    snprintf(all, sizeof(all), "%d", total);
    int k = 0;
    a[k++] = exe;
    a[k++] = "exec";
    a[k++] = (char *)node;
    a[k++] = exe;
    a[k++] = "run";
    a[k++] = "--node-tasks";
    a[k++] = count;
    a[k++] = "--step-tasks";
    a[k++] = all;
    a[k++] = bind == 2 ? "--cpu-bind=verbose"
             : bind    ? "--cpu-bind=cores"
                       : "--cpu-bind=none";
    a[k++] = "--";
    /* kiln exec joins words for sh -c, as ssh does: quote each. */
    for (int i = 0; i < argc; i++) {
        char *q = NULL;
        size_t ql = 0;
        quote(&q, &ql, argv[i]);
        a[k++] = q;
    }
    pid_t pid = fork();
    if (pid < 0)
        die("cannot start the tasks of node %s: %s", node, strerror(errno));
    if (pid == 0) {
        execv(exe, a);
        _exit(127);
    }
    for (int i = 11; i < k; i++)
        free(a[i]);
    free(a);
    return pid;
}

/* Inside a job: start ntasks tasks of argv, bound unless bind is 0 (1:
 * bound, 2: bound and say so), and wait for all.  On a job of several
 * nodes the tasks are taken in node order, each node's through kiln exec
 * (node_tasks >= 0: only this node's, numbered from KILN_FIRST_TASK).  The
 * exit status is the first non-zero one of the tasks, 128+N for a task
 * killed by signal N. */
static int run_tasks(int ntasks, int node_tasks, int step_tasks, int bind,
                     char **argv)
{
    const char *node = getenv("KILN_NODENAME"),
               *nodes = getenv("KILN_JOB_NODES");
    const char *counts = getenv("KILN_JOB_NODE_TASKS");
    int first = getenv("KILN_FIRST_TASK") ? atoi(getenv("KILN_FIRST_TASK")) : 0;
    int me = getenv("KILN_NODE_INDEX") ? atoi(getenv("KILN_NODE_INDEX")) : 0;
    int local = ntasks, total = count_tasks(), rc = 0, left = 0, nremote = 0;
    pid_t remote[4096];

    if (node_tasks >= 0) {
        local = node_tasks;
    } else if (nodes && counts) {
        /* Every node's tasks, in node order, up to ntasks. */
        char *nl = strdup(nodes), *cl = strdup(counts), *s1 = NULL, *s2 = NULL;
        int want = ntasks, i = 0, before = 0;
        total = 0;
        for (char *n = strtok_r(nl, ",", &s1), *c = strtok_r(cl, ",", &s2);
             n && c;
             n = strtok_r(NULL, ",", &s1), c = strtok_r(NULL, ",", &s2), i++) {
            int take = atoi(c) < want ? atoi(c) : want;
            total += atoi(c);
            want -= take;
            if (i == me) {
                local = take;
                first = before;
            } else if (take > 0 && nremote < 4096) {
                remote[nremote++] = run_remote(n, take, bind, ntasks, argv);
            }
            before += take;
        }
        free(nl);
        free(cl);
    }
    if (ntasks > total && node_tasks < 0)
        die("this job has %d tasks (KILN_TASK_CPUS); -n %d asks for more: submit it "
            "with -n %d",
            total, ntasks, ntasks);
    if (local > count_tasks())
        die("this node has %d tasks; %d asked", count_tasks(), local);
    int all = step_tasks > 0 ? step_tasks : ntasks;
    pid_t *pids = calloc(local + nremote + 1, sizeof(*pids));
    if (!pids)
        die("out of memory");
    for (int j = 0; j < nremote; j++) {
        pids[local + j] = remote[j];
        left++;
    }
    ntasks = local;
    fflush(NULL);
    for (int i = 0; i < ntasks; i++) {
        char *cpus = task_cpus(i);
        cpu_set_t set;
        CPU_ZERO(&set);
        if (bind && (!cpus || util_cpulist_parse(cpus, &set) < 0))
            die("task %d: no valid cpu list in the job's environment", i);
        if (bind == 2)
            fprintf(stderr, "kiln run: node %s, task %d: cpus %s\n",
                    node ? node : "?", i, cpus);
        /* kiln run is small: fork costs little here, and lets the child
         * bind itself before exec. */
        pid_t pid = fork();
        if (pid < 0)
            die("cannot start task %d: %s", i, strerror(errno));
        if (pid == 0) {
            char v[32];
            if (bind && sched_setaffinity(0, sizeof(set), &set) < 0) {
                fprintf(stderr,
                        "kiln run: task %d: cannot bind to cpus %s: %s\n", i,
                        cpus, strerror(errno));
                _exit(126);
            }
            snprintf(v, sizeof(v), "%d", first + i);
            setenv("KILN_PROCID", v, 1);
            snprintf(v, sizeof(v), "%d", i);
            setenv("KILN_LOCALID", v, 1);
            snprintf(v, sizeof(v), "%d", all);
            setenv("KILN_STEP_NUM_TASKS", v, 1);
            if (cpus)
                setenv("KILN_TASK_BOUND_CPUS", cpus, 1);
            execvp(argv[0], argv);
            fprintf(stderr, "kiln run: cannot run '%s': %s\n", argv[0],
                    strerror(errno));
            _exit(errno == ENOENT ? 127 : 126);
        }
        pids[i] = pid;
        left++;
        free(cpus);
    }
    while (left > 0) {
        int status;
        pid_t pid = wait(&status);
        if (pid < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (int i = 0; i < ntasks + nremote; i++)
            if (pids[i] == pid) {
                int code = WIFEXITED(status) ? WEXITSTATUS(status)
                                             : 128 + WTERMSIG(status);
                if (code && !rc) {
                    rc = code;
                    if (i < ntasks)
                        fprintf(stderr, "kiln run: task %d exited with %s %d\n",
                                first + i,
                                WIFEXITED(status) ? "code" : "signal",
                                WIFEXITED(status) ? code : WTERMSIG(status));
                }
                left--;
            }
    }
    free(pids);
    return rc;
}

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
    (void)sig;
    interrupted++;
}

/* Copy what was added to path since *off to out. */
static void follow(const char *path, long *off, FILE *out)
{
    FILE *f = fopen(path, "r");
    char buf[65536];
    size_t n;

    if (!f)
        return;
    if (fseek(f, *off, SEEK_SET) == 0)
        while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
            fwrite(buf, 1, n, out);
            *off += (long)n;
        }
    fclose(f);
    fflush(out);
}

/* Outside a job: submit one that runs "kiln run" on its node, stream its
 * output files here while it runs, and exit as it did.  Ctrl-C cancels. */
static int run_submitted(int nopts, char **opts, int bind, char **cmd)
{
    char exe[4096], *script = NULL, *words = NULL, out[64], err[64];
    size_t len = 0, wlen = 0;
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    long out_off = 0, err_off = 0;
    bool wait;
    int rc = 1;

    if (n <= 0)
        die("cannot find the kiln program: %s", strerror(errno));
    exe[n] = '\0';
    {
        char *q = NULL;
        size_t ql = 0;
        FILE *f = open_memstream(&words, &wlen);
        if (!f)
            die("out of memory");
        quote(&q, &ql, exe);
        fputs(q, f);
        free(q);
        fprintf(f, "run --cpu-bind=%s -- ",
                bind == 2 ? "verbose"
                : bind    ? "cores"
                          : "none");
        for (char **a = cmd; *a; a++) {
            q = NULL;
            quote(&q, &ql, *a);
            fputs(q, f);
            free(q);
        }
        fclose(f);
    }
    FILE *f = open_memstream(&script, &len);
    if (!f)
        die("out of memory");
    fprintf(f, "exec %s", words);
    fclose(f);
    /* The output goes to hidden files in the current directory, which the
     * node must see, as for kiln submit's output; they go when we are done. */
    snprintf(out, sizeof(out), ".kiln-run-%%j.out");
    snprintf(err, sizeof(err), ".kiln-run-%%j.err");
    char **argv = calloc(nopts + 10, sizeof(*argv));
    int argc = 0;
    if (!argv)
        die("out of memory");
    argv[argc++] = "run";
    for (int i = 0; i < nopts; i++)
        argv[argc++] = opts[i];
    argv[argc++] = "--job-name";
    argv[argc++] = cmd[0];
    argv[argc++] = "--output";
    argv[argc++] = out;
    argv[argc++] = "--error";
    argv[argc++] = err;
    argv[argc++] = "--wrap";
    argv[argc++] = script;
    json_int_t id = submit_main(argc, argv, true, &wait);
    char outpath[96], errpath[96];
    snprintf(outpath, sizeof(outpath), ".kiln-run-%lld.out", (long long)id);
    snprintf(errpath, sizeof(errpath), ".kiln-run-%lld.err", (long long)id);
    signal(SIGINT, on_interrupt);
    signal(SIGTERM, on_interrupt);
    bool cancelled = false;
    for (;;) {
        char e[256];
        json_t *r = client_request_ex("job.show", json_pack("{s:I}", "id", id),
                                      -1, e, sizeof(e));
        if (!r)
            die("job %lld: %s", (long long)id, e);
        json_t *job = json_object_get(r, "job");
        const char *state = json_string_value(json_object_get(job, "state"));
        follow(outpath, &out_off, stdout);
        follow(errpath, &err_off, stderr);
        if ((rc = client_job_status(job, id)) >= 0) {
            json_decref(r);
            break;
        }
        if (state && !strcmp(state, "RUNNABLE") && !out_off) {
            static bool said;
            const char *why = json_string_value(
                json_object_get(json_object_get(job, "why"), "text"));
            if (!said && why)
                fprintf(stderr, "kiln run: job %lld waits: %s\n", (long long)id,
                        why);
            said = true;
        }
        json_decref(r);
        if (interrupted && !cancelled) {
            json_t *c =
                client_request_ex("job.cancel",
                                  json_pack("{s:[I], s:s}", "ids", id, "reason",
                                            "interrupted (kiln run)"),
                                  -1, e, sizeof(e));
            json_decref(c);
            fprintf(stderr, "kiln run: job %lld cancelled\n", (long long)id);
            cancelled = true;
        }
        usleep(50000);
    }
    follow(outpath, &out_off, stdout);
    follow(errpath, &err_off, stderr);
    unlink(outpath);
    unlink(errpath);
    free(argv);
    free(script);
    free(words);
    return rc;
}

/* Does kiln submit's option a (as typed) take the next word as its value? */
static bool takes_value(const char *a)
{
    static const char *const with_value[] = {
        "--job-name",
        "--ntasks",
        "--nodes",
        "--cpus-per-task",
        "--mem",
        "--time",
        "--output",
        "--error",
        "--chdir",
        "--export",
        "--queue",
        "--partition",
        "--dependency",
        "--array",
        "--gpus",
        "--constraint",
        "--distribution",
        "--nodelist",
        "--exclude",
        "--ntasks-per-node",
        "--threads-per-core",
        "--hint",
        "--mem-per-cpu",
        "--priority",
        "--share-identifier",
        "--retry-attempts",
        "--retry-strategy",
        "--depends-on",
        "--jobdef",
        "--parameters",
        "--server",
        "--config",
        NULL,
    };

    if (a[1] != '-')
        return a[2] == '\0' && strchr("JnNctoeDpdaGCmwx", a[1]);
    for (int k = 0; with_value[k]; k++)
        if (!strcmp(a, with_value[k]))
            return true;
    return false;
}

int cmd_run(int argc, char **argv)
{
    int bind = 1, ntasks = 0, nopts = 0, i, node_tasks = -1, step_tasks = 0;
    char **opts = calloc(argc + 1, sizeof(*opts));
    bool inside = getenv("KILN_JOB_ID") && getenv("KILN_CPUS");

    if (!opts)
        die("out of memory");
    /* Options up to the command (or "--"): ours, or kiln submit's. */
    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--")) {
            i++;
            break;
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        /* Between nodes of one job: run this node's first N tasks. */
        if (inside && (!strcmp(a, "--node-tasks") || !strcmp(a, "--step-tasks"))
            && i + 1 < argc) {
            *(!strcmp(a, "--node-tasks") ? &node_tasks : &step_tasks) =
                atoi(argv[++i]);
            continue;
        }
        if (!strncmp(a, "--cpu-bind=", 11)) {
            const char *v = a + 11;
            bind = !strcmp(v, "verbose") ? 2
                   : !strcmp(v, "none")  ? 0
                   : !strcmp(v, "cores") ? 1
                                         : -1;
            if (bind < 0)
                die("invalid value for --cpu-bind: '%s' (verbose, cores or none)",
                    v);
            continue;
        }
        if (inside
            && (!strcmp(a, "-n") || !strcmp(a, "--ntasks")
                || !strncmp(a, "--ntasks=", 9) || !strncmp(a, "-n", 2))) {
            const char *v = !strncmp(a, "--ntasks=", 9) ? a + 9
                            : (!strcmp(a, "-n") || !strcmp(a, "--ntasks"))
                                ? argv[++i]
                                : a + 2;
            long n;
            if (!v || units_parse_count(v, 1 << 20, &n) < 0)
                die("invalid value for --ntasks: '%s'", v ? v : "");
            ntasks = (int)n;
            continue;
        }
        if (inside)
            die("inside a job, kiln run takes -n N and --cpu-bind; '%s' is for kiln submit",
                a);
        /* A submit option, and its value when it takes one separately. */
        opts[nopts++] = argv[i];
        if (takes_value(a) && i + 1 < argc)
            opts[nopts++] = argv[++i];
    }
    if (i >= argc) {
        usage(stderr);
        die("missing command");
    }
    const char *all = getenv("KILN_NTASKS");
    int rc = inside ? run_tasks(ntasks ? ntasks
                                : all  ? atoi(all)
                                       : count_tasks(),
                                node_tasks, step_tasks, bind, argv + i)
                    : run_submitted(nopts, opts, bind, argv + i);
    free(opts);
    return rc;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bench_submit ENDPOINT N LIMIT KILN: throughput and latency of a running
 * Kiln cluster, as rows of make bench's table (tests/bench/README says
 * what each is).  LIMIT is the machine's trivial processes per second,
 * measured first; end-to-end rates are given as a ratio of it.  KILN is
 * the kiln program, timed as a user runs it.  Not a pass/fail test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "lib/error.h"
#include "lib/proto.h"
#include "lib/util.h"
#include "tests/bench/benchlib.h"

static int cmp_double_fwd(const void *a, const void *b);
static double limit; /* bench_spawn's processes per second */
static const char *kiln, *endpoint;

/* A rate, and its ratio to the machine's limit. */
static void rate_row(const char *figure, int n, double seconds, const char *how)
{
    char v[96], h[256];
    snprintf(v, sizeof(v), "%.0f/s (%.2f x limit)", n / seconds,
             n / seconds / limit);
    snprintf(h, sizeof(h), "%s; %d jobs in %.2f s", how, n, seconds);
    bench_row(figure, v, h);
}

/* How long kiln ARGS... takes, as a user runs it (output discarded): the
 * median of k runs, in ms. */
static double time_kiln(int k, const char *cmd, const char *arg)
{
    double t[32];

    for (int i = 0; i < k && i < 32; i++) {
        double s = util_monotonic();
        pid_t pid = fork();
        if (pid == 0) {
            if (!freopen("/dev/null", "w", stdout))
                _exit(127);
            execl(kiln, "kiln", cmd, "--server", endpoint, arg, (char *)NULL);
            _exit(127);
        }
        waitpid(pid, NULL, 0);
        t[i] = (util_monotonic() - s) * 1000;
    }
    qsort(t, (size_t)k, sizeof(t[0]), cmp_double_fwd);
    return t[k / 2];
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int cmp_double_fwd(const void *a, const void *b)
{
    return cmp_double(a, b);
}

static json_int_t submit_one(json_t *extra)
{
    json_t *b = bench_job();
    json_object_update(json_object_get(b, "job"), extra);
    json_decref(extra);
    json_t *r = bench_call("job.submit", b);
    json_int_t id = json_integer_value(json_object_get(r, "id"));
    json_decref(r);
    return id;
}

static double sched_last_ms(void)
{
    json_t *r = bench_call("server.info", json_object());
    double v = json_number_value(
        json_object_get(json_object_get(r, "scheduler"), "last_ms"));
    json_decref(r);
    return v;
}

static void bench_array(void)
{
    double t = util_monotonic();
    json_int_t id =
        submit_one(json_pack("{s:s, s:b}", "array", "0-99999", "hold", 1));
    double ms = (util_monotonic() - t) * 1000;
    char v[32];
    snprintf(v, sizeof(v), "%.1f ms", ms);
    bench_row("submit of a 100,000-element array", v,
              "held; one row, children made as cores free");
    bench_cancel(&id, 1);
}

/* One of bench_clients' processes: submit n held jobs, up to 256 in
 * flight, write when it started and finished on fd, cancel them. */
static void client_process(const char *ep, int n, int fd)
{
    void *ctx = zmq_ctx_new();
    json_int_t *ids = calloc(n, sizeof(*ids));
    int sent = 0, got = 0;
    double t[2];

    bench_sock = bench_connect(ctx, ep);
    t[0] = util_monotonic();
    while (got < n) {
        while (sent < n && sent - got < 256) {
            json_t *b = bench_job();
            json_object_set_new(json_object_get(b, "job"), "hold", json_true());
            bench_send("job.submit", b);
            sent++;
        }
        json_t *r = bench_recv();
        ids[got++] = json_integer_value(json_object_get(r, "id"));
        json_decref(r);
    }
    t[1] = util_monotonic();
    if (write(fd, t, sizeof(t)) != sizeof(t))
        exit(1);
    bench_cancel(ids, n);
    zmq_close(bench_sock);
    zmq_ctx_term(ctx);
    exit(0);
}

/* What the server takes from several clients at once, each request with
 * its own credential: k processes of n jobs each. */
static void bench_clients(const char *ep, int k, int n)
{
    double first = 1e300, last = 0, t[2];
    int fds[2];

    fflush(stdout);
    if (pipe(fds) < 0)
        return;
    for (int i = 0; i < k; i++)
        if (fork() == 0) {
            close(fds[0]);
            client_process(ep, n, fds[1]);
        }
    close(fds[1]);
    for (int i = 0; i < k && read(fds[0], t, sizeof(t)) == sizeof(t); i++) {
        first = t[0] < first ? t[0] : first;
        last = t[1] > last ? t[1] : last;
    }
    close(fds[0]);
    while (wait(NULL) > 0)
        ;
    char v[32], h[128];
    snprintf(v, sizeof(v), "%.0f/s", k * n / (last - first));
    snprintf(h, sizeof(h), "%d clients at once, %d held jobs each, %.2f s", k,
             n, last - first);
    bench_row("submissions over the API, several clients", v, h);
}

static void bench_sched(int n)
{
    const char *queues[] = { "bench1", "bench2", "bench3" };
    json_int_t *ids = calloc(n, sizeof(*ids)), blockers[2];
    double samples[21];

    for (int q = 0; q < 3; q++)
        json_decref(bench_call(
            "queue.create",
            json_pack("{s:s, s:i}", "name", queues[q], "priority", q + 1)));
    /* Busy cores with time limits, so that every pass also computes a
     * backfill reservation and tries the jobs behind it. */
    for (int i = 0; i < 2; i++)
        blockers[i] =
            submit_one(json_pack("{s:s, s:i}", "script",
                                 "#!/bin/sh\nsleep 600\n", "time_limit", 3600));
    usleep(500000);
    double t0 = util_monotonic();
    int sent = 0, got = 0;
    while (got < n) {
        while (sent < n && sent - got < 256) {
            json_t *b = bench_job();
            json_object_update(json_object_get(b, "job"),
                               json_pack("{s:s, s:i}", "queue",
                                         queues[sent % 3], "time_limit", 600));
            bench_send("job.submit", b);
            sent++;
        }
        json_t *r = bench_recv();
        ids[got++] = json_integer_value(json_object_get(r, "id"));
        json_decref(r);
    }
    double t1 = util_monotonic();
    for (int i = 0; i < 21; i++) {
        json_int_t id = submit_one(
            json_pack("{s:s, s:i}", "queue", queues[i % 3], "time_limit", 600));
        bench_cancel(&id, 1);
        samples[i] = sched_last_ms();
    }
    qsort(samples, 21, sizeof(samples[0]), cmp_double);
    char v[64], h[160];
    snprintf(v, sizeof(v), "median %.2f ms, max %.2f ms", samples[10],
             samples[20]);
    snprintf(h, sizeof(h),
             "%d runnable jobs in 3 queues (submitted at %.0f/s), cores busy, "
             "backfill on; 21 passes",
             n, n / (t1 - t0));
    bench_row("scheduler pass", v, h);
    /* What a user waits for to see them all. */
    snprintf(v, sizeof(v), "%.0f ms", time_kiln(3, "queue", NULL));
    bench_row("kiln queue, 100,000 jobs queued", v, "median of 3 runs");
    snprintf(v, sizeof(v), "%.0f ms", time_kiln(3, "queue", "--json"));
    bench_row("kiln queue --json, 100,000 jobs queued", v, "median of 3 runs");
    snprintf(v, sizeof(v), "%.2f ms", time_kiln(21, "show", "1"));
    bench_row("kiln show ID", v, "median of 21 runs, 100,000 jobs queued");
    bench_cancel(ids, n);
    bench_cancel(blockers, 2);
    free(ids);
}

/* Until every job of ids has finished: one wait each, all in flight. */
static void wait_all(const json_int_t *ids, int n)
{
    for (int i = 0; i < n; i++)
        bench_send("job.wait", json_pack("{s:I}", "id", ids[i]));
    for (int i = 0; i < n; i++)
        json_decref(bench_recv());
}

int main(int argc, char **argv)
{
    void *ctx = zmq_ctx_new();
    int n = argc > 2 ? atoi(argv[2]) : 5000, window = 256;
    json_int_t *ids;
    double t0, t_sub, lat[21];
    char v[64], h[160];

    if (argc < 5 || n <= 0 || (limit = atof(argv[3])) <= 0) {
        fprintf(stderr, "usage: bench_submit ENDPOINT N LIMIT KILN\n");
        return 2;
    }
    endpoint = argv[1];
    kiln = argv[4];
    bench_sock = bench_connect(ctx, argv[1]);
    ids = calloc(n, sizeof(*ids));

    /* n single submissions, pipelined from one client, then until every
     * job has finished. */
    t0 = util_monotonic();
    int sent = 0, got = 0;
    while (got < n) {
        while (sent < n && sent - got < window) {
            bench_send("job.submit", bench_job());
            sent++;
        }
        json_t *r = bench_recv();
        ids[got++] = json_integer_value(json_object_get(r, "id"));
        json_decref(r);
    }
    t_sub = util_monotonic();
    snprintf(v, sizeof(v), "%.0f/s", n / (t_sub - t0));
    snprintf(h, sizeof(h), "one client, up to %d in flight, %d jobs", window,
             n);
    bench_row("submissions over the API, one client", v, h);
    wait_all(ids, n);
    rate_row("end to end, single submissions", n, util_monotonic() - t0,
             "one client over the API, first submit to last finished");

    /* One array of n: its parent ends with its last child. */
    char range[32];
    snprintf(range, sizeof(range), "1-%d", n);
    t0 = util_monotonic();
    json_int_t array = submit_one(json_pack("{s:s}", "array", range));
    wait_all(&array, 1);
    rate_row("end to end, one array", n, util_monotonic() - t0,
             "first submit to last child finished");

    /* One job on the idle cluster, 21 times. */
    for (int i = 0; i < 21; i++) {
        double s = util_monotonic();
        json_int_t id = submit_one(json_object());
        wait_all(&id, 1);
        lat[i] = (util_monotonic() - s) * 1000;
        usleep(20000);
    }
    qsort(lat, 21, sizeof(lat[0]), cmp_double);
    snprintf(v, sizeof(v), "median %.1f ms", lat[10]);
    snprintf(h, sizeof(h), "min %.1f, max %.1f; 21 jobs one at a time", lat[0],
             lat[20]);
    bench_row("submit to finished, one trivial job, idle", v, h);

    bench_clients(argv[1], 4, 2000);
    bench_array();
    bench_sched(100000);
    free(ids);
    zmq_close(bench_sock);
    zmq_ctx_term(ctx);
    return 0;
}

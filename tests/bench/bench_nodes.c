/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bench_nodes ENDPOINT SERVER_PID NODES JOBS: the server at scale, as rows
 * of make bench's table.  NODES simulated nodes (machines of 32, 64 and
 * 128 PUs, hwloc's synthetic topologies) connect at once from this one
 * process, each a socket speaking the worker protocol as kiln-worker does
 * (CURVE with the cluster key, node.hello, heartbeats, job.started at once
 * for every job.start, job.end for every job.kill); then JOBS jobs of
 * mixed shapes are submitted and run until every one is placed; then they
 * are cancelled.  This machine cannot run thousands of kiln-worker
 * processes: the server is the real one, only the nodes are stand-ins.
 * Not a pass/fail test. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <zmq.h>

#include "lib/error.h"
#include "lib/keys.h"
#include "lib/proto.h"
#include "lib/topo.h"
#include "lib/token.h"
#include "lib/util.h"
#include "lib/zsock.h"
#include "tests/bench/benchlib.h"

struct sim {
    void *sock;
    char name[16];
    int shape; /* which topology */
    bool welcomed;
    int running; /* job parts it holds */
};

static struct sim *nodes;
static int nnodes, welcomed;
static long parts_started, parts_ended;
static json_t *topologies[3];

static void say(struct sim *n, const char *type, json_t *body)
{
    json_object_set_new(body, "version", json_integer(KILN_PROTO_VERSION));
    if (proto_send(n->sock, NULL, 0, type, body) < 0) {
        perror("bench_nodes: send");
        exit(1);
    }
    json_decref(body);
}

static void hello(struct sim *n)
{
    say(n, "node.hello",
        json_pack("{s:s, s:O, s:[], s:s}", "name", n->name, "topology",
                  topologies[n->shape], "jobs", "cgroup", "none"));
}

/* What a worker answers, at once: its jobs take no time here. */
static void heard(struct sim *n)
{
    struct proto_msg m;
    struct kiln_error err;

    while (proto_recv(n->sock, 0, &m, &err) == 1) {
        json_t *b = m.body;
        json_int_t id = json_integer_value(json_object_get(b, "id"));
        json_int_t attempt = json_integer_value(json_object_get(b, "attempt"));
        if (!strcmp(m.type, "node.welcome") && !n->welcomed) {
            n->welcomed = true;
            welcomed++;
        } else if (!strcmp(m.type, "node.rehello")) {
            hello(n);
        } else if (!strcmp(m.type, "job.start")) {
            say(n, "job.started",
                json_pack("{s:I, s:I}", "id", id, "attempt", attempt));
            n->running++;
            parts_started++;
        } else if (!strcmp(m.type, "job.kill")) {
            double now = util_now();
            say(n, "job.end",
                json_pack("{s:I, s:I, s:i, s:i, s:s, s:f, s:f, s:f, s:f, "
                          "s:i, s:i}",
                          "id", id, "attempt", attempt, "exit_code", 143,
                          "signal", 15, "reason",
                          json_string_value(json_object_get(b, "reason")),
                          "start_time", now, "end_time", now, "user_cpu", 0.0,
                          "sys_cpu", 0.0, "max_rss_kib", 0, "oom_kills", 0));
            n->running--;
            parts_ended++;
        }
        proto_msg_release(&m);
    }
}

/* Every node says its heartbeat once a second; poll for up to ms. */
static void turn(zmq_pollitem_t *items, int ms)
{
    static double next_beat;

    if (util_monotonic() >= next_beat) {
        for (int i = 0; i < nnodes; i++)
            if (nodes[i].welcomed)
                say(&nodes[i], "node.heartbeat", json_object());
        next_beat = util_monotonic() + 1;
    }
    if (zmq_poll(items, nnodes, ms) > 0)
        for (int i = 0; i < nnodes; i++)
            if (items[i].revents & ZMQ_POLLIN)
                heard(&nodes[i]);
}

static double cpu_seconds(int pid)
{
    char path[64];
    unsigned long long ut = 0, st = 0;
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (f) {
        if (fscanf(f,
                   "%*d %*s %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
                   "%llu %llu",
                   &ut, &st)
            != 2)
            ut = st = 0;
        fclose(f);
    }
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* The shapes the jobs take, in turn: mostly small, some whole cores,
 * some spread over tasks, one in ten on two nodes. */
static json_t *shaped_job(long i)
{
    static const struct {
        int ntasks, cpus, nodes;
    } shapes[] = { { 1, 1, 0 }, { 1, 2, 0 }, { 4, 1, 0 }, { 1, 1, 0 },
                   { 2, 2, 0 }, { 1, 8, 0 }, { 1, 1, 0 }, { 3, 1, 0 },
                   { 1, 4, 0 }, { 4, 1, 2 } };
    int k = (int)(i % (long)(sizeof(shapes) / sizeof(shapes[0])));
    json_t *b = bench_job(), *j = json_object_get(b, "job");

    json_object_set_new(j, "ntasks", json_integer(shapes[k].ntasks));
    json_object_set_new(j, "cpus_per_task", json_integer(shapes[k].cpus));
    if (shapes[k].nodes)
        json_object_set_new(j, "nodes", json_integer(shapes[k].nodes));
    return b;
}

static void setup_nodes(void *ctx, const char *ep)
{
    const char *keys = getenv("KILN_KEYS");
    const char *shapes[] = { "pack:1 core:32 pu:1",
                             "pack:2 numa:2 core:16 pu:2",
                             "pack:2 numa:4 core:8 pu:2" };
    struct curve_key cluster, server;
    struct kiln_error err;
    char path[4096], token[TOKEN_LEN + 1] = "";

    for (int i = 0; i < 3; i++) {
        struct topo *t = topo_discover(shapes[i], NULL, &err);
        if (!t) {
            fprintf(stderr, "bench_nodes: %s\n", err.text);
            exit(1);
        }
        topologies[i] = topo_to_json(t);
        topo_destroy(t);
    }
    if (keys) {
        snprintf(path, sizeof(path), "%s/cluster.key", keys);
        if (keys_read(path, true, &cluster, &err) < 0) {
            fprintf(stderr, "bench_nodes: %s\n", err.text);
            exit(1);
        }
        snprintf(path, sizeof(path), "%s/server.pub", keys);
        if (keys_read(path, false, &server, &err) < 0) {
            fprintf(stderr, "bench_nodes: %s\n", err.text);
            exit(1);
        }
    } else if (token_read(token, NULL) <= 0) {
        fprintf(stderr, "bench_nodes: no keys and no token\n");
        exit(1);
    }
    for (int i = 0; i < nnodes; i++) {
        struct sim *n = &nodes[i];
        char rid[64];
        int zero = 0;
        snprintf(n->name, sizeof(n->name), "sim%05d", i);
        snprintf(rid, sizeof(rid), "%s/%08x", n->name, (unsigned)rand());
        n->shape = i % 3;
        if (!(n->sock = zmq_socket(ctx, ZMQ_DEALER))) {
            fprintf(stderr, "bench_nodes: socket %d: %s\n", i,
                    zmq_strerror(errno));
            exit(1);
        }
        zmq_setsockopt(n->sock, ZMQ_LINGER, &zero, sizeof(zero));
        zmq_setsockopt(n->sock, ZMQ_ROUTING_ID, rid, strlen(rid));
        if (keys)
            zsock_curve(n->sock, server.public, &cluster);
        else
            zsock_token(n->sock, token);
        zmq_connect(n->sock, ep);
    }
}

int main(int argc, char **argv)
{
    void *ctx = zmq_ctx_new();
    long njobs;
    int server_pid;
    char v[96], h[256];

    if (argc != 5 || (server_pid = atoi(argv[2])) <= 0
        || (nnodes = atoi(argv[3])) <= 0 || (njobs = atol(argv[4])) <= 0) {
        fprintf(stderr, "usage: bench_nodes ENDPOINT SERVER_PID NODES JOBS\n");
        return 2;
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    zmq_ctx_set(ctx, ZMQ_MAX_SOCKETS, nnodes + 64);
    bench_sock = bench_connect(ctx, argv[1]);
    json_t *info = bench_call("server.info", json_object());
    char *wep =
        strdup(json_string_value(json_object_get(info, "worker_endpoint")));
    json_decref(info);
    nodes = calloc((size_t)nnodes, sizeof(*nodes));
    zmq_pollitem_t *items = calloc((size_t)nnodes, sizeof(*items));

    /* All at once: every socket connects and says hello. */
    double t0 = util_monotonic(), c0 = cpu_seconds(server_pid);
    setup_nodes(ctx, wep);
    for (int i = 0; i < nnodes; i++) {
        hello(&nodes[i]);
        items[i] = (zmq_pollitem_t){ nodes[i].sock, 0, ZMQ_POLLIN, 0 };
    }
    while (welcomed < nnodes && util_monotonic() - t0 < 300)
        turn(items, 100);
    double t_up = util_monotonic() - t0;
    snprintf(v, sizeof(v), "%.2f s", t_up);
    snprintf(h, sizeof(h),
             "%d of %d welcomed; connect, CURVE, node.hello at once from one "
             "process; server CPU %.2f s",
             welcomed, nnodes, cpu_seconds(server_pid) - c0);
    char fig[96];
    snprintf(fig, sizeof(fig), "%d simulated nodes registering at once",
             nnodes);
    bench_row(fig, v, h);

    /* Nothing but heartbeats. */
    c0 = cpu_seconds(server_pid);
    double t1 = util_monotonic();
    while (util_monotonic() - t1 < 5)
        turn(items, 100);
    snprintf(v, sizeof(v), "%.0f ms in 5 s",
             (cpu_seconds(server_pid) - c0) * 1000);
    snprintf(fig, sizeof(fig), "server CPU, %d nodes, no jobs", nnodes);
    bench_row(fig, v, "a heartbeat a second from each node, and its ack");

    /* The jobs, up to 256 submissions in flight, until every part runs. */
    json_t *before = bench_call("server.info", json_object()), *after;
    json_int_t *ids = calloc((size_t)njobs, sizeof(*ids));
    long sent = 0, got = 0, parts = 0;
    for (long i = 0; i < njobs; i++)
        parts += i % 10 == 9 ? 2 : 1;
    c0 = cpu_seconds(server_pid);
    t1 = util_monotonic();
    zmq_pollitem_t client = { bench_sock, 0, ZMQ_POLLIN, 0 };
    while (got < njobs || parts_started < parts) {
        while (sent < njobs && sent - got < 256)
            bench_send("job.submit", shaped_job(sent++));
        while (got < njobs && zmq_poll(&client, 1, 0) == 1) {
            json_t *r = bench_recv();
            ids[got++] = json_integer_value(json_object_get(r, "id"));
            json_decref(r);
        }
        turn(items, got < njobs ? 0 : 100);
        if (util_monotonic() - t1 > 600)
            break;
    }
    double t_placed = util_monotonic() - t1;
    after = bench_call("server.info", json_object());
    json_t *sb = json_object_get(before, "scheduler"),
           *sa = json_object_get(after, "scheduler");
    double ms = json_number_value(json_object_get(sa, "total_ms"))
                - json_number_value(json_object_get(sb, "total_ms"));
    long starts = (long)(json_integer_value(json_object_get(sa, "starts"))
                         - json_integer_value(json_object_get(sb, "starts")));
    long passes = (long)(json_integer_value(json_object_get(sa, "passes"))
                         - json_integer_value(json_object_get(sb, "passes")));
    snprintf(fig, sizeof(fig), "%ld jobs of mixed shapes on %d nodes", njobs,
             nnodes);
    snprintf(v, sizeof(v), "%.2f s until all placed (%.0f jobs/s)", t_placed,
             njobs / t_placed);
    snprintf(h, sizeof(h),
             "%ld of %ld job parts started; 10 shapes, 1 to 8 cpus, one in "
             "ten on 2 nodes; server CPU %.1f s",
             parts_started, parts, cpu_seconds(server_pid) - c0);
    bench_row(fig, v, h);
    snprintf(v, sizeof(v), "%.1f us", starts ? ms * 1000 / starts : 0);
    snprintf(h, sizeof(h),
             "scheduler time per job started: %ld started in %ld passes, "
             "%.0f ms in all, longest pass %.1f ms",
             starts, passes, ms,
             json_number_value(json_object_get(sa, "max_ms")));
    snprintf(fig, sizeof(fig), "scheduling decision, %d nodes", nnodes);
    bench_row(fig, v, h);
    json_decref(before);
    json_decref(after);

    /* Cancelled: every node is told, ends its parts, the server acks. */
    t1 = util_monotonic();
    bench_cancel(ids, (int)got);
    while (parts_ended < parts_started && util_monotonic() - t1 < 300)
        turn(items, 100);
    snprintf(v, sizeof(v), "%.2f s", util_monotonic() - t1);
    snprintf(h, sizeof(h),
             "job.cancel in requests of 20,000; %ld of %ld "
             "parts ended on their nodes",
             parts_ended, parts_started);
    bench_row("cancel of all of them", v, h);

    for (int i = 0; i < nnodes; i++)
        zmq_close(nodes[i].sock);
    zmq_close(bench_sock);
    zmq_ctx_term(ctx);
    free(ids);
    free(items);
    free(nodes);
    free(wep);
    return 0;
}

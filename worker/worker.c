/* SPDX-License-Identifier: GPL-2.0-or-later */
/* kiln worker: registration, heartbeats and the event loop of a node. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <spawn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "lib/cgroup.h"
#include "lib/config.h"
#include "lib/daemon.h"
#include "lib/jobspec.h"
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "lib/features.h"
#include "lib/jsonfields.h"
#include "lib/log.h"
#include "lib/proto.h"
#include "lib/util.h"
#include "lib/zsock.h"
#include "worker/worker.h"

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
    stopping = 1;
}

void worker_send(struct worker *w, const char *type, json_t *body)
{
    if (!body)
        return;
    if (proto_send(w->sock, NULL, 0, type, body) < 0 && errno != EAGAIN)
        log_err("cannot send %s", type);
    json_decref(body);
}

/* Ask the server's client endpoint type with body (consumed) on a
 * socket of its own; retries with backoff until it answers or the worker
 * is stopped.  1 with *reply "ok" (release it), 0 when the server
 * refused (said in the log), -1 when stopped or the address is wrong. */
static int ask_server(struct worker *w, const char *type, json_t *body,
                      struct proto_msg *reply)
{
    double backoff = 0.2;
    int rc = -1;

    while (!stopping) {
        void *s = zmq_socket(w->ctx, ZMQ_DEALER);
        struct kiln_error err;
        proto_socket_setup(s, PROTO_SIDE_WORKER);
        if (w->auth == AUTH_MUNGE) /* the client socket is encrypted too */
            zsock_curve(s, w->server_key, &w->key);
        else
            zsock_token(s, w->token);
        if (zmq_connect(s, w->server) < 0) {
            log_msg(LOG_ERR, "invalid server address '%s': %s", w->server,
                    zmq_strerror(errno));
            zmq_close(s);
            break;
        }
        proto_send(s, NULL, 0, type, body);
        zmq_pollitem_t it = { s, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll(&it, 1, 2000) == 1 && proto_recv(s, 0, reply, &err) == 1) {
            zmq_close(s);
            if (strcmp(reply->type, "ok") == 0) {
                rc = 1;
                break;
            }
            const char *e =
                json_string_value(json_object_get(reply->body, "error"));
            w->last_refusal = e && !strcmp(e, "EAGAIN") ? EAGAIN : EPERM;
            log_msg(w->last_refusal == EAGAIN ? LOG_INFO : LOG_ERR,
                    "server %s refused %s: %s", w->server, type,
                    util_str_or(
                        json_string_value(json_object_get(reply->body, "text")),
                        "?"));
            proto_msg_release(reply);
            rc = 0;
            break;
        }
        log_msg(LOG_WARNING, "no answer from server %s; retrying in %.1f s",
                w->server, backoff);
        zmq_close(s);
        usleep((useconds_t)(backoff * 1e6));
        backoff = backoff * 2 > 10 ? 10 : backoff * 2;
    }
    json_decref(body);
    return rc;
}

/* Ask the server's client endpoint where workers connect. */
static int resolve_endpoint(struct worker *w)
{
    struct proto_msg m;

    while (!stopping) {
        int rc =
            ask_server(w, "server.info",
                       json_pack("{s:i}", "version", KILN_PROTO_VERSION), &m);
        if (rc < 0)
            return -1;
        if (rc == 0) {
            sleep(1);
            continue;
        }
        const char *ep =
            json_string_value(json_object_get(m.body, "worker_endpoint"));
        if (ep) {
            /* A wildcard bind address means "the host you reached me on". */
            const char *host_end = strrchr(w->server, ':');
            const char *port = strrchr(ep, ':');
            if (host_end && port
                && (strstr(ep, "://0.0.0.0:") || strstr(ep, "://*:")))
                snprintf(w->endpoint, sizeof(w->endpoint), "%.*s%s",
                         (int)(host_end - w->server), w->server, port);
            else
                snprintf(w->endpoint, sizeof(w->endpoint), "%s", ep);
            proto_msg_release(&m);
            return 0;
        }
        proto_msg_release(&m);
        sleep(1);
    }
    return -1;
}

/* An instance of a managed compute environment: present the launch's
 * one-time token with this worker's public key, once per launch (a
 * marker in the spool keeps the token it joined with across restarts; a
 * host resumed by a new launch joins again). */
static int join_server(struct worker *w, const char *token)
{
    char marker[PATH_MAX + 16];
    struct proto_msg m;
    json_t *req;

    snprintf(marker, sizeof(marker), "%s/joined", w->spool);
    char *used = util_read_file(marker, 4096, NULL);
    bool same = used && !strcmp(used, token);
    free(used);
    if (same)
        return 0;
    req = json_pack("{s:i, s:s, s:s}", "version", KILN_PROTO_VERSION, "name",
                    w->name, "token", token);
    if (req && w->auth == AUTH_MUNGE)
        json_object_set_new(req, "key", json_string(w->key.public));
    int rc;
    /* EAGAIN: the server has not heard from the provider yet. */
    for (int tries = 0;
         (rc = ask_server(w, "node.join", json_incref(req), &m)) == 0
         && w->last_refusal == EAGAIN && tries < 600 && !stopping;
         tries++)
        usleep(200000);
    json_decref(req);
    if (rc <= 0)
        return -1;
    proto_msg_release(&m);
    if (util_write_atomic(marker, token, strlen(token), UTIL_DURABLE) < 0)
        log_err("cannot write %s", marker);
    log_msg(LOG_INFO, "joined the server with the launch's token");
    return 0;
}

static void send_hello(struct worker *w)
{
    json_t *hello = json_pack("{s:i, s:s, s:O, s:o, s:s}", "version",
                              KILN_PROTO_VERSION, "name", w->name, "topology",
                              w->topo_json, "jobs", launch_job_list(w),
                              "cgroup", cgroup_version_name(cgroup_detect()));
    if (hello && w->ce[0])
        json_object_set_new(hello, "ce", json_string(w->ce));
    if (hello && w->address[0])
        json_object_set_new(hello, "address", json_string(w->address));
    char host[64];
    if (hello && gethostname(host, sizeof(host)) == 0) {
        host[sizeof(host) - 1] = '\0';
        json_object_set_new(hello, "hostname", json_string(host));
    }
    if (hello && w->runtimes)
        json_object_set(hello, "runtimes", w->runtimes);
    if (hello && w->features[0])
        json_object_set_new(hello, "features", json_string(w->features));
    worker_send(w, "node.hello", hello);
    w->next_hello = util_monotonic() + 2;
}

static void kill_list(struct worker *w, json_t *list)
{
    size_t i;
    json_t *v;

    json_array_foreach (list, i, v) {
        json_int_t id;
        int att;
        if (json_unpack(v, "{s:I, s:i}", "id", &id, "attempt", &att) == 0)
            launch_kill(w, id, att,
                        "cancelled: the server no longer runs this job");
    }
}

static void on_welcome(struct worker *w, json_t *body)
{
    double hb = json_number_value(json_object_get(body, "heartbeat"));
    json_t *kill = json_object_get(body, "kill");

    if (json_object_get(body, "kill_wait"))
        w->kill_wait =
            (int)json_integer_value(json_object_get(body, "kill_wait"));
    w->heartbeat = hb > 0.05 && hb < 60 ? hb : 1;
    w->welcomed = true;
    log_msg(LOG_INFO, "registered with %s (a heartbeat every %g s)",
            w->endpoint, w->heartbeat);
    if (kill)
        kill_list(w, kill);
    launch_resume(w);
    /* Results still unacknowledged go out now; so do the starts of the
     * jobs that run, which a server that did not know us dropped. */
    for (struct wjob *j = w->jobs; j; j = j->next) {
        j->next_send = 0;
        if (j->shell > 0 && !j->result && !j->launching)
            j->started_due = util_monotonic();
    }
}

static void on_rehello(struct worker *w, json_t *body)
{
    w->welcomed = false;
    send_hello(w);
}

static void on_heartbeat_ack(struct worker *w, json_t *body)
{
    /* Only that the server is there (w->last_heard). */
}

static void on_job_start(struct worker *w, json_t *body)
{
    /* A start sent before our hello was answered belongs to an older
     * connection's view; the server requeues it on our hello. */
    if (w->welcomed)
        launch_start(w, body);
}

static void on_job_kill(struct worker *w, json_t *body)
{
    const char *reason = json_string_value(json_object_get(body, "reason"));

    launch_kill(w, json_integer_value(json_object_get(body, "id")),
                (int)json_integer_value(json_object_get(body, "attempt")),
                reason ? reason : "cancelled");
}

static void on_job_end_ack(struct worker *w, json_t *body)
{
    launch_ack(w, json_integer_value(json_object_get(body, "id")),
               (int)json_integer_value(json_object_get(body, "attempt")));
}

static void on_error(struct worker *w, json_t *body)
{
    log_msg(LOG_ERR, "server: %s",
            json_string_value(json_object_get(body, "text")));
}

#define V PROTO_VERSION_FIELD
#define FIELDS(...) ((const struct json_field[]){ __VA_ARGS__, { NULL } })
#define FROM_SERVER(type, fields, fn)                        \
    {                                                        \
        { type, PROTO_SERVER_MSG, PROTO_SERVER, fields }, fn \
    }
static const struct json_field none[] = { { NULL } };
static const struct json_field job_attempt[] = {
    { "id", JSON_INTEGER, true },
    { "attempt", JSON_INTEGER, true },
    { NULL },
};

/* Every message a worker takes from the server (doc/protocol.md): the
 * fields are checked here, once, before the handler runs. */
const struct worker_msg worker_msgs[] = {
    FROM_SERVER("node.welcome",
                FIELDS(V, { "heartbeat", JSON_FIELD_NUMBER, true },
                       { "kill_wait", JSON_INTEGER, false },
                       { "kill", JSON_ARRAY, false }),
                on_welcome),
    FROM_SERVER("node.rehello", none, on_rehello),
    FROM_SERVER("node.heartbeat.ack", none, on_heartbeat_ack),
    FROM_SERVER(
        "job.start",
        FIELDS({ "id", JSON_INTEGER, true }, { "attempt", JSON_INTEGER, true },
               { "spec", JSON_OBJECT, true }, { "cpus", JSON_STRING, true },
               { "nodelist", JSON_STRING, true },
               { "kill_wait", JSON_INTEGER, false },
               { "tasks", JSON_ARRAY, true }, { "gpus", JSON_ARRAY, false },
               { "node_index", JSON_INTEGER, true },
               { "nodes", JSON_ARRAY, true },
               { "main_address", JSON_STRING, false },
               { "token", JSON_STRING, false },
               { "shared_host", JSON_TRUE, false },
               { "array_id", JSON_INTEGER, false },
               { "array_index", JSON_INTEGER, false }),
        on_job_start),
    FROM_SERVER("job.kill",
                FIELDS({ "id", JSON_INTEGER, true },
                       { "attempt", JSON_INTEGER, true },
                       { "reason", JSON_STRING, false }),
                on_job_kill),
    FROM_SERVER("job.end.ack", job_attempt, on_job_end_ack),
    FROM_SERVER(
        "exec.start",
        FIELDS({ "id", JSON_INTEGER, true }, { "attempt", JSON_INTEGER, true },
               { "exec", JSON_INTEGER, true }, { "argv", JSON_ARRAY, true }),
        exec_start),
    FROM_SERVER("exec.input",
                FIELDS({ "exec", JSON_INTEGER, true },
                       { "data", JSON_STRING, false },
                       { "eof", JSON_TRUE, false }),
                exec_input),
    FROM_SERVER("exec.signal",
                FIELDS({ "exec", JSON_INTEGER, true },
                       { "signal", JSON_INTEGER, true }),
                exec_signal),
    { { "error", PROTO_REPLY, PROTO_SERVER,
        FIELDS({ "error", JSON_STRING, true }, { "text", JSON_STRING, true }) },
      on_error },
};
const size_t nworker_msgs = sizeof(worker_msgs) / sizeof(worker_msgs[0]);

static void handle(struct worker *w, struct proto_msg *m)
{
    struct kiln_error err;

    for (size_t i = 0; i < nworker_msgs; i++) {
        if (strcmp(worker_msgs[i].rule.type, m->type) != 0)
            continue;
        if (proto_check(&worker_msgs[i].rule, m, &err) != 0)
            log_msg(LOG_WARNING, "ignoring a message from the server: %s",
                    err.text);
        else
            worker_msgs[i].fn(w, m->body);
        return;
    }
    log_msg(LOG_WARNING, "ignoring unknown message '%.64s'", m->type);
}

/* The IPv4 address this node reaches the server from: a UDP socket
 * "connected" to the server's host says which, without sending anything.
 * Jobs learn the main node's (AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS). */
static void find_address(struct worker *w)
{
    char host[256] = "";
    struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_DGRAM },
                    *ai = NULL;
    struct sockaddr_in me;
    socklen_t len = sizeof(me);
    int fd = -1;

    if (sscanf(w->endpoint, "tcp://%255[^:]", host) != 1 || !strcmp(host, "*")
        || getaddrinfo(host, "9", &hints, &ai) != 0)
        goto out;
    if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) >= 0
        && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0
        && getsockname(fd, (struct sockaddr *)&me, &len) == 0)
        inet_ntop(AF_INET, &me.sin_addr, w->address, sizeof(w->address));
out:
    if (fd >= 0)
        close(fd);
    if (ai)
        freeaddrinfo(ai);
}

static int connect_server(struct worker *w)
{
    int ivl = 100, ivl_max = 5000;

    if (!(w->sock = zmq_socket(w->ctx, ZMQ_DEALER))
        || proto_socket_setup(w->sock, PROTO_SIDE_WORKER) < 0)
        return -1;
    /* NAME/RANDOM, new for each socket: the server takes the node's
     * messages from, and sends its own to, the connection of its last
     * hello only, and no other peer can guess (or take over) that id. */
    unsigned long long r[2] = { 0, 0 };
    char rid[128];
    if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
        r[0] = (unsigned long long)getpid()
               ^ (unsigned long long)(util_now() * 1e9);
        r[1] = (unsigned long long)clock();
    }
    snprintf(rid, sizeof(rid), "%s/%016llx%016llx", w->name, r[0], r[1]);
    zmq_setsockopt(w->sock, ZMQ_ROUTING_ID, rid, strlen(rid));
    zmq_setsockopt(w->sock, ZMQ_RECONNECT_IVL, &ivl, sizeof(ivl));
    zmq_setsockopt(w->sock, ZMQ_RECONNECT_IVL_MAX, &ivl_max, sizeof(ivl_max));
    if (w->auth == AUTH_MUNGE)
        secure_socket(w);
    else
        zsock_token(w->sock, w->token);
    return zmq_connect(w->sock, w->endpoint);
}

/* How long a welcomed worker waits for any word from the server. */
static double server_silence(const struct worker *w)
{
    return w->heartbeat * 10 > 10 ? w->heartbeat * 10 : 10;
}

/* A new connection (a new socket) and a new hello, keeping the jobs. */
static int reconnect(struct worker *w)
{
    secure_close(w);
    w->monitor = NULL;
    zmq_close(w->sock);
    w->sock = NULL;
    w->welcomed = false;
    if (connect_server(w) < 0)
        return -1;
    w->last_heard = util_monotonic();
    send_hello(w);
    return 0;
}

static int worker_loop(struct worker *w)
{
    zmq_pollitem_t *items = NULL;
    struct wjob **owners = NULL;
    struct wexec **eowners = NULL;
    int cap = 0;

    spot_init(w);
    send_hello(w);
    while (!stopping) {
        int n = 3 + exec_count_fds(w);
        for (struct wjob *j = w->jobs; j; j = j->next)
            n += j->pidfd >= 0;
        if (n > cap) {
            cap = n * 2;
            items = realloc(items, cap * sizeof(*items));
            owners = realloc(owners, cap * sizeof(*owners));
            eowners = realloc(eowners, cap * sizeof(*eowners));
            if (!items || !owners || !eowners) {
                log_msg(LOG_CRIT, "out of memory");
                return -1;
            }
        }
        items[0] = (zmq_pollitem_t){ w->sock, 0, ZMQ_POLLIN, 0 };
        n = 1;
        for (struct wjob *j = w->jobs; j; j = j->next)
            if (j->pidfd >= 0) {
                items[n] = (zmq_pollitem_t){ NULL, j->pidfd, ZMQ_POLLIN, 0 };
                owners[n++] = j;
            }
        int first_exec = n;
        n += exec_poll_items(w, items + n, eowners + n, cap - n);
        int spot_item = spot_poll_item(w, &items[n]) ? n++ : -1;
        int launcher_item = -1;
        if (launcher_poll_fd(w) >= 0) {
            items[n] =
                (zmq_pollitem_t){ NULL, launcher_poll_fd(w), ZMQ_POLLIN, 0 };
            launcher_item = n++;
        }
        double now = util_monotonic();
        double next = w->welcomed ? w->next_heartbeat : w->next_hello;
        next = spot_next(w, next);
        next = launcher_next(w, next);
        next = launch_started_due(w, now, next);
        for (struct wjob *j = w->jobs; j; j = j->next)
            if (j->result && w->welcomed && j->next_send < next)
                next = j->next_send;
        long timeout = next > now ? (long)((next - now) * 1000) + 1 : 0;
        if (zmq_poll(items, n, timeout) < 0) {
            if (errno == EINTR)
                continue;
            log_err("zmq_poll");
            return -1;
        }
        if (items[0].revents & ZMQ_POLLIN) {
            struct proto_msg m;
            struct kiln_error err;
            int rc;
            while ((rc = proto_recv(w->sock, 0, &m, &err)) != 0) {
                if (rc < 0) {
                    if (errno != EPROTO)
                        break;
                    log_msg(LOG_WARNING, "refused a message: %s", err.text);
                    continue;
                }
                w->last_heard = util_monotonic();
                handle(w, &m);
                proto_msg_release(&m);
            }
        }
        for (int i = 1; i < first_exec; i++)
            if (items[i].revents & ZMQ_POLLIN)
                launch_reaped(w, owners[i]);
        if (launcher_item >= 0
            && (items[launcher_item].revents & (ZMQ_POLLIN | ZMQ_POLLERR)))
            launcher_readable(w);
        for (int i = first_exec; i < n; i++)
            if (i != spot_item && i != launcher_item
                && (items[i].revents & (ZMQ_POLLIN | ZMQ_POLLERR)))
                exec_readable(w, eowners[i], items[i].fd);
        if (spot_item >= 0
            && (items[spot_item].revents & (ZMQ_POLLIN | ZMQ_POLLERR)))
            spot_readable(w);
        /* Reap the commands of kiln exec, whose status goes back (and a
         * launcher that died: the next launch starts another). */
        pid_t pid;
        int status;
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
            exec_reaped(w, pid, status);
        exec_sweep(w);
        secure_check(w);
        now = util_monotonic();
        if (!w->welcomed && now >= w->next_hello)
            send_hello(w);
        if (w->welcomed && now - w->last_heard > server_silence(w)) {
            /* The server answers every heartbeat: a connection that
             * carries nothing back is dead, whatever TCP says. */
            log_msg(LOG_WARNING,
                    "the server has said nothing for %.0f s: connecting again",
                    now - w->last_heard);
            if (reconnect(w) < 0) {
                log_msg(LOG_CRIT, "cannot connect to %s again: %s", w->endpoint,
                        zmq_strerror(errno));
                return -1;
            }
            continue;
        }
        spot_tick(w, now);
        launcher_tick(w, now);
        if (w->welcomed && now >= w->next_heartbeat) {
            worker_send(w, "node.heartbeat",
                        json_pack("{s:i}", "version", KILN_PROTO_VERSION));
            w->next_heartbeat = now + w->heartbeat;
        }
        /* With no server to take them, results are made durable now. */
        if (!w->welcomed)
            for (struct wjob *j = w->jobs; j; j = j->next)
                if (j->result)
                    launch_sync_result(j);
        if (w->welcomed)
            for (struct wjob *j = w->jobs; j; j = j->next)
                if (j->result && now >= j->next_send) {
                    if (j->next_send > 0)
                        launch_sync_result(j); /* not acknowledged at once */
                    worker_send(w, "job.end", json_incref(j->result));
                    j->next_send = now + 1;
                }
    }
    free(items);
    free(owners);
    free(eowners);
    for (struct wjob *j = w->jobs; j; j = j->next)
        if (j->result)
            launch_sync_result(j);
    log_msg(LOG_INFO, "stopping on signal; running jobs go on");
    return 0;
}

/* GET path from the metadata service, through the kiln-ec2 helper (the
 * worker links no HTTP library): the value (first line) in out, or NULL
 * when it is not there or there is no service. */
static const char *metadata_get(struct worker *w, const char *path, char *out,
                                size_t len)
{
    char helper[PATH_MAX], env[300];
    int fds[2];
    pid_t pid;
    posix_spawn_file_actions_t fa;
    ssize_t n = 0, r;

    if (util_helper_path("kiln-ec2", helper, sizeof(helper)) < 0
        || pipe2(fds, O_CLOEXEC) < 0)
        return NULL;
    snprintf(env, sizeof(env), "KILN_METADATA_URL=%s", w->metadata);
    char *const argv[] = { helper, "metadata", (char *)path, NULL };
    char *const envp[] = { env, NULL };
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    int rc = posix_spawn(&pid, helper, &fa, NULL, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        return NULL;
    }
    while ((size_t)n < len - 1
           && (r = read(fds[0], out + n, len - 1 - (size_t)n)) > 0)
        n += r;
    close(fds[0]);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    out[n] = '\0';
    out[strcspn(out, "\r\n")] = '\0';
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 && n > 0 ? out : NULL;
}

/* kiln-shell, the launcher of the jobs' shells, and kiln, the jobs' kiln
 * exec. */
static int find_shell(struct worker *w)
{
    util_kiln_path(w->kiln_path, sizeof(w->kiln_path));
    return util_helper_path("kiln-shell", w->shell_path, sizeof(w->shell_path));
}

static void usage(FILE *f)
{
    fprintf(
        f,
        "Usage: kiln worker [OPTIONS]\n"
        "  --server ENDPOINT   the server's client address (default %s)\n"
        "  --name NAME         node name (default: the host name)\n"
        "  --cpus LIST         manage only these cpus (OS numbers, e.g. 0-3,8)\n"
        "  --spool DIR         job spool (default %s)\n"
        "  --config FILE       configuration file (default %s)\n"
        "  --foreground        stay in the foreground, log to stderr\n"
        "  --log-level LEVEL   error, warning, info or debug (default info)\n"
        "  --ce NAME           join this compute environment (default: as the server has it)\n"
        "  --features LIST     this node's features, for --constraint (e.g. avx512,ib)\n"
        "  --topology SPEC     a synthetic machine (\"pack:2 numa:4 core:16 pu:2\"), or\n"
        "  --topology-xml FILE an hwloc XML export, both only with\n"
        "  --simulate          place jobs as usual, run them unpinned and without cgroups\n"
        "  --auth munge|none   CURVE to the server and jobs as their owners (default), or\n"
        "                      no keys and every job as this worker's user\n"
        "  --keys DIR          CURVE keys (default %s): server.pub, and\n"
        "                      workers/NAME.key or cluster.key\n"
        "  --key FILE          this worker's key pair, if elsewhere\n"
        "  --allow-root        with --auth none: run every job as root\n"
        "  --metadata URL      a cloud instance's metadata service (IMDSv2): its id\n"
        "                      is the node name, and a spot interruption notice\n"
        "                      there is told to the server\n",
        KILN_DEFAULT_SERVER, KILN_DEFAULT_SPOOL, KILN_DEFAULT_CONFIG,
        KILN_DEFAULT_KEYS);
}

int cmd_worker(int argc, char **argv)
{
    static const struct option opts[] = {
        { "server", required_argument, NULL, 's' },
        { "name", required_argument, NULL, 'n' },
        { "cpus", required_argument, NULL, 'c' },
        { "spool", required_argument, NULL, 'S' },
        { "config", required_argument, NULL, 'C' },
        { "foreground", no_argument, NULL, 'f' },
        { "log-level", required_argument, NULL, 'L' },
        { "ce", required_argument, NULL, 'E' },
        { "features", required_argument, NULL, 'F' },
        { "topology", required_argument, NULL, 'T' },
        { "topology-xml", required_argument, NULL, 'X' },
        { "simulate", no_argument, NULL, 'M' },
        { "auth", required_argument, NULL, 'A' },
        { "keys", required_argument, NULL, 'k' },
        { "key", required_argument, NULL, 'K' },
        { "allow-root", no_argument, NULL, 'R' },
        { "metadata", required_argument, NULL, 'D' },
        { "help", no_argument, NULL, 'h' },
        { 0 },
    };
    struct worker wk = { .heartbeat = 1,
                         .kill_wait = 10,
                         .launcher_fd = -1,
                         .launcher_pidfd = -1 },
                  *w = &wk;
    struct kiln_config cfg;
    struct kiln_error err;
    const char *server = NULL, *name = NULL, *cpus = NULL, *spool = NULL,
               *cfgfile = NULL, *level = NULL, *ce = NULL, *topology = NULL,
               *features = NULL, *auth = NULL, *keys = NULL, *key = NULL,
               *metadata = NULL;
    char xmlspec[PATH_MAX + 8];
    char host[256], role[80];
    bool fg = false, allow_root = false;
    int c, rc = 1;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 's': server = optarg; break;
        case 'n': name = optarg; break;
        case 'c': cpus = optarg; break;
        case 'S': spool = optarg; break;
        case 'C': cfgfile = optarg; break;
        case 'f': fg = true; break;
        case 'L': level = optarg; break;
        case 'E': ce = optarg; break;
        case 'F': features = optarg; break;
        case 'T': topology = optarg; break;
        case 'X':
            snprintf(xmlspec, sizeof(xmlspec), "xml:%s", optarg);
            topology = xmlspec;
            break;
        case 'M': w->simulate = true; break;
        case 'A': auth = optarg; break;
        case 'k': keys = optarg; break;
        case 'K': key = optarg; break;
        case 'R': allow_root = true; break;
        case 'D': metadata = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 1;
        }
    }
    if (optind < argc)
        die("unexpected argument '%s'", argv[optind]);
    if (config_load(cfgfile, &cfg, &err) < 0)
        die("%s", err.text);
    server = server                  ? server
             : getenv("KILN_SERVER") ? getenv("KILN_SERVER")
             : cfg.server            ? cfg.server
                                     : KILN_DEFAULT_SERVER;
    name = name ? name : cfg.worker_name;
    cpus = cpus ? cpus : cfg.worker_cpus;
    spool = spool ? spool : cfg.spool ? cfg.spool : KILN_DEFAULT_SPOOL;
    level = level                  ? level
            : cfg.worker_log_level ? cfg.worker_log_level
                                   : "info";
    ce = ce ? ce : cfg.worker_ce;
    if (ce && !jobspec_name_ok(ce, 63))
        die("invalid compute environment name '%s'", ce);
    if (ce)
        snprintf(w->ce, sizeof(w->ce), "%s", ce);
    features = features ? features : cfg.worker_features;
    if (features
        && (!features_list_ok(features)
            || strlen(features) >= sizeof(w->features)))
        die("invalid features '%s': names of letters, digits and ._- separated by commas",
            features);
    if (features)
        snprintf(w->features, sizeof(w->features), "%s", features);
    if (metadata && (strncmp(metadata, "http://", 7) || strlen(metadata) > 200))
        die("invalid --metadata '%s': want an http:// URL", metadata);
    if (metadata)
        snprintf(w->metadata, sizeof(w->metadata), "%s", metadata);
    /* A cloud instance is named by its id, which the metadata service
     * says. */
    if (!name && metadata
        && !(name = metadata_get(w, "latest/meta-data/instance-id", host,
                                 sizeof(host))))
        die("cannot read this instance's id from the metadata service at %s",
            metadata);
    if (!name) {
        if (gethostname(host, sizeof(host)) < 0)
            die("cannot read the host name: %s", strerror(errno));
        host[sizeof(host) - 1] = '\0';
        char *dot = strchr(host, '.');
        if (dot)
            *dot = '\0';
        name = host;
    }
    if (!jobspec_name_ok(name, 63))
        die("invalid node name '%s': use 1-63 letters, digits and ._-+@:,",
            name);
    int lvl = log_level_parse(level);
    if (lvl < 0)
        die("invalid log level '%s'", level);
    snprintf(w->name, sizeof(w->name), "%s", name);
    snprintf(w->server, sizeof(w->server), "%s", server);
    if (auth_mode_parse(auth              ? auth
                        : cfg.worker_auth ? cfg.worker_auth
                                          : "munge",
                        &w->auth, &err)
        < 0)
        die("%s", err.text);

    snprintf(w->spool, sizeof(w->spool), "%s", spool);
    if (find_shell(w) < 0)
        die("cannot find kiln-shell beside %s or in %s: is Kiln installed whole?",
            "this kiln", KILN_LIBEXECDIR);
    /* A made-up machine is for tests and benchmarks only: its jobs cannot
     * be pinned to cores this machine does not have. */
    if (topology && !w->simulate)
        die("--topology and --topology-xml need --simulate (jobs then run unpinned)");
    if (!(w->topo = topo_discover(topology, cpus, &err)))
        die("%s", err.text);
    if (!(w->topo_json = topo_to_json(w->topo)))
        die("out of memory");
    if (w->auth == AUTH_NONE) {
        /* The owner's worker: root must mean it, the server is on this
         * machine, and the owner's token lets it in. */
        char tpath[PATH_MAX] = "?";
        token_path(tpath, sizeof(tpath), NULL);
        if (geteuid() == 0 && !allow_root)
            die("--auth none runs every job as this worker's user, and that is root "
                "here: give --allow-root if that is what you want (or use --auth munge)");
        if (!token_endpoint_local(w->server))
            die("--auth none reaches a server on this machine only (loopback or ipc://), "
                "not '%s'",
                w->server);
        int got = token_read(w->token, &err);
        if (got < 0)
            die("%s", err.text);
        if (got == 0)
            die("no single-user token in %s: start the server (--auth none) first, as this "
                "worker's user",
                tpath);
    }
    keys = keys ? keys : cfg.worker_keys ? cfg.worker_keys : KILN_DEFAULT_KEYS;
    /* An instance launched by a managed environment comes with a join
     * token and no key: it makes its own pair, and the server takes the
     * public key when the token is presented. */
    char join_token[256];
    const char *join = getenv("KILN_JOIN_TOKEN");
    if (join && (!*join || strlen(join) >= sizeof(join_token)))
        die("invalid KILN_JOIN_TOKEN");
    if (join) {
        /* Not for the jobs' eyes: out of the environment they inherit. */
        snprintf(join_token, sizeof(join_token), "%s", join);
        join = join_token;
        unsetenv("KILN_JOIN_TOKEN");
    }
    char own_key[PATH_MAX + 80];
    snprintf(own_key, sizeof(own_key), "%s/workers/%s.key", keys, name);
    if (join && w->auth == AUTH_MUNGE && !key && !cfg.worker_key
        && access(own_key, F_OK) < 0
        && keys_generate(keys, name, false, own_key, sizeof(own_key), &err) < 0)
        die("%s", err.text);
    if (w->auth == AUTH_MUNGE
        && secure_load(w, keys, key ? key : cfg.worker_key, &err) < 0)
        die("%s", err.text);
    char jobsdir[PATH_MAX + 8];
    snprintf(jobsdir, sizeof(jobsdir), "%s/jobs", spool);
    /* 0711: a job's user passes through to its script, lists nothing. */
    if (util_mkdir_p(jobsdir, 0711) < 0 || chmod(jobsdir, 0711) < 0)
        die("cannot create spool directory '%s': %s", jobsdir, strerror(errno));
    /* Job cgroups live under kiln/NAME-HASH, the hash of the spool path, so
     * that two workers of the same name on one machine (tests) never share
     * a group. */
    char spool_abs[PATH_MAX];
    uint32_t h = 2166136261u;
    if (!realpath(spool, spool_abs))
        die("cannot resolve spool directory '%s': %s", spool, strerror(errno));
    for (const char *p = spool_abs; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    snprintf(w->cgroup_scope, sizeof(w->cgroup_scope), "kiln/%s-%08x", w->name,
             h);
    /* Job directories are named by absolute paths (the launcher takes no
     * other), whatever the worker's working directory becomes. */
    snprintf(w->spool, sizeof(w->spool), "%s", spool_abs);

    FILE *ready = stdout;
    if (!fg)
        ready = daemon_detach(spool, "worker.log");
    snprintf(role, sizeof(role), "worker:%s", w->name);
    log_init(role, lvl, NULL);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);

    if (w->auth == AUTH_NONE)
        log_msg(LOG_WARNING,
                "authentication: none (single-user mode): no CURVE keys, and "
                "every job runs as this worker's user, %s (uid %u)",
                util_user_name(geteuid()), (unsigned)geteuid());
    else
        log_msg(LOG_INFO,
                "authentication: CURVE with key %s; jobs run as their owners%s",
                w->key_path,
                geteuid() == 0 ? ""
                               : ": only this worker's user's, as it "
                                 "is not root");
    if (!(w->ctx = zmq_ctx_new()))
        die("cannot create a ZeroMQ context");
    log_msg(LOG_INFO, "%d cpus (%s), %lld MiB, %s (jobs under %s); spool %s",
            w->topo->npu, cpus ? cpus : "all", (long long)w->topo->mem_mib,
            cgroup_version_name(cgroup_detect()), w->cgroup_scope, spool);
    if (cgroup_detect() == CGROUP_NONE && !w->simulate)
        log_msg(
            LOG_WARNING,
            "no usable cgroups on this node (is /sys/fs/cgroup mounted and "
            "writable?): jobs are bound to their cores but not contained, memory "
            "limits are refused, and each job's processes are tracked by their process "
            "groups (the script's, each kiln exec's) and killed when it ends");
    /* OCI runtimes: found once, in the site's order of preference. */
    w->runtimes = engine_runtimes(cfg.worker_runtimes);
    char *rts = util_json_join(w->runtimes, NULL, ",");
    log_msg(LOG_INFO, "container runtimes: %s", rts && *rts ? rts : "none");
    free(rts);
    if (launch_recover(w) < 0)
        die("cannot read the spool '%s': %s", spool, strerror(errno));
    cgroup_prune(w->cgroup_scope, launch_holds_group, w);
    if ((join && join_server(w, join) < 0) || resolve_endpoint(w) < 0)
        goto done;
    find_address(w);
    if (connect_server(w) < 0)
        goto done;
    fprintf(ready, "kiln worker %s: server %s\n", w->name, w->endpoint);
    fflush(ready);
    if (ready != stdout)
        fclose(ready);
    rc = worker_loop(w) < 0 ? 1 : 0;
done:
    launcher_stop(w);
    free(w->pending);
    cgroup_prune(w->cgroup_scope, launch_holds_group, w);
    launch_forget_all(w);
    secure_close(w);
    zmq_close(w->sock);
    zmq_ctx_term(w->ctx);
    topo_destroy(w->topo);
    json_decref(w->topo_json);
    json_decref(w->runtimes);
    config_release(&cfg);
    return rc;
}

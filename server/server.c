/* SPDX-License-Identifier: GPL-2.0-or-later */
/* kiln server: the head-node daemon's options, sockets and event loop. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "lib/config.h"
#include "lib/daemon.h"
#include "lib/localsock.h"
#include "lib/log.h"
#include "lib/units.h"
#include "lib/util.h"
#include "server/server.h"

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
    stopping = 1;
}

int server_send(struct server *s, void *sock, const void *id, size_t idlen,
                const char *type, json_t *body)
{
    struct outmsg *o;

    if (!body) {
        /* Every request gets an answer: one that could not be built
         * (no memory, text that is not UTF-8) becomes an error. */
        log_err("cannot build a '%s' message; sending an error instead", type);
        type = "error";
        if (!(body = proto_error_body(EIO,
                                      "the server could not build its answer")))
            return 0;
    }
    if (s->nout == s->outcap) {
        int cap = s->outcap ? s->outcap * 2 : 256;
        struct outmsg *n = realloc(s->out, cap * sizeof(*n));
        if (!n) {
            log_err("dropping a '%s' message", type);
            json_decref(body);
            return 0;
        }
        s->out = n;
        s->outcap = cap;
    }
    o = &s->out[s->nout++];
    o->sock = sock;
    memcpy(o->id, id, idlen);
    o->idlen = idlen;
    snprintf(o->type, sizeof(o->type), "%s", type);
    o->body = body;
    return 0;
}

int server_reply_error(struct server *s, void *sock, const struct proto_msg *m,
                       int errnum, const char *fmt, ...)
{
    char text[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    util_utf8_fix(text, 0); /* it goes into JSON: never a cut character */
    /* Every refusal is logged once, here, with whom it went to; those of
     * who may do what (EACCES, EPERM) as warnings. */
    int level = errnum == EACCES || errnum == EPERM ? LOG_WARNING : LOG_INFO;
    log_msg(level, "refused %s from %s: %s", m->type,
            m->from[0] ? m->from : "a peer", text);
    server_send(s, sock, m->id, m->idlen, "error",
                proto_error_body(errnum, text));
    return -1;
}

/* Send what this turn produced.  Called only after the commit, so that
 * nothing the store might lose is ever told to a peer. */
static void flush_outbox(struct server *s)
{
    for (int i = 0; i < s->nout; i++) {
        struct outmsg *o = &s->out[i];
        if (proto_send(o->sock, o->id, o->idlen, o->type, o->body) < 0
            && o->sock == s->workers)
            log_msg(LOG_DEBUG, "cannot send %s to worker '%.*s': %s", o->type,
                    (int)o->idlen, (const char *)o->id, zmq_strerror(errno));
        json_decref(o->body);
    }
    s->nout = 0;
}

/* The turn could not be committed, and was rolled back: memory now holds
 * what the disk does not.  Nothing of it is told: each client that asked
 * something in it is told that nothing was done and why, workers are told
 * nothing, and the server stops, to restart from what is on disk. */
static void turn_failed(struct server *s)
{
    int errnum;
    const char *why = store_error(s->st, &errnum);
    char text[400];

    snprintf(
        text, sizeof(text),
        "the server could not save this request, so nothing of "
        "it was done (%s); the server stops, and started again has its last saved state",
        why ? why : strerror(errno));
    util_utf8_fix(text, 0);
    log_msg(LOG_CRIT, "cannot commit to the store: %s; stopping",
            why ? why : strerror(errno));
    for (int i = 0; i < s->nout; i++) {
        struct outmsg *o = &s->out[i];
        json_decref(o->body);
        o->body = NULL;
        if (o->sock == s->clients) {
            snprintf(o->type, sizeof(o->type), "error");
            o->body = proto_error_body(errnum, text);
        }
    }
    int n = 0;
    for (int i = 0; i < s->nout; i++)
        if (s->out[i].body)
            s->out[n++] = s->out[i];
    s->nout = n;
    flush_outbox(s);
}

/* Read what is waiting on sock, at most max messages, so that neither
 * socket starves the other.  Client requests come in batches whose
 * credentials are checked together. */
static int drain(struct server *s, void *sock, int max)
{
    static struct proto_msg batch[SERVER_BATCH];
    struct kiln_error err;
    int n = 0, rc = 1;

    while (n < max && rc != 0) {
        int got = 0;
        while (got < SERVER_BATCH && n < max
               && (rc = proto_recv(sock, 1, &batch[got], &err)) != 0) {
            n++;
            if (rc > 0) {
                got++;
                continue;
            }
            if (errno != EPROTO) {
                rc = 0;
                break;
            }
            log_msg(LOG_WARNING, "refused a message on the %s socket: %s",
                    sock == s->clients ? "client" : "worker", err.text);
            if (batch[got].idlen > 0)
                server_send(s, sock, batch[got].id, batch[got].idlen, "error",
                            proto_error_body(EPROTO, err.text));
        }
        if (sock == s->clients)
            identity_verify_batch(s, batch, got);
        for (int i = 0; i < got; i++) {
            if (sock == s->clients)
                request_from_client(s, &batch[i], i);
            else
                request_from_worker(s, &batch[i]);
            proto_msg_release(&batch[i]);
        }
    }
    return n;
}

static void *bind_router(struct server *s, const char *ep, char *got,
                         size_t len, bool workers)
{
    void *sock = zmq_socket(s->ctx, ZMQ_ROUTER);
    int backlog = 4096;
    size_t glen = len;

    if (!sock)
        return NULL;
    proto_socket_setup(sock, workers ? PROTO_SIDE_NODES : PROTO_SIDE_SERVER);
    zmq_setsockopt(sock, ZMQ_BACKLOG, &backlog, sizeof(backlog));
    /* No ROUTER_HANDOVER: a routing id is its first connection's until
     * that connection is gone (closed, or silent past the heartbeat
     * timeout or the keepalives), so no peer can take over another's
     * messages. */
    curve_server_socket(s, sock, workers);
    if (zmq_bind(sock, ep) < 0
        || zmq_getsockopt(sock, ZMQ_LAST_ENDPOINT, got, &glen) < 0) {
        int saved = errno;
        zmq_close(sock);
        errno = saved;
        return NULL;
    }
    return sock;
}

/* The worker endpoint, when not given: the client one with the port
 * plus one, or an ephemeral port when the client port is ephemeral. */
static void derive_worker_ep(const char *client, char *out, size_t len)
{
    const char *colon = strrchr(client, ':');
    char *end;
    long port = colon ? strtol(colon + 1, &end, 10) : -1;

    if (!colon || *end || port <= 0 || port >= 65535)
        snprintf(out, len, "%.*s:*",
                 colon ? (int)(colon - client) : (int)strlen(client), client);
    else
        snprintf(out, len, "%.*s:%ld", (int)(colon - client), client, port + 1);
}

static void usage(FILE *f)
{
    fprintf(
        f,
        "Usage: kiln server [OPTIONS]\n"
        "  --listen ENDPOINT         client endpoint (default %s)\n"
        "  --worker-listen ENDPOINT  worker endpoint (default: client port + 1)\n"
        "  --state DIR               database and logs (default %s)\n"
        "  --config FILE             configuration file (default %s)\n"
        "  --local PATH|none         also listen for this host's clients on a UNIX\n"
        "                            socket, who they are from the kernel (default\n"
        "                            %s with the default state)\n"
        "  --foreground              stay in the foreground, log to stderr\n"
        "  --log-level LEVEL         error, warning, info or debug (default info)\n"
        "  --node-timeout SECONDS    silence before a worker is down (default 30)\n"
        "  --kill-wait SECONDS       SIGTERM to SIGKILL grace (default 10)\n"
        "  --advertise ENDPOINT      the address instances of managed compute environments\n"
        "                            reach the server at (default: the client endpoint)\n"
        "  --start-timeout SECONDS   time a node has to confirm a job's start; then the\n"
        "                            job is requeued and the node drained (default 60)\n"
        "  --auth munge|none         MUNGE credentials and CURVE workers (default), or\n"
        "                            one trusted user, for a laptop\n"
        "  --keys DIR                CURVE keys of kiln keygen (default %s)\n"
        "  --allow-root              with --auth none: run every job as root\n",
        KILN_DEFAULT_SERVER, KILN_DEFAULT_STATE, KILN_DEFAULT_CONFIG,
        KILN_DEFAULT_LOCAL, KILN_DEFAULT_KEYS);
}

static int server_loop(struct server *s)
{
    double next_check = util_monotonic() + 1;

    while (!stopping) {
        zmq_pollitem_t items[] = {
            { s->clients, 0, ZMQ_POLLIN, 0 },
            { s->workers, 0, ZMQ_POLLIN, 0 },
            { NULL, elastic_fd(s), ZMQ_POLLIN, 0 },
            { s->zap, 0, ZMQ_POLLIN, 0 },
        };
        long timeout = (long)((next_check - util_monotonic()) * 1000);
        if (timeout < 0)
            timeout = 0;
        if (zmq_poll(items, s->zap ? 4 : 3, s->sched_needed ? 0 : timeout)
            < 0) {
            if (errno == EINTR)
                continue;
            log_err("zmq_poll");
            return -1;
        }
        if (store_begin(s->st) < 0) {
            log_msg(LOG_CRIT, "cannot begin a transaction: stopping");
            return -1;
        }
        curve_zap(s);
        /* Worker messages first: they free cores for the submissions. */
        drain(s, s->workers, 4096);
        drain(s, s->clients, 4096);
        if (util_monotonic() >= next_check) {
            nodes_check(s);
            next_check = util_monotonic() + 1;
        }
        deps_run(s);
        bool sched_ran = s->sched_needed;
        if (s->sched_needed) {
            double t0 = util_monotonic();
            sched_run(s);
            s->sched_last_ms = (util_monotonic() - t0) * 1000;
            if (s->sched_last_ms > s->sched_max_ms)
                s->sched_max_ms = s->sched_last_ms;
            s->sched_total_ms += s->sched_last_ms;
            s->sched_passes++;
        }
        elastic_turn(s, sched_ran);
        if (store_commit(s->st) < 0) {
            turn_failed(s);
            return -1;
        }
        flush_outbox(s);
        elastic_flush(s);
        jobs_reap(s);
    }
    log_msg(LOG_INFO, "stopping on signal");
    return 0;
}

/* Files an older server made with the default mode become 0600. */
static void secure_state_files(const char *state)
{
    static const char *const names[] = { "kiln.db", "kiln.db-wal",
                                         "kiln.db-shm", "server.log" };
    char path[PATH_MAX];

    for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
        snprintf(path, sizeof(path), "%s/%s", state, names[i]);
        if (chmod(path, 0600) < 0 && errno != ENOENT)
            die("cannot make '%s' private: %s", path, strerror(errno));
    }
}

/* The local socket's path: --local, else the config's, else the default
 * for the server of the default state (one server a host); NULL for none. */
static const char *local_wanted(const char *opt, const struct kiln_config *cfg,
                                const char *state)
{
    const char *p = opt ? opt : cfg->local;

    if (!p)
        p = strcmp(state, KILN_DEFAULT_STATE) ? "none" : KILN_DEFAULT_LOCAL;
    return strcmp(p, "none") ? p : NULL;
}

int cmd_server(int argc, char **argv)
{
    static const struct option opts[] = {
        { "listen", required_argument, NULL, 'l' },
        { "local", required_argument, NULL, 'U' },
        { "worker-listen", required_argument, NULL, 'w' },
        { "state", required_argument, NULL, 's' },
        { "config", required_argument, NULL, 'c' },
        { "foreground", no_argument, NULL, 'f' },
        { "log-level", required_argument, NULL, 'L' },
        { "node-timeout", required_argument, NULL, 'T' },
        { "kill-wait", required_argument, NULL, 'K' },
        { "start-timeout", required_argument, NULL, 'S' },
        { "advertise", required_argument, NULL, 'V' },
        { "auth", required_argument, NULL, 'A' },
        { "keys", required_argument, NULL, 'k' },
        { "allow-root", no_argument, NULL, 'R' },
        { "help", no_argument, NULL, 'h' },
        { 0 },
    };
    struct server srv = { .node_timeout = 30,
                          .heartbeat = 1,
                          .kill_wait = 10,
                          .start_timeout = 60,
                          .max_jobs_per_user = 100000 };
    struct server *s = &srv;
    struct kiln_config cfg;
    struct kiln_error err;
    const char *listen = NULL, *wlisten = NULL, *state = NULL, *cfgfile = NULL,
               *level = NULL, *ntimeout = NULL, *killwait = NULL, *auth = NULL,
               *stimeout = NULL, *keys = NULL, *advertise = NULL, *local = NULL;
    char wep[256];
    bool fg = false, allow_root = false;
    int c, rc = 1;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'l': listen = optarg; break;
        case 'U': local = optarg; break;
        case 'w': wlisten = optarg; break;
        case 's': state = optarg; break;
        case 'c': cfgfile = optarg; break;
        case 'f': fg = true; break;
        case 'L': level = optarg; break;
        case 'T': ntimeout = optarg; break;
        case 'K': killwait = optarg; break;
        case 'S': stimeout = optarg; break;
        case 'V': advertise = optarg; break;
        case 'A': auth = optarg; break;
        case 'k': keys = optarg; break;
        case 'R': allow_root = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 1;
        }
    }
    if (optind < argc)
        die("unexpected argument '%s'", argv[optind]);
    if (config_load(cfgfile, &cfg, &err) < 0)
        die("%s", err.text);
    listen = listen ? listen : cfg.listen ? cfg.listen : KILN_DEFAULT_SERVER;
    wlisten = wlisten ? wlisten : cfg.worker_listen;
    state = state ? state : cfg.state ? cfg.state : KILN_DEFAULT_STATE;
    level = level ? level : cfg.log_level ? cfg.log_level : "info";
    ntimeout = ntimeout ? ntimeout : cfg.node_timeout;
    killwait = killwait ? killwait : cfg.kill_wait;
    stimeout = stimeout ? stimeout : cfg.start_timeout;
    advertise = advertise ? advertise : cfg.advertise;
    if (advertise
        && (strncmp(advertise, "tcp://", 6) || strlen(advertise) > 200
            || strpbrk(advertise, " '\"\\;$`*")))
        die("invalid advertise address '%s': want tcp://HOST:PORT", advertise);
    if (auth_mode_parse(auth       ? auth
                        : cfg.auth ? cfg.auth
                                   : "munge",
                        &s->auth, &err)
        < 0)
        die("%s", err.text);
    snprintf(s->keys_dir, sizeof(s->keys_dir), "%s",
             keys       ? keys
             : cfg.keys ? cfg.keys
                        : KILN_DEFAULT_KEYS);
    snprintf(s->admin_group, sizeof(s->admin_group), "%s",
             cfg.admin_group ? cfg.admin_group : "");
    if (cfg.private_jobs && strcmp(cfg.private_jobs, "yes")
        && strcmp(cfg.private_jobs, "no"))
        die("invalid private_jobs '%s': yes or no", cfg.private_jobs);
    s->private_jobs = cfg.private_jobs && !strcmp(cfg.private_jobs, "yes");
    int lvl = log_level_parse(level);
    if (lvl < 0)
        die("invalid log level '%s'", level);
    long v;
    if (ntimeout) {
        if (units_parse_count(ntimeout, 86400, &v) < 0)
            die("invalid node timeout '%s': want whole seconds", ntimeout);
        s->node_timeout = v;
    }
    /* A large cluster may want fewer heartbeats (each costs the server some
     * tens of microseconds); a node is down only after three missed. */
    if (cfg.heartbeat) {
        if (units_parse_count(cfg.heartbeat, 59, &v) < 0 || v < 1)
            die("invalid heartbeat '%s': whole seconds from 1 to 59",
                cfg.heartbeat);
        s->heartbeat = (double)v;
    }
    if (s->node_timeout < 3 * s->heartbeat)
        die("node timeout %g s is less than three heartbeats (%g s apart): "
            "raise node_timeout or lower heartbeat",
            s->node_timeout, s->heartbeat);
    if (cfg.max_jobs_per_user) {
        if (strcmp(cfg.max_jobs_per_user, "0") == 0)
            v = 0;
        else if (units_parse_count(cfg.max_jobs_per_user, 100000000, &v) < 0)
            die("invalid max_jobs_per_user '%s': a count (0: no limit)",
                cfg.max_jobs_per_user);
        s->max_jobs_per_user = v;
    }
    if (stimeout) {
        if (units_parse_count(stimeout, 86400, &v) < 0 || v < 1)
            die("invalid start timeout '%s': want whole seconds, 1 or more",
                stimeout);
        s->start_timeout = v;
    }
    if (killwait) {
        if (strcmp(killwait, "0") == 0)
            s->kill_wait = 0;
        else if (units_parse_count(killwait, 3600, &v) < 0)
            die("invalid kill wait '%s': want whole seconds", killwait);
        else
            s->kill_wait = (int)v;
    }
    if (!wlisten) {
        derive_worker_ep(listen, wep, sizeof(wep));
        wlisten = wep;
    }
    if (s->auth == AUTH_NONE) {
        /* One user's server: only they may reach it, and it runs every
         * job as them, so root must mean it. */
        if (geteuid() == 0 && !allow_root)
            die("--auth none runs every job as this server's user, and that is root "
                "here: give --allow-root if that is what you want (or use --auth munge)");
        if (!token_endpoint_local(listen) || !token_endpoint_local(wlisten))
            die("--auth none listens on loopback or ipc:// only, not '%s'",
                token_endpoint_local(listen) ? wlisten : listen);
        if (local && strcmp(local, "none"))
            die("--local is for --auth munge: a single-user server listens "
                "on ipc:// with --listen");
        if (token_load_or_create(s->token, &err) < 0)
            die("%s", err.text);
    }
    /* The state holds every job's script and environment: the directory
     * and all the server makes in it are its owner's alone. */
    umask(077);
    if (util_mkdir_p(state, 0700) < 0 || chmod(state, 0700) < 0)
        die("cannot create state directory '%s': %s", state, strerror(errno));
    secure_state_files(state);
    if (s->auth == AUTH_MUNGE && curve_load_key(s, &err) < 0)
        die("%s", err.text);
    /* Detach before ZeroMQ starts its threads; the parent waits for the
     * child to say where it listens, prints it, and exits. */
    FILE *ready = stdout;
    if (!fg)
        ready = daemon_detach(state, "server.log");
    log_init("server", lvl, fg ? NULL : stderr);

    if (s->auth == AUTH_NONE) {
        char tpath[PATH_MAX] = "?";
        token_path(tpath, sizeof(tpath), NULL);
        log_msg(
            LOG_WARNING,
            "authentication: none (single-user mode): every request is "
            "taken as user %s's (uid %u); only clients and workers with the token in "
            "%s get in",
            util_user_name(getuid()), (unsigned)getuid(), tpath);
    } else
        log_msg(
            LOG_INFO,
            "authentication: munge for clients, CURVE for workers (%d worker "
            "keys in %s); all traffic encrypted%s%s",
            keys_ring_count(s->ring), s->keys_dir,
            s->admin_group[0] ? "; admin group " : "", s->admin_group);
    if (!(s->ctx = zmq_ctx_new()))
        die("cannot create a ZeroMQ context");
    if (curve_setup(s, &err) < 0) {
        log_msg(LOG_CRIT, "%s", err.text);
        return 1;
    }
    if (identity_start(s) < 0)
        die("out of memory");
    if (!(s->clients = bind_router(s, listen, s->client_ep,
                                   sizeof(s->client_ep), false)))
        die("cannot listen on '%s': %s", listen, zmq_strerror(errno));
    if (s->auth == AUTH_MUNGE && local_wanted(local, &cfg, state) != NULL
        && curve_bind_local(s, local_wanted(local, &cfg, state), &err) < 0) {
        /* The default is a convenience; one asked for must be there. */
        if (local || cfg.local)
            die("%s", err.text);
        log_msg(LOG_WARNING, "%s; clients on this host use %s", err.text,
                s->client_ep);
    }
    if (!(s->workers = bind_router(s, wlisten, s->worker_ep,
                                   sizeof(s->worker_ep), true)))
        die("cannot listen on '%s': %s", wlisten, zmq_strerror(errno));
    int one = 1;
    zmq_setsockopt(s->workers, ZMQ_ROUTER_MANDATORY, &one, sizeof(one));
    if (!(s->st = store_open(state, &err)))
        die("%s", err.text);

    /* What instances of managed environments are told to reach: the
     * client endpoint, its wildcard made this host's name. */
    if (advertise) {
        snprintf(s->advertise, sizeof(s->advertise), "%s", advertise);
    } else {
        char host[128] = "localhost";
        const char *port = strrchr(s->client_ep, ':');
        gethostname(host, sizeof(host) - 1);
        if (strstr(s->client_ep, "://0.0.0.0:")
            || strstr(s->client_ep, "://*:"))
            snprintf(s->advertise, sizeof(s->advertise), "tcp://%s%s", host,
                     port);
        else
            snprintf(s->advertise, sizeof(s->advertise), "%s", s->client_ep);
    }
    fprintf(ready, "kiln server: clients %s workers %s\n", s->client_ep,
            s->worker_ep);
    fflush(ready);
    if (ready != stdout)
        fclose(ready);
    log_msg(LOG_INFO,
            "listening for clients on %s%s%s, workers on %s; state in %s",
            s->client_ep, s->local_path[0] ? " and ipc://" : "", s->local_path,
            s->worker_ep, state);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ,
           SIG_IGN); /* a file size limit is a failed write, not death */
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    s->started = util_monotonic();
    if (nodes_load(s) < 0 || fairshare_load_policies(s) < 0
        || ce_load(s, cfg.declared) < 0 || queue_load(s, cfg.declared) < 0
        || fairshare_load(s) < 0 || jobs_load(s) < 0) {
        log_msg(LOG_CRIT, "cannot load the saved state from the store");
        goto done;
    }
    if (elastic_start(s, state, &err) < 0) {
        log_msg(LOG_CRIT, "%s", err.text);
        goto done;
    }
    s->sched_needed = true;
    rc = server_loop(s) < 0 ? 1 : 0;
done:
    flush_outbox(s);
    elastic_stop(s);
    free(s->out);
    jobs_destroy_all(s);
    deps_destroy(s);
    queue_destroy_all(s);
    ce_destroy_all(s);
    fairshare_destroy_all(s);
    nodes_destroy_all(s);
    relay_destroy_all(s);
    store_destroy(s->st);
    zmq_close(s->clients);
    curve_unlink_local(s);
    zmq_close(s->workers);
    curve_close(s);
    identity_stop(s);
    zmq_ctx_term(s->ctx);
    config_release(&cfg);
    return rc;
}

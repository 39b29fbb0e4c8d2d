/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Workers: hello and reconciliation, heartbeats, job progress, liveness. */
#include <errno.h>
#include <search.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/features.h"
#include "lib/log.h"
#include "lib/util.h"
#include "server/server.h"

#define TO_WORKER(s, m, type, body) \
    server_send(s, (s)->workers, (m)->id, (m)->idlen, type, body)

/* The tree of nodes by name takes a name as its key: a node starts with
 * its name. */
_Static_assert(offsetof(struct node, name) == 0, "a node starts with its name");

static int cmp_name(const void *a, const void *b)
{
    return strcmp(a, b);
}

struct node *nodes_find(struct server *s, const char *name)
{
    /* Every message of a worker asks: with thousands of nodes, walking the
     * list was most of the server's time for heartbeats. */
    struct node **found = tfind(name, &s->node_names, cmp_name);

    return found ? *found : NULL;
}

void nodes_send(struct server *s, const char *name, const char *type,
                json_t *body)
{
    struct node *n = nodes_find(s, name);

    if (!n || !n->ridlen) {
        log_msg(LOG_WARNING, "not sending %s to node %s: it has no connection",
                type, name);
        json_decref(body);
        return;
    }
    server_send(s, s->workers, n->rid, n->ridlen, type, body);
}

/* The node name in a worker's routing id NAME/RANDOM (or NAME), copied
 * into name; false when there is none that fits. */
static bool rid_name(const struct proto_msg *m, char *name, size_t len)
{
    const char *slash = memchr(m->id, '/', m->idlen);
    size_t n = slash ? (size_t)(slash - (const char *)m->id) : m->idlen;

    if (n == 0 || n >= len)
        return false;
    memcpy(name, m->id, n);
    name[n] = '\0';
    return true;
}

static struct node *node_add(struct server *s, const char *name)
{
    struct node *n = calloc(1, sizeof(*n)), **pp = &s->nodes;

    if (!n)
        return NULL;
    snprintf(n->name, sizeof(n->name), "%s", name);
    snprintf(n->ce, sizeof(n->ce), "default");
    /* Keep the list sorted by name for stable listings and placement. */
    while (*pp && strcmp((*pp)->name, name) < 0)
        pp = &(*pp)->next;
    if (!tsearch(n, &s->node_names, cmp_name)) {
        free(n);
        return NULL;
    }
    n->next = *pp;
    *pp = n;
    return n;
}

int nodes_add_job(struct node *n, struct jpart *p)
{
    if (n->njobs == n->running_cap) {
        int cap = n->running_cap ? n->running_cap * 2 : 16;
        struct jpart **r = realloc(n->running, cap * sizeof(*r));
        if (!r)
            return -1;
        n->running = r;
        n->running_cap = cap;
    }
    n->running[n->njobs++] = p;
    return 0;
}

void nodes_remove_job(struct node *n, struct jpart *p)
{
    for (int i = 0; i < n->njobs; i++)
        if (n->running[i] == p) {
            n->running[i] = n->running[--n->njobs];
            return;
        }
}

void nodes_set(struct server *s, struct node *n, const char *ce,
               const char *features)
{
    if (ce) {
        snprintf(n->ce, sizeof(n->ce), "%s", ce);
        store_node_set_ce(s->st, n->name, ce);
    }
    if (features) {
        snprintf(n->features, sizeof(n->features), "%s", features);
        store_node_set_features(s->st, n->name, *features ? features : NULL);
    }
    s->sched_needed = true;
}

static void node_set_topo(struct node *n, struct topo *t)
{
    topo_destroy(n->topo);
    free(n->busy);
    free(n->gpu_busy);
    n->topo = t;
    n->npu = t ? t->npu : 0;
    n->busy = t ? calloc(t->npu, sizeof(*n->busy)) : NULL;
    n->gpu_busy = t ? calloc(t->ngpu + 1, sizeof(*n->gpu_busy)) : NULL;
    n->nbusy = 0;
    n->ngpu_busy = 0;
}

static int load_node(const char *name, const char *state, json_t *topo,
                     const char *ce, const char *features, void *arg)
{
    struct server *s = arg;
    struct node *n = node_add(s, name);
    struct kiln_error err;

    if (!n)
        return -1;
    if (ce)
        snprintf(n->ce, sizeof(n->ce), "%s", ce);
    if (features)
        snprintf(n->features, sizeof(n->features), "%s", features);
    if (topo)
        node_set_topo(n, topo_from_json(topo, &err));
    n->state = NODE_UNKNOWN;
    return 0;
}

/* What an admin said of a node (drain, down), kept across restarts. */
static int load_admin(const char *name, json_t *body, void *arg)
{
    struct node *n = nodes_find(arg, name);

    if (n) {
        snprintf(n->drain, sizeof(n->drain), "%s",
                 util_str_or(json_string_value(json_object_get(body, "reason")),
                             ""));
        n->admin_down = json_is_true(json_object_get(body, "down"));
    }
    return 0;
}

int nodes_load(struct server *s)
{
    if (store_foreach_node(s->st, load_node, s) < 0)
        return -1;
    return store_foreach_object(s->st, "node_admin", load_admin, s);
}

bool nodes_usable(const struct node *n)
{
    return n->state == NODE_UP && !n->drain[0];
}

const char *nodes_state_name(const struct node *n)
{
    static const char *names[] = { "UNKNOWN", "UP", "DOWN" };

    if (n->admin_down)
        return "DOWN";
    if (n->drain[0])
        return n->njobs ? "DRAINING" : "DRAINED";
    return names[n->state];
}

static void down_one(struct server *s, struct job *job, void *arg);

int nodes_admin(struct server *s, struct node *n, const char *state,
                const char *reason)
{
    if (!strcmp(state, "resume")) {
        n->drain[0] = '\0';
        n->admin_down = false;
    } else if (!strcmp(state, "drain") || !strcmp(state, "down")) {
        snprintf(n->drain, sizeof(n->drain), "%s",
                 reason && *reason ? reason : state);
        n->admin_down = !strcmp(state, "down");
    } else {
        return -1;
    }
    log_msg(LOG_INFO, "node %s: %s by an admin%s%s", n->name, state,
            n->drain[0] ? ": " : "", n->drain);
    if (n->admin_down)
        jobs_foreach(s, down_one, n);
    json_t *body =
        json_pack("{s:s, s:b}", "reason", n->drain, "down", n->admin_down);
    if (n->drain[0])
        store_object_put(s->st, "node_admin", n->name, body);
    else
        store_object_delete(s->st, "node_admin", n->name);
    json_decref(body);
    s->sched_needed = true;
    return 0;
}

void nodes_destroy_all(struct server *s)
{
    while (s->nodes) {
        struct node *n = s->nodes;
        s->nodes = n->next;
        tdelete(n, &s->node_names, cmp_name);
        node_set_topo(n, NULL);
        free(n->running);
        free(n);
    }
}

struct reconcile {
    struct node *node;
    json_t *reported; /* worker's jobs: array of {id, attempt} */
    json_t *kill;     /* what the worker must kill */
};

static bool reported(json_t *list, int64_t id, int attempt)
{
    size_t i;
    json_t *v;

    json_array_foreach (list, i, v) {
        json_int_t jid = 0;
        int att = 0;
        if (json_unpack(v, "{s:I, s:i}", "id", &jid, "attempt", &att) == 0
            && jid == id && att == attempt)
            return true;
    }
    return false;
}

static void release_on_node(struct server *s, struct job *job, void *arg)
{
    for (int i = 0; i < job->nparts; i++)
        if (job->part[i].node == arg) {
            place_release_part(&job->part[i]);
            s->sched_needed = true;
        }
}

static void reconcile_one(struct server *s, struct job *job, void *arg)
{
    struct reconcile *r = arg;
    struct jpart *p;

    if ((job->state != JOB_STARTING && job->state != JOB_RUNNING)
        || !(p = place_part(job, r->node)) || p->ended)
        return;
    if (reported(r->reported, job->id, job->attempts)) {
        if (place_reattach(r->node, job) < 0) {
            log_msg(LOG_ERR, "job %lld: cpus '%s' no longer exist on %s",
                    (long long)job->id, job->cpus, r->node->name);
            json_array_append_new(r->kill, json_pack("{s:I, s:i}", "id",
                                                     (json_int_t)job->id,
                                                     "attempt", job->attempts));
            jobs_part_lost(s, job, p, "node failure: node changed shape");
        }
        return;
    }
    if (job->nparts > 1) {
        jobs_part_lost(s, job, p, "node failure: the worker lost the job");
        return;
    }
    if (job->state == JOB_STARTING) {
        /* The start never reached the worker: the job did not run, so it
         * goes back to its place in the queue. */
        log_msg(LOG_INFO, "job %lld: start on %s was lost; requeued",
                (long long)job->id, r->node->name);
        jobs_start_lost(s, job, "start lost; requeued");
        return;
    }
    store_attempt(s->st, job->id, job->attempts, job->node_name, job->cpus,
                  job->start_time, util_now(), -1, 0, "node failure");
    jobs_attempt_failed(s, job, -1, "node failure: the worker lost the job");
}

/* Jobs the worker has that the server does not count as running there. */
static void find_strays(struct server *s, struct reconcile *r)
{
    size_t i;
    json_t *v;

    json_array_foreach (r->reported, i, v) {
        json_int_t id = 0;
        int att = 0;
        struct job *job;
        bool finished = json_is_true(json_object_get(v, "finished"));
        if (json_unpack(v, "{s:I, s:i}", "id", &id, "attempt", &att) < 0)
            continue;
        job = jobs_find(s, id);
        if (finished
            || (job && place_part(job, r->node) && job->attempts == att))
            continue;
        json_array_append_new(
            r->kill, json_pack("{s:I, s:i}", "id", id, "attempt", att));
    }
}

/* A node's own key (workers/NAME.pub) speaks only for that node; the
 * cluster key for any. */
static bool key_fits(struct server *s, const struct proto_msg *m,
                     const char *name)
{
    if (s->auth == AUTH_NONE || !strcmp(m->peer, "cluster")
        || !strcmp(m->peer, name))
        return true;
    log_msg(LOG_WARNING,
            "refused a message from worker '%s': its CURVE key is '%s'", name,
            m->peer);
    return false;
}

int nodes_hello(struct server *s, struct proto_msg *m, struct node *from)
{
    const char *name, *ce = NULL, *features = NULL, *address = NULL,
                      *hostname = NULL;
    json_t *topo_json, *jobs = NULL, *runtimes = NULL;
    struct kiln_error err;
    struct topo *t;
    struct node *n;
    struct reconcile r;

    /* The request table checked the version and the fields' types. */
    json_unpack(m->body, "{s:s, s:o, s?o, s?s, s?s, s?s, s?s, s?o}", "name",
                &name, "topology", &topo_json, "jobs", &jobs, "ce", &ce,
                "features", &features, "address", &address, "hostname",
                &hostname, "runtimes", &runtimes);
    char rname[64];
    if (!jobspec_name_ok(name, 63) || !rid_name(m, rname, sizeof(rname))
        || strcmp(name, rname) != 0)
        return server_reply_error(
            s, s->workers, m, EINVAL,
            "invalid node name: must match the routing id "
            "and use letters, digits and ._-+@:,");
    if (!key_fits(s, m, name))
        return server_reply_error(s, s->workers, m, EACCES,
                                  "the CURVE key '%s' is not "
                                  "node %s's",
                                  m->peer, name);
    if (jobs && json_array_size(jobs) > 65536)
        return server_reply_error(s, s->workers, m, EINVAL,
                                  "invalid node.hello: jobs");
    if (ce && !ce_find(s, ce))
        return server_reply_error(s, s->workers, m, ENOENT,
                                  "unknown compute environment '%.64s'", ce);
    if (features && (!features_list_ok(features) || strlen(features) > 255))
        return server_reply_error(
            s, s->workers, m, EINVAL,
            "invalid features '%.64s': names of letters, digits and "
            "._- separated by commas",
            features);
    if ((address && strlen(address) >= sizeof(((struct node *)0)->address))
        || (hostname
            && strlen(hostname) >= sizeof(((struct node *)0)->hostname)))
        return server_reply_error(s, s->workers, m, EINVAL,
                                  "invalid address or hostname");
    if (!(t = topo_from_json(topo_json, &err)))
        return server_reply_error(s, s->workers, m, EINVAL, "%s", err.text);
    if (!(n = nodes_find(s, name)) && !(n = node_add(s, name))) {
        topo_destroy(t);
        return server_reply_error(s, s->workers, m, ENOMEM, "out of memory");
    }
    r = (struct reconcile){ .node = n,
                            .reported = jobs ? jobs : json_array(),
                            .kill = json_array() };
    /* Execs there were the old worker's children: they are gone. */
    relay_node_down(s, n);
    /* Release what the node held, take the topology as it is now, and give
     * back the cores of the jobs the worker still runs. */
    jobs_foreach(s, release_on_node, n);
    node_set_topo(n, t);
    n->mem_used = 0;
    n->njobs = 0;
    n->state = NODE_UP;
    n->last_heard = util_monotonic();
    /* From now on this connection is the node's, and no other. */
    memcpy(n->rid, m->id, m->idlen);
    n->ridlen = m->idlen;
    jobs_foreach(s, reconcile_one, &r);
    find_strays(s, &r);
    store_node_put(s->st, n->name, "UP", topo_json, util_now());
    /* The worker's --ce and --features say where it belongs and what it
     * has; kiln node update may change them later. */
    nodes_set(s, n, ce, features);
    snprintf(n->address, sizeof(n->address), "%s", address ? address : "");
    snprintf(n->hostname, sizeof(n->hostname), "%s", hostname ? hostname : "");
    n->runtimes[0] = '\0';
    size_t ri, rn = 0;
    json_t *rv;
    json_array_foreach (runtimes, ri, rv)
        if (json_is_string(rv) && jobspec_name_ok(json_string_value(rv), 16)
            && rn + json_string_length(rv) + 2 < sizeof(n->runtimes))
            rn +=
                (size_t)snprintf(n->runtimes + rn, sizeof(n->runtimes) - rn,
                                 "%s%s", rn ? "," : "", json_string_value(rv));
    log_msg(LOG_INFO, "node %s up: %d cpus, %lld MiB, %d jobs, %zu to kill",
            n->name, t->npu, (long long)t->mem_mib, n->njobs,
            json_array_size(r.kill));
    TO_WORKER(s, m, "node.welcome",
              json_pack("{s:i, s:f, s:i, s:o}", "version", KILN_PROTO_VERSION,
                        "heartbeat", s->heartbeat, "kill_wait", s->kill_wait,
                        "kill", r.kill));
    if (!jobs)
        json_decref(r.reported);
    elastic_node_up(s, n);
    s->sched_needed = true;
    return 0;
}

struct node *nodes_sender(struct server *s, struct proto_msg *m)
{
    char name[64];
    struct node *n;

    if (!rid_name(m, name, sizeof(name)) || !key_fits(s, m, name))
        return NULL;
    n = nodes_find(s, name);
    if (!n || n->state != NODE_UP || n->ridlen != m->idlen
        || memcmp(n->rid, m->id, m->idlen) != 0) {
        /* The server restarted or declared the node down: ask it to say
         * hello again, with its jobs, before anything else. */
        TO_WORKER(s, m, "node.rehello", json_object());
        return NULL;
    }
    n->last_heard = util_monotonic();
    return n;
}

int nodes_heartbeat(struct server *s, struct proto_msg *m, struct node *n)
{
    /* Answered, so that a worker can tell a silent server from a quiet
     * one, and connect again. */
    return TO_WORKER(s, m, "node.heartbeat.ack", json_object());
}

static struct job *job_of(struct server *s, struct node *n, struct proto_msg *m,
                          int *attempt, struct jpart **part)
{
    json_int_t id = json_integer_value(json_object_get(m->body, "id"));
    struct job *job;

    *attempt = (int)json_integer_value(json_object_get(m->body, "attempt"));
    job = jobs_find(s, id);
    if (!job || job->attempts != *attempt || !(*part = place_part(job, n))
        || (*part)->node != n || (*part)->ended)
        return NULL;
    return job;
}

/* Part p has started: the job runs once all its parts have. */
static void part_started(struct server *s, struct job *job, struct jpart *p)
{
    int started = 0;

    p->started = true;
    for (int i = 0; i < job->nparts; i++)
        started += job->part[i].started;
    if (job->state == JOB_STARTING && started == job->nparts)
        jobs_set_state(s, job, JOB_RUNNING, NULL);
}

int nodes_job_started(struct server *s, struct proto_msg *m, struct node *n)
{
    struct jpart *p;
    struct job *job;
    int attempt;

    if ((job = job_of(s, n, m, &attempt, &p)))
        part_started(s, job, p);
    return 0;
}

int nodes_job_end(struct server *s, struct proto_msg *m, struct node *n)
{
    struct job *job;
    struct jpart *p;
    const char *reason = NULL;
    json_int_t id = 0;
    int attempt = 0, exit_code = -1, sig = 0;
    double start = 0, end = 0;
    struct store_usage u = { 0, 0, 0, -1 };
    json_int_t max_rss = 0, oom = -1;

    /* The request table checked the fields' types. */
    json_unpack(m->body, "{s:I, s:i, s:i, s?i, s?s, s?F, s?F}", "id", &id,
                "attempt", &attempt, "exit_code", &exit_code, "signal", &sig,
                "reason", &reason, "start_time", &start, "end_time", &end);
    /* A result is always taken: a long reason (a long path in it) is cut
     * to 200 bytes, at a character's end. */
    char cut[201];
    if (reason) {
        snprintf(cut, sizeof(cut), "%s", reason);
        util_utf8_fix(cut, 200);
        reason = cut;
    }
    /* Acknowledge whatever we do with it: the worker may then forget it. */
    TO_WORKER(s, m, "job.end.ack",
              json_pack("{s:I, s:i}", "id", id, "attempt", attempt));
    if (!(job = job_of(s, n, m, &attempt, &p)))
        return 0; /* already final, or an attempt the server gave up on */
    /* A part that ended before it said job.started, but ran, started. */
    if (!p->started && start > 0)
        part_started(s, job, p);
    if (p == &job->part[0]) {
        /* The main node's outcome is the job's, as in AWS Batch. */
        store_attempt(s->st, id, attempt, n->name, job->cpus, start, end,
                      exit_code, sig, reason);
        /* Usage is optional in the message (doc/protocol.md "job.end"). */
        json_unpack(m->body, "{s?F, s?F, s?I, s?I}", "user_cpu", &u.user_cpu,
                    "sys_cpu", &u.sys_cpu, "max_rss_kib", &max_rss, "oom_kills",
                    &oom);
        u.max_rss_kib = max_rss;
        u.oom_kills = oom >= 0 && oom < 1 << 30 ? (int)oom : -1;
        if (u.user_cpu >= 0 && u.sys_cpu >= 0 && max_rss >= 0)
            store_attempt_usage(s->st, id, attempt, &u);
    }
    jobs_part_ended(s, job, p, p == &job->part[0] ? start : 0, exit_code, sig,
                    reason);
    return 0;
}

/* Part p of job is lost with its node, for reason what ("node failure"):
 * the attempt is recorded when it was the job's only part. */
static void lose_part(struct server *s, struct job *job, struct jpart *p,
                      const char *what)
{
    char why[160];

    snprintf(why, sizeof(why), "%s (%s)", what, p->name);
    if (job->nparts == 1)
        store_attempt(s->st, job->id, job->attempts, p->name, job->cpus,
                      job->start_time, util_now(), -1, 0, what);
    jobs_part_lost(s, job, p, job->nparts == 1 ? what : why);
}

/* Why the jobs of a node are stopped, for stop_one. */
struct stopping {
    struct node *node;
    const char *why;
};

/* Stop a job's part on a node (set down by an admin, or reclaimed): it
 * is lost there, and the job goes on as its retry strategy says. */
static void stop_one(struct server *s, struct job *job, void *arg)
{
    struct stopping *st = arg;
    struct jpart *p = place_part(job, st->node);

    if (!p || p->ended
        || (job->state != JOB_STARTING && job->state != JOB_RUNNING))
        return;
    nodes_send(s, p->name, "job.kill",
               json_pack("{s:I, s:i, s:s}", "id", (json_int_t)job->id,
                         "attempt", job->attempts, "reason", st->why));
    lose_part(s, job, p, st->why);
}

static void down_one(struct server *s, struct job *job, void *arg)
{
    struct stopping st = { arg, "node set down by an admin" };
    stop_one(s, job, &st);
}

int nodes_interrupted(struct server *s, struct proto_msg *m, struct node *n)
{
    const char *when = json_string_value(json_object_get(m->body, "time"));
    struct stopping st = { n, "spot interruption" };

    log_msg(LOG_WARNING,
            "node %s: spot interruption notice (reclaimed at %.40s): its "
            "jobs are requeued",
            n->name, when && *when ? when : "?");
    snprintf(n->drain, sizeof(n->drain), "spot interruption");
    nodes_foreach_running(s, stop_one, &st);
    elastic_interrupted(s, n);
    s->sched_needed = true;
    return 0;
}

static void forget_one(struct server *s, struct job *job, void *arg)
{
    struct stopping *st = arg;
    struct jpart *p = place_part(job, st->node);

    if (p && !p->ended
        && (job->state == JOB_STARTING || job->state == JOB_RUNNING))
        lose_part(s, job, p, st->why);
}

bool nodes_forget(struct server *s, const char *name, const char *why)
{
    struct node *n = nodes_find(s, name);
    struct stopping st = { n, why };

    if (!n)
        return true;
    n->state = NODE_DOWN;
    relay_node_down(s, n);
    /* Before the grace after a start is over, a reloaded job may hold
     * the node by name only. */
    if (!s->orphans_checked)
        jobs_foreach(s, forget_one, &st);
    else if (n->njobs)
        nodes_foreach_running(s, forget_one, &st);
    if (n->njobs) {
        log_msg(LOG_WARNING, "node %s: gone, but %d jobs still hold it", name,
                n->njobs);
        return false;
    }
    for (struct node **pp = &s->nodes; *pp; pp = &(*pp)->next)
        if (*pp == n) {
            *pp = n->next;
            break;
        }
    tdelete(n, &s->node_names, cmp_name);
    store_node_delete(s->st, n->name);
    store_object_delete(s->st, "node_admin", n->name);
    log_msg(LOG_INFO, "node %s forgotten: its instance is gone", n->name);
    node_set_topo(n, NULL);
    free(n->running);
    free(n);
    s->sched_needed = true;
    return true;
}

/* A job STARTING longer than the start timeout: a node that has not
 * confirmed its part did not get it, or cannot start it.  The job goes
 * back to the queue, and the node is drained (as Slurm does on a launch
 * failure) until an admin looks: it took a job and said nothing. */
static bool start_overdue(struct server *s, struct job *job, double now)
{
    char why[200], drain[128];
    bool any = false;

    if (job->state != JOB_STARTING || !job->starting_since
        || now - job->starting_since < s->start_timeout)
        return false;
    for (int i = 0; i < job->nparts; i++) {
        struct jpart *p = &job->part[i];
        if (p->started || p->ended || !p->node)
            continue;
        snprintf(drain, sizeof(drain),
                 "did not confirm the start of job %lld within %.0f s",
                 (long long)job->id, s->start_timeout);
        log_msg(LOG_WARNING, "node %s %s: draining it", p->name, drain);
        if (p->node->state == NODE_UP && !p->node->drain[0])
            nodes_admin(s, p->node, "drain", drain);
        if (!any)
            snprintf(why, sizeof(why),
                     "start not confirmed by node %s within %.0f s; "
                     "requeued",
                     p->name, s->start_timeout);
        any = true;
    }
    if (!any)
        snprintf(why, sizeof(why),
                 "start not confirmed within %.0f s; requeued",
                 s->start_timeout);
    if (job->cancel_reason) {
        /* Cancelled while it waited: it ends, it does not go back. */
        jobs_release_cores(s, job);
        jobs_attempt_failed(s, job, -1, job->cancel_reason);
        return true;
    }
    jobs_requeue_unstarted(s, job, why);
    return true;
}

static void fail_orphan(struct server *s, struct job *job, void *arg)
{
    double grace_over = *(double *)arg;

    if (job->state != JOB_STARTING && job->state != JOB_RUNNING)
        return;
    if (job->array)
        return; /* an array parent holds no cores: its children are the jobs */
    if (start_overdue(s, job, util_monotonic()))
        return;
    for (int i = 0; i < job->nparts; i++) {
        struct jpart *p = &job->part[i];
        if (p->ended || (p->node && p->node->state == NODE_UP))
            continue;
        if (!p->node && !grace_over)
            continue; /* reloaded job: its node may still come back */
        /* A spot instance that falls silent was most likely reclaimed. */
        lose_part(s, job, p,
                  p->node && elastic_is_spot(s, p->node) ? "spot interruption"
                                                         : "node failure");
        return; /* job may be gone */
    }
}

static int by_address(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t) * (struct job *const *)a,
              y = (uintptr_t) * (struct job *const *)b;
    return x < y ? -1 : x > y;
}

void nodes_foreach_running(struct server *s, jobs_f fn, void *arg)
{
    size_t n = 0, cap = 0;
    struct job **all = NULL;

    for (struct node *nd = s->nodes; nd; nd = nd->next)
        cap += (size_t)nd->njobs;
    if (cap == 0 || !(all = malloc(cap * sizeof(*all))))
        return;
    /* Each job once, whichever of its parts still hold cores (the main
     * part may have ended while another waits for its node). */
    for (struct node *nd = s->nodes; nd; nd = nd->next)
        for (int i = 0; i < nd->njobs && n < cap; i++)
            all[n++] = nd->running[i]->job;
    qsort(all, n, sizeof(*all), by_address);
    /* A job ended on the way stays in memory until the turn is over. */
    for (size_t i = 0; i < n; i++)
        if ((i == 0 || all[i] != all[i - 1]) && !job_state_final(all[i]->state))
            fn(s, all[i], arg);
    free(all);
}

void nodes_check(struct server *s)
{
    double now = util_monotonic();
    double grace_over = now - s->started > s->node_timeout;

    for (struct node *n = s->nodes; n; n = n->next) {
        if (n->state == NODE_UP && now - n->last_heard > s->node_timeout) {
            log_msg(LOG_WARNING, "node %s down: silent for %.0f s", n->name,
                    now - n->last_heard);
            n->state = NODE_DOWN;
            relay_node_down(s, n);
            store_node_put(s->st, n->name, "DOWN", NULL, util_now());
        }
    }
    /* Until the grace after a start is over, every job: a reloaded one
     * whose node has not come back holds no cores anywhere.  From then
     * on, only the jobs holding cores (the nodes' running lists), not
     * every job queued. */
    if (!s->orphans_checked) {
        jobs_foreach(s, fail_orphan, &grace_over);
        s->orphans_checked = grace_over;
    } else {
        nodes_foreach_running(s, fail_orphan, &grace_over);
    }
    queue_stuck_jobs(s);
}

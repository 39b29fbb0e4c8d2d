/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The scheduler: job queues by priority, FIFO with backfill within each,
 * best-fit node; the cores on the node are lib/alloc's choice. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/container.h"
#include "lib/features.h"
#include "lib/hostlist.h"
#include "lib/log.h"
#include "lib/units.h"
#include "lib/util.h"
#include "server/server.h"

/* Is node n in one of q's compute environments (any, enabled or not)? */
static bool in_queue(const struct node *n, const struct queue *q)
{
    for (int i = 0; i < q->nces; i++)
        if (strcmp(n->ce, q->ces[i]->name) == 0)
            return true;
    return false;
}

const char *sched_infeasible(struct server *s, const struct queue *q,
                             const struct jobspec *spec)
{
    static char why[300];
    long cpus = jobspec_cpus(spec), max_cpus = 0;
    int64_t max_mem = 0;
    int any = 0, chosen = 0, featured = 0, gpus = 0, runtimes = 0;

    for (struct node *n = s->nodes; n; n = n->next) {
        if (!n->topo || !in_queue(n, q))
            continue;
        any++;
        if (place_eligible(n, spec))
            return NULL;
        if ((spec->nodelist && !hostlist_has(spec->nodelist_hl, n->name))
            || (spec->exclude && hostlist_has(spec->exclude_hl, n->name)))
            continue;
        chosen++;
        if (spec->constraint && !features_match(spec->constraint, n->features))
            continue;
        featured++;
        char rt[32];
        if (spec->container
            && !container_pick(spec->container, n->runtimes, rt, sizeof(rt)))
            continue;
        runtimes++;
        if (n->topo->ngpu > gpus)
            gpus = n->topo->ngpu;
        if (n->topo->npu > max_cpus)
            max_cpus = n->topo->npu;
        if (n->topo->mem_mib > max_mem)
            max_mem = n->topo->mem_mib;
    }
    if (!any || elastic_could_fit(s, q, spec))
        return NULL; /* no node of its environments yet: nothing to judge
                      * by; or one its environments may launch takes it */
    if (!chosen)
        snprintf(why, sizeof(why),
                 "no node of job queue '%s' is in its --nodelist "
                 "and not in its --exclude",
                 q->name);
    else if (!featured)
        snprintf(why, sizeof(why),
                 "no node of job queue '%s' has the features '%s'", q->name,
                 spec->constraint);
    else if (!runtimes)
        snprintf(why, sizeof(why),
                 "it runs in a container and no node of job queue '%s' "
                 "has %s that works",
                 q->name,
                 spec->container[0] == '/'
                     ? "an OCI runtime (runc, crun)"
                     : "a container engine (podman, docker) for "
                       "images");
    else if (spec->gpus > gpus)
        snprintf(why, sizeof(why),
                 "it asks for %d GPUs and the node of job queue '%s' "
                 "with the most has %d",
                 spec->gpus, q->name, gpus);
    else if (cpus > max_cpus || spec->threads_per_core)
        snprintf(why, sizeof(why),
                 "it asks for %ld cpus%s and the largest node of job "
                 "queue '%s' has %ld",
                 cpus, spec->threads_per_core ? " on whole cores" : "", q->name,
                 max_cpus);
    else
        snprintf(why, sizeof(why),
                 "it asks for %lld MiB and no node of job queue '%s' "
                 "with %ld cpus has that much",
                 (long long)spec->mem, q->name, cpus);
    return why;
}

/* Nodes where the job fits now, node i of the job on out[i]: for each, the
 * UP node with the fewest free cores that fits (best fit), all from the
 * first of q's compute environments that has enough.  Returns whether it
 * found them. */
static bool pick_nodes(struct server *s, const struct queue *q,
                       const struct jobspec *spec, struct node **out)
{
    for (int i = 0; i < q->nces; i++) {
        const struct ce *ce = q->ces[i];
        long k;
        for (k = 0; k < spec->nodes; k++) {
            struct node *best = NULL;
            long best_free = 0;
            for (struct node *n = s->nodes; n; n = n->next) {
                /* One that cannot beat the best so far costs a subtraction:
                 * with thousands of nodes, testing each for the job was
                 * most of a decision's time. */
                long free_cpus = place_free_cpus(n);
                if (best && free_cpus >= best_free)
                    continue;
                bool taken = false;
                for (long j = 0; j < k && !taken; j++)
                    taken = out[j] == n;
                if (taken || !queue_node_in(n, ce)
                    || !place_fits_now(n, spec, k))
                    continue;
                best = n;
                best_free = free_cpus;
            }
            if (!(out[k] = best))
                break;
        }
        if (k == spec->nodes)
            return true;
    }
    return false;
}

/* Backfill (EASY, as Slurm's sched/backfill does it in essence): when the
 * first job of a queue does not fit, it gets a reservation: the node of the
 * queue where enough cores and memory will be free soonest, going by the
 * time limits of the jobs running there, and that time.  A later job may
 * start now only if it cannot delay the reservation: it runs elsewhere, or
 * ends (by its own time limit) before the reservation, or leaves enough
 * of the reserved node for the first job.  Without time limits there is
 * no reservation to keep, and no backfill: first come, first served. */
enum { BACKFILL_DEPTH = 1000 }; /* jobs tried behind a reservation, per queue */

struct reservation {
    struct node *node;
    double when;    /* UTC seconds */
    long cpus_left; /* cores free on node at `when`, beyond the need */
    int64_t mem_left;
};

struct ending {
    double end;
    long cpus;
    int64_t mem;
};

static int cmp_end(const void *a, const void *b)
{
    double x = ((const struct ending *)a)->end,
           y = ((const struct ending *)b)->end;
    return x < y ? -1 : x > y;
}

static bool reserve(struct server *s, const struct queue *q,
                    const struct job *head, struct reservation *r)
{
    bool found = false;
    for (int i = 0; i < q->nces; i++) {
        for (struct node *n = s->nodes; n; n = n->next) {
            if (!nodes_usable(n) || !queue_node_in(n, q->ces[i])
                || !place_eligible(n, &head->spec))
                continue;
            long need = place_need_cpus(n, &head->spec);
            struct ending *e = calloc(n->njobs + 1, sizeof(*e));
            int ne = 0;
            if (!e)
                continue;
            for (int k = 0; k < n->njobs; k++) {
                const struct jpart *p = n->running[k];
                const struct job *j = p->job;
                /* A job without a known end frees nothing we can count on. */
                if (j->spec.time_limit > 0 && j->start_time > 0)
                    e[ne++] = (struct ending){ j->start_time
                                                   + (double)j->spec.time_limit,
                                               (long)p->npu, p->mem_held };
            }
            qsort(e, ne, sizeof(*e), cmp_end);
            long cpus = n->topo->npu - n->nbusy;
            int64_t mem = n->topo->mem_mib - n->mem_used;
            for (int k = 0; k < ne && (cpus < need || mem < head->spec.mem);
                 k++) {
                cpus += e[k].cpus;
                mem += e[k].mem;
                if (cpus >= need && mem >= head->spec.mem
                    && (!found || e[k].end < r->when)) {
                    *r = (struct reservation){ n, e[k].end, cpus - need,
                                               mem - head->spec.mem };
                    found = true;
                }
            }
            free(e);
        }
    }
    return found;
}

/* A node where job fits now without delaying the reservation, or NULL. */
static struct node *pick_backfill(struct server *s, const struct queue *q,
                                  const struct job *job,
                                  const struct reservation *r)
{
    double now = util_now();
    bool ends_in_time = job->spec.time_limit > 0
                        && now + (double)job->spec.time_limit <= r->when;
    for (int i = 0; i < q->nces; i++) {
        for (struct node *n = s->nodes; n; n = n->next) {
            if (!queue_node_in(n, q->ces[i])
                || !place_fits_now(n, &job->spec, 0))
                continue;
            if (n != r->node || ends_in_time
                || (r->cpus_left >= place_need_cpus(n, &job->spec)
                    && r->mem_left >= job->spec.mem))
                return n;
        }
    }
    return NULL;
}

/* Start run where pick_nodes chose; false (said in the log) when it does
 * not fit after all. */
static bool start(struct server *s, struct job *run, struct node **picked)
{
    if (jobs_start(s, run, picked) == 0)
        return true;
    log_err("job %lld: cannot place on %s", (long long)run->id,
            picked[0]->name);
    return false;
}

/* One queue: by priority, then submit order.  The first job that does not
 * fit gets a reservation, and only backfill that keeps it follows.  An
 * array waiting for its throttle or for a twin child needs no cores yet and
 * does not hold up the jobs behind it. */
static int sched_queue(struct server *s, struct queue *q)
{
    struct node
        *picked[JOBSPEC_MAX_NODES]; /* where the job being started goes */
    struct reservation res = { 0 };
    bool blocked = false;
    struct job *job, *next;
    int started = 0, backfill_tested = 0;

    q->reserved_job = 0;
    for (job = q->qhead; job; job = next) {
        next = job->qnext;
        /* When false, the parent may have ended; next was read before. */
        if (job->array && !arrays_may_start(s, job))
            continue;
        struct node *n;
        if (!blocked) {
            if (!pick_nodes(s, q, &job->spec, picked)) {
                /* Reservations are for one node: a multi-node job that
                 * does not fit holds the queue, first come, first served. */
                if (job->spec.nodes > 1 || !reserve(s, q, job, &res))
                    break; /* no reservation to keep: first come, first served */
                blocked = true;
                q->reserved_job = job->id;
                q->reserved_at = res.when;
                log_msg(LOG_DEBUG, "job %lld reserved %s at +%.0f s",
                        (long long)job->id, res.node->name,
                        res.when - util_now());
                continue;
            }
        } else {
            /* Like Slurm's bf_max_job_test: look this far behind the
             * reservation and no further, so a pass stays cheap with
             * 100,000 jobs waiting. */
            if (++backfill_tested > BACKFILL_DEPTH)
                break;
            if (job->array || job->spec.nodes > 1
                || !(n = pick_backfill(s, q, job, &res)))
                continue;
            picked[0] = n;
            /* What the backfilled job takes from the reserved node, now and
             * possibly still at the reservation, is no longer spare. */
            if (n == res.node) {
                res.cpus_left -= place_need_cpus(n, &job->spec);
                res.mem_left -= job->spec.mem;
            }
        }
        struct job *run = job;
        if (job->array) {
            /* The next child takes the parent's place for this start; the
             * parent keeps its place until every child is created. */
            struct job *after = job->qnext, *parent;
            int64_t pid = job->id;
            run = arrays_next_child(s, job);
            /* A skipped last child may have ended (and freed) the parent. */
            parent = jobs_find(s, pid);
            next = parent && parent->array->next < parent->array->n ? parent
                                                                    : after;
            if (!run)
                continue; /* cancelled before creation: recorded, not run */
        }
        if (!start(s, run, picked))
            break;
        started++;
    }
    return started;
}

/* A queue with a fair-share policy: each start goes to the first job of
 * the share with the lowest weighted usage (fairshare.c), while it fits. */
static int sched_fairshare(struct server *s, struct queue *q)
{
    struct node
        *picked[JOBSPEC_MAX_NODES]; /* where the job being started goes */
    struct job *job;
    int started = 0;

    while ((job = fairshare_next(s, q, NULL))) {
        if (job->array && !arrays_may_start(s, job))
            break;
        if (!pick_nodes(s, q, &job->spec, picked))
            break;
        struct job *run = job->array ? arrays_next_child(s, job) : job;
        if (!run)
            continue;
        if (!start(s, run, picked))
            break;
        started++;
    }
    return started;
}

void sched_run(struct server *s)
{
    int started = 0;

    s->sched_needed = false;
    /* Queues by priority, highest first: theirs is the first pick of the
     * cores.  A lower queue still uses what a blocked higher one cannot. */
    for (struct queue *q = s->queues; q; q = q->next)
        started += q->policy[0] ? sched_fairshare(s, q) : sched_queue(s, q);
    s->sched_starts += started;
    if (started)
        log_msg(LOG_DEBUG, "scheduler started %d jobs", started);
}

/* The best free room for spec among q's nodes: the node with the most free
 * cores (and its free memory). */
static struct node *best_room(struct server *s, const struct queue *q,
                              const struct jobspec *spec, long *cpus,
                              int64_t *mem)
{
    struct node *best = NULL;
    *cpus = 0;
    *mem = 0;
    for (int i = 0; i < q->nces; i++)
        for (struct node *n = s->nodes; n; n = n->next) {
            if (!nodes_usable(n) || !queue_node_in(n, q->ces[i])
                || !place_eligible(n, spec))
                continue;
            if (!best || n->topo->npu - n->nbusy > *cpus) {
                best = n;
                *cpus = n->topo->npu - n->nbusy;
                *mem = n->topo->mem_mib - n->mem_used;
            }
        }
    return best;
}

static const char *dep_state(struct server *s, int64_t id)
{
    struct job *j = jobs_find(s, id);
    enum job_state st;
    double start;

    if (j)
        return job_state_name(j->state);
    if (store_job_state(s->st, id, &st, &start) == 1)
        return job_state_name(st);
    return "unknown";
}

json_t *sched_why(struct server *s, const struct job *job)
{
    char text[512];
    const struct queue *q = job->queue;
    const char *never;
    long cpus = jobspec_cpus(&job->spec), free_cpus;
    int64_t free_mem;
    json_t *o;

    if (job->state == JOB_PENDING && job->spec.hold)
        return json_pack("{s:s, s:s}", "code", "held", "text",
                         "held by its user: kiln release");
    if (job->state == JOB_PENDING && job->spec.deps) {
        size_t i, n = 0;
        json_t *d, *waiting = json_array();
        n = (size_t)snprintf(text, sizeof(text), "waits for");
        json_array_foreach (job->spec.deps, i, d) {
            const char *type = json_string_value(json_object_get(d, "type"));
            int64_t id = json_integer_value(json_object_get(d, "id"));
            const char *st = id ? dep_state(s, id) : "";
            json_array_append_new(
                waiting, id ? json_pack("{s:s, s:I, s:s}", "type", type, "id",
                                        (json_int_t)id, "state", st)
                            : json_pack("{s:s}", "type", type));
            if (n < sizeof(text))
                n += (size_t)snprintf(text + n, sizeof(text) - n, "%s %s",
                                      i ? "," : "", type);
            if (id && n < sizeof(text))
                n += (size_t)snprintf(text + n, sizeof(text) - n,
                                      ":%lld (job %lld is %s)", (long long)id,
                                      (long long)id, st);
        }
        return json_pack("{s:s, s:s, s:o}", "code", "dependency", "text", text,
                         "waiting", waiting);
    }
    if (!q)
        return json_pack("{s:s, s:s}", "code", "queue", "text",
                         "its job queue is gone");
    if ((never = sched_infeasible(s, q, &job->spec)))
        return json_pack("{s:s, s:s}", "code", "never", "text", never);
    if (job->array && job->array->throttle
        && job->array->active >= job->array->throttle) {
        snprintf(text, sizeof(text),
                 "array throttle: %d of %ld children running",
                 job->array->active, job->array->throttle);
        return json_pack("{s:s, s:s}", "code", "throttle", "text", text);
    }
    if (q->policy[0]) {
        snprintf(text, sizeof(text),
                 "fair share in job queue '%s': share '%s' waits for its "
                 "turn by weighted usage",
                 q->name, job->spec.share_id ? job->spec.share_id : "");
        return json_pack("{s:s, s:s}", "code", "fairshare", "text", text);
    }
    if (elastic_why(s, job, text, sizeof(text)))
        return json_pack("{s:s, s:s}", "code", "capacity", "text", text);
    int ahead = 0;
    for (const struct job *j = q->qhead; j && j != job; j = j->qnext)
        ahead++;
    struct node *best = best_room(s, q, &job->spec, &free_cpus, &free_mem);
    char envs[256] = "";
    for (int i = 0, k = 0; i < q->nces && k < (int)sizeof(envs); i++)
        k += snprintf(envs + k, sizeof(envs) - (size_t)k, "%s%s", i ? ", " : "",
                      q->ces[i]->name);
    size_t n = (size_t)snprintf(text, sizeof(text),
                                "needs %ld cores on one node of "
                                "environments %s; ",
                                cpus, envs);
    if (job->spec.mem && n < sizeof(text))
        n += (size_t)snprintf(text + n, sizeof(text) - n, "and %lld MiB; ",
                              (long long)job->spec.mem);
    if (n < sizeof(text))
        n += (size_t)snprintf(text + n, sizeof(text) - n,
                              best ? "the best node, %s, has %ld "
                                     "free cores"
                                   : "no node is up%s",
                              best ? best->name : "", free_cpus);
    if (ahead && n < sizeof(text))
        n += (size_t)snprintf(text + n, sizeof(text) - n,
                              "; %d jobs ahead of it in job "
                              "queue '%s'",
                              ahead, q->name);
    o = json_pack("{s:s, s:s, s:I, s:I, s:i, s:I, s:I}", "code",
                  ahead ? "priority" : "resources", "text", text, "cpus",
                  (json_int_t)cpus, "mem", (json_int_t)job->spec.mem, "ahead",
                  ahead, "best_free_cpus", (json_int_t)free_cpus,
                  "best_free_mem", (json_int_t)free_mem);
    if (q->reserved_job == job->id) {
        char when[32];
        units_format_time(q->reserved_at, when, sizeof(when));
        json_object_set_new(o, "expected_start", json_real(q->reserved_at));
        if (n < sizeof(text)) {
            snprintf(text + n, sizeof(text) - n,
                     "; cores reserved, expected to start at %s", when);
            json_object_set_new(o, "text", json_string(text));
        }
    }
    return o;
}

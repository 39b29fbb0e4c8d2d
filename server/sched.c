/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Scheduler v1: strict FIFO over the default queue, best-fit node,
 * compact cores (lib/alloc). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/alloc.h"
#include "lib/log.h"
#include "server/server.h"

/* Is node n in one of q's compute environments (any, enabled or not)? */
static bool in_queue(const struct node *n, const struct queue *q)
{
    size_t i;
    json_t *v;

    json_array_foreach(q->ces, i, v)
        if (strcmp(n->ce, json_string_value(v)) == 0)
            return true;
    return false;
}

const char *sched_infeasible(struct server *s, const struct queue *q,
                             const struct jobspec *spec)
{
    static char why[200];
    long cpus = jobspec_cpus(spec), max_cpus = 0;
    int64_t max_mem = 0;
    bool any = false;

    for (struct node *n = s->nodes; n; n = n->next) {
        if (!n->topo || !in_queue(n, q))
            continue;
        any = true;
        if (n->topo->npu >= cpus && n->topo->mem_mib >= spec->mem)
            return NULL;
        if (n->topo->npu > max_cpus)
            max_cpus = n->topo->npu;
        if (n->topo->mem_mib > max_mem)
            max_mem = n->topo->mem_mib;
    }
    if (!any)
        return NULL; /* no node of its environments yet: nothing to judge by */
    if (cpus > max_cpus)
        snprintf(why, sizeof(why), "it asks for %ld cpus and the largest node of job "
                 "queue '%s' has %ld", cpus, q->name, max_cpus);
    else
        snprintf(why, sizeof(why), "it asks for %lld MiB and no node of job queue '%s' "
                 "with %ld cpus has that much", (long long)spec->mem, q->name, cpus);
    return why;
}

/* The UP node with enough free cores and memory that has the fewest free
 * cores (best fit), in the first of q's compute environments that has
 * one; or NULL. */
static struct node *pick_node(struct server *s, const struct queue *q, long cpus, int64_t mem)
{
    size_t i;
    json_t *v;

    json_array_foreach(q->ces, i, v) {
        const char *ce = json_string_value(v);
        struct node *best = NULL;
        for (struct node *n = s->nodes; n; n = n->next) {
            if (n->state != NODE_UP || !n->topo || !queue_node_in(n, ce, s))
                continue;
            int free_pus = n->topo->npu - n->nbusy;
            if (free_pus < cpus || n->topo->mem_mib - n->mem_used < mem)
                continue;
            if (!best || free_pus < best->topo->npu - best->nbusy)
                best = n;
        }
        if (best)
            return best;
    }
    return NULL;
}

static int start(struct server *s, struct job *job, struct node *n)
{
    long need = jobspec_cpus(&job->spec);
    int *idx = calloc(need, sizeof(*idx));
    char *cpus;
    json_t *msg;

    if (!idx)
        return -1;
    if (alloc_choose(n->topo->pu, n->topo->npu, n->busy, (int)need, idx) < 0
        || !(cpus = topo_cpulist(n->topo, idx, (int)need))) {
        free(idx);
        return -1;
    }
    for (int i = 0; i < need; i++)
        n->busy[idx[i]] = true;
    n->nbusy += (int)need;
    n->mem_used += job->spec.mem;
    n->njobs++;
    job->node = n;
    job->pu = idx;
    job->npu = (int)need;
    free(job->cpus);
    job->cpus = cpus;
    free(job->node_name);
    job->node_name = strdup(n->name);
    job->attempts++;
    job->start_time = 0;
    jobs_dequeue(s, job);
    jobs_set_state(s, job, JOB_STARTING, NULL);
    msg = json_pack("{s:I, s:i, s:O, s:s, s:s, s:i}", "id", (json_int_t)job->id,
                    "attempt", job->attempts, "spec", job->spec_json, "cpus", cpus,
                    "nodelist", n->name, "kill_wait", s->kill_wait);
    if (msg && job->array_id)
        json_object_update_new(msg, json_pack("{s:I, s:I}", "array_id",
                               (json_int_t)job->array_id, "array_index",
                               (json_int_t)job->array_index));
    server_send(s, s->workers, n->name, strlen(n->name), "job.start", msg);
    return 0;
}

/* One queue, strict FIFO: the first job that does not fit stops it, so a
 * large job is never overtaken within its queue (backfill comes with
 * reservations).  An array waiting for its throttle or for a twin child
 * needs no cores yet and does not hold up the jobs behind it. */
static int sched_queue(struct server *s, struct queue *q)
{
    struct job *job, *next;
    int started = 0;

    for (job = q->qhead; job; job = next) {
        next = job->qnext;
        /* When false, the parent may have ended; next was read before. */
        if (job->array && !arrays_may_start(s, job))
            continue;
        struct node *n = pick_node(s, q, jobspec_cpus(&job->spec), job->spec.mem);
        if (!n)
            break;
        struct job *run = job;
        if (job->array) {
            /* The next child takes the parent's place for this start; the
             * parent keeps its place until every child is created. */
            struct job *after = job->qnext, *parent;
            int64_t pid = job->id;
            run = arrays_next_child(s, job);
            /* A skipped last child may have ended (and freed) the parent. */
            parent = jobs_find(s, pid);
            next = parent && parent->array->next < parent->array->n ? parent : after;
            if (!run)
                continue; /* cancelled before creation: recorded, not run */
        }
        if (start(s, run, n) < 0) {
            log_err("job %lld: cannot place on %s", (long long)run->id, n->name);
            break;
        }
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
        started += sched_queue(s, q);
    if (started)
        log_msg(LOG_DEBUG, "scheduler started %d jobs", started);
}

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

const char *sched_infeasible(struct server *s, const struct jobspec *spec)
{
    static char why[160];
    long cpus = jobspec_cpus(spec), max_cpus = 0;
    int64_t max_mem = 0;
    bool any = false;

    for (struct node *n = s->nodes; n; n = n->next) {
        if (!n->topo)
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
        return NULL; /* no node has registered yet: nothing to judge by */
    if (cpus > max_cpus)
        snprintf(why, sizeof(why), "it asks for %ld cpus and the largest node has %ld",
                 cpus, max_cpus);
    else
        snprintf(why, sizeof(why), "it asks for %lld MiB and no node with %ld cpus has that much",
                 (long long)spec->mem, cpus);
    return why;
}

/* The UP node with enough free cores and memory that has the fewest free
 * cores (best fit), or NULL. */
static struct node *pick_node(struct server *s, long cpus, int64_t mem)
{
    struct node *best = NULL;

    for (struct node *n = s->nodes; n; n = n->next) {
        if (n->state != NODE_UP || !n->topo)
            continue;
        int free_pus = n->topo->npu - n->nbusy;
        if (free_pus < cpus || n->topo->mem_mib - n->mem_used < mem)
            continue;
        if (!best || free_pus < best->topo->npu - best->nbusy)
            best = n;
    }
    return best;
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

void sched_run(struct server *s)
{
    struct job *job, *next;
    int started = 0;

    s->sched_needed = false;
    /* Strict FIFO: the first job that does not fit stops the pass, so a
     * large job is never overtaken (backfill comes with reservations).  An
     * array at its throttle is not waiting for cores: jobs behind it go. */
    for (job = s->qhead; job; job = next) {
        next = job->qnext;
        /* An array waiting for its throttle or for a twin child does not
         * hold up the jobs behind it: it needs no cores yet.  (When false,
         * the parent may have ended; next was read before.) */
        if (job->array && !arrays_may_start(s, job))
            continue;
        struct node *n = pick_node(s, jobspec_cpus(&job->spec), job->spec.mem);
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
    if (started)
        log_msg(LOG_DEBUG, "scheduler started %d jobs", started);
}

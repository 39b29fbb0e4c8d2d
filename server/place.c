/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Placement: which nodes a job may use, whether it fits now, and the
 * bookkeeping of the cores, GPUs and memory each of its parts holds. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/container.h"
#include "lib/features.h"
#include "lib/hostlist.h"
#include "lib/log.h"
#include "server/server.h"

bool place_eligible(const struct node *n, const struct jobspec *spec)
{
    struct alloc_node an;
    char rt[32];

    if (!n->topo)
        return false;
    an = topo_alloc_node(n->topo);
    struct alloc_req req = jobspec_alloc_req(spec, 0);
    return n->topo->mem_mib >= spec->mem && alloc_possible(&an, &req)
           && (!spec->container
               || container_pick(spec->container, n->runtimes, rt, sizeof(rt)))
           && (!spec->constraint
               || features_match(spec->constraint, n->features))
           && (!spec->nodelist || hostlist_has(spec->nodelist_hl, n->name))
           && (!spec->exclude || !hostlist_has(spec->exclude_hl, n->name));
}

long place_free_cpus(const struct node *n)
{
    return n->npu - n->nbusy;
}

long place_need_cpus(const struct node *n, const struct jobspec *spec)
{
    if (spec->exclusive && n->topo)
        return n->topo->npu;
    if (spec->threads_per_core && n->topo && n->topo->ncores) {
        long per_core = n->topo->npu / n->topo->ncores;
        long use = spec->threads_per_core < per_core ? spec->threads_per_core
                                                     : per_core;
        return jobspec_node_tasks(spec, 0)
               * ((spec->cpus_per_task + use - 1) / use) * per_core;
    }
    return jobspec_node_cpus(spec, 0);
}

bool place_fits_now(const struct node *n, const struct jobspec *spec, long i)
{
    /* What is free first: it is cheaper to tell than what the node is. */
    if (!nodes_usable(n) || !n->topo)
        return false;
    if (spec->exclusive ? n->njobs || n->nbusy || n->mem_used
                        : place_free_cpus(n) < jobspec_node_cpus(spec, i)
                              || n->topo->mem_mib - n->mem_used < spec->mem
                              || n->topo->ngpu - n->ngpu_busy < spec->gpus)
        return false;
    if (!place_eligible(n, spec))
        return false;
    if (spec->exclusive)
        return true;
    if (!spec->threads_per_core && spec->distribution == ALLOC_BLOCK
        && !spec->gpus)
        return true; /* free PUs are all that counts */
    /* Whole cores, task layout or GPUs: only the allocator knows. */
    struct alloc_node an = topo_alloc_node(n->topo);
    struct alloc_req req = jobspec_alloc_req(spec, i);
    struct alloc_result r;
    if (alloc_place(&an, n->busy, n->gpu_busy, &req, &r) < 0)
        return false;
    alloc_result_release(&r);
    return true;
}

/* Mark what p holds busy on its node. */
static int hold(struct jpart *p, struct job *job)
{
    struct node *n = p->node;

    p->job = job;
    if (nodes_add_job(n, p) < 0)
        return -1;
    for (int i = 0; i < p->npu; i++)
        if (!n->busy[p->pu[i]]) {
            n->busy[p->pu[i]] = true;
            n->nbusy++;
        }
    for (int i = 0; i < p->ngpu; i++)
        if (!n->gpu_busy[p->gpu[i]]) {
            n->gpu_busy[p->gpu[i]] = true;
            n->ngpu_busy++;
        }
    p->mem_held =
        job->spec.exclusive ? n->topo->mem_mib - n->mem_used : job->spec.mem;
    n->mem_used += p->mem_held;
    return 0;
}

static void part_clear(struct jpart *p)
{
    free(p->pu);
    free(p->gpu);
    free(p->cpus);
    free(p->held);
    json_decref(p->tasks);
    json_decref(p->slots);
    json_decref(p->gpus);
    memset(p, 0, sizeof(*p));
}

void place_free_parts(struct job *job)
{
    place_release(job);
    for (int i = 0; i < job->nparts; i++)
        part_clear(&job->part[i]);
    free(job->part);
    job->part = NULL;
    job->nparts = job->parts_running = 0;
}

/* What the store keeps: every part's node, cpus, held cpus, tasks, GPUs. */
static char *alloc_text(const struct job *job)
{
    json_t *nodes = json_array(), *o;
    char *s;

    for (int i = 0; nodes && i < job->nparts; i++) {
        const struct jpart *p = &job->part[i];
        json_array_append_new(nodes, json_pack("{s:s, s:s, s:s, s:O, s:O, s:i}",
                                               "name", p->name, "cpus", p->cpus,
                                               "held", p->held, "tasks",
                                               p->tasks, "gpus", p->gpus,
                                               "first_task", p->first_task));
    }
    o = json_pack("{s:o}", "nodes", nodes);
    s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

/* Choose part i's cores on n and fill p (holding nothing yet). */
static int choose(struct jpart *p, struct job *job, long i, struct node *n,
                  int first_task)
{
    struct alloc_node an = topo_alloc_node(n->topo);
    struct alloc_req req = jobspec_alloc_req(&job->spec, i);
    struct alloc_result r;
    int cpt = (int)job->spec.cpus_per_task;

    if (alloc_place(&an, n->busy, n->gpu_busy, &req, &r) < 0)
        return -1;
    snprintf(p->name, sizeof(p->name), "%s", n->name);
    p->node = n;
    p->first_task = first_task;
    p->cpus = topo_cpulist(n->topo, r.cpus, r.ncpus);
    p->held = topo_cpulist(n->topo, r.held, r.nheld);
    p->tasks = json_array();
    p->slots = json_array();
    p->gpus = json_array();
    p->pu = malloc((r.nheld + 1) * sizeof(*p->pu));
    p->gpu = malloc((r.ngpu + 1) * sizeof(*p->gpu));
    if (!p->cpus || !p->held || !p->tasks || !p->gpus || !p->pu || !p->gpu) {
        alloc_result_release(&r);
        errno = ENOMEM;
        return -1;
    }
    memcpy(p->pu, r.held, r.nheld * sizeof(*p->pu));
    p->npu = r.nheld;
    memcpy(p->gpu, r.gpu, r.ngpu * sizeof(*p->gpu));
    p->ngpu = r.ngpu;
    for (int t = 0; t < req.ntasks; t++) {
        char *c = topo_cpulist(n->topo, r.task + (size_t)t * cpt, cpt);
        json_array_append_new(p->tasks, json_string(c ? c : ""));
        free(c);
        /* Where each of the task's PUs is among the part's, which are in
         * logical order: what a rankfile calls logical slots. */
        char slots[1024] = "";
        size_t len = 0;
        for (int k = 0; k < cpt; k++)
            for (int q = 0; q < r.ncpus; q++)
                if (r.cpus[q] == r.task[(size_t)t * cpt + k]
                    && len < sizeof(slots) - 12)
                    len += (size_t)snprintf(slots + len, sizeof(slots) - len,
                                            "%s%d", k ? "," : "", q);
        json_array_append_new(p->slots, json_string(slots));
    }
    for (int g = 0; g < r.ngpu; g++)
        json_array_append_new(p->gpus, json_integer(r.gpu[g]));
    alloc_result_release(&r);
    return 0;
}

int place_start(struct job *job, struct node **nodes, int n)
{
    struct jpart *parts = calloc(n, sizeof(*parts));
    size_t len = 0;
    int first = 0, i;

    if (!parts)
        return -1;
    place_free_parts(job);
    job->part = parts;
    job->nparts = n;
    /* Choose on each node, holding as we go: two parts never share a node,
     * but a failure must give back what the earlier ones took. */
    for (i = 0; i < n; i++) {
        if (choose(&parts[i], job, i, nodes[i], first) < 0
            || hold(&parts[i], job) < 0)
            break;
        first += (int)jobspec_node_tasks(&job->spec, i);
        len += strlen(nodes[i]->name) + 1;
    }
    if (i < n) {
        int e = errno;
        parts[i].node = NULL; /* holds nothing */
        place_free_parts(job);
        errno = e;
        return -1;
    }
    job->parts_running = n;
    free(job->node_name);
    free(job->cpus);
    free(job->alloc);
    job->node_name = malloc(len + 1);
    job->cpus = strdup(parts[0].cpus);
    job->alloc = alloc_text(job);
    if (!job->node_name || !job->cpus || !job->alloc)
        return -1;
    job->node_name[0] = '\0';
    for (i = 0; i < n; i++) {
        if (i)
            strcat(job->node_name, ",");
        strcat(job->node_name, parts[i].name);
    }
    return 0;
}

int place_load(struct job *job)
{
    json_t *a = job->alloc ? json_loads(job->alloc, 0, NULL) : NULL, *v;
    json_t *nodes = json_object_get(a, "nodes");
    size_t i, n = json_array_size(nodes);

    place_free_parts(job);
    if (!n && job->node_name) {
        /* Stored before allocations were: one node, its cpu list. */
        if (!(job->part = calloc(1, sizeof(*job->part))))
            goto fail;
        snprintf(job->part[0].name, sizeof(job->part[0].name), "%s",
                 job->node_name);
        job->part[0].cpus = job->cpus ? strdup(job->cpus) : NULL;
        job->part[0].held = job->cpus ? strdup(job->cpus) : NULL;
        job->part[0].tasks = json_array();
        job->part[0].gpus = json_array();
        job->nparts = job->parts_running = 1;
        json_decref(a);
        return 0;
    }
    if (!n || !(job->part = calloc(n, sizeof(*job->part))))
        goto fail;
    job->nparts = job->parts_running = (int)n;
    json_array_foreach (nodes, i, v) {
        struct jpart *p = &job->part[i];
        const char *name, *cpus, *held;
        json_t *tasks, *gpus;
        int first = 0;
        if (json_unpack(v, "{s:s, s:s, s:s, s:o, s:o, s?i}", "name", &name,
                        "cpus", &cpus, "held", &held, "tasks", &tasks, "gpus",
                        &gpus, "first_task", &first)
            < 0)
            goto fail;
        snprintf(p->name, sizeof(p->name), "%s", name);
        p->cpus = strdup(cpus);
        p->held = strdup(held);
        p->tasks = json_incref(tasks);
        p->gpus = json_incref(gpus);
        p->first_task = first;
    }
    json_decref(a);
    return 0;
fail:
    json_decref(a);
    place_free_parts(job);
    return -1;
}

struct jpart *place_part(const struct job *job, const struct node *n)
{
    for (int i = 0; i < job->nparts; i++)
        if (job->part[i].node == n || strcmp(job->part[i].name, n->name) == 0)
            return &job->part[i];
    return NULL;
}

int place_reattach(struct node *n, struct job *job)
{
    struct jpart *p = place_part(job, n);
    int k = -1;
    size_t i;
    json_t *v;

    if (!p || !n->topo || p->ended)
        return -1;
    place_release_part(p);
    free(p->pu);
    free(p->gpu);
    p->pu = calloc(n->topo->npu + 1, sizeof(*p->pu));
    p->gpu = calloc(json_array_size(p->gpus) + 1, sizeof(*p->gpu));
    p->ngpu = 0;
    if (!p->pu || !p->gpu || !p->held
        || (k = topo_indices(n->topo, p->held, p->pu)) < 0)
        return -1;
    p->npu = k;
    json_array_foreach (p->gpus, i, v) {
        json_int_t g = json_integer_value(v);
        if (g < 0 || g >= n->topo->ngpu)
            return -1;
        p->gpu[p->ngpu++] = (int)g;
    }
    p->node = n;
    return hold(p, job);
}

void place_release_part(struct jpart *p)
{
    struct node *n = p->node;

    if (!n)
        return;
    for (int i = 0; i < p->npu; i++)
        if (n->busy[p->pu[i]]) {
            n->busy[p->pu[i]] = false;
            n->nbusy--;
        }
    for (int i = 0; i < p->ngpu; i++)
        if (n->gpu_busy[p->gpu[i]]) {
            n->gpu_busy[p->gpu[i]] = false;
            n->ngpu_busy--;
        }
    n->mem_used -= p->mem_held;
    p->mem_held = 0;
    nodes_remove_job(n, p);
    p->node = NULL;
}

void place_release(struct job *job)
{
    for (int i = 0; i < job->nparts; i++)
        place_release_part(&job->part[i]);
}

json_t *place_start_msg(struct server *s, const struct job *job, int i)
{
    const struct jpart *p = &job->part[i];
    json_t *gpus = json_array(), *nodes = json_array(), *v, *msg;
    const struct topo *t = p->node ? p->node->topo : NULL;
    const struct node *main = job->part[0].node;
    size_t k;

    json_array_foreach (p->gpus, k, v) {
        json_int_t g = json_integer_value(v);
        if (t && g >= 0 && g < t->ngpu)
            json_array_append_new(gpus, json_pack("{s:s, s:i}", "name",
                                                  t->gpu_info[g].name, "index",
                                                  t->gpu_info[g].index));
    }
    /* Every part's node and tasks: the main node writes the hostfile and
     * rankfile for MPI from them. */
    bool shared = false;
    for (int j = 0; j < job->nparts; j++) {
        const struct jpart *q = &job->part[j];
        json_array_append_new(nodes,
                              json_pack("{s:s, s:O, s:O*, s:i}", "name",
                                        q->name, "tasks", q->tasks, "slots",
                                        q->slots, "first_task", q->first_task));
        for (int e = 0; e < j; e++)
            shared =
                shared
                || (q->node && job->part[e].node && q->node->hostname[0]
                    && !strcmp(q->node->hostname, job->part[e].node->hostname));
    }
    msg = json_pack(
        "{s:I, s:i, s:O, s:s, s:s, s:i, s:O, s:o, s:i, s:o, s:s, s:s*}", "id",
        (json_int_t)job->id, "attempt", job->attempts, "spec", job->spec_json,
        "cpus", p->cpus, "nodelist", job->node_name, "kill_wait", s->kill_wait,
        "tasks", p->tasks, "gpus", gpus, "node_index", i, "nodes", nodes,
        "main_address", main && main->address[0] ? main->address : "", "token",
        job->token);
    if (msg && shared)
        json_object_set_new(msg, "shared_host", json_true());
    if (msg && job->array_id)
        json_object_update_new(
            msg, json_pack("{s:I, s:I}", "array_id", (json_int_t)job->array_id,
                           "array_index", (json_int_t)job->array_index));
    return msg;
}

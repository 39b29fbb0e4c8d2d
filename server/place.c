/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Placement on a node: which nodes a job may use, whether it fits now,
 * and the bookkeeping of the cores, GPUs and memory it holds there. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/features.h"
#include "lib/hostlist.h"
#include "lib/log.h"
#include "server/server.h"

bool place_eligible(const struct node *n, const struct jobspec *spec)
{
    struct alloc_node an;

    if (!n->topo)
        return false;
    an = topo_alloc_node(n->topo);
    struct alloc_req req = jobspec_alloc_req(spec);
    return n->topo->mem_mib >= spec->mem && alloc_possible(&an, &req)
           && (!spec->constraint || features_match(spec->constraint, n->features))
           && (!spec->nodelist || hostlist_has(spec->nodelist_hl, n->name))
           && (!spec->exclude || !hostlist_has(spec->exclude_hl, n->name));
}

long place_free_cpus(const struct node *n)
{
    return n->topo ? n->topo->npu - n->nbusy : 0;
}

long place_need_cpus(const struct node *n, const struct jobspec *spec)
{
    if (spec->exclusive && n->topo)
        return n->topo->npu;
    if (spec->threads_per_core && n->topo && n->topo->ncores) {
        long per_core = n->topo->npu / n->topo->ncores;
        long use = spec->threads_per_core < per_core ? spec->threads_per_core : per_core;
        return spec->ntasks * ((spec->cpus_per_task + use - 1) / use) * per_core;
    }
    return jobspec_cpus(spec);
}

bool place_fits_now(const struct node *n, const struct jobspec *spec)
{
    if (n->state != NODE_UP || !place_eligible(n, spec))
        return false;
    if (spec->exclusive)
        return n->njobs == 0 && n->nbusy == 0 && n->mem_used == 0;
    if (place_free_cpus(n) < place_need_cpus(n, spec)
        || n->topo->mem_mib - n->mem_used < spec->mem
        || n->topo->ngpu - n->ngpu_busy < spec->gpus)
        return false;
    if (!spec->threads_per_core && spec->distribution == ALLOC_BLOCK && !spec->gpus)
        return true; /* free PUs are all that counts */
    /* Whole cores, task layout or GPUs: only the allocator knows. */
    struct alloc_node an = topo_alloc_node(n->topo);
    struct alloc_req req = jobspec_alloc_req(spec);
    struct alloc_result r;
    if (alloc_place(&an, n->busy, n->gpu_busy, &req, &r) < 0)
        return false;
    alloc_result_release(&r);
    return true;
}

/* The allocation as stored with the job: held cpus when they differ from
 * the job's cpus, each task's cpus when there are several, GPU indices. */
static char *alloc_text(const struct topo *t, const struct alloc_result *r,
                        const struct jobspec *spec)
{
    json_t *o = json_object(), *tasks = json_array(), *gpus = json_array();
    char *s = NULL, *held = NULL;
    int cpt = (int)spec->cpus_per_task;

    if (!o || !tasks || !gpus)
        goto out;
    for (int i = 0; i < spec->ntasks; i++) {
        char *c = topo_cpulist(t, r->task + (size_t)i * cpt, cpt);
        if (!c || json_array_append_new(tasks, json_string(c)) < 0) {
            free(c);
            goto out;
        }
        free(c);
    }
    for (int i = 0; i < r->ngpu; i++)
        json_array_append_new(gpus, json_integer(r->gpu[i]));
    if (!(held = topo_cpulist(t, r->held, r->nheld)))
        goto out;
    json_object_set_new(o, "held", json_string(held));
    json_object_set(o, "tasks", tasks);
    json_object_set(o, "gpus", gpus);
    s = json_dumps(o, JSON_COMPACT);
out:
    free(held);
    json_decref(tasks);
    json_decref(gpus);
    json_decref(o);
    return s;
}

static int hold(struct node *n, struct job *job, const int *pu, int npu, const int *gpu,
                int ngpu)
{
    int *p = malloc((npu + 1) * sizeof(*p)), *g = malloc((ngpu + 1) * sizeof(*g));

    if (!p || !g || nodes_add_job(n, job) < 0) {
        free(p);
        free(g);
        return -1;
    }
    for (int i = 0; i < npu; i++)
        if (!n->busy[pu[i]]) {
            n->busy[pu[i]] = true;
            n->nbusy++;
        }
    for (int i = 0; i < ngpu; i++)
        if (!n->gpu_busy[gpu[i]]) {
            n->gpu_busy[gpu[i]] = true;
            n->ngpu_busy++;
        }
    memcpy(p, pu, npu * sizeof(*p));
    memcpy(g, gpu, ngpu * sizeof(*g));
    free(job->pu);
    free(job->gpu);
    job->pu = p;
    job->npu = npu;
    job->gpu = g;
    job->ngpu = ngpu;
    job->mem_held = job->spec.exclusive ? n->topo->mem_mib - n->mem_used : job->spec.mem;
    n->mem_used += job->mem_held;
    job->node = n;
    return 0;
}

int place_job(struct node *n, struct job *job)
{
    struct alloc_node an = topo_alloc_node(n->topo);
    struct alloc_req req = jobspec_alloc_req(&job->spec);
    struct alloc_result r;
    char *cpus, *alloc;

    if (alloc_place(&an, n->busy, n->gpu_busy, &req, &r) < 0)
        return -1;
    cpus = topo_cpulist(n->topo, r.cpus, r.ncpus);
    alloc = alloc_text(n->topo, &r, &job->spec);
    if (!cpus || !alloc || hold(n, job, r.held, r.nheld, r.gpu, r.ngpu) < 0) {
        free(cpus);
        free(alloc);
        alloc_result_release(&r);
        errno = ENOMEM;
        return -1;
    }
    alloc_result_release(&r);
    free(job->cpus);
    job->cpus = cpus;
    free(job->alloc);
    job->alloc = alloc;
    return 0;
}

int place_reattach(struct node *n, struct job *job)
{
    json_t *a = job->alloc ? json_loads(job->alloc, 0, NULL) : NULL, *v;
    const char *held = a ? json_string_value(json_object_get(a, "held")) : NULL;
    int *idx = n->topo ? calloc(n->topo->npu, sizeof(*idx)) : NULL;
    int gpu[256], ngpu = 0, k = -1, rc = -1;
    size_t i;

    json_array_foreach(json_object_get(a, "gpus"), i, v) {
        json_int_t g = json_integer_value(v);
        if (g < 0 || g >= n->topo->ngpu || ngpu == 256)
            goto out;
        gpu[ngpu++] = (int)g;
    }
    if (idx && (held || job->cpus))
        k = topo_indices(n->topo, held ? held : job->cpus, idx);
    if (k >= 0)
        rc = hold(n, job, idx, k, gpu, ngpu);
out:
    free(idx);
    json_decref(a);
    return rc;
}

void place_release(struct job *job)
{
    struct node *n = job->node;

    if (!n)
        return;
    for (int i = 0; i < job->npu; i++)
        if (n->busy[job->pu[i]]) {
            n->busy[job->pu[i]] = false;
            n->nbusy--;
        }
    for (int i = 0; i < job->ngpu; i++)
        if (n->gpu_busy[job->gpu[i]]) {
            n->gpu_busy[job->gpu[i]] = false;
            n->ngpu_busy--;
        }
    n->mem_used -= job->mem_held;
    for (int i = 0; i < n->njobs; i++)
        if (n->running[i] == job) {
            n->running[i] = n->running[--n->njobs];
            break;
        }
    job->node = NULL;
    free(job->pu);
    free(job->gpu);
    job->pu = job->gpu = NULL;
    job->npu = job->ngpu = 0;
    job->mem_held = 0;
}

json_t *place_start_fields(const struct job *job)
{
    json_t *a = job->alloc ? json_loads(job->alloc, 0, NULL) : NULL;
    json_t *gpus = json_array(), *o;
    const struct topo *t = job->node ? job->node->topo : NULL;

    for (int i = 0; t && gpus && i < job->ngpu; i++)
        json_array_append_new(gpus, json_pack("{s:s, s:i}", "name",
                                              t->gpu_info[job->gpu[i]].name, "index",
                                              t->gpu_info[job->gpu[i]].index));
    o = json_pack("{s:O?, s:o}", "tasks", json_object_get(a, "tasks"), "gpus", gpus);
    json_decref(a);
    return o;
}

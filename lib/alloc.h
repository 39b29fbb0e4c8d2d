/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Core and GPU selection on one node: what a job gets, and which cores
 * each of its tasks is bound to.  Pure, no I/O. */
#ifndef KILN_ALLOC_H
#define KILN_ALLOC_H

#include <stdbool.h>

/* One processing unit (hardware thread) of a node, with the logical
 * indices of the objects that contain it. */
struct alloc_pu {
    int os;   /* OS index, as sched_setaffinity and /proc know it */
    int core; /* logical core index */
    int l3;   /* logical L3 cache index (the core's when there is none) */
    int numa; /* logical NUMA node index */
    int pkg;  /* logical package (socket) index */
};

/* One GPU and where it is attached. */
struct alloc_gpu {
    int pkg;
    int numa;
};

struct alloc_node {
    const struct alloc_pu *pu; /* in logical order */
    int npu;
    const struct alloc_gpu *gpu;
    int ngpu;
};

enum alloc_dist { ALLOC_BLOCK, ALLOC_CYCLIC };

struct alloc_req {
    int ntasks;
    int cpus_per_task;
    int threads_per_core; /* 0: any PU; N: whole cores, N PUs of each used */
    int gpus;
    enum alloc_dist dist; /* block: tasks on neighbouring cores; cyclic:
                           * tasks round robin over the packages */
    bool exclusive;       /* the whole node, which must be idle */
};

struct alloc_result {
    int *held; /* PU indices the job holds (others may not use), ascending */
    int nheld;
    int *cpus; /* PU indices the job may run on (its cpuset), ascending */
    int ncpus;
    int *task; /* ntasks * cpus_per_task PU indices: task t's are
                 * task[t * cpus_per_task ...] */
    int *gpu;  /* GPU indices, ascending */
    int ngpu;
};

/* Place req on node, given the PUs and GPUs already taken (busy[npu],
 * gpu_busy[ngpu]; gpu_busy may be NULL when ngpu is 0).
 *
 * Compact: a job's cores come from one core, L3 group, NUMA node or
 * package if one can hold it, choosing at each level the one with the
 * least room that still fits (best fit, which keeps large holes for large
 * jobs); a job that must span domains fills the largest ones first, so it
 * spans as few as possible.  Whole free cores are taken before PUs beside
 * another job.  GPUs are taken from one package when one has enough, and
 * the cores from that package when they fit there.
 *
 * Fills res (free with alloc_result_release) and returns 0; or returns -1
 * with errno ENOSPC when it does not fit now, EINVAL when req is malformed,
 * ENOMEM.  busy[] and gpu_busy[] are not changed. */
int alloc_place(const struct alloc_node *node, const bool *busy,
                const bool *gpu_busy, const struct alloc_req *req,
                struct alloc_result *res);

void alloc_result_release(struct alloc_result *res);

/* Would req fit on an idle node like this one?  (Node size only.) */
bool alloc_possible(const struct alloc_node *node, const struct alloc_req *req);

#endif

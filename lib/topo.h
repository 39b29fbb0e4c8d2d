/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The machine as hwloc sees it, reduced to what the scheduler needs. */
#ifndef KILN_TOPO_H
#define KILN_TOPO_H

#include <stdint.h>
#include <jansson.h>

#include "lib/alloc.h"
#include "lib/error.h"

/* Without an L3 cache each core is its own group, numbered from here. */
enum { TOPO_NO_L3 = 1000000 };

/* A GPU as hwloc's OS devices show it. */
struct topo_gpu {
    char name[32]; /* hwloc's OS device name: cuda0, rsmi1, nvml0, ... */
    int index;     /* the vendor's device number (CUDA_VISIBLE_DEVICES) */
};

struct topo {
    int npu;
    struct alloc_pu *pu; /* managed PUs in logical order */
    int ncores, nnuma, npkg, nl3;
    int64_t mem_mib; /* memory of the NUMA nodes the PUs belong to */
    int ngpu;
    struct alloc_gpu *gpu;     /* where each GPU is attached */
    struct topo_gpu *gpu_info; /* and what it is called */
    int *numa_os;              /* logical NUMA index -> OS index; NULL when the
                                 * topology came from elsewhere (JSON) */
    int nnuma_os;
};

/* The topology as lib/alloc wants it. */
static inline struct alloc_node topo_alloc_node(const struct topo *t)
{
    return (struct alloc_node){ t->pu, t->npu, t->gpu, t->ngpu };
}

/* Discover this machine, or, when spec is not NULL, the synthetic
 * description spec ("pack:2 numa:2 core:4 pu:2") or "xml:FILE", an hwloc
 * XML export.  cpus, when not
 * NULL, is an OS cpu list ("0-3,8") restricting the PUs managed; every
 * listed PU must exist.  Returns a topo to free with topo_destroy(), or
 * NULL with err set. */
struct topo *topo_discover(const char *spec, const char *cpus,
                           struct kiln_error *err);

/* The node.hello "topology" object, and back (values checked). */
json_t *topo_to_json(const struct topo *t);
struct topo *topo_from_json(const json_t *o, struct kiln_error *err);

void topo_destroy(struct topo *t);

/* Format the OS indices of pu[idx[0..n-1]] as a cpu list ("0-3,8") into a
 * new string (caller frees); NULL on ENOMEM. */
char *topo_cpulist(const struct topo *t, const int *idx, int n);

/* The OS indices of the NUMA nodes of pu[idx[0..n-1]] as a list ("0-1"),
 * a new string; NULL when t has no OS NUMA indices, or on ENOMEM. */
char *topo_memlist(const struct topo *t, const int *idx, int n);

/* The inverse of topo_cpulist: fill idx with the indices of the PUs whose
 * OS numbers are in the list.  Returns the count, or -1 (EINVAL) when the
 * list is malformed or names a PU that t does not have.  idx must hold
 * t->npu entries. */
int topo_indices(const struct topo *t, const char *cpulist, int *idx);
#endif

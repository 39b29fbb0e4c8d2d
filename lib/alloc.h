/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Core selection on one node: which PUs a job gets.  Pure, no I/O. */
#ifndef KILN_ALLOC_H
#define KILN_ALLOC_H

#include <stdbool.h>

/* One processing unit (hardware thread) of a node, with the logical
 * indices of the objects that contain it. */
struct alloc_pu {
    int os;   /* OS index, as sched_setaffinity and /proc know it */
    int core; /* logical core index */
    int numa; /* logical NUMA node index */
    int pkg;  /* logical package (socket) index */
};

/* Choose need PUs among the n in pu[] whose busy[i] is false, as compactly
 * as possible: within one core if it fits, else one NUMA node, else one
 * package, else the whole node; at each level the domain with the fewest
 * free PUs that still fits is taken (best fit), which keeps large holes
 * for large jobs.  Writes the chosen indices into pu[] to out[] in
 * ascending order.  Returns need, or -1 (errno ENOSPC) if fewer than need
 * PUs are free; busy[] is not changed. */
int alloc_choose(const struct alloc_pu *pu, int n, const bool *busy, int need,
                 int *out);

#endif

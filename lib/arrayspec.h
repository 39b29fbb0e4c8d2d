/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Job array index specifications, Slurm's syntax: "0-999", "1-100:3",
 * "1,5,9", any mix of those separated by commas, and "%N" at the end to
 * run at most N children at a time.  Pure, no I/O. */
#ifndef KILN_ARRAYSPEC_H
#define KILN_ARRAYSPEC_H

#include <stddef.h>

#include "lib/error.h"

enum {
    ARRAYSPEC_MAX_SIZE = 1000000,   /* children in one array */
    ARRAYSPEC_MAX_INDEX = 10000000, /* largest index */
};

/* Parse s into a new sorted array of distinct indices (caller frees *idx)
 * and the throttle (0 when none).  Returns 0, or -1 with err set (errno
 * EINVAL, or ENOMEM). */
int arrayspec_parse(const char *s, long **idx, size_t *n, long *throttle,
                    struct kiln_error *err);

/* Position of index in the sorted idx[0..n), or -1. */
long arrayspec_find(const long *idx, size_t n, long index);

#endif

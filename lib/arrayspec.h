/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Job array index specifications, Slurm's syntax: "0-999", "1-100:3",
 * "1,5,9", any mix of those separated by commas, and "%N" at the end to
 * run at most N children at a time.  Held as sorted, disjoint arithmetic
 * progressions, not as one entry per index: a 0-999999 array costs a few
 * dozen bytes, and each lookup O(log ranges).  Pure, no I/O; tested in
 * test_arrayspec and fuzzed. */
#ifndef KILN_ARRAYSPEC_H
#define KILN_ARRAYSPEC_H

#include <stddef.h>

#include "lib/error.h"

enum {
    ARRAYSPEC_MAX_SIZE = 1000000,   /* children in one array */
    ARRAYSPEC_MAX_INDEX = 10000000, /* largest index */
};

/* lo, lo + step, ... hi: its first index's position is first. */
struct arange {
    long lo, hi, step;
    size_t first;
};

struct arrayspec {
    struct arange *r; /* sorted, disjoint */
    size_t nr;
    size_t n;      /* indices in all */
    long throttle; /* 0 when none */
};

/* Parse s (the indices sorted and made distinct).  Returns 0, or -1 with
 * err set (errno EINVAL, or ENOMEM).  Release with arrayspec_release. */
int arrayspec_parse(const char *s, struct arrayspec *a, struct kiln_error *err);

/* Only check s, in O(its length), without building anything. */
int arrayspec_check(const char *s, struct kiln_error *err);

void arrayspec_release(struct arrayspec *a);

/* The index at position pos (0 <= pos < a->n). */
long arrayspec_at(const struct arrayspec *a, size_t pos);

/* The position of index, or -1. */
long arrayspec_find(const struct arrayspec *a, long index);

#endif

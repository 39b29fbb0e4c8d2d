/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Output file patterns (sbatch's -o/-e): %j %x %u %N %A %a %% expanded
 * into a path.  The text comes from users and the job shell runs as root,
 * so every expansion is bounded by PATH_MAX and refused, never cut, when
 * it does not fit.  Tested in tests/unit/test_outpath.c and fuzzed. */
#ifndef KILN_OUTPATH_H
#define KILN_OUTPATH_H

#include <stdint.h>

/* What the patterns name. */
struct outpath_names {
    const char *cwd;  /* relative patterns start here */
    const char *name; /* %x */
    const char *user; /* %u */
    const char *node; /* %N */
    int64_t id;       /* %j */
    int64_t array_id; /* %A: the array's id, or 0 (then the job's id) */
    long array_index; /* %a */
};

/* Expand pat.  A new string (the caller frees it), or NULL with errno:
 * ENAMETOOLONG when the expansion exceeds PATH_MAX, ENOMEM. */
char *outpath_expand(const char *pat, const struct outpath_names *v);

#endif

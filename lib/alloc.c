/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Core selection on one node: compact, best-fit at each locality level. */
#include <errno.h>
#include <stdlib.h>

#include "lib/alloc.h"

enum { LVL_PKG, LVL_NUMA, LVL_CORE, LVL_COUNT };

static int key(const struct alloc_pu *p, int level)
{
    switch (level) {
    case LVL_PKG:
        return p->pkg;
    case LVL_NUMA:
        return p->numa;
    default:
        return p->core;
    }
}

/* A PU is in the current domain when its keys match the domain's keys for
 * every level above the one being split. */
static bool in_domain(const struct alloc_pu *p, const int *dkey, int depth)
{
    for (int l = 0; l < depth; l++)
        if (key(p, l) != dkey[l])
            return false;
    return true;
}

static int cmp_int(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

int alloc_choose(const struct alloc_pu *pu, int n, const bool *busy, int need,
                 int *out)
{
    int dkey[LVL_COUNT];
    int depth = 0, got = 0;

    if (need <= 0) {
        errno = EINVAL;
        return -1;
    }
    /* Narrow the domain level by level while one child can hold the job. */
    for (; depth < LVL_COUNT; depth++) {
        int best = -1, best_free = 0;
        for (int i = 0; i < n; i++) {
            if (busy[i] || !in_domain(&pu[i], dkey, depth))
                continue;
            int k = key(&pu[i], depth), f = 0;
            bool seen = false;
            for (int j = 0; j < i && !seen; j++)
                seen = !busy[j] && in_domain(&pu[j], dkey, depth)
                       && key(&pu[j], depth) == k;
            if (seen)
                continue;
            for (int j = i; j < n; j++)
                if (!busy[j] && in_domain(&pu[j], dkey, depth)
                    && key(&pu[j], depth) == k)
                    f++;
            if (f >= need && (best < 0 || f < best_free)) {
                best = k;
                best_free = f;
            }
        }
        if (best < 0)
            break;
        dkey[depth] = best;
    }
    /* Take free PUs of the domain, whole cores first so that a job does not
     * share a core with another when it can be avoided. */
    for (int pass = 0; pass < 2 && got < need; pass++) {
        for (int i = 0; i < n && got < need; i++) {
            if (busy[i] || !in_domain(&pu[i], dkey, depth))
                continue;
            bool core_free = true, taken = false;
            for (int j = 0; j < n; j++) {
                if (pu[j].core == pu[i].core && pu[j].pkg == pu[i].pkg && busy[j])
                    core_free = false;
            }
            for (int j = 0; j < got; j++)
                taken = taken || out[j] == i;
            if (taken || (pass == 0 && !core_free))
                continue;
            out[got++] = i;
        }
    }
    if (got < need) {
        errno = ENOSPC;
        return -1;
    }
    qsort(out, got, sizeof(*out), cmp_int);
    return got;
}

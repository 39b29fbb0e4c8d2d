/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Job array index specifications, Slurm's syntax. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/arrayspec.h"

static int number(const char **p, long *out)
{
    long v = 0;

    if (!isdigit((unsigned char)**p))
        return -1;
    while (isdigit((unsigned char)**p)) {
        v = v * 10 + (**p - '0');
        if (v > ARRAYSPEC_MAX_INDEX)
            return -1;
        (*p)++;
    }
    *out = v;
    return 0;
}

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return x < y ? -1 : x > y;
}

int arrayspec_parse(const char *s, long **idxp, size_t *np, long *throttle,
                    struct kiln_error *err)
{
    const char *p = s;
    long *idx = NULL;
    size_t n = 0, cap = 0;

    *throttle = 0;
    errno = EINVAL;
    if (!s || !*s)
        return errprintf(err, "invalid array: empty");
    for (;;) {
        long lo, hi, step = 1;
        if (number(&p, &lo) < 0)
            goto bad;
        hi = lo;
        if (*p == '-') {
            p++;
            if (number(&p, &hi) < 0 || hi < lo)
                goto bad;
            if (*p == ':') {
                p++;
                if (number(&p, &step) < 0 || step < 1)
                    goto bad;
            }
        }
        if ((hi - lo) / step + 1 > (long)(ARRAYSPEC_MAX_SIZE - n)) {
            free(idx);
            errno = EINVAL;
            return errprintf(err, "invalid array '%.64s': more than %d children", s,
                             ARRAYSPEC_MAX_SIZE);
        }
        for (long i = lo; i <= hi; i += step) {
            if (n == cap) {
                cap = cap ? cap * 2 : 64;
                long *ni = realloc(idx, cap * sizeof(*idx));
                if (!ni) {
                    free(idx);
                    errno = ENOMEM;
                    return errprintf(err, "out of memory");
                }
                idx = ni;
            }
            idx[n++] = i;
        }
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p == '%') {
            p++;
            if (number(&p, throttle) < 0 || *throttle < 1)
                goto bad;
        }
        if (*p)
            goto bad;
        break;
    }
    qsort(idx, n, sizeof(*idx), cmp_long);
    size_t w = 0;
    for (size_t i = 0; i < n; i++)
        if (w == 0 || idx[w - 1] != idx[i])
            idx[w++] = idx[i];
    *idxp = idx;
    *np = w;
    errno = 0;
    return 0;
bad:
    free(idx);
    errno = EINVAL;
    return errprintf(err, "invalid array '%.64s': want indices like 0-99, 1-100:3, "
                          "1,5,9, with an optional %%N throttle", s);
}

long arrayspec_find(const long *idx, size_t n, long index)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (idx[mid] < index)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && idx[lo] == index ? (long)lo : -1;
}

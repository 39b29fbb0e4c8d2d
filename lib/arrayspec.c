/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Job array index specifications, Slurm's syntax. */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
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

static size_t count(const struct arange *r)
{
    return (size_t)((r->hi - r->lo) / r->step) + 1;
}

/* Parse s into its ranges as written (into r, when not NULL) and their
 * number; the indices in all, counting repeats, into *total. */
static int scan(const char *s, struct arange *r, size_t *nr, size_t *total,
                long *throttle, struct kiln_error *err)
{
    const char *p = s;

    *nr = 0;
    *total = 0;
    *throttle = 0;
    errno = EINVAL;
    if (!s || !*s)
        return errprintf(err, "invalid array: empty");
    for (;;) {
        struct arange x = { 0, 0, 1, 0 };
        if (number(&p, &x.lo) < 0)
            goto bad;
        x.hi = x.lo;
        if (*p == '-') {
            p++;
            if (number(&p, &x.hi) < 0 || x.hi < x.lo)
                goto bad;
            if (*p == ':') {
                p++;
                if (number(&p, &x.step) < 0 || x.step < 1)
                    goto bad;
            }
        }
        x.hi = x.lo + (x.hi - x.lo) / x.step * x.step; /* its last index */
        if ((*total += count(&x)) > ARRAYSPEC_MAX_SIZE)
            return errprintf(err,
                             "invalid array '%.64s': more than %d children", s,
                             ARRAYSPEC_MAX_SIZE);
        if (r)
            r[*nr] = x;
        (*nr)++;
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
    errno = 0;
    return 0;
bad:
    errno = EINVAL;
    return errprintf(err,
                     "invalid array '%.64s': want indices like 0-99, 1-100:3, "
                     "1,5,9, with an optional %%N throttle",
                     s);
}

int arrayspec_check(const char *s, struct kiln_error *err)
{
    size_t nr, total;
    long throttle;

    return scan(s, NULL, &nr, &total, &throttle, err);
}

static int cmp_range(const void *a, const void *b)
{
    const struct arange *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Ranges that overlap (rare: "1-10,5" or "0-20:2,0-20:3"): mark their
 * indices in a bitmap over [smallest, largest] (at most 10,000,001 bits),
 * then read it back in order, cutting it into progressions: a gap that
 * stays the same goes on.  Linear in the indices and the span, with no
 * sort: a few milliseconds for the largest array. */
static int normalise(struct arrayspec *a, struct kiln_error *err)
{
    long lo = a->r[0].lo, hi = 0;
    size_t nr = 0, n = 0;

    for (size_t i = 0; i < a->nr; i++)
        hi = a->r[i].hi > hi ? a->r[i].hi : hi;
    size_t words = (size_t)(hi - lo) / 64 + 1;
    uint64_t *bits = calloc(words, sizeof(*bits));
    /* At most as many progressions as indices; usually a handful. */
    struct arange *r = malloc((a->n ? a->n : 1) * sizeof(*r));
    if (!bits || !r) {
        free(bits);
        free(r);
        errno = ENOMEM;
        return errprintf(err, "out of memory");
    }
    for (size_t i = 0; i < a->nr; i++)
        for (long x = a->r[i].lo; x <= a->r[i].hi; x += a->r[i].step)
            bits[(size_t)(x - lo) / 64] |= (uint64_t)1
                                           << ((size_t)(x - lo) % 64);
    long prev = -1;
    for (size_t w = 0; w < words; w++) {
        for (uint64_t b = bits[w]; b; b &= b - 1) {
            long x = lo + (long)(w * 64 + (size_t)__builtin_ctzll(b));
            struct arange *c = nr ? &r[nr - 1] : NULL;
            if (c && c->lo == c->hi && prev == c->hi) {
                c->step = x - c->lo; /* a single becomes a pair */
                c->hi = x;
            } else if (c && x - c->hi == c->step && c->lo != c->hi) {
                c->hi = x;
            } else {
                r[nr++] = (struct arange){ x, x, 1, 0 };
            }
            prev = x;
            n++;
        }
    }
    free(bits);
    free(a->r);
    struct arange *fit = realloc(r, (nr ? nr : 1) * sizeof(*fit));
    a->r = fit ? fit : r;
    a->nr = nr;
    a->n = n;
    return 0;
}

int arrayspec_parse(const char *s, struct arrayspec *a, struct kiln_error *err)
{
    size_t nr, total;

    memset(a, 0, sizeof(*a));
    if (scan(s, NULL, &nr, &total, &a->throttle, err) < 0)
        return -1;
    if (!(a->r = calloc(nr, sizeof(*a->r)))) {
        errno = ENOMEM;
        return errprintf(err, "out of memory");
    }
    scan(s, a->r, &a->nr, &a->n, &a->throttle, err);
    qsort(a->r, a->nr, sizeof(*a->r), cmp_range);
    bool overlap = false;
    for (size_t i = 1; i < a->nr; i++)
        overlap = overlap || a->r[i].lo <= a->r[i - 1].hi;
    if (overlap && normalise(a, err) < 0) {
        arrayspec_release(a);
        return -1;
    }
    size_t first = 0;
    for (size_t i = 0; i < a->nr; i++) {
        a->r[i].first = first;
        first += count(&a->r[i]);
    }
    a->n = first;
    errno = 0;
    return 0;
}

void arrayspec_release(struct arrayspec *a)
{
    free(a->r);
    memset(a, 0, sizeof(*a));
}

/* The range holding position pos, or the last one starting at or below
 * index (by_index). */
static const struct arange *locate(const struct arrayspec *a, long key,
                                   bool by_index)
{
    size_t lo = 0, hi = a->nr;

    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        long at = by_index ? a->r[mid].lo : (long)a->r[mid].first;
        if (at <= key)
            lo = mid;
        else
            hi = mid;
    }
    return a->nr ? &a->r[lo] : NULL;
}

long arrayspec_at(const struct arrayspec *a, size_t pos)
{
    const struct arange *r = locate(a, (long)pos, false);

    return r ? r->lo + (long)(pos - r->first) * r->step : -1;
}

long arrayspec_find(const struct arrayspec *a, long index)
{
    const struct arange *r = locate(a, index, true);

    if (!r || index < r->lo || index > r->hi || (index - r->lo) % r->step)
        return -1;
    return (long)(r->first + (size_t)((index - r->lo) / r->step));
}

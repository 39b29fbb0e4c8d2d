/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Host lists in Slurm's syntax, parsed and printed as Slurm does: each
 * name a prefix, at most one bracket of ranges, and a suffix.  A number
 * with a leading zero ("01") has a width, and n[01-10] holds n01, not n1;
 * one without has none, and n9 and n10 are one range. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hostlist.h"

/* The ranges "1-3,7" of a bracket, up to its ']': each N or N-M with
 * N <= M, adding up to at most HOSTLIST_MAX hosts. */
static bool ranges_ok(const char *s, long *total_all)
{
    long total = 0;

    while (*s != ']') {
        char *end;
        errno = 0;
        if (!isdigit((unsigned char)*s)) /* no sign, no space: digits */
            return false;
        long lo = strtol(s, &end, 10), hi = lo;
        if (end == s || lo < 0 || errno == ERANGE)
            return false;
        if (*end == '-') {
            s = end + 1;
            if (!isdigit((unsigned char)*s))
                return false;
            hi = strtol(s, &end, 10);
            if (end == s || hi < lo || errno == ERANGE)
                return false;
        }
        /* hi - lo cannot overflow (0 <= lo <= hi); + 1 could. */
        if (hi - lo >= HOSTLIST_MAX || (total += hi - lo + 1) > HOSTLIST_MAX)
            return false;
        s = end;
        if (*s == ',')
            s++;
        else if (*s != ']')
            return false;
    }
    /* And all brackets of the list together. */
    return (*total_all += total) <= HOSTLIST_MAX;
}

/* Host names of letters, digits, '-', '.' and '_', ending in at most one
 * bracket of ranges of digits, '-' and ','; lists separated by ','. */
static bool syntax_ok(const char *s)
{
    bool in = false, any = false, bracketed = false;
    long total = 0;

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '[') {
            /* One bracket a name: two would multiply (a[0-99][0-99]). */
            if (in || bracketed || !isdigit((unsigned char)s[1])
                || !strchr(s, ']') || !ranges_ok(s + 1, &total))
                return false;
            in = bracketed = true;
        } else if (c == ']') {
            /* Nothing follows a bracket in a name (libslurm has no
             * suffixes: n[1-2]-ib is no list). */
            if (!in || !isdigit((unsigned char)s[-1])
                || (s[1] != ',' && s[1] != '\0'))
                return false;
            in = false;
        } else if (in) {
            if (!isdigit(c) && c != '-' && c != ',')
                return false;
        } else if (c == ',') {
            if (!any || s[1] == ',' || s[1] == '\0')
                return false;
            bracketed = false;
        } else if (!isalnum(c) && c != '-' && c != '.' && c != '_') {
            return false;
        } else {
            any = true;
        }
    }
    return any && !in;
}

struct range {
    long lo, hi;
    int width; /* digits with leading zeros, or 0 */
};

/* One element of a list: a plain name (no ranges), or prefix[ranges]. */
struct entry {
    char *prefix;
    struct range *r;
    int nr;
};

struct hostlist {
    struct entry *e;
    int n, count;
};

/* The width a number written as digits[0..len-1] prints with. */
static int width_of(const char *digits, size_t len)
{
    return len > 1 && digits[0] == '0' ? (int)len : 0;
}

static int format_number(char *buf, size_t len, long v, int width)
{
    return snprintf(buf, len, "%0*ld", width, v);
}

/* The element s[0..len-1] of a checked list. */
static int parse_entry(struct entry *e, const char *s, size_t len)
{
    const char *open = memchr(s, '[', len), *close;

    if (!open)
        return (e->prefix = strndup(s, len)) ? 1 : -1;
    close = memchr(open, ']', len - (size_t)(open - s));
    if (!(e->prefix = strndup(s, (size_t)(open - s))))
        return -1;
    int count = 0;
    for (const char *p = open + 1; p < close;) {
        char *end;
        struct range r = { strtol(p, &end, 10), 0, 0 };
        r.width = width_of(p, (size_t)(end - p));
        r.hi = r.lo;
        if (*end == '-')
            r.hi = strtol(end + 1, &end, 10);
        struct range *grown =
            realloc(e->r, (size_t)(e->nr + 1) * sizeof(*grown));
        if (!grown)
            return -1;
        e->r = grown;
        e->r[e->nr++] = r;
        count += (int)(r.hi - r.lo + 1);
        p = *end == ',' ? end + 1 : end;
    }
    return count;
}

void hostlist_free(struct hostlist *hl)
{
    if (!hl)
        return;
    for (int i = 0; i < hl->n; i++) {
        free(hl->e[i].prefix);
        free(hl->e[i].r);
    }
    free(hl->e);
    free(hl);
}

struct hostlist *hostlist_parse(const char *s, struct kiln_error *err)
{
    struct hostlist *hl;

    if (!s || strlen(s) > 4096 || !syntax_ok(s)) {
        errprintf(err,
                  "invalid host list '%.64s': want names like node1 or "
                  "node[1-4,7],gpu01",
                  s ? s : "");
        errno = EINVAL;
        return NULL;
    }
    if (!(hl = calloc(1, sizeof(*hl))))
        goto nomem;
    /* Elements end at a ',' outside brackets. */
    for (const char *p = s; *p;) {
        size_t len = 0;
        for (int in = 0; p[len] && (in || p[len] != ','); len++)
            in = p[len] == '[' ? 1 : p[len] == ']' ? 0 : in;
        struct entry *grown =
            realloc(hl->e, (size_t)(hl->n + 1) * sizeof(*grown));
        if (!grown)
            goto nomem;
        hl->e = grown;
        hl->e[hl->n] = (struct entry){ 0 };
        int c = parse_entry(&hl->e[hl->n++], p, len);
        if (c < 0)
            goto nomem;
        hl->count += c;
        p += len + (p[len] == ',');
    }
    return hl;
nomem:
    hostlist_free(hl);
    errprintf(err, "out of memory");
    return NULL;
}

int hostlist_count(const struct hostlist *hl)
{
    return hl->count;
}

bool hostlist_has(const struct hostlist *hl, const char *name)
{
    size_t nlen = strlen(name);

    for (int i = 0; i < hl->n; i++) {
        const struct entry *e = &hl->e[i];
        if (!e->r) {
            if (!strcmp(e->prefix, name))
                return true;
            continue;
        }
        size_t pl = strlen(e->prefix);
        if (nlen <= pl || strncmp(name, e->prefix, pl))
            continue;
        const char *digits = name + pl;
        size_t dl = nlen - pl;
        if (dl > 18 || strspn(digits, "0123456789") < dl)
            continue;
        long v = strtol(digits, NULL, 10);
        for (int k = 0; k < e->nr; k++) {
            char buf[32];
            if (v >= e->r[k].lo && v <= e->r[k].hi
                && (size_t)format_number(buf, sizeof(buf), v, e->r[k].width)
                       == dl
                && !strncmp(buf, digits, dl))
                return true;
        }
    }
    return false;
}

/* A host name as its prefix and trailing number, for sorting and ranges. */
struct host {
    const char *name;
    size_t plen;   /* the prefix: the name without its trailing digits */
    long num;      /* -1: no number */
    int width;     /* width_of its digits */
    size_t digits; /* how many */
};

/* Slurm's order: by prefix, then by the number's digits, then by value
 * (so n4 comes before n034). */
static int host_cmp(const void *a, const void *b)
{
    const struct host *x = a, *y = b;
    size_t n = x->plen < y->plen ? x->plen : y->plen;
    int c = strncmp(x->name, y->name, n);

    if (c || x->plen != y->plen)
        return c ? c : x->plen < y->plen ? -1 : 1;
    if ((x->num < 0) != (y->num < 0))
        return x->num < 0 ? -1 : 1;
    if (x->digits != y->digits)
        return x->digits < y->digits ? -1 : 1;
    return x->num < y->num ? -1 : x->num > y->num;
}

/* Numbered names of one prefix share a bracket. */
static bool same_group(const struct host *x, const struct host *y)
{
    return x->num >= 0 && y->num >= 0 && x->plen == y->plen
           && !strncmp(x->name, y->name, x->plen);
}

/* Is y the number after x, written alike (both without leading zeros, or
 * with as many digits)? */
static bool follows(const struct host *x, const struct host *y)
{
    return y->num == x->num + 1
           && (x->digits == y->digits || (!x->width && !y->width));
}

struct buf {
    char *s;
    size_t len, cap;
};

static bool append(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static bool append(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0)
        return false;
    if (b->len + (size_t)n >= b->cap) {
        size_t cap = (b->len + (size_t)n + 1) * 2;
        char *grown = realloc(b->s, cap);
        if (!grown)
            return false;
        b->s = grown;
        b->cap = cap;
        va_start(ap, fmt);
        vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
    }
    b->len += (size_t)n;
    return true;
}

/* h[i..j-1], one prefix and width, sorted: prefix[ranges], or the name
 * alone when it is one host. */
static bool append_group(struct buf *b, const struct host *h, int i, int j)
{
    bool ok = append(b, "%s", b->len ? "," : "");

    if (h[i].num < 0 || j - i == 1)
        return ok && append(b, "%s", h[i].name);
    ok = ok && append(b, "%.*s[", (int)h[i].plen, h[i].name);
    for (int k = i; k < j && ok;) {
        int m = k;
        while (m + 1 < j && follows(&h[m], &h[m + 1]))
            m++;
        const char *lo = h[k].name + h[k].plen, *hi = h[m].name + h[m].plen;
        ok = m == k ? append(b, "%s%s", k > i ? "," : "", lo)
                    : append(b, "%s%s-%s", k > i ? "," : "", lo, hi);
        k = m + 1;
    }
    return ok && append(b, "]");
}

char *hostlist_compress(const char *const *names, int n)
{
    struct host *h = calloc((size_t)n + 1, sizeof(*h));
    struct buf b = { malloc(64), 0, 64 };

    if (!h || !b.s)
        goto fail;
    b.s[0] = '\0';
    for (int i = 0; i < n; i++) {
        size_t l = strlen(names[i]), d = 0;
        while (d < l && d < 18 && isdigit((unsigned char)names[i][l - d - 1]))
            d++;
        h[i] = (struct host){ names[i], l - d, -1, 0, d };
        if (d) {
            h[i].num = strtol(names[i] + l - d, NULL, 10);
            h[i].width = width_of(names[i] + l - d, d);
        }
    }
    qsort(h, (size_t)n, sizeof(*h), host_cmp);
    int u = 0; /* without repeats */
    for (int i = 0; i < n; i++)
        if (!u || strcmp(h[u - 1].name, h[i].name))
            h[u++] = h[i];
    n = u;
    for (int i = 0, j; i < n; i = j) {
        j = i + 1;
        while (j < n && same_group(&h[i], &h[j]))
            j++;
        if (!append_group(&b, h, i, j))
            goto fail;
    }
    free(h);
    return b.s;
fail:
    free(h);
    free(b.s);
    return NULL;
}

char **hostlist_expand(const char *s, int max, int *n, struct kiln_error *err)
{
    struct hostlist *hl = hostlist_parse(s, err);
    char **names;
    int k = 0;

    if (!hl)
        return NULL;
    *n = hl->count;
    if (*n > max) {
        errprintf(err, "host list '%.64s' has %d hosts: at most %d", s, *n,
                  max);
        hostlist_free(hl);
        return NULL;
    }
    if (!(names = calloc((size_t)*n + 1, sizeof(*names))))
        goto nomem;
    for (int i = 0; i < hl->n; i++) {
        const struct entry *e = &hl->e[i];
        if (!e->r && !(names[k++] = strdup(e->prefix)))
            goto nomem;
        for (int r = 0; r < e->nr; r++)
            for (long v = e->r[r].lo; v <= e->r[r].hi; v++) {
                char num[32];
                format_number(num, sizeof(num), v, e->r[r].width);
                size_t l = strlen(e->prefix) + strlen(num);
                if (!(names[k] = malloc(l + 1)))
                    goto nomem;
                sprintf(names[k++], "%s%s", e->prefix, num);
            }
    }
    hostlist_free(hl);
    return names;
nomem:
    hostlist_free(hl);
    hostlist_names_free(names);
    errprintf(err, "out of memory");
    return NULL;
}

void hostlist_names_free(char **names)
{
    for (char **p = names; p && *p; p++)
        free(*p);
    free(names);
}

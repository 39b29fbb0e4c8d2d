/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Host lists: libslurm parses and compresses; we check the input first,
 * since libslurm accepts some malformed lists ("a[1-") as host names. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <slurm/slurm.h>

#include "lib/hostlist.h"

/* The ranges "1-3,7" of a bracket, up to its ']': each N or N-M with
 * N <= M, adding up to at most HOSTLIST_MAX hosts.  (libslurm would print
 * its own complaint about these on stderr.) */
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

/* Host names of letters, digits, '-', '.' and '_', with bracketed ranges
 * of digits, '-' and ','; lists separated by ','. */
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
            if (!in || !isdigit((unsigned char)s[-1]))
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

struct hostlist *hostlist_parse(const char *s, struct kiln_error *err)
{
    hostlist_t hl;

    if (!s || strlen(s) > 4096 || !syntax_ok(s)) {
        errprintf(err,
                  "invalid host list '%.64s': want names like node1 or "
                  "node[1-4,7],gpu01",
                  s ? s : "");
        errno = EINVAL;
        return NULL;
    }
    if (!(hl = slurm_hostlist_create(s)) || slurm_hostlist_count(hl) <= 0
        || slurm_hostlist_count(hl) > HOSTLIST_MAX) {
        if (hl)
            slurm_hostlist_destroy(hl);
        errprintf(
            err,
            "invalid host list '%.64s': a bad range, or more than %d hosts", s,
            HOSTLIST_MAX);
        errno = EINVAL;
        return NULL;
    }
    return (struct hostlist *)hl;
}

void hostlist_free(struct hostlist *hl)
{
    if (hl)
        slurm_hostlist_destroy((hostlist_t)hl);
}

int hostlist_count(const struct hostlist *hl)
{
    return slurm_hostlist_count((hostlist_t)hl);
}

char *hostlist_compress(const char *const *names, int n)
{
    hostlist_t hl = slurm_hostlist_create(NULL);
    char *s = NULL;

    if (!hl)
        return NULL;
    for (int i = 0; i < n; i++)
        if (slurm_hostlist_push_host(hl, names[i]) <= 0)
            goto out;
    slurm_hostlist_uniq(hl);
    s = slurm_hostlist_ranged_string_malloc(hl);
out:
    slurm_hostlist_destroy(hl);
    return s;
}

bool hostlist_has(const struct hostlist *hl, const char *name)
{
    return slurm_hostlist_find((hostlist_t)hl, name) >= 0;
}

char **hostlist_expand(const char *s, int max, int *n, struct kiln_error *err)
{
    struct hostlist *parsed = hostlist_parse(s, err);
    char **names;
    hostlist_t hl;
    char *h;

    if (!parsed)
        return NULL;
    *n = hostlist_count(parsed);
    hostlist_free(parsed);
    if (*n > max) {
        errprintf(err, "host list '%.64s' has %d hosts: at most %d", s, *n,
                  max);
        return NULL;
    }
    if (!(names = calloc((size_t)*n + 1, sizeof(*names)))
        || !(hl = slurm_hostlist_create(s))) {
        free(names);
        errprintf(err, "out of memory");
        return NULL;
    }
    for (int i = 0; i < *n && (h = slurm_hostlist_shift(hl)); i++) {
        names[i] = strdup(h);
        free(h);
    }
    slurm_hostlist_destroy(hl);
    return names;
}

void hostlist_names_free(char **names)
{
    for (char **p = names; p && *p; p++)
        free(*p);
    free(names);
}

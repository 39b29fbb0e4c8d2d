/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Node features and the --constraint expressions that select them. */
#include <ctype.h>
#include <string.h>

#include "lib/features.h"

static bool name_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '.' || c == '-';
}

/* Names separated by any of seps, none empty, each at most 64 bytes. */
static bool names_ok(const char *s, const char *seps)
{
    size_t len = 0;

    if (!s || !*s || strlen(s) > 1024)
        return false;
    for (; *s; s++) {
        if (strchr(seps, *s)) {
            if (len == 0)
                return false;
            len = 0;
        } else if (!name_char(*s) || ++len > 64) {
            return false;
        }
    }
    return len > 0;
}

bool features_list_ok(const char *s)
{
    return names_ok(s, ",");
}

bool features_expr_ok(const char *expr)
{
    return names_ok(expr, ",&|");
}

static bool has(const char *list, const char *name, size_t len)
{
    for (const char *p = list; p && *p;) {
        size_t n = strcspn(p, ",");
        if (n == len && strncmp(p, name, len) == 0)
            return true;
        p += n + (p[n] == ',');
    }
    return false;
}

bool features_match(const char *expr, const char *list)
{
    const char *p = expr;

    /* Alternatives split by '|'; within one, every name must be there. */
    while (*p) {
        size_t alt = strcspn(p, "|");
        bool all = true;
        for (const char *q = p; q < p + alt && all;) {
            size_t n = strcspn(q, ",&|");
            if (n > (size_t)(p + alt - q))
                n = (size_t)(p + alt - q);
            all = has(list, q, n);
            q += n;
            if (q < p + alt)
                q++;
        }
        if (all)
            return true;
        p += alt + (p[alt] == '|');
    }
    return false;
}

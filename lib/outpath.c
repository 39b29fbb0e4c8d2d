/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/outpath.h"

/* Append the printf-formatted text to out[*n..cap); a result that would
 * not fit is refused (ENAMETOOLONG), never cut or overrun. */
static int path_append(char *out, size_t cap, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int path_append(char *out, size_t cap, size_t *n, const char *fmt, ...)
{
    va_list ap;
    int len;

    va_start(ap, fmt);
    len = vsnprintf(out + *n, cap - *n, fmt, ap);
    va_end(ap);
    if (len < 0 || (size_t)len >= cap - *n) {
        errno = ENAMETOOLONG;
        return -1;
    }
    *n += (size_t)len;
    return 0;
}

/* Expand %j %x %u %N %A %a %% in an output pattern; relative paths are
 * taken from the job's working directory.  A new string, or NULL with
 * errno (ENAMETOOLONG when the expansion exceeds PATH_MAX). */
char *outpath_expand(const char *pat, const struct outpath_names *v)
{
    size_t cap = PATH_MAX, n = 0;
    char *out = malloc(cap);
    int rc = 0;

    if (!out)
        return NULL;
    out[0] = '\0';
    if (pat[0] != '/')
        rc = path_append(out, cap, &n, "%s/", v->cwd);
    for (const char *p = pat; *p && rc == 0; p++) {
        if (*p != '%' || !p[1]) {
            rc = path_append(out, cap, &n, "%c", *p);
            continue;
        }
        switch (*++p) {
        case 'j':
            rc = path_append(out, cap, &n, "%lld", (long long)v->id);
            break;
        case 'x': rc = path_append(out, cap, &n, "%s", v->name); break;
        case 'u': rc = path_append(out, cap, &n, "%s", v->user); break;
        case 'N': rc = path_append(out, cap, &n, "%s", v->node); break;
        case 'A':
            rc = path_append(out, cap, &n, "%lld",
                             (long long)(v->array_id ? v->array_id : v->id));
            break;
        case 'a': rc = path_append(out, cap, &n, "%ld", v->array_index); break;
        case '%': rc = path_append(out, cap, &n, "%%"); break;
        default: rc = path_append(out, cap, &n, "%%%c", *p); break;
        }
    }
    if (rc < 0) {
        free(out);
        errno = ENAMETOOLONG;
        return NULL;
    }
    return out;
}

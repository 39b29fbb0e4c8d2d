/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Aligned text tables for the listing commands. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"
#include "lib/jobstate.h"
#include "lib/log.h"

struct table {
    int ncols, nrows, cap;
    char **cells; /* nrows * ncols, row 0 is the header */
};

struct table *table_create(int ncols, const char *const *headers)
{
    struct table *t = calloc(1, sizeof(*t));

    if (!t)
        die("out of memory");
    t->ncols = ncols;
    t->cap = 16;
    if (!(t->cells = calloc(t->cap * ncols, sizeof(char *))))
        die("out of memory");
    if (headers)
        table_add_row(t, headers);
    return t;
}

void table_add_row(struct table *t, const char *const *cells)
{
    if (t->nrows == t->cap) {
        t->cap *= 2;
        if (!(t->cells = realloc(t->cells, t->cap * t->ncols * sizeof(char *))))
            die("out of memory");
    }
    for (int i = 0; i < t->ncols; i++)
        if (!(t->cells[t->nrows * t->ncols + i] =
                  strdup(cells[i] ? cells[i] : "")))
            die("out of memory");
    t->nrows++;
}

void table_add(struct table *t, ...)
{
    const char *cells[64];
    va_list ap;

    va_start(ap, t);
    for (int i = 0; i < t->ncols && i < 64; i++)
        cells[i] = va_arg(ap, const char *);
    va_end(ap);
    table_add_row(t, cells);
}

void table_print(struct table *t, FILE *f)
{
    int *w = calloc(t->ncols, sizeof(*w));

    if (!w)
        die("out of memory");
    for (int r = 0; r < t->nrows; r++)
        for (int c = 0; c < t->ncols; c++) {
            int l = (int)strlen(t->cells[r * t->ncols + c]);
            if (l > w[c])
                w[c] = l;
        }
    for (int r = 0; r < t->nrows; r++) {
        for (int c = 0; c < t->ncols; c++) {
            const char *s = t->cells[r * t->ncols + c];
            if (c == t->ncols - 1)
                fprintf(f, "%s\n", s);
            else
                fprintf(f, "%-*s  ", w[c], s);
        }
    }
    free(w);
}

void table_destroy(struct table *t)
{
    if (!t)
        return;
    for (int i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t);
}

const char *jstr(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

double jnum(const json_t *o, const char *key)
{
    return json_number_value(json_object_get(o, key));
}

int client_job_status(const json_t *job, long long id)
{
    int st = job_state_parse(jstr(job, "state"));
    int rc;

    if (st < 0 || !job_state_final((enum job_state)st))
        return -1;
    rc = job_exit_status((enum job_state)st, (int)jnum(job, "exit_code"));
    if (st != JOB_SUCCEEDED) {
        const char *why = jstr(job, "status_reason");
        fprintf(stderr, "%s: job %lld failed: %s\n", client_prog, id,
                *why ? why : "failed");
    }
    return rc;
}

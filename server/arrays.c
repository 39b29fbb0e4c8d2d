/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Array jobs: a parent row, and children created one at a time when the
 * scheduler has cores for them, each a job of its own ("ID_INDEX") with
 * KILN_ARRAY_INDEX / AWS_BATCH_JOB_ARRAY_INDEX set.  The parent ends when
 * every child has: SUCCEEDED if all did, else FAILED. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/arrayspec.h"
#include "lib/log.h"
#include "lib/util.h"
#include "server/server.h"

void arrays_free(struct array *a)
{
    if (a) {
        free(a->kids);
        arrayspec_release(&a->spec);
        free(a->skip);
        free(a);
    }
}

int arrays_init(struct server *s, struct job *job, bool reload)
{
    struct array *a = calloc(1, sizeof(*a));
    struct kiln_error err;
    long max_index = -1;

    if (!a || arrayspec_parse(job->spec.array, &a->spec, &err) < 0) {
        arrays_free(a);
        return -1;
    }
    a->n = a->spec.n;
    a->throttle = a->spec.throttle;
    if (reload) {
        /* Children are created in index order: the next one follows the
         * largest that has a row. */
        if (store_array_progress(s->st, job->id, &max_index, a->counts) < 0) {
            arrays_free(a);
            return -1;
        }
        if (max_index >= 0)
            a->next = (size_t)arrayspec_find(&a->spec, max_index) + 1;
        for (int i = 0; i < JOB_SUCCEEDED; i++)
            a->active += a->counts[i];
    }
    job->array = a;
    return 0;
}

/* The per-child dependency of parent's next child, if any: sequential
 * (on the previous child) or aftercorr (on the same index of another
 * array).  Returns DEP-like: 1 may start, 0 wait, -1 never (why set). */
static int child_dep(struct server *s, const struct job *parent, char *why,
                     size_t len)
{
    const struct array *a = parent->array;
    long index = arrayspec_at(&a->spec, a->next);
    size_t i;
    json_t *d;

    json_array_foreach (json_object_get(parent->spec_json, "dependencies"), i,
                        d) {
        const char *type = json_string_value(json_object_get(d, "type"));
        int64_t other = json_integer_value(json_object_get(d, "id"));
        struct job *pending, *job;
        struct store_job row;
        int64_t id;
        int st;

        if (strcmp(type, "sequential") == 0) {
            if (a->active > 0)
                return 0; /* the previous child has not ended */
            if (a->counts[JOB_FAILED] > 0) {
                snprintf(why, len,
                         "dependency never satisfied: sequential, and an "
                         "earlier child FAILED");
                return -1;
            }
        } else if (strcmp(type, "aftercorr") == 0) {
            id = arrays_child_id(s, other, index, &pending);
            if (pending)
                return 0; /* its twin is not created yet */
            if ((job = jobs_find(s, id))) {
                st = job->state;
            } else if (id > 0 && store_job_get(s->st, id, &row) == 1) {
                st = (int)row.state;
                store_job_release(&row);
            } else {
                snprintf(why, len,
                         "dependency never satisfied: aftercorr:%lld has no "
                         "child %ld",
                         (long long)other, index);
                return -1;
            }
            if (st == JOB_FAILED) {
                snprintf(why, len,
                         "dependency never satisfied: aftercorr:%lld, and job "
                         "%lld_%ld FAILED",
                         (long long)other, (long long)other, index);
                return -1;
            }
            if (st != JOB_SUCCEEDED)
                return 0;
        }
    }
    return 1;
}

bool arrays_may_start(struct server *s, struct job *parent)
{
    struct array *a = parent->array;
    char why[200];

    while (a->next < a->n && (!a->throttle || a->active < a->throttle)) {
        int64_t pid = parent->id;
        switch (child_dep(s, parent, why, sizeof(why))) {
        case 1: return true;
        case 0: return false;
        default:
            /* This child can never run: record it so, without cores. */
            arrays_fail_next(s, parent, why);
            if (!(parent = jobs_find(s, pid)))
                return false; /* that was the last: the parent has ended */
            a = parent->array;
        }
    }
    return false;
}

static void finish_parent(struct server *s, struct job *parent)
{
    struct array *a = parent->array;
    char why[128];

    if (a->next < a->n || a->active > 0)
        return;
    int code = a->counts[JOB_FAILED] ? 1 : 0;
    if (parent->cancel_reason) {
        jobs_finish(s, parent, JOB_FAILED, code, parent->cancel_reason);
    } else if (a->counts[JOB_FAILED] == 0) {
        jobs_finish(s, parent, JOB_SUCCEEDED, code, NULL);
    } else {
        snprintf(why, sizeof(why), "%d of %zu children failed",
                 a->counts[JOB_FAILED], a->n);
        jobs_finish(s, parent, JOB_FAILED, code, why);
    }
}

/* The index of a parent's active children: a cancel reaches them without
 * a walk of every job. */
static void adopt(struct array *a, struct job *child)
{
    if (a->nkids == a->capkids) {
        int cap = a->capkids ? 2 * a->capkids : 16;
        struct job **n = realloc(a->kids, (size_t)cap * sizeof(*n));
        if (!n) {
            log_err("array: cannot index child %lld", (long long)child->id);
            return;
        }
        a->kids = n;
        a->capkids = cap;
    }
    a->kids[a->nkids++] = child;
}

static void disown(struct array *a, const struct job *child)
{
    for (int i = a->nkids - 1; i >= 0; i--)
        if (a->kids[i] == child) {
            a->kids[i] = a->kids[--a->nkids];
            return;
        }
}

void arrays_adopt(struct server *s, struct job *child)
{
    struct job *parent = jobs_find(s, child->array_id);

    if (parent && parent->array)
        adopt(parent->array, child);
}

void arrays_child_moved(struct server *s, struct job *child, enum job_state old)
{
    struct job *parent = jobs_find(s, child->array_id);

    if (!parent || !parent->array)
        return;
    parent->array->counts[old]--;
    parent->array->counts[child->state]++;
    if (job_state_final(child->state)) {
        disown(parent->array, child);
        parent->array->active--;
        s->sched_needed = true; /* a throttled array may go on */
        finish_parent(s, parent);
    }
}

void arrays_fail_next(struct server *s, struct job *parent, const char *why)
{
    struct array *a = parent->array;
    struct kiln_error err;
    size_t pos = a->next++;
    struct job *child;

    if (a->next >= a->n)
        jobs_dequeue(s, parent);
    if (!(child =
              jobs_create_child(s, parent, arrayspec_at(&a->spec, pos), &err)))
        return;
    adopt(a, child);
    a->active++;
    a->counts[child->state]++;
    jobs_set_state(s, child, JOB_FAILED, why);
}

struct job *arrays_next_child(struct server *s, struct job *parent)
{
    struct array *a = parent->array;
    size_t pos = a->next++;
    struct kiln_error err;
    struct job *child;

    if (a->next >= a->n)
        jobs_dequeue(s, parent); /* nothing left to create */
    child = jobs_create_child(s, parent, arrayspec_at(&a->spec, pos), &err);
    if (!child) {
        log_msg(LOG_ERR, "array %lld: cannot create child %ld: %s",
                (long long)parent->id, arrayspec_at(&a->spec, pos), err.text);
        return NULL;
    }
    adopt(a, child);
    a->active++;
    a->counts[child->state]++;
    if (parent->state == JOB_RUNNABLE)
        jobs_set_state(s, parent, JOB_RUNNING, NULL);
    if (a->skip && a->skip[pos]) {
        jobs_set_state(s, child, JOB_FAILED,
                       parent->cancel_reason ? parent->cancel_reason
                                             : "cancelled");
        return NULL;
    }
    return child;
}

void arrays_cancel(struct server *s, struct job *parent, const char *why)
{
    struct array *a = parent->array;
    int n = a->nkids;
    struct job **kids = n ? malloc((size_t)n * sizeof(*kids)) : NULL;

    jobs_mark_cancelled(parent, why);
    /* Children not yet created never will be. */
    a->n = a->next;
    jobs_dequeue(s, parent);
    /* The active children, from a snapshot: each cancel may end one (and
     * take it off the index).  Ended ones stay in memory for the turn. */
    if (n && !kids) {
        log_err("array %lld: cannot cancel its children",
                (long long)parent->id);
        return;
    }
    if (kids)
        memcpy(kids, a->kids, (size_t)n * sizeof(*kids));
    for (int i = 0; i < n; i++)
        if (!job_state_final(kids[i]->state))
            jobs_cancel(s, kids[i], why);
    free(kids);
    /* The last child's end may already have ended the parent. */
    if (!job_state_final(parent->state))
        finish_parent(s, parent);
}

int64_t arrays_child_id(struct server *s, int64_t parent, long index,
                        struct job **pending_parent)
{
    struct job *p = jobs_find(s, parent);

    *pending_parent = NULL;
    if (p && p->array) {
        long pos = arrayspec_find(&p->array->spec, index);
        if (pos >= 0 && (size_t)pos >= p->array->next) {
            *pending_parent = p;
            return 0;
        }
    }
    /* Every child has its row from the turn that made it (this one's too:
     * the store sees its own transaction), found by the jobs_array index (unique). */
    int64_t id = store_array_child(s->st, parent, index);
    return id > 0 ? id : 0;
}

/* Mark a child not yet created as cancelled: it is recorded FAILED when
 * its turn comes, without running. */
int arrays_skip(struct job *parent, long index)
{
    struct array *a = parent->array;
    long pos = arrayspec_find(&a->spec, index);

    if (pos < 0 || (size_t)pos < a->next)
        return -1;
    if (!a->skip && !(a->skip = calloc(a->n, 1)))
        return -1;
    a->skip[pos] = 1;
    return 0;
}

void arrays_row_to_json(struct server *s, const struct store_job *row,
                        json_t *o)
{
    const char *spec = json_string_value(json_object_get(row->spec, "array"));
    int counts[JOB_NSTATES] = { 0 };
    json_t *c = json_object();
    long max_index;

    if (!spec || row->array_id > 0
        || store_array_progress(s->st, row->id, &max_index, counts) < 0) {
        json_decref(c);
        return;
    }
    json_int_t created = 0;
    for (int i = 0; i < JOB_NSTATES; i++) {
        json_object_set_new(c, job_state_name(i), json_integer(counts[i]));
        created += counts[i];
    }
    struct arrayspec as;
    struct kiln_error err;
    size_t n = 0;
    long throttle = 0;
    if (arrayspec_parse(spec, &as, &err) == 0) {
        n = as.n;
        throttle = as.throttle;
        arrayspec_release(&as);
    }
    json_object_set_new(o, "array",
                        json_pack("{s:s, s:I, s:I, s:I, s:o}", "spec", spec,
                                  "size", (json_int_t)n, "created", created,
                                  "throttle", (json_int_t)throttle, "counts",
                                  c));
}

void arrays_to_json(const struct job *job, json_t *o)
{
    if (job->array) {
        const struct array *a = job->array;
        json_t *counts = json_object();
        for (int i = 0; i < JOB_NSTATES; i++)
            json_object_set_new(counts, job_state_name(i),
                                json_integer(a->counts[i]));
        json_object_set_new(counts, "NOT_CREATED",
                            json_integer((json_int_t)(a->n - a->next)));
        json_object_set_new(
            o, "array",
            json_pack("{s:s, s:I, s:I, s:I, s:o}", "spec", job->spec.array,
                      "size", (json_int_t)a->n, "created", (json_int_t)a->next,
                      "throttle", (json_int_t)a->throttle, "counts", counts));
    }
}

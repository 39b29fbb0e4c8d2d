/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Job dependencies: Slurm's after, afterany, afterok, afternotok and
 * singleton; AWS Batch's dependsOn is afterok.  aftercorr (AWS N_TO_N) and
 * sequential relate array children and are handled in arrays.c.  A job whose dependencies
 * hold moves PENDING -> RUNNABLE; one whose dependencies never can fails
 * with "dependency never satisfied". */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "lib/log.h"
#include "server/server.h"

enum dep_result { DEP_WAIT, DEP_OK, DEP_NEVER };

/* A dependency, parsed once when the job is tracked. */
enum dep_type {
    DEP_AFTER,
    DEP_AFTERANY,
    DEP_AFTEROK,
    DEP_AFTERNOTOK,
    DEP_SINGLETON,
    DEP_ARRAY /* aftercorr, sequential: arrays.c sees to them */
};
struct dep {
    enum dep_type type;
    int64_t id; /* the job it waits for; 0 for singleton */
};
struct deps {
    int n;
    struct dep d[];
};

static const char *const type_names[] = {
    [DEP_AFTER] = "after",         [DEP_AFTERANY] = "afterany",
    [DEP_AFTEROK] = "afterok",     [DEP_AFTERNOTOK] = "afternotok",
    [DEP_SINGLETON] = "singleton",
};

static struct deps *parse(const json_t *list)
{
    struct deps *ds =
        calloc(1, sizeof(*ds) + json_array_size(list) * sizeof(ds->d[0]));
    size_t i;
    json_t *v;

    if (!ds)
        return NULL;
    json_array_foreach (list, i, v) {
        const char *type = json_string_value(json_object_get(v, "type"));
        struct dep *d = &ds->d[ds->n++];
        d->id = json_integer_value(json_object_get(v, "id"));
        d->type = DEP_ARRAY;
        for (int t = DEP_AFTER; t <= DEP_SINGLETON; t++)
            if (type && strcmp(type, type_names[t]) == 0)
                d->type = (enum dep_type)t;
    }
    return ds;
}

void deps_release(struct job *job)
{
    free(job->deps);
    job->deps = NULL;
}

/* Check job id in this turn's deps_run. */
static void recheck(struct server *s, int64_t id)
{
    if (s->ncheck == s->capcheck) {
        size_t cap = s->capcheck ? 2 * s->capcheck : 64;
        int64_t *n = realloc(s->check, cap * sizeof(*n));
        if (!n) {
            log_err("cannot queue job %lld's dependency check", (long long)id);
            return;
        }
        s->check = n;
        s->capcheck = cap;
    }
    s->check[s->ncheck++] = id;
}

static void edge_key(int64_t id, char *key, size_t len)
{
    snprintf(key, len, "%lld", (long long)id);
}

/* The jobs waiting for id, each to check again; with drop, the edges go
 * too (id has ended: nothing about it changes any more). */
static void wake_dependants(struct server *s, int64_t id, bool drop)
{
    char key[24];
    json_t *ids;
    size_t i;
    json_t *v;

    edge_key(id, key, sizeof(key));
    if (!(ids = json_object_get(s->dependants, key)))
        return;
    json_array_foreach (ids, i, v)
        recheck(s, json_integer_value(v));
    if (drop)
        json_object_del(s->dependants, key);
}

void deps_recheck(struct server *s, const struct job *job)
{
    recheck(s, job->id);
}

void deps_started(struct server *s, const struct job *job)
{
    wake_dependants(s, job->id, false);
}

/* The state of job id, active or finished; -1 if there is no such job. */
static int state_of(struct server *s, int64_t id, double *start)
{
    struct job *job = jobs_find(s, id);
    enum job_state state;

    if (job) {
        *start = job->start_time;
        return (int)job->state;
    }
    if (store_job_state(s->st, id, &state, start) != 1)
        return -1;
    return (int)state;
}

/* The index's key for job: its user and name. */
static void singleton_key(const struct job *job, char *key, size_t len)
{
    snprintf(key, len, "%ld/%s", job->spec.uid, job->spec.name);
}

void deps_track(struct server *s, struct job *job)
{
    char key[128];
    json_t *ids;

    if (!s->singletons && !(s->singletons = json_object()))
        return;
    if (!s->dependants && !(s->dependants = json_object()))
        return;
    if (job->spec.deps && !job->deps && (job->deps = parse(job->spec.deps))) {
        /* The reverse edges: what ends or starts wakes its dependants. */
        for (int i = 0; i < job->deps->n; i++) {
            const struct dep *d = &job->deps->d[i];
            if (d->type == DEP_SINGLETON || d->type == DEP_ARRAY || d->id <= 0)
                continue;
            edge_key(d->id, key, sizeof(key));
            if (!(ids = json_object_get(s->dependants, key)))
                json_object_set_new(s->dependants, key, ids = json_array());
            json_array_append_new(ids, json_integer(job->id));
        }
        /* Its dependencies may be decided already. */
        recheck(s, job->id);
    }
    singleton_key(job, key, sizeof(key));
    if (!(ids = json_object_get(s->singletons, key))) {
        json_object_set_new(s->singletons, key, ids = json_array());
    }
    /* New jobs have the largest ids, and the store loads in id order: an
     * append keeps the list ascending. */
    json_array_append_new(ids, json_integer(job->id));
}

void deps_untrack(struct server *s, const struct job *job)
{
    char key[128];
    json_t *ids;
    size_t lo = 0, hi;

    wake_dependants(s, job->id, true);
    singleton_key(job, key, sizeof(key));
    if (!(ids = json_object_get(s->singletons, key)))
        return;
    for (hi = json_array_size(ids); lo < hi;) {
        size_t mid = lo + (hi - lo) / 2;
        if (json_integer_value(json_array_get(ids, mid)) < job->id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (json_integer_value(json_array_get(ids, lo)) == job->id)
        json_array_remove(ids, lo);
    if (json_array_size(ids) == 0)
        json_object_del(s->singletons, key);
    else if (lo == 0) /* the next of that name may go now */
        recheck(s, json_integer_value(json_array_get(ids, 0)));
}

void deps_destroy(struct server *s)
{
    json_decref(s->singletons);
    s->singletons = NULL;
    json_decref(s->dependants);
    s->dependants = NULL;
    free(s->check);
    s->check = NULL;
    s->ncheck = s->capcheck = 0;
}

/* Is an earlier job of the same name and user still to finish? */
static bool singleton_blocked(struct server *s, const struct job *job)
{
    char key[128];

    singleton_key(job, key, sizeof(key));
    json_t *ids = json_object_get(s->singletons, key);
    return json_integer_value(json_array_get(ids, 0)) < job->id
           && json_array_size(ids);
}

static enum dep_result eval(struct server *s, const struct job *job, char *why,
                            size_t len)
{
    enum dep_result res = DEP_OK;

    for (int i = 0; i < job->deps->n; i++) {
        const struct dep *d = &job->deps->d[i];
        double start = 0;
        int st;

        if (d->type == DEP_ARRAY)
            continue; /* between children: arrays.c sees to them */
        if (d->type == DEP_SINGLETON) {
            if (singleton_blocked(s, job))
                res = DEP_WAIT;
            continue;
        }
        if ((st = state_of(s, d->id, &start)) < 0) {
            snprintf(why, len,
                     "dependency never satisfied: job %lld is unknown",
                     (long long)d->id);
            return DEP_NEVER;
        }
        if (d->type == DEP_AFTER) {
            if (!job_state_final(st) && st != JOB_STARTING && st != JOB_RUNNING)
                res = DEP_WAIT;
        } else if (!job_state_final(st)) {
            res = DEP_WAIT;
        } else if ((d->type == DEP_AFTEROK && st != JOB_SUCCEEDED)
                   || (d->type == DEP_AFTERNOTOK && st != JOB_FAILED)) {
            snprintf(why, len,
                     "dependency never satisfied: %s:%lld, and job %lld %s",
                     type_names[d->type], (long long)d->id, (long long)d->id,
                     job_state_name(st));
            return DEP_NEVER;
        }
    }
    return res;
}

const char *deps_validate(struct server *s, const struct jobspec *spec)
{
    static char why[128];
    size_t i;
    json_t *d;

    json_array_foreach (spec->deps, i, d) {
        int64_t id = json_integer_value(json_object_get(d, "id"));
        double start;
        if (id > 0 && state_of(s, id, &start) < 0) {
            snprintf(why, sizeof(why),
                     "invalid dependency: unknown job id %lld", (long long)id);
            return why;
        }
    }
    return NULL;
}

static void check_one(struct server *s, struct job *job)
{
    char why[256];

    if (!job || job->state != JOB_PENDING || job->spec.hold || !job->deps)
        return;
    switch (eval(s, job, why, sizeof(why))) {
    case DEP_OK:
        jobs_set_state(s, job, JOB_RUNNABLE, NULL);
        jobs_enqueue(s, job);
        break;
    case DEP_NEVER: jobs_set_state(s, job, JOB_FAILED, why); break;
    case DEP_WAIT: break;
    }
}

void deps_run(struct server *s)
{
    /* Only the jobs something happened to are checked; a failure may wake
     * other dependants in turn, settled in this same loop turn. */
    while (s->ncheck > 0)
        check_one(s, jobs_find(s, s->check[--s->ncheck]));
}

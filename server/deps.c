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

/* The state of job id, active or finished; -1 if there is no such job. */
static int state_of(struct server *s, int64_t id, double *start)
{
    struct job *job = jobs_find(s, id);
    char state[16];

    if (job) {
        *start = job->start_time;
        return (int)job->state;
    }
    if (store_job_state(s->st, id, state, sizeof(state), start) != 1)
        return -1;
    return job_state_parse(state);
}

static bool final(int st)
{
    return st == JOB_SUCCEEDED || st == JOB_FAILED;
}

/* The index's key for job: its user and name. */
static void singleton_key(const struct job *job, char *key, size_t len)
{
    snprintf(key, len, "%ld/%s", job->spec.uid, job->spec.name);
}

void deps_track(struct server *s, const struct job *job)
{
    char key[128];
    json_t *ids;

    if (!s->singletons && !(s->singletons = json_object()))
        return;
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
}

void deps_destroy(struct server *s)
{
    json_decref(s->singletons);
    s->singletons = NULL;
}

/* Is an earlier job of the same name and user still to finish? */
static bool singleton_blocked(struct server *s, const struct job *job)
{
    char key[128];

    singleton_key(job, key, sizeof(key));
    json_t *ids = json_object_get(s->singletons, key);
    return json_integer_value(json_array_get(ids, 0)) < job->id && json_array_size(ids);
}

static enum dep_result eval(struct server *s, const struct job *job, char *why, size_t len)
{
    enum dep_result res = DEP_OK;
    size_t i;
    json_t *d;

    json_array_foreach(job->spec.deps, i, d) {
        const char *type = json_string_value(json_object_get(d, "type"));
        int64_t id = json_integer_value(json_object_get(d, "id"));
        double start = 0;
        int st;

        if (strcmp(type, "aftercorr") == 0 || strcmp(type, "sequential") == 0)
            continue; /* between children: arrays.c sees to them */
        if (strcmp(type, "singleton") == 0) {
            if (singleton_blocked(s, job))
                res = DEP_WAIT;
            continue;
        }
        if ((st = state_of(s, id, &start)) < 0) {
            snprintf(why, len, "dependency never satisfied: job %lld is unknown",
                     (long long)id);
            return DEP_NEVER;
        }
        if (strcmp(type, "after") == 0) {
            if (!final(st) && st != JOB_STARTING && st != JOB_RUNNING)
                res = DEP_WAIT;
        } else if (!final(st)) {
            res = DEP_WAIT;
        } else if ((strcmp(type, "afterok") == 0 && st != JOB_SUCCEEDED)
                   || (strcmp(type, "afternotok") == 0 && st != JOB_FAILED)) {
            snprintf(why, len, "dependency never satisfied: %s:%lld, and job %lld %s",
                     type, (long long)id, (long long)id, job_state_name(st));
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

    json_array_foreach(spec->deps, i, d) {
        int64_t id = json_integer_value(json_object_get(d, "id"));
        double start;
        if (id > 0 && state_of(s, id, &start) < 0) {
            snprintf(why, sizeof(why), "invalid dependency: unknown job id %lld",
                     (long long)id);
            return why;
        }
    }
    return NULL;
}

static void check_one(struct server *s, struct job *job, void *arg)
{
    char why[256];

    if (job->state != JOB_PENDING || job->spec.hold || !job->spec.deps)
        return;
    switch (eval(s, job, why, sizeof(why))) {
    case DEP_OK:
        jobs_set_state(s, job, JOB_RUNNABLE, NULL);
        jobs_enqueue(s, job);
        break;
    case DEP_NEVER:
        jobs_set_state(s, job, JOB_FAILED, why);
        break;
    case DEP_WAIT:
        break;
    }
}

void deps_run(struct server *s)
{
    /* A failure can make other dependants fail in turn: settle it all in
     * this loop turn.  With no dependant at all there is nothing to walk. */
    if (s->ndeps == 0)
        s->deps_dirty = false;
    while (s->deps_dirty) {
        s->deps_dirty = false;
        jobs_foreach(s, check_one, NULL);
    }
}

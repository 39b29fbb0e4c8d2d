/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The server's active jobs: table, states and their events, reload. */
#include <errno.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "lib/log.h"
#include "lib/retry.h"
#include "lib/util.h"
#include "server/server.h"

static int cmp_id(const void *a, const void *b)
{
    int64_t x = ((const struct job *)a)->id, y = ((const struct job *)b)->id;
    return x < y ? -1 : x > y;
}

struct job *jobs_find(struct server *s, int64_t id)
{
    struct job key = { .id = id };
    struct job **found = tfind(&key, &s->jobs, cmp_id);
    return found ? *found : NULL;
}

/* Each user's active jobs, counted for max_jobs_per_user. */
static void count_user(struct server *s, const struct job *job, int delta)
{
    char key[24];

    if (!s->user_jobs && !(s->user_jobs = json_object()))
        return;
    snprintf(key, sizeof(key), "%ld", job->spec.uid);
    json_int_t n =
        json_integer_value(json_object_get(s->user_jobs, key)) + delta;
    if (n > 0)
        json_object_set_new(s->user_jobs, key, json_integer(n));
    else
        json_object_del(s->user_jobs, key);
}

long jobs_of_user(const struct server *s, long uid)
{
    char key[24];

    snprintf(key, sizeof(key), "%ld", uid);
    return (long)json_integer_value(json_object_get(s->user_jobs, key));
}

static void job_free(struct server *s, struct job *job)
{
    if (job) {
        deps_release(job);
        jobspec_release(&job->spec);
        json_decref(job->spec_json);
        free(job->reason);
        free(job->node_name);
        place_free_parts(job);
        free(job->cpus);
        free(job->alloc);
        free(job->main_reason);
        free(job->part_failure);
        free(job->token);
        free(job->cancel_reason);
        json_decref(job->waiters);
        arrays_free(job->array);
        free(job);
    }
}

static void set_str(char **slot, const char *v)
{
    char *n = v ? strdup(v) : NULL;
    free(*slot);
    *slot = n;
}

void jobs_enqueue(struct server *s, struct job *job)
{
    /* Order by priority minus nice, then submit (id) order, so that a
     * requeued job goes back to its place rather than to the end. */
    struct queue *q = job->queue;
    struct job **pp = &q->qhead;
    long key = job->spec.priority - job->spec.nice;

    if (job->qnext || q->qtail == job)
        return; /* queued already: once is enough (a second link would loop) */
    if (q->qtail
        && (q->qtail->spec.priority - q->qtail->spec.nice > key
            || (q->qtail->spec.priority - q->qtail->spec.nice == key
                && q->qtail->id < job->id)))
        pp = &q->qtail->qnext; /* the common case: a new job goes last */
    while (*pp
           && ((*pp)->spec.priority - (*pp)->spec.nice > key
               || ((*pp)->spec.priority - (*pp)->spec.nice == key
                   && (*pp)->id < job->id)))
        pp = &(*pp)->qnext;
    job->qnext = *pp;
    *pp = job;
    if (!job->qnext)
        q->qtail = job;
    s->sched_needed = true;
}

void jobs_dequeue(struct server *s, struct job *job)
{
    struct queue *q = job->queue;
    struct job **pp, *prev = NULL;

    if (!q || (!job->qnext && q->qtail != job))
        return; /* not queued */
    pp = &q->qhead;
    while (*pp && *pp != job) {
        prev = *pp;
        pp = &(*pp)->qnext;
    }
    if (!*pp)
        return;
    *pp = job->qnext;
    if (q->qtail == job)
        q->qtail = prev;
    job->qnext = NULL;
}

void jobs_release_cores(struct server *s, struct job *job)
{
    if (!job->nparts)
        return;
    place_release(job);
    s->sched_needed = true;
}

/* Tell every part still running to stop. */
static void kill_parts(struct server *s, struct job *job, const char *why)
{
    for (int i = 0; i < job->nparts; i++) {
        struct jpart *p = &job->part[i];
        if (p->ended || !p->node || p->node->state != NODE_UP)
            continue;
        nodes_send(s, p->name, "job.kill",
                   json_pack("{s:I, s:i, s:s}", "id", (json_int_t)job->id,
                             "attempt", job->attempts, "reason", why));
    }
    job->kill_sent = true;
}

/* Every part has ended: the attempt's outcome. */
static void attempt_over(struct server *s, struct job *job)
{
    /* Taken from the job first: the state change may reset or free it. */
    char *main_reason = job->main_reason, *failure = job->part_failure;
    const char *reason = main_reason && *main_reason ? main_reason : NULL;
    bool lost = job->part_lost;
    int exit_code = job->main_exit, sig = job->main_signal;
    bool ok =
        job->main_ended && exit_code == 0 && sig == 0 && !reason && !failure;

    job->main_reason = job->part_failure = NULL;
    job->main_ended = job->part_lost = false;
    job->exit_code = exit_code;
    if (job->cancel_reason)
        jobs_set_state(s, job, JOB_FAILED, job->cancel_reason);
    else if (ok)
        jobs_set_state(s, job, JOB_SUCCEEDED, NULL);
    else
        /* A lost node explains what its loss did to the rest. */
        jobs_attempt_failed(s, job, exit_code,
                            lost && failure ? failure
                            : reason        ? reason
                            : failure       ? failure
                                            : "failed");
    free(main_reason);
    free(failure);
}

void jobs_part_ended(struct server *s, struct job *job, struct jpart *p,
                     double started, int exit_code, int sig, const char *reason)
{
    if (started > 0)
        job->start_time = started;
    bool main = p == &job->part[0];

    p->ended = true;
    place_release_part(p);
    s->sched_needed = true;
    job->parts_running--;
    if (main) {
        job->main_ended = true;
        job->main_exit = exit_code;
        job->main_signal = sig;
        free(job->main_reason);
        job->main_reason = reason ? strdup(reason) : NULL;
    } else if (!job->main_ended && !job->part_failure && !job->cancel_reason
               && (exit_code != 0 || sig != 0 || (reason && *reason))) {
        char why[300];
        snprintf(why, sizeof(why), "node %s (%d of the job) ended: %s", p->name,
                 (int)(p - job->part), reason && *reason ? reason : "failed");
        job->part_failure = strdup(why);
    }
    if (job->parts_running > 0) {
        /* The main node's end ends the job; so does a part that failed. */
        if (!job->kill_sent && (main || job->part_failure))
            kill_parts(s, job,
                       main ? "the main node ended" : job->part_failure);
        return;
    }
    attempt_over(s, job);
}

void jobs_part_lost(struct server *s, struct job *job, struct jpart *p,
                    const char *why)
{
    if (!job->part_lost) {
        free(job->part_failure);
        job->part_failure = strdup(why);
        job->part_lost = true;
    }
    if (p == &job->part[0] && !job->main_ended) {
        job->main_ended = true;
        job->main_exit = -1;
        job->main_signal = 0;
        free(job->main_reason);
        job->main_reason = strdup(why);
    }
    jobs_part_ended(s, job, p, 0, -1, 0, why);
}

static void row_of(const struct job *job, struct store_job *row)
{
    memset(row, 0, sizeof(*row));
    row->id = job->id;
    row->name = job->spec.name;
    row->user = job->spec.user;
    row->uid = job->spec.uid;
    row->queue = job->spec.queue;
    row->state = job->state;
    row->reason = job->reason;
    row->exit_code = job->exit_code;
    row->submit_time = job->submit_time;
    row->start_time = job->start_time;
    row->end_time = job->end_time;
    row->node = job->node_name;
    row->cpus = job->cpus;
    row->alloc = job->alloc;
    /* Kept while the attempt runs, so that kiln exec into it still works
     * after a restart; gone once it ends. */
    row->token = job->state == JOB_STARTING || job->state == JOB_RUNNING
                     ? job->token
                     : NULL;
    row->attempts = job->attempts;
    row->spec = job->spec_json;
    row->array_id = job->array_id;
    row->array_index = job->array_id ? job->array_index : -1;
}

/* ARRAY_INDEX, the id Slurm shows for a child of an array. */
static void set_display_id(json_t *o, long long array_id, long index)
{
    char display[48];

    snprintf(display, sizeof(display), "%lld_%ld", array_id, index);
    json_object_set_new(o, "display_id", json_string(display));
}

/* Why a runnable job waits, in Slurm's words: the head of the queue
 * waits for cores, the others for their turn. */
static const char *reason_of(const struct job *job)
{
    if (job->state == JOB_RUNNABLE && !job->reason)
        return job == job->queue->qhead ? "Resources" : "Priority";
    return job->reason;
}

json_t *jobs_row_to_json(const struct store_job *row)
{
    json_t *o, *nodes = json_array(), *cpus = json_object();
    json_int_t ntasks = 1, cpt = 1, mem = 0, tl = 0, mpc = 0, nnodes = 1;

    if (row->spec)
        json_unpack(row->spec, "{s?I, s?I, s?I, s?I, s?I, s?I}", "ntasks",
                    &ntasks, "cpus_per_task", &cpt, "mem", &mem, "time_limit",
                    &tl, "mem_per_cpu", &mpc, "nodes", &nnodes);
    if (mpc && nnodes > 0) /* per node, as jobspec has it: the busiest node's */
        mem = mpc * ((ntasks + nnodes - 1) / nnodes) * cpt;
    json_t *alloc = row->alloc ? json_loads(row->alloc, 0, NULL) : NULL, *part;
    size_t k;
    if (json_array_size(json_object_get(alloc, "nodes"))) {
        /* Every node of the job, with its cpus. */
        json_array_foreach (json_object_get(alloc, "nodes"), k, part) {
            json_array_append(nodes, json_object_get(part, "name"));
            json_object_set(cpus,
                            json_string_value(json_object_get(part, "name")),
                            json_object_get(part, "cpus"));
        }
    } else if (row->node) {
        json_array_append_new(nodes, json_string(row->node));
        if (row->cpus)
            json_object_set_new(cpus, row->node, json_string(row->cpus));
    }
    o = json_pack("{s:I, s:s, s:s, s:I, s:s, s:s, s:s?, s:i, s:o, s:o, s:f, "
                  "s:f, s:f, s:i, s:I, s:I, s:I, s:I}",
                  "id", (json_int_t)row->id, "name", row->name, "user",
                  row->user, "uid", (json_int_t)row->uid, "queue", row->queue,
                  "state", job_state_name(row->state), "status_reason",
                  row->reason, "exit_code", row->exit_code, "nodes", nodes,
                  "cpus", cpus, "submit_time", row->submit_time, "start_time",
                  row->start_time, "end_time", row->end_time, "attempts",
                  row->attempts, "ntasks", ntasks, "cpus_per_task", cpt, "mem",
                  mem, "time_limit", tl);
    if (o && row->has_usage)
        json_object_update_new(o, json_pack("{s:f, s:f, s:I, s:i}", "user_cpu",
                                            row->usage.user_cpu, "sys_cpu",
                                            row->usage.sys_cpu, "max_rss_kib",
                                            (json_int_t)row->usage.max_rss_kib,
                                            "oom_kills", row->usage.oom_kills));
    if (o && alloc)
        json_object_set_new(o, "allocation", alloc);
    else
        json_decref(alloc);
    if (o && row->array_id > 0) {
        json_object_set_new(o, "array_job_id", json_integer(row->array_id));
        json_object_set_new(o, "array_index", json_integer(row->array_index));
        set_display_id(o, row->array_id, row->array_index);
    }
    return o;
}

json_t *jobs_to_json(struct server *s, const struct job *job)
{
    struct store_job row;
    json_t *o;

    row_of(job, &row);
    row.reason = (char *)reason_of(job);
    o = jobs_row_to_json(&row);
    if (o && job->state == JOB_PENDING && job->spec.hold)
        json_object_set_new(o, "held", json_true());
    if (o)
        arrays_to_json(job, o);
    return o;
}

json_t *jobs_to_json_brief(const struct job *job)
{
    json_t *nodes = json_array();

    for (const char *p = job->node_name; p && *p;) {
        size_t n = strcspn(p, ",");
        json_array_append_new(nodes, json_stringn(p, n));
        p += n + (p[n] == ',');
    }
    json_t *o = json_pack(
        "{s:I, s:s, s:s, s:s, s:s?, s:f, s:I, s:I, s:o}", "id",
        (json_int_t)job->id, "name", job->spec.name, "user", job->spec.user,
        "state", job_state_name(job->state), "status_reason", reason_of(job),
        "start_time", job->start_time, "ntasks", (json_int_t)job->spec.ntasks,
        "cpus_per_task", (json_int_t)job->spec.cpus_per_task, "nodes", nodes);
    if (o && job->array_id > 0)
        set_display_id(o, job->array_id, job->array_index);
    if (o && job->array)
        json_object_set_new(o, "array",
                            json_pack("{s:I, s:I}", "size",
                                      (json_int_t)job->array->n, "created",
                                      (json_int_t)job->array->next));
    return o;
}

static void answer_waiters(struct server *s, struct job *job)
{
    size_t i;
    json_t *w;

    if (!job->waiters)
        return;
    json_array_foreach (job->waiters, i, w) {
        unsigned char id[KILN_PROTO_MAX_ID];
        const char *hex = json_string_value(w);
        size_t len = strlen(hex) / 2;
        for (size_t k = 0; k < len; k++)
            sscanf(hex + 2 * k, "%2hhx", &id[k]);
        server_send(s, s->clients, id, len, "ok",
                    json_pack("{s:o}", "job", jobs_to_json(s, job)));
    }
}

void jobs_set_state(struct server *s, struct job *job, enum job_state state,
                    const char *reason)
{
    struct store_job row;
    double now = util_now();
    enum job_state old = job->state;

    if ((old == JOB_RUNNING || old == JOB_STARTING) && state != JOB_RUNNING)
        fairshare_charge(s, job);
    job->state = state;
    set_str(&job->reason, reason);
    if (state == JOB_RUNNABLE && old != JOB_RUNNABLE)
        job->runnable_since = util_monotonic();
    if (state == JOB_STARTING)
        job->starting_since = util_monotonic();
    if (state == JOB_RUNNING && job->start_time == 0)
        job->start_time = now;
    if (state == JOB_RUNNING && old != JOB_RUNNING)
        deps_started(s, job);
    if (job_state_final(state)) {
        job->end_time = now;
        jobs_release_cores(s, job);
        jobs_dequeue(s, job);
    }
    row_of(job, &row);
    if (store_job_update(s->st, &row, now) < 0) {
        log_err("cannot record job %lld as %s", (long long)job->id,
                job_state_name(state));
    }
    log_msg(LOG_DEBUG, "job %lld %s%s%s", (long long)job->id,
            job_state_name(state), reason ? ": " : "", reason ? reason : "");
    if (job->array_id)
        arrays_child_moved(s, job, old);
    if (job_state_final(state)) {
        answer_waiters(s, job);
        tdelete(job, &s->jobs, cmp_id);
        s->njobs--;
        if (job->queue)
            job->queue->njobs--;
        deps_untrack(s, job);
        count_user(s, job, -1);
        /* Out of every index now, but freed only at the end of the turn
         * (jobs_reap): no caller holds a freed job. */
        job->finished_next = s->finished;
        s->finished = job;
    }
}

void jobs_reap(struct server *s)
{
    while (s->finished) {
        struct job *job = s->finished;
        s->finished = job->finished_next;
        job_free(s, job);
    }
}

/* A new secret for this attempt: kiln exec proves with it that it runs
 * inside the job. */
static char *new_token(void)
{
    unsigned char b[16];
    char *t = malloc(2 * sizeof(b) + 1);

    /* The kernel's generator, without a file to open per start. */
    if (!t || getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
        free(t);
        return NULL;
    }
    for (size_t i = 0; i < sizeof(b); i++)
        sprintf(t + 2 * i, "%02x", b[i]);
    return t;
}

int jobs_start(struct server *s, struct job *job, struct node **nodes)
{
    char *token = new_token();

    if (!token || place_start(job, nodes, (int)job->spec.nodes) < 0) {
        free(token);
        return -1;
    }
    free(job->token);
    job->token = token;
    job->kill_sent = false;
    job->attempts++;
    job->start_time = 0;
    jobs_dequeue(s, job);
    jobs_set_state(s, job, JOB_STARTING, NULL);
    for (int i = 0; i < job->nparts; i++)
        nodes_send(s, job->part[i].name, "job.start",
                   place_start_msg(s, job, i));
    return 0;
}

void jobs_start_lost(struct server *s, struct job *job, const char *why)
{
    job->attempts--;
    jobs_set_state(s, job, JOB_RUNNABLE, why);
    jobs_enqueue(s, job);
}

void jobs_finish(struct server *s, struct job *job, enum job_state state,
                 int exit_code, const char *reason)
{
    job->exit_code = exit_code;
    jobs_set_state(s, job, state, reason);
}

void jobs_mark_cancelled(struct job *job, const char *why)
{
    if (!job->cancel_reason)
        job->cancel_reason = strdup(why);
}

int jobs_add_waiter(struct job *job, const char *client)
{
    if (!job->waiters && !(job->waiters = json_array())) {
        errno = ENOMEM;
        return -1;
    }
    if (json_array_size(job->waiters) >= 1024) {
        errno = EBUSY;
        return -1;
    }
    return json_array_append_new(job->waiters, json_string(client));
}

void jobs_attempt_failed(struct server *s, struct job *job, int exit_code,
                         const char *reason)
{
    char why[300];

    if (!job->cancel_reason
        && retry_decide(job->spec.retry, job->attempts - job->lost_starts,
                        exit_code, reason, reason)) {
        snprintf(why, sizeof(why), "attempt %d failed (%s); retrying",
                 job->attempts, reason);
        jobs_release_cores(s, job);
        jobs_set_state(s, job, JOB_RUNNABLE, why);
        jobs_enqueue(s, job);
        return;
    }
    jobs_set_state(s, job, JOB_FAILED, reason);
}

void jobs_requeue_unstarted(struct server *s, struct job *job, const char *why)
{
    for (int i = 0; i < job->nparts; i++) {
        struct jpart *p = &job->part[i];
        if (!p->ended)
            nodes_send(s, p->name, "job.kill",
                       json_pack("{s:I, s:i, s:s}", "id", (json_int_t)job->id,
                                 "attempt", job->attempts, "reason", why));
    }
    job->lost_starts++;
    jobs_release_cores(s, job);
    jobs_set_state(s, job, JOB_RUNNABLE, why);
    jobs_enqueue(s, job);
}

void jobs_set_hold(struct server *s, struct job *job, bool hold)
{
    job->spec.hold = hold;
    if (job->spec_json->refcount > 1) {
        /* Shared with an array's other jobs: this one's own from now. */
        json_t *own = json_deep_copy(job->spec_json);
        if (!own) {
            store_fail(s->st, "out of memory");
            return;
        }
        json_decref(job->spec_json);
        job->spec_json = own;
    }
    json_object_set_new(job->spec_json, "hold", json_boolean(hold));
    /* Stored in this turn: a restart keeps a held job held. */
    store_job_set_spec(s->st, job->id, job->spec_json);
}

static struct job *job_new(struct server *s, int64_t id, json_t *spec_json,
                           struct jobspec *spec)
{
    struct job *job = calloc(1, sizeof(*job));

    if (!job)
        return NULL;
    job->id = id;
    job->spec = *spec;
    memset(spec, 0, sizeof(*spec));
    /* What only the worker reads, the script, its arguments and the
     * environment, goes to it from spec_json: the parsed copies were half
     * of what a queued job held (14 KB with a login shell's environment). */
    free(job->spec.script);
    json_decref(job->spec.args);
    json_decref(job->spec.env);
    job->spec.script = NULL;
    job->spec.args = job->spec.env = NULL;
    job->spec_json = json_incref(spec_json);
    job->exit_code = -1;
    job->queue = queue_find(s, job->spec.queue);
    return job;
}

static int add(struct server *s, struct job *job)
{
    if (!tsearch(job, &s->jobs, cmp_id)) {
        errno = ENOMEM;
        return -1;
    }
    s->njobs++;
    if (job->queue)
        job->queue->njobs++;
    deps_track(s, job);
    count_user(s, job, 1);
    return 0;
}

static const char *pending_reason(const struct job *job)
{
    return job->spec.hold ? "held" : job->spec.deps ? "Dependency" : NULL;
}

void jobs_leave_pending(struct server *s, struct job *job)
{
    if (job->spec.hold)
        return;
    if (job->spec.deps) {
        deps_recheck(s, job); /* deps_run decides, in this loop turn */
        return;
    }
    jobs_set_state(s, job, JOB_RUNNABLE, NULL);
    jobs_enqueue(s, job);
}

struct job *jobs_submit(struct server *s, json_t *spec_json,
                        struct jobspec *spec, struct kiln_error *err)
{
    struct store_job row = { 0 };
    struct job *job;

    row.name = spec->name;
    row.user = spec->user;
    row.uid = spec->uid;
    row.queue = spec->queue;
    row.state = JOB_SUBMITTED;
    row.submit_time = util_now();
    /* What was derived from other fields (ntasks from nodes and
     * ntasks_per_node) is kept as decided. */
    json_object_set_new(spec_json, "ntasks", json_integer(spec->ntasks));
    row.spec = spec_json;
    if (store_job_insert(s->st, &row) < 0) {
        errprintf(err, "cannot store the job");
        return NULL;
    }
    if (!(job = job_new(s, row.id, spec_json, spec)) || add(s, job) < 0) {
        job_free(s, job);
        store_fail(s->st,
                   "out of memory"); /* the row would be orphaned: roll back */
        errprintf(err, "out of memory");
        return NULL;
    }
    job->submit_time = row.submit_time;
    job->state = JOB_SUBMITTED;
    if (job->spec.array && arrays_init(s, job, false) < 0) {
        store_fail(s->st, "out of memory"); /* roll the row back */
        errprintf(err, "out of memory");
        return NULL;
    }
    /* SUBMITTED -> PENDING -> RUNNABLE, each an event as AWS Batch shows
     * them; a held job, or one with dependencies, stays PENDING. */
    jobs_set_state(s, job, JOB_PENDING, pending_reason(job));
    jobs_leave_pending(s, job);
    return job;
}

struct job *jobs_create_child(struct server *s, struct job *parent, long index,
                              struct kiln_error *err)
{
    struct store_job row = { 0 };
    struct jobspec spec;
    struct job *job;

    if (jobspec_from_json(parent->spec_json, &spec, err) < 0)
        return NULL;
    /* The parent waited for the dependencies; the array is the parent's. */
    json_decref(spec.deps);
    spec.deps = NULL;
    free(spec.array);
    spec.array = NULL;
    row.name = spec.name;
    row.user = spec.user;
    row.uid = spec.uid;
    row.queue = spec.queue;
    row.state = JOB_SUBMITTED;
    row.submit_time = util_now();
    row.spec = parent->spec_json;
    row.array_id = parent->id;
    row.array_index = index;
    if (store_job_insert(s->st, &row) < 0) {
        jobspec_release(&spec);
        errprintf(err, "cannot store the job");
        return NULL;
    }
    if (!(job = job_new(s, row.id, parent->spec_json, &spec))
        || add(s, job) < 0) {
        job_free(s, job);
        jobspec_release(&spec);
        store_fail(s->st, "out of memory");
        errprintf(err, "out of memory");
        return NULL;
    }
    job->submit_time = row.submit_time;
    job->state = JOB_SUBMITTED;
    jobs_set_state(s, job, JOB_PENDING, NULL);
    jobs_set_state(s, job, JOB_RUNNABLE, NULL);
    /* A child from here on: its moves count in the parent. */
    job->array_id = parent->id;
    job->array_index = index;
    return job;
}

const char *jobs_cancel(struct server *s, struct job *job, const char *why)
{
    if (job->array) {
        arrays_cancel(s, job, why);
        return NULL;
    }
    switch (job->state) {
    case JOB_STARTING:
    case JOB_RUNNING: {
        int up = 0;
        for (int i = 0; i < job->nparts; i++)
            up += !job->part[i].ended && job->part[i].node
                  && job->part[i].node->state == NODE_UP;
        if (up) {
            if (!job->cancel_reason)
                job->cancel_reason = strdup(why);
            kill_parts(s, job, why);
            return NULL;
        }
        /* Its nodes are away: the job ends here, and each worker is told to
         * kill it when it says hello again. */
        jobs_set_state(s, job, JOB_FAILED, why);
        return NULL;
    }
    default: jobs_set_state(s, job, JOB_FAILED, why); return NULL;
    }
}

static int load_one(struct store_job *row, void *arg)
{
    struct server *s = arg;
    struct jobspec spec;
    struct kiln_error err;
    struct job *job;
    enum job_state st = row->state;

    if (!row->spec || jobspec_from_json(row->spec, &spec, &err) < 0) {
        log_msg(LOG_ERR, "job %lld in the store is unreadable: skipped",
                (long long)row->id);
        return 0;
    }
    if (!(job = job_new(s, row->id, row->spec, &spec)) || add(s, job) < 0) {
        job_free(s, job);
        jobspec_release(&spec);
        return -1;
    }
    job->state = st;
    set_str(&job->reason, row->reason);
    job->exit_code = row->exit_code;
    job->submit_time = row->submit_time;
    job->start_time = row->start_time;
    set_str(&job->node_name, row->node);
    set_str(&job->cpus, row->cpus);
    set_str(&job->alloc, row->alloc);
    set_str(&job->token, row->token);
    /* A start that was waiting for its confirmation waits again, from now
     * (--start-timeout). */
    if (st == JOB_STARTING)
        job->starting_since = util_monotonic();
    if ((st == JOB_STARTING || st == JOB_RUNNING) && place_load(job) < 0)
        log_msg(LOG_ERR, "job %lld: its placement in the store is unreadable",
                (long long)job->id);
    job->attempts = row->attempts;
    if (!job->queue) {
        /* Its queue was deleted behind our back: it cannot be scheduled. */
        jobs_set_state(s, job, JOB_FAILED, "job queue no longer exists");
        return 0;
    }
    if (row->array_id > 0) {
        job->array_id = row->array_id;
        job->array_index = row->array_index;
        arrays_adopt(s, job);
        deps_release(job);
        json_decref(job->spec.deps);
        job->spec.deps = NULL;
        free(job->spec.array);
        job->spec.array = NULL;
    } else if (job->spec.array && arrays_init(s, job, true) < 0) {
        return -1;
    }
    if (job->array && job->state == JOB_RUNNING) {
        /* A parent still creating children goes back in the queue. */
        if (job->array->next < job->array->n)
            jobs_enqueue(s, job);
        return 0;
    }
    switch (job->state) {
    case JOB_SUBMITTED:
        jobs_set_state(s, job, JOB_PENDING, pending_reason(job));
        /* fall through */
    case JOB_PENDING: jobs_leave_pending(s, job); break;
    case JOB_RUNNABLE: jobs_enqueue(s, job); break;
    default:
        /* STARTING or RUNNING: the node's hello will say what became of
         * it (nodes.c reconcile). */
        break;
    }
    return 0;
}

int jobs_load(struct server *s)
{
    int rc;

    if (store_begin(s->st) < 0)
        return -1;
    rc = store_foreach_active(s->st, load_one, s);
    if (store_commit(s->st) < 0)
        return -1;
    log_msg(LOG_INFO, "loaded %d active jobs from the store", s->njobs);
    return rc;
}

struct collected {
    struct job **all;
    int n;
};

static void collect(const void *nodep, VISIT which, void *arg)
{
    struct collected *c = arg;

    if (which == postorder || which == leaf)
        c->all[c->n++] = *(struct job *const *)nodep;
}

/* The active jobs, in id order, as they are now (a snapshot). */
static struct job **snapshot(struct server *s, int *n)
{
    struct collected c = { malloc((s->njobs + 1) * sizeof(*c.all)), 0 };

    if (c.all)
        twalk_r(s->jobs, collect, &c);
    *n = c.n;
    return c.all;
}

void jobs_foreach(struct server *s, jobs_f fn, void *arg)
{
    int n;
    struct job **all = snapshot(s, &n);

    /* A job that an earlier call ended is still in memory until the turn
     * is over (jobs_reap), and is skipped. */
    for (int i = 0; all && i < n; i++)
        if (!job_state_final(all[i]->state))
            fn(s, all[i], arg);
    free(all);
}

static void no_free(void *p)
{
}

void jobs_destroy_all(struct server *s)
{
    int n;
    struct job **all = snapshot(s, &n);

    for (int i = 0; all && i < n; i++)
        job_free(s, all[i]);
    free(all);
    tdestroy(s->jobs, no_free);
    jobs_reap(s);
    json_decref(s->user_jobs);
    s->user_jobs = NULL;
    s->jobs = NULL;
    s->njobs = 0;
    for (struct queue *q = s->queues; q; q = q->next)
        q->qhead = q->qtail = NULL;
}

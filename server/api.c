/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Client requests: decode, check, act, reply (after the commit). */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/jsonfields.h"
#include "lib/log.h"
#include "lib/util.h"
#include "server/server.h"

int api_server_info(struct server *s, struct proto_msg *m,
                    const struct requester *who)
{
    return CLIENT_REPLY(
        s, m,
        json_pack("{s:i, s:s, s:s, s:i, s:{s:I, s:f, s:f, s:f, s:I}}",
                  "version", KILN_PROTO_VERSION, "worker_endpoint",
                  s->worker_ep, "client_endpoint", s->client_ep, "jobs",
                  s->njobs, "scheduler", "passes", (json_int_t)s->sched_passes,
                  "last_ms", s->sched_last_ms, "max_ms", s->sched_max_ms,
                  "total_ms", s->sched_total_ms, "starts",
                  (json_int_t)s->sched_starts));
}

int api_job_submit(struct server *s, struct proto_msg *m,
                   const struct requester *who)
{
    struct kiln_error err;
    struct jobspec spec;
    const char *why;
    struct job *job;
    json_t *o = json_object_get(m->body, "job");

    if (!json_is_object(o))
        return CLIENT_FAIL(s, m, EINVAL,
                           "invalid request: 'job' must be an object");
    if (!who->user[0])
        return CLIENT_FAIL(s, m, EACCES,
                           "uid %u has no user name on the server's host",
                           (unsigned)who->uid);
    /* The job is its sender's, whatever the request says. */
    json_object_set_new(o, "user", json_string(who->user));
    json_object_set_new(o, "uid", json_integer(who->uid));
    json_object_set_new(o, "gid", json_integer(who->gid));
    if (jobspec_from_json(o, &spec, &err) < 0)
        return CLIENT_FAIL(s, m, errno, "%s", err.text);
    struct queue *q = queue_find(s, spec.queue);
    if (!q || !q->enabled) {
        CLIENT_FAIL(s, m, q ? EBUSY : ENOENT,
                    q ? "job queue '%s' is DISABLED" : "unknown job queue '%s'",
                    spec.queue);
        jobspec_release(&spec);
        return -1;
    }
    if (q->policy[0] && !spec.share_id) {
        CLIENT_FAIL(s, m, EINVAL,
                    "job queue '%s' has fair-share policy '%s': give a share "
                    "identifier (--share-identifier)",
                    q->name, q->policy);
        jobspec_release(&spec);
        return -1;
    }
    if (!q->policy[0] && spec.share_id) {
        CLIENT_FAIL(
            s, m, EINVAL,
            "job queue '%s' has no fair-share policy: a share identifier "
            "means nothing there",
            q->name);
        jobspec_release(&spec);
        return -1;
    }
    if ((why = deps_validate(s, &spec))
        || (why = sched_infeasible(s, q, &spec))) {
        CLIENT_FAIL(s, m, EINVAL, "%s%s",
                    strncmp(why, "invalid", 7) ? "job can never run: " : "",
                    why);
        jobspec_release(&spec);
        return -1;
    }
    /* What one user may keep in the queue: the server's memory and every
     * scheduling pass are shared. */
    if (s->max_jobs_per_user
        && jobs_of_user(s, spec.uid) >= s->max_jobs_per_user) {
        CLIENT_FAIL(s, m, EBUSY,
                    "user %s has %ld jobs queued or running, the most one "
                    "user may have (max_jobs_per_user); an array counts as one",
                    spec.user, jobs_of_user(s, spec.uid));
        jobspec_release(&spec);
        return -1;
    }
    if (!(job = jobs_submit(s, o, &spec, &err))) {
        jobspec_release(&spec);
        return CLIENT_FAIL(s, m, EIO, "%s", err.text);
    }
    return CLIENT_REPLY(s, m, json_pack("{s:I}", "id", (json_int_t)job->id));
}

static const char *id_text(const struct proto_msg *m);

struct listing {
    json_t *jobs;
    const struct requester *who;
    bool brief; /* what kiln queue's table shows, no more */
};

static void list_one(struct server *s, struct job *job, void *arg)
{
    struct listing *l = arg;

    if (identity_sees(s, l->who, job->spec.uid))
        json_array_append_new(l->jobs, l->brief ? jobs_to_json_brief(job)
                                                : jobs_to_json(s, job));
}

/* Another user's job: refused when private_jobs hides it. */
static bool hidden(struct server *s, struct proto_msg *m,
                   const struct requester *who, uint32_t owner)
{
    if (identity_sees(s, who, owner))
        return false;
    CLIENT_FAIL(s, m, EACCES,
                "permission denied: job %s belongs to another user",
                id_text(m));
    return true;
}

/* What only its owner and admins see of a job: its script, arguments and
 * environment. */
static void strip_private(const struct requester *who, json_t *o,
                          uint32_t owner)
{
    json_t *spec = json_object_get(o, "spec");

    if (identity_owns(who, owner) || !json_is_object(spec))
        return;
    spec = json_deep_copy(spec);
    json_object_del(spec, "script");
    json_object_del(spec, "env");
    json_object_del(spec, "args");
    json_object_set_new(o, "spec", spec);
}

int api_job_list(struct server *s, struct proto_msg *m,
                 const struct requester *who)
{
    struct listing l = { json_array(), who,
                         json_is_true(json_object_get(m->body, "brief")) };

    jobs_foreach(s, list_one, &l);
    return CLIENT_REPLY(s, m, json_pack("{s:o}", "jobs", l.jobs));
}

static int get_id(const json_t *v, int64_t *id)
{
    if (!json_is_integer(v) || json_integer_value(v) <= 0)
        return -1;
    *id = json_integer_value(v);
    return 0;
}

/* A job named in a request: an integer id, or "ARRAY_INDEX" for an array
 * child.  Returns 1 with *id set; 0 for an array child not created yet
 * (*parent and *index set; *id is 0); -1 when v is not a job id at all. */
static int resolve_id(struct server *s, const json_t *v, int64_t *id,
                      struct job **parent, long *index)
{
    const char *str = json_string_value(v);
    int64_t a;

    *parent = NULL;
    if (!str)
        return get_id(v, id) < 0 ? -1 : 1;
    if (job_id_parse(str, &a, index) < 0 || *index < 0)
        return -1;
    *id = arrays_child_id(s, a, *index, parent);
    if (*parent)
        return 0;
    if (*id == 0)
        *id = INT64_MAX; /* no such child: unknown */
    return 1;
}

#define BAD_ID "invalid request: a job id is a positive integer or ARRAY_INDEX"

/* The id as the client wrote it, for messages. */
static const char *id_text(const struct proto_msg *m)
{
    static char buf[48];
    json_t *v = json_object_get(m->body, "id");

    if (json_is_string(v))
        snprintf(buf, sizeof(buf), "%s", json_string_value(v));
    else
        snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
    return buf;
}

/* The job a request's "id" names, into *id; -1 after answering m
 * (EINVAL, or not_yet for an array child not created yet). */
static int request_id(struct server *s, struct proto_msg *m, int not_yet,
                      int64_t *id)
{
    struct job *parent;
    long index;
    int rc = resolve_id(s, json_object_get(m->body, "id"), id, &parent, &index);

    if (rc < 0)
        return CLIENT_FAIL(s, m, EINVAL, BAD_ID);
    if (rc == 0)
        return CLIENT_FAIL(s, m, not_yet,
                           "array child %lld_%ld has not started yet",
                           (long long)parent->id, index);
    return 0;
}

int api_job_show(struct server *s, struct proto_msg *m,
                 const struct requester *who)
{
    struct store_job row;
    struct job *job;
    json_t *o;
    int64_t id;
    int rc;

    if (request_id(s, m, ENOENT, &id) < 0)
        return -1;
    if ((job = jobs_find(s, id))) {
        if (hidden(s, m, who, job->spec.uid))
            return -1;
        o = jobs_to_json(s, job);
        /* The full why only for one job: it walks the job's queue. */
        if (job->state == JOB_PENDING || job->state == JOB_RUNNABLE)
            json_object_set_new(o, "why", sched_why(s, job));
        json_object_set(o, "spec", job->spec_json);
    } else if ((rc = store_job_get(s->st, id, &row)) == 1) {
        if (hidden(s, m, who, (uint32_t)row.uid)) {
            store_job_release(&row);
            return -1;
        }
        o = jobs_row_to_json(&row);
        json_object_set(o, "spec", row.spec);
        arrays_row_to_json(s, &row, o);
        store_job_release(&row);
    } else {
        return CLIENT_FAIL(s, m, rc < 0 ? EIO : ENOENT, "unknown job id %s",
                           id_text(m));
    }
    strip_private(who, o,
                  (uint32_t)json_integer_value(json_object_get(o, "uid")));
    json_object_set_new(o, "events", store_job_events(s->st, id));
    json_object_set_new(o, "attempt_list", store_job_attempts(s->st, id));
    return CLIENT_REPLY(s, m, json_pack("{s:o}", "job", o));
}

static const char *end_job(struct server *s, struct job *job, const char *word,
                           const char *reason)
{
    char why[256];

    snprintf(why, sizeof(why), "%s%s%s", word, reason ? ": " : "",
             reason ? reason : "");
    return jobs_cancel(s, job, why);
}

static const char *cancel_one(struct server *s, struct job *job,
                              const char *reason)
{
    return end_job(s, job, "cancelled", reason);
}

/* AWS's TerminateJob: the same end, in AWS's words. */
static const char *terminate_one(struct server *s, struct job *job,
                                 const char *reason)
{
    return end_job(s, job, "terminated", reason);
}

/* Apply fn to each id of the request's "ids" array; reply with one result
 * per id. */
typedef const char *(*id_action_f)(struct server *s, struct job *job,
                                   const char *reason);

static int for_ids(struct server *s, struct proto_msg *m,
                   const struct requester *who, id_action_f fn)
{
    json_t *ids = json_object_get(m->body, "ids"), *v, *results;
    const char *reason = json_string_value(json_object_get(m->body, "reason"));
    size_t i;

    if (!json_is_array(ids) || json_array_size(ids) == 0
        || json_array_size(ids) > 100000)
        return CLIENT_FAIL(s, m, EINVAL,
                           "invalid request: 'ids' must be a non-empty array");
    if (reason
        && (strlen(reason) == 0 || strlen(reason) > 200
            || !util_printable(reason)))
        return CLIENT_FAIL(s, m, EINVAL,
                           "invalid request: 'reason' must be 1-200 "
                           "printable characters");
    json_array_foreach (ids, i, v) {
        if (!json_is_string(v) && !json_is_integer(v))
            return CLIENT_FAIL(s, m, EINVAL, BAD_ID);
    }
    results = json_array();
    json_array_foreach (ids, i, v) {
        struct job *job = NULL, *parent;
        const char *err;
        struct store_job row;
        int64_t id = 0;
        long index;
        int rc = resolve_id(s, v, &id, &parent, &index);
        if (rc > 0)
            job = jobs_find(s, id);
        uint32_t owner = job      ? job->spec.uid
                         : parent ? parent->spec.uid
                                  : who->uid;
        if (rc < 0) {
            err = "not a job id";
        } else if (!identity_owns(who, owner)) {
            err = "permission denied: the job belongs to another user";
            log_msg(LOG_WARNING,
                    "refused %s of job %lld from user %s (uid %u): not theirs",
                    m->type, (long long)(job ? job->id : parent->id), who->user,
                    (unsigned)who->uid);
        } else if (rc == 0) {
            /* Not created yet: it will be recorded cancelled in its turn. */
            err = (fn == cancel_one || fn == terminate_one)
                          && arrays_skip(parent, index) == 0
                      ? NULL
                      : "array child has not started yet";
        } else if (job) {
            err = fn(s, job, reason);
        } else if (store_job_get(s->st, id, &row) == 1) {
            err = "job already finished";
            store_job_release(&row);
        } else {
            err = "unknown job id";
        }
        json_array_append_new(
            results, err ? json_pack("{s:O, s:s}", "id", v, "error", err)
                         : json_pack("{s:O}", "id", v));
    }
    return CLIENT_REPLY(s, m, json_pack("{s:o}", "results", results));
}

static const char *release_one(struct server *s, struct job *job,
                               const char *reason)
{
    if (!job->spec.hold)
        return "job is not held";
    jobs_set_hold(s, job, false);
    if (job->array && job->state == JOB_RUNNING) {
        jobs_enqueue(s, job); /* a held array that has children goes on */
        return NULL;
    }
    if (job->spec.deps)
        jobs_set_state(s, job, JOB_PENDING, "Dependency");
    jobs_leave_pending(s, job);
    return NULL;
}

static const char *hold_one(struct server *s, struct job *job,
                            const char *reason)
{
    if (job->state != JOB_PENDING && job->state != JOB_RUNNABLE
        && !(job->array && job->array->next < job->array->n))
        return "job has started";
    if (job->spec.hold)
        return "job is already held";
    jobs_set_hold(s, job, true);
    jobs_dequeue(s, job);
    /* An array keeps what runs; it creates no more children until released. */
    if (job->state == JOB_PENDING || job->state == JOB_RUNNABLE)
        jobs_set_state(s, job, JOB_PENDING, "held");
    return NULL;
}

int api_job_hold(struct server *s, struct proto_msg *m,
                 const struct requester *who)
{
    return for_ids(s, m, who, hold_one);
}

int api_job_cancel(struct server *s, struct proto_msg *m,
                   const struct requester *who)
{
    return for_ids(s, m, who, cancel_one);
}

int api_job_terminate(struct server *s, struct proto_msg *m,
                      const struct requester *who)
{
    return for_ids(s, m, who, terminate_one);
}

int api_job_release(struct server *s, struct proto_msg *m,
                    const struct requester *who)
{
    return for_ids(s, m, who, release_one);
}

/* At most this many finished jobs an answer: a page of job.history costs
 * the loop some tens of ms, and other requests go between pages. */
enum { HISTORY_PAGE = 5000 };

struct history_page {
    json_t *jobs;
    struct store_cursor last; /* the place of the last job handed */
    int n;
};

static int history_one(struct store_job *row, void *arg)
{
    struct history_page *p = arg;

    p->n++;
    if (p->n > HISTORY_PAGE) /* the one that says more remain */
        return 0;
    p->last = (struct store_cursor){ row->end_time, row->id };
    return json_array_append_new(p->jobs, jobs_row_to_json(row));
}

/* next_token: where the next page starts and how many are left of the
 * limit (0: no limit), "END_TIME:ID:LEFT". */
static bool token_parse(const char *t, struct store_cursor *at, long *left)
{
    char *end;

    at->end_time = strtod(t, &end);
    if (end == t || *end != ':')
        return false;
    t = end + 1;
    at->id = strtoll(t, &end, 10);
    if (end == t || *end != ':' || at->id < 0)
        return false;
    t = end + 1;
    *left = strtol(t, &end, 10);
    return end != t && !*end && *left >= 0 && isfinite(at->end_time);
}

int api_job_history(struct server *s, struct proto_msg *m,
                    const struct requester *who)
{
    double since = 0;
    const char *user = NULL, *token = NULL;
    json_int_t limit = 0;
    long left;
    json_error_t jerr;
    struct store_cursor after;

    if (json_unpack_ex(m->body, &jerr, 0, "{s?F, s?s, s?I, s?s}", "since",
                       &since, "user", &user, "limit", &limit, "next_token",
                       &token)
        < 0)
        return CLIENT_FAIL(s, m, EINVAL, "invalid request: %s", jerr.text);
    if (limit < 0 || limit > 1000000000)
        return CLIENT_FAIL(
            s, m, EINVAL,
            "invalid request: 'limit' must be from 0 (all) to 1000000000");
    if (user && !jobspec_name_ok(user, 64))
        return CLIENT_FAIL(s, m, EINVAL,
                           "invalid request: 'user' is not a user name");
    if (s->private_jobs && !who->admin) {
        if (user && strcmp(user, who->user) != 0)
            return CLIENT_FAIL(s, m, EACCES,
                               "permission denied: the jobs of other users "
                               "are private here");
        user = who->user;
    }
    if (token) {
        if (!token_parse(token, &after, &left))
            return CLIENT_FAIL(s, m, EINVAL,
                               "invalid request: 'next_token' is not one this "
                               "server gave");
    } else {
        /* Ending at or after since: past every id of an earlier time. */
        after = (struct store_cursor){ isfinite(since) ? since : 0, INT64_MIN };
        left = (long)limit;
        struct store_cursor bound;
        int found =
            left ? store_finished_before_last(s->st, &after, user, left, &bound)
                 : 0;
        if (found < 0)
            return CLIENT_FAIL(s, m, EIO, "cannot read the job history");
        if (found)
            after = bound;
    }
    struct history_page p = { json_array(), after, 0 };
    int max = left && left <= HISTORY_PAGE ? (int)left : HISTORY_PAGE + 1;
    if (store_foreach_finished(s->st, &after, user, max, history_one, &p) < 0) {
        json_decref(p.jobs);
        return CLIENT_FAIL(s, m, EIO, "cannot read the job history");
    }
    json_t *answer = json_pack("{s:o}", "jobs", p.jobs);
    if (answer && p.n > HISTORY_PAGE) {
        char next[96];
        snprintf(next, sizeof(next), "%.17g:%lld:%ld", p.last.end_time,
                 (long long)p.last.id, left ? left - HISTORY_PAGE : 0);
        json_object_set_new(answer, "next_token", json_string(next));
    }
    return CLIENT_REPLY(s, m, answer);
}

int api_job_wait(struct server *s, struct proto_msg *m,
                 const struct requester *who)
{
    struct store_job row;
    struct job *job;
    int64_t id;
    char hex[2 * KILN_PROTO_MAX_ID + 1];

    if (request_id(s, m, EAGAIN, &id) < 0)
        return -1;
    if (!(job = jobs_find(s, id))) {
        if (store_job_get(s->st, id, &row) != 1)
            return CLIENT_FAIL(s, m, ENOENT, "unknown job id %s", id_text(m));
        if (hidden(s, m, who, (uint32_t)row.uid)) {
            store_job_release(&row);
            return -1;
        }
        CLIENT_REPLY(s, m, json_pack("{s:o}", "job", jobs_row_to_json(&row)));
        store_job_release(&row);
        return 0;
    }
    if (hidden(s, m, who, job->spec.uid))
        return -1;
    for (size_t i = 0; i < m->idlen; i++)
        sprintf(hex + 2 * i, "%02x", m->id[i]);
    hex[2 * m->idlen] = '\0';
    if (jobs_add_waiter(job, hex) < 0)
        return CLIENT_FAIL(s, m, errno,
                           errno == EBUSY ? "too many clients wait for job %lld"
                                          : "out of memory (job %lld)",
                           (long long)id);
    return 0;
}

/* What holds n's cores: each job with its held PUs (indices into the
 * topology's pu list) and GPUs. */
static json_t *node_holders(const struct server *s, const struct requester *who,
                            const struct node *n)
{
    json_t *a = json_array();

    for (int i = 0; a && i < n->njobs; i++) {
        const struct jpart *p = n->running[i];
        const struct job *j = p->job;
        json_t *pus = json_array(), *gpus = json_array();
        for (int k = 0; k < p->npu; k++)
            json_array_append_new(pus, json_integer(p->pu[k]));
        for (int k = 0; k < p->ngpu; k++)
            json_array_append_new(gpus, json_integer(p->gpu[k]));
        bool seen = identity_sees(s, who, j->spec.uid);
        json_array_append_new(
            a, json_pack("{s:I, s:s, s:s, s:s?, s:o, s:o}", "id",
                         (json_int_t)(seen ? j->id : 0), "user",
                         seen ? j->spec.user : "(hidden)", "name",
                         seen ? j->spec.name : "(hidden)", "cpus", p->cpus,
                         "pus", pus, "gpus", gpus));
    }
    return a;
}

/* All nodes, or {"name": N} just that one with what holds its cores. */
int api_node_list(struct server *s, struct proto_msg *m,
                  const struct requester *who)
{
    const char *only = json_string_value(json_object_get(m->body, "name"));
    json_t *nodes = json_array();

    for (struct node *n = s->nodes; n; n = n->next) {
        if (only && strcmp(only, n->name) != 0)
            continue;
        json_t *o = json_pack(
            "{s:s, s:s, s:s, s:s, s:i, s:i, s:I, s:I, s:i, s:i, s:i}", "name",
            n->name, "ce", n->ce, "state", nodes_state_name(n), "features",
            n->features, "cpus_total", n->topo ? n->topo->npu : 0, "cpus_used",
            n->nbusy, "memory_mib",
            (json_int_t)(n->topo ? n->topo->mem_mib : 0), "memory_used_mib",
            (json_int_t)n->mem_used, "jobs", n->njobs, "gpus_total",
            n->topo ? n->topo->ngpu : 0, "gpus_used", n->ngpu_busy);
        if (n->topo)
            json_object_set_new(o, "topology", topo_to_json(n->topo));
        json_object_set_new(o, "address", json_string(n->address));
        json_object_set_new(o, "hostname", json_string(n->hostname));
        json_object_set_new(o, "runtimes", json_string(n->runtimes));
        if (n->drain[0])
            json_object_set_new(o, "reason", json_string(n->drain));
        if (only)
            json_object_set_new(o, "holders", node_holders(s, who, n));
        elastic_node_json(s, n, o);
        json_array_append_new(nodes, o);
    }
    elastic_launching_nodes(s, nodes, only);
    if (only && json_array_size(nodes) == 0) {
        json_decref(nodes);
        return CLIENT_FAIL(s, m, ENOENT, "unknown node '%.64s'", only);
    }
    return CLIENT_REPLY(s, m, json_pack("{s:o}", "nodes", nodes));
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Job queues and compute environments, as AWS Batch has them: a queue has
 * a priority and tries its compute environments in order; a compute
 * environment is a set of nodes.  Both live in the store's objects table
 * and may also be declared in the configuration file ([queue NAME],
 * [ce NAME]), which wins at server start.  The "default" queue and
 * environment always exist. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/jobspec.h"
#include "lib/features.h"
#include "lib/log.h"
#include "lib/util.h"
#include "server/server.h"

struct queue *queue_find(struct server *s, const char *name)
{
    for (struct queue *q = s->queues; q; q = q->next)
        if (strcmp(q->name, name) == 0)
            return q;
    return NULL;
}

bool queue_has_ce(const struct queue *q, const struct ce *ce)
{
    for (int i = 0; i < q->nces; i++)
        if (q->ces[i] == ce)
            return true;
    return false;
}

bool queue_node_in(const struct node *n, const struct ce *ce)
{
    return ce->enabled && strcmp(n->ce, ce->name) == 0;
}

/* Keep the list by priority, highest first, then by name. */
static void queue_link(struct server *s, struct queue *q)
{
    struct queue **pp = &s->queues;

    while (*pp
           && ((*pp)->priority > q->priority
               || ((*pp)->priority == q->priority
                   && strcmp((*pp)->name, q->name) < 0)))
        pp = &(*pp)->next;
    q->next = *pp;
    *pp = q;
}

static void queue_unlink(struct server *s, struct queue *q)
{
    for (struct queue **pp = &s->queues; *pp; pp = &(*pp)->next)
        if (*pp == q) {
            *pp = q->next;
            return;
        }
}

static json_t *queue_json(const struct queue *q)
{
    json_t *ces = json_array();
    for (int i = 0; ces && i < q->nces; i++)
        json_array_append_new(ces, json_string(q->ces[i]->name));
    json_t *o = json_pack("{s:s, s:i, s:s, s:o}", "name", q->name, "priority",
                          q->priority, "state",
                          q->enabled ? "ENABLED" : "DISABLED", "ces", ces);
    if (o && q->policy[0])
        json_object_set_new(o, "policy", json_string(q->policy));
    if (o && q->actions)
        json_object_set(o, "jobStateTimeLimitActions", q->actions);
    return o;
}

/* Check and apply fields of a queue body to q (new or existing).  With
 * create, every unset field takes its default. */
static int queue_apply(struct server *s, struct queue *q, const json_t *body,
                       struct kiln_error *err)
{
    json_t *ces = json_object_get(body, "ces"), *v,
           *prio = json_object_get(body, "priority");
    const char *state = json_string_value(json_object_get(body, "state"));
    const char *key;
    size_t i;

    json_object_foreach ((json_t *)body, key, v)
        if (strcmp(key, "name") && strcmp(key, "priority") && strcmp(key, "ces")
            && strcmp(key, "state") && strcmp(key, "version")
            && strcmp(key, "policy") && strcmp(key, "jobStateTimeLimitActions"))
            return errprintf(err, "invalid job queue: unknown field '%.32s'",
                             key);
    json_t *pol = json_object_get(body, "policy");
    if (pol
        && (!json_is_string(pol)
            || (*json_string_value(pol)
                && !policy_find(s, json_string_value(pol)))))
        return errprintf(err, "unknown scheduling policy '%.64s'",
                         json_is_string(pol) ? json_string_value(pol) : "?");
    if (prio
        && (!json_is_integer(prio) || json_integer_value(prio) < 0
            || json_integer_value(prio) > 1000000))
        return errprintf(err, "invalid job queue priority: want 0-1000000");
    if (json_object_get(body, "state")
        && (!state || (strcmp(state, "ENABLED") && strcmp(state, "DISABLED"))))
        return errprintf(err,
                         "invalid job queue state: want ENABLED or DISABLED");
    if (ces) {
        if (!json_is_array(ces) || json_array_size(ces) == 0
            || json_array_size(ces) > sizeof(q->ces) / sizeof(q->ces[0]))
            return errprintf(err,
                             "invalid job queue: 'ces' must list 1-16 compute "
                             "environments");
        json_array_foreach (ces, i, v)
            if (!json_is_string(v) || !ce_find(s, json_string_value(v)))
                return errprintf(err, "unknown compute environment '%.64s'",
                                 json_is_string(v) ? json_string_value(v)
                                                   : "?");
    }
    json_t *acts = json_object_get(body, "jobStateTimeLimitActions"), *a;
    if (acts) {
        if (!json_is_array(acts) || json_array_size(acts) > 5)
            return errprintf(
                err, "invalid jobStateTimeLimitActions: an array of at most 5");
        json_array_foreach (acts, i, a) {
            const char *reason, *st, *action;
            json_int_t max;
            if (json_unpack(a, "{s:s, s:s, s:I, s:s!}", "reason", &reason,
                            "state", &st, "maxTimeSeconds", &max, "action",
                            &action)
                    < 0
                || strcmp(st, "RUNNABLE") || strcmp(action, "CANCEL") || max < 1
                || max > 86400 || !*reason || strlen(reason) > 64)
                return errprintf(
                    err,
                    "invalid jobStateTimeLimitActions[%zu]: want {reason, "
                    "state: RUNNABLE, maxTimeSeconds: 1-86400, action: "
                    "CANCEL}",
                    i);
        }
    }
    if (acts) {
        json_decref(q->actions);
        q->actions = json_array_size(acts) ? json_deep_copy(acts) : NULL;
    }
    if (prio) {
        queue_unlink(s, q);
        q->priority = (int)json_integer_value(prio);
        queue_link(s, q);
    }
    if (state)
        q->enabled = strcmp(state, "ENABLED") == 0;
    if (pol)
        snprintf(q->policy, sizeof(q->policy), "%s", json_string_value(pol));
    if (ces) {
        q->nces = 0;
        json_array_foreach (ces, i, v)
            q->ces[q->nces++] = ce_find(s, json_string_value(v));
    }
    return 0;
}

static struct queue *queue_new(struct server *s, const char *name)
{
    struct queue *q = calloc(1, sizeof(*q));

    if (!q)
        return NULL;
    snprintf(q->name, sizeof(q->name), "%s", name);
    q->priority = 1;
    q->enabled = true;
    if ((q->ces[0] = ce_find(s, "default")))
        q->nces = 1;
    queue_link(s, q);
    return q;
}

static int save_queue(struct server *s, const struct queue *q)
{
    json_t *o = queue_json(q);
    int rc = store_object_put(s->st, "queue", q->name, o);
    json_decref(o);
    return rc;
}

static int load_queue(const char *name, json_t *body, void *arg)
{
    struct server *s = arg;
    struct kiln_error err;
    struct queue *q = queue_new(s, name);

    if (!q)
        return -1;
    if (queue_apply(s, q, body, &err) < 0)
        log_msg(LOG_ERR, "job queue '%s' in the store: %s", name, err.text);
    return 0;
}

/* declared: {"queue": {NAME: {...}}} from the configuration file; those
 * settings win over the store's.  The compute environments are loaded
 * first (ce_load). */
int queue_load(struct server *s, const json_t *declared)
{
    struct kiln_error err;
    const char *name;
    json_t *body;

    if (store_foreach_object(s->st, "queue", load_queue, s) < 0)
        return -1;
    if (store_begin(s->st) < 0)
        return -1;
    if (!queue_find(s, "default"))
        save_queue(s, queue_new(s, "default"));
    json_object_foreach (json_object_get(declared, "queue"), name, body) {
        struct queue *q = queue_find(s, name);
        if (!jobspec_name_ok(name, 63) || (!q && !(q = queue_new(s, name)))
            || queue_apply(s, q, body, &err) < 0) {
            log_msg(LOG_ERR, "config: job queue '%s': %s", name,
                    jobspec_name_ok(name, 63) ? err.text : "invalid name");
            return -1;
        }
        save_queue(s, q);
    }
    return store_commit(s->st);
}

void queue_destroy_all(struct server *s)
{
    while (s->queues) {
        struct queue *q = s->queues;
        s->queues = q->next;
        json_decref(q->actions);
        free(q->shares);
        free(q);
    }
}

#define BAD_NAME "invalid name: use 1-63 letters, digits and ._-+@:,"

/* The name a request gives, checked (the table made sure it is a string). */
static const char *name_of(const struct proto_msg *m)
{
    const char *name = json_string_value(json_object_get(m->body, "name"));
    return jobspec_name_ok(name, 63) ? name : NULL;
}

static int queue_saved(struct server *s, struct proto_msg *m, struct queue *q)
{
    save_queue(s, q);
    s->sched_needed = true;
    return CLIENT_REPLY(s, m, json_pack("{s:o}", "queue", queue_json(q)));
}

static void queue_free(struct server *s, struct queue *q)
{
    queue_unlink(s, q);
    json_decref(q->actions);
    free(q->shares);
    free(q);
}

int queue_list(struct server *s, struct proto_msg *m,
               const struct requester *who)
{
    json_t *a = json_array();

    for (struct queue *q = s->queues; q; q = q->next) {
        json_t *o = queue_json(q);
        json_object_set_new(o, "jobs", json_integer(q->njobs));
        json_array_append_new(a, o);
    }
    return CLIENT_REPLY(s, m, json_pack("{s:o}", "queues", a));
}

int queue_create(struct server *s, struct proto_msg *m,
                 const struct requester *who)
{
    const char *name = name_of(m);
    struct kiln_error err;
    struct queue *q;

    if (!name)
        return CLIENT_FAIL(s, m, EINVAL, BAD_NAME);
    if (queue_find(s, name))
        return CLIENT_FAIL(s, m, EEXIST, "job queue '%s' exists", name);
    if (!(q = queue_new(s, name)))
        return CLIENT_FAIL(s, m, ENOMEM, "out of memory");
    if (queue_apply(s, q, m->body, &err) < 0) {
        queue_free(s, q);
        return CLIENT_FAIL(s, m, EINVAL, "%s", err.text);
    }
    return queue_saved(s, m, q);
}

int queue_update(struct server *s, struct proto_msg *m,
                 const struct requester *who)
{
    const char *name = name_of(m);
    struct kiln_error err;
    struct queue *q;

    if (!name)
        return CLIENT_FAIL(s, m, EINVAL, BAD_NAME);
    if (!(q = queue_find(s, name)))
        return CLIENT_FAIL(s, m, ENOENT, "unknown job queue '%s'", name);
    if (queue_apply(s, q, m->body, &err) < 0)
        return CLIENT_FAIL(s, m, EINVAL, "%s", err.text);
    return queue_saved(s, m, q);
}

int queue_delete(struct server *s, struct proto_msg *m,
                 const struct requester *who)
{
    const char *name = name_of(m);
    struct queue *q;

    if (!name)
        return CLIENT_FAIL(s, m, EINVAL, BAD_NAME);
    if (!(q = queue_find(s, name)))
        return CLIENT_FAIL(s, m, ENOENT, "unknown job queue '%s'", name);
    if (strcmp(name, "default") == 0)
        return CLIENT_FAIL(s, m, EBUSY,
                           "the default job queue cannot be deleted");
    if (q->njobs)
        return CLIENT_FAIL(s, m, EBUSY, "job queue '%s' still has %ld jobs",
                           name, q->njobs);
    store_object_delete(s->st, "queue", name);
    queue_free(s, q);
    return CLIENT_REPLY(s, m, json_object());
}

int queue_node_update(struct server *s, struct proto_msg *m,
                      const struct requester *who)
{
    const char *name = json_string_value(json_object_get(m->body, "name"));
    const char *ce = json_string_value(json_object_get(m->body, "ce"));
    json_t *fv = json_object_get(m->body, "features");
    const char *features = json_string_value(fv);
    const char *state = json_string_value(json_object_get(m->body, "state"));
    const char *reason = json_string_value(json_object_get(m->body, "reason"));
    struct node *n;

    if (!name || strlen(name) > 63 || !(n = nodes_find(s, name)))
        return CLIENT_FAIL(s, m, ENOENT, "unknown node '%.64s'",
                           name ? name : "?");
    if (!ce && !fv && !state)
        return CLIENT_FAIL(s, m, EINVAL,
                           "node.update: nothing to change (ce, features, "
                           "state)");
    if (json_object_get(m->body, "state")
        && (!state
            || (strcmp(state, "drain") && strcmp(state, "down")
                && strcmp(state, "resume"))))
        return CLIENT_FAIL(s, m, EINVAL,
                           "invalid state: drain, down or resume");
    if (json_object_get(m->body, "reason")
        && (!reason || strlen(reason) > 120 || !util_printable(reason)))
        return CLIENT_FAIL(s, m, EINVAL,
                           "invalid reason: up to 120 printable characters");
    if ((json_object_get(m->body, "ce") && !ce) || (ce && !ce_find(s, ce)))
        return CLIENT_FAIL(s, m, ENOENT, "unknown compute environment '%s'",
                           ce ? ce : "?");
    /* "" clears the features. */
    if (fv
        && (!features || (*features && !features_list_ok(features))
            || strlen(features) >= sizeof(n->features)))
        return CLIENT_FAIL(s, m, EINVAL,
                           "invalid features: names of letters, digits and "
                           "._- separated by commas");
    if (ce || fv)
        nodes_set(s, n, ce, features);
    if (state)
        nodes_admin(s, n, state, reason);
    return CLIENT_REPLY(s, m,
                        json_pack("{s:s, s:s, s:s, s:s}", "name", n->name, "ce",
                                  n->ce, "features", n->features, "state",
                                  nodes_state_name(n)));
}

/* Cancel the RUNNABLE jobs of q whose queue's jobStateTimeLimitActions
 * say so.  Only the queue's runnable list is looked at. */
static void stuck_in(struct server *s, struct queue *q, double now)
{
    size_t n = 0, cap = 0;
    struct job **all, *job;

    for (job = q->qhead; job; job = job->qnext)
        cap++;
    if (cap == 0 || !(all = malloc(cap * sizeof(*all))))
        return;
    /* A snapshot: a cancel takes the job off the list. */
    for (job = q->qhead; job && n < cap; job = job->qnext)
        all[n++] = job;
    for (size_t k = 0; k < n; k++) {
        size_t i;
        json_t *a;
        job = all[k];
        if (job->state != JOB_RUNNABLE || job->runnable_since <= 0)
            continue;
        json_array_foreach (q->actions, i, a) {
            double max = (double)json_integer_value(
                json_object_get(a, "maxTimeSeconds"));
            const char *reason =
                json_string_value(json_object_get(a, "reason"));
            if (now - job->runnable_since < max)
                continue;
            json_t *why = sched_why(s, job);
            const char *code = json_string_value(json_object_get(why, "code"));
            bool match =
                code && (strcmp(reason, code) == 0 || strcmp(reason, "*") == 0);
            json_decref(why);
            if (match) {
                char text[200];
                snprintf(text, sizeof(text),
                         "cancelled: RUNNABLE for more than %.0f s (%s)", max,
                         reason);
                jobs_cancel(s, job, text);
                break;
            }
        }
    }
    free(all);
}

void queue_stuck_jobs(struct server *s)
{
    double now = util_monotonic();

    for (struct queue *q = s->queues; q; q = q->next)
        if (q->actions)
            stuck_in(s, q, now);
}

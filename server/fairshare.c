/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fair-share scheduling policies, in the spirit of AWS Batch's: a policy
 * names share identifiers with weight factors (lower weighs less, so it
 * gets more) and a decay: past usage (cpu-seconds) halves every
 * shareDecaySeconds.  A job queue with a policy starts next the first job
 * of the share whose usage times weight is lowest, counting what the share
 * has running now.  Usage is stored, so it survives a restart. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/jobspec.h"
#include "lib/log.h"
#include "lib/util.h"
#include "server/server.h"

struct policy *policy_find(struct server *s, const char *name)
{
    for (struct policy *p = s->policies; p; p = p->next)
        if (strcmp(p->name, name) == 0)
            return p;
    return NULL;
}

/* AWS: a share identifier in a policy may end with '*' to match many. */
double fairshare_weight(const struct policy *p, const char *share)
{
    size_t i;
    json_t *d;

    json_array_foreach (p->shares, i, d) {
        const char *id =
            json_string_value(json_object_get(d, "shareIdentifier"));
        size_t n = strlen(id);
        if (n && id[n - 1] == '*' ? strncmp(id, share, n - 1) == 0
                                  : strcmp(id, share) == 0) {
            /* AWS's default weight is 1: a share listed without one is not
             * free to use (a weight of 0 made its usage count for nothing). */
            json_t *w = json_object_get(d, "weightFactor");
            return w ? json_number_value(w) : 1.0;
        }
    }
    return 1.0;
}

static int policy_check(const json_t *body, struct kiln_error *err)
{
    json_t *dist = json_object_get(body, "shareDistribution"), *d;
    json_t *decay = json_object_get(body, "shareDecaySeconds");
    const char *key;
    json_t *v;
    size_t i;

    json_object_foreach ((json_t *)body, key, v)
        if (strcmp(key, "name") && strcmp(key, "shareDecaySeconds")
            && strcmp(key, "shareDistribution") && strcmp(key, "version"))
            return errprintf(
                err, "invalid scheduling policy: unknown field '%.32s'", key);
    if (decay
        && (!json_is_integer(decay) || json_integer_value(decay) < 0
            || json_integer_value(decay) > 604800))
        return errprintf(err, "invalid shareDecaySeconds: 0-604800");
    if (!json_is_array(dist) || json_array_size(dist) > 500)
        return errprintf(
            err, "invalid shareDistribution: an array of at most 500 shares");
    json_array_foreach (dist, i, d) {
        const char *id;
        double w = 1;
        json_error_t jerr;
        if (json_unpack_ex(d, &jerr, JSON_STRICT, "{s:s, s?F}",
                           "shareIdentifier", &id, "weightFactor", &w)
            < 0)
            return errprintf(err, "invalid shareDistribution[%zu]: %s", i,
                             jerr.text);
        if (strlen(id) == 0 || strlen(id) > 255
            || (strchr(id, '*') && id[strlen(id) - 1] != '*'))
            return errprintf(
                err, "invalid shareDistribution[%zu].shareIdentifier", i);
        if (!(w >= 0.0001 && w <= 999.9999))
            return errprintf(err,
                             "invalid shareDistribution[%zu].weightFactor: "
                             "0.0001-999.9999",
                             i);
    }
    return 0;
}

static json_t *policy_json(const struct policy *p)
{
    return json_pack("{s:s, s:I, s:O}", "name", p->name, "shareDecaySeconds",
                     (json_int_t)p->decay, "shareDistribution", p->shares);
}

static struct policy *policy_add(struct server *s, const char *name,
                                 const json_t *body)
{
    struct policy *p = calloc(1, sizeof(*p));

    if (!p)
        return NULL;
    snprintf(p->name, sizeof(p->name), "%s", name);
    p->decay =
        (long)json_integer_value(json_object_get(body, "shareDecaySeconds"));
    p->shares = json_deep_copy(json_object_get(body, "shareDistribution"));
    p->next = s->policies;
    s->policies = p;
    return p;
}

/* Usage of one share in one queue. */
static struct share *share_get(struct queue *q, const char *id, bool create)
{
    for (int i = 0; i < q->nshares; i++)
        if (strcmp(q->shares[i].id, id) == 0)
            return &q->shares[i];
    if (!create)
        return NULL;
    struct share *n = realloc(q->shares, (q->nshares + 1) * sizeof(*n));
    if (!n)
        return NULL;
    q->shares = n;
    n = &q->shares[q->nshares++];
    memset(n, 0, sizeof(*n));
    snprintf(n->id, sizeof(n->id), "%s", id);
    return n;
}

/* Past usage decayed to now; a decay of 0 is AWS's default, 600 s. */
static double decayed(const struct policy *p, const struct share *sh,
                      double now)
{
    double half = p && p->decay > 0 ? (double)p->decay : 600;
    return sh->usage * pow(0.5, (now - sh->when) / half);
}

void fairshare_charge(struct server *s, struct job *job)
{
    struct queue *q = job->queue;
    struct policy *p = q && q->policy[0] ? policy_find(s, q->policy) : NULL;
    struct share *sh;
    double now = util_now();

    if (!p || !job->spec.share_id || job->start_time <= 0)
        return;
    if (!(sh = share_get(q, job->spec.share_id, true)))
        return;
    sh->usage = decayed(p, sh, now)
                + jobspec_cpus(&job->spec) * (now - job->start_time);
    sh->when = now;
    char key[200];
    snprintf(key, sizeof(key), "%s/%s", q->name, sh->id);
    json_t *o = json_pack("{s:f, s:f}", "usage", sh->usage, "time", sh->when);
    store_object_put(s->st, "usage", key, o);
    json_decref(o);
}

struct running_ctx {
    struct queue *q;
    double now;
};

static void add_running(struct server *s, struct job *job, void *arg)
{
    struct running_ctx *c = arg;
    struct share *sh;

    if (job->queue != c->q || !job->spec.share_id
        || (job->state != JOB_STARTING && job->state != JOB_RUNNING))
        return;
    if ((sh = share_get(c->q, job->spec.share_id, true))) {
        long cpus = jobspec_cpus(&job->spec);
        /* What runs counts by its cores now (so that starts alternate)
         * and by what it has used so far. */
        sh->running +=
            cpus
            + (job->start_time > 0 ? cpus * (c->now - job->start_time) : 0);
    }
}

struct job *fairshare_next(struct server *s, struct queue *q,
                           struct job *skip_before)
{
    struct policy *p = policy_find(s, q->policy);
    double now = util_now(), best_key = 0;
    struct job *best = NULL;

    for (int i = 0; i < q->nshares; i++)
        q->shares[i].running = 0;
    struct running_ctx c = { q, now };
    nodes_foreach_running(s, add_running, &c);
    /* The first job of each share, in queue order, competes. */
    for (struct job *j = q->qhead; j; j = j->qnext) {
        if (j == skip_before)
            break;
        struct share *sh =
            share_get(q, j->spec.share_id ? j->spec.share_id : "", true);
        if (!sh || sh->seen_first == 1)
            continue;
        sh->seen_first = 1;
        double key =
            (decayed(p, sh, now) + sh->running) * fairshare_weight(p, sh->id);
        if (!best || key < best_key) {
            best = j;
            best_key = key;
        }
    }
    for (int i = 0; i < q->nshares; i++)
        q->shares[i].seen_first = 0;
    return best;
}

static int load_policy(const char *name, json_t *body, void *arg)
{
    return policy_add(arg, name, body) ? 0 : -1;
}

static int load_usage(const char *key, json_t *body, void *arg)
{
    struct server *s = arg;
    const char *slash = strchr(key, '/');
    char qname[64];
    struct queue *q;
    struct share *sh;

    if (!slash || slash - key >= (long)sizeof(qname))
        return 0;
    snprintf(qname, sizeof(qname), "%.*s", (int)(slash - key), key);
    if (!(q = queue_find(s, qname)) || !(sh = share_get(q, slash + 1, true)))
        return 0;
    sh->usage = json_number_value(json_object_get(body, "usage"));
    sh->when = json_number_value(json_object_get(body, "time"));
    return 0;
}

int fairshare_load_policies(struct server *s)
{
    return store_foreach_object(s->st, "policy", load_policy, s);
}

int fairshare_load(struct server *s)
{
    return store_foreach_object(s->st, "usage", load_usage, s);
}

void fairshare_destroy_all(struct server *s)
{
    while (s->policies) {
        struct policy *p = s->policies;
        s->policies = p->next;
        json_decref(p->shares);
        free(p);
    }
}

#define BAD_NAME "invalid name: use 1-63 letters, digits and ._-+@:,"

int policy_list(struct server *s, struct proto_msg *m,
                const struct requester *who)
{
    json_t *a = json_array();

    for (struct policy *p = s->policies; p; p = p->next)
        json_array_append_new(a, policy_json(p));
    return CLIENT_REPLY(s, m, json_pack("{s:o}", "policies", a));
}

int policy_create(struct server *s, struct proto_msg *m,
                  const struct requester *who)
{
    const char *name = json_string_value(json_object_get(m->body, "name"));
    struct kiln_error err;
    struct policy *p;

    if (!jobspec_name_ok(name, 63))
        return CLIENT_FAIL(s, m, EINVAL, BAD_NAME);
    if (policy_find(s, name))
        return CLIENT_FAIL(s, m, EEXIST, "scheduling policy '%s' exists", name);
    if (policy_check(m->body, &err) < 0)
        return CLIENT_FAIL(s, m, EINVAL, "%s", err.text);
    if (!(p = policy_add(s, name, m->body)))
        return CLIENT_FAIL(s, m, ENOMEM, "out of memory");
    json_t *o = policy_json(p);
    store_object_put(s->st, "policy", name, o);
    return CLIENT_REPLY(s, m, json_pack("{s:o}", "policy", o));
}

int policy_delete(struct server *s, struct proto_msg *m,
                  const struct requester *who)
{
    const char *name = json_string_value(json_object_get(m->body, "name"));
    struct policy *p;

    if (!jobspec_name_ok(name, 63))
        return CLIENT_FAIL(s, m, EINVAL, BAD_NAME);
    if (!(p = policy_find(s, name)))
        return CLIENT_FAIL(s, m, ENOENT, "unknown scheduling policy '%s'",
                           name);
    for (struct queue *q = s->queues; q; q = q->next)
        if (!strcmp(q->policy, name))
            return CLIENT_FAIL(
                s, m, EBUSY, "scheduling policy '%s' is used by job queue '%s'",
                name, q->name);
    store_object_delete(s->st, "policy", name);
    for (struct policy **pp = &s->policies; *pp; pp = &(*pp)->next)
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    json_decref(p->shares);
    free(p);
    return CLIENT_REPLY(s, m, json_object());
}

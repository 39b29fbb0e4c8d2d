/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Compute environments, as AWS Batch has them: a named set of nodes,
 * unmanaged (nodes join it by themselves) or managed (elastic.c launches
 * and retires them).  Kept in the store's objects table as their
 * CreateComputeEnvironment body (lib/cespec.h), and may be declared in
 * the configuration file ([ce NAME]), which wins at server start.  The
 * "default" environment always exists. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/jobspec.h"
#include "lib/log.h"
#include "lib/util.h"
#include "server/server.h"

#define BAD_NAME "invalid name: use 1-63 letters, digits and ._-+@:,"

struct ce *ce_find(struct server *s, const char *name)
{
    for (struct ce *c = s->ces; c; c = c->next)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

static struct ce *ce_new(struct server *s, const char *name)
{
    struct ce *c = calloc(1, sizeof(*c)), **pp = &s->ces;

    if (!c)
        return NULL;
    snprintf(c->name, sizeof(c->name), "%s", name);
    c->enabled = true;
    c->body = json_pack("{s:s, s:s}", "type", "UNMANAGED", "state", "ENABLED");
    snprintf(c->status, sizeof(c->status), "VALID");
    while (*pp && strcmp((*pp)->name, name) < 0)
        pp = &(*pp)->next;
    c->next = *pp;
    *pp = c;
    return c;
}

static void ce_free(struct server *s, struct ce *c)
{
    for (struct ce **pp = &s->ces; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    json_decref(c->body);
    free(c);
}

/* The body as it is kept: the request's fields, without the name and
 * the protocol version. */
static json_t *normalized(const json_t *body)
{
    json_t *o = json_deep_copy(body);

    if (o) {
        json_object_del(o, "name");
        json_object_del(o, "computeEnvironmentName");
        json_object_del(o, "version");
    }
    return o;
}

/* Check body (a whole one) and make it c's.  An update may not change
 * what kind of environment it is. */
static int ce_apply(struct server *s, struct ce *c, json_t *body, bool update,
                    struct kiln_error *err)
{
    struct cespec spec;

    if (cespec_check(body, &spec, err) < 0)
        return -1;
    if (update
        && (spec.managed != c->spec.managed
            || spec.provider != c->spec.provider))
        return errprintf(err,
                         "compute environment '%s' is %s (%s): its type and "
                         "provider cannot change; make a new one",
                         c->name, c->spec.managed ? "MANAGED" : "UNMANAGED",
                         cespec_provider_name(c->spec.provider));
    json_t *kept = normalized(body);
    if (!kept)
        return errprintf(err, "out of memory");
    json_decref(c->body);
    c->body = kept;
    c->spec = spec;
    c->enabled = spec.enabled;
    elastic_ce_changed(s, c);
    return 0;
}

/* What kiln ce list shows. */
static json_t *ce_json(const struct ce *c)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "name", c->name, "state",
                          c->enabled ? "ENABLED" : "DISABLED", "type",
                          c->spec.managed ? "MANAGED" : "UNMANAGED", "status",
                          c->status);

    if (o && c->spec.managed) {
        json_object_set_new(
            o, "provider", json_string(cespec_provider_name(c->spec.provider)));
        json_object_set_new(o, "minvCpus", json_integer(c->spec.min_vcpus));
        json_object_set_new(o, "desiredvCpus", json_integer(c->desired));
        json_object_set_new(o, "maxvCpus", json_integer(c->spec.max_vcpus));
    }
    if (o && c->status_reason[0])
        json_object_set_new(o, "statusReason", json_string(c->status_reason));
    return o;
}

/* One item of DescribeComputeEnvironments, with Kiln's "kiln" object
 * (its settings, instances and events) beside AWS's fields. */
static json_t *ce_describe(struct server *s, const struct ce *c)
{
    json_t *o = json_deep_copy(c->body), *cr;

    if (!o)
        return NULL;
    json_object_set_new(o, "computeEnvironmentName", json_string(c->name));
    json_object_set_new(
        o, "computeEnvironmentArn",
        json_sprintf("arn:kiln:batch:::compute-environment/%s", c->name));
    json_object_set_new(o, "state",
                        json_string(c->enabled ? "ENABLED" : "DISABLED"));
    json_object_set_new(o, "status", json_string(c->status));
    if (c->status_reason[0])
        json_object_set_new(o, "statusReason", json_string(c->status_reason));
    if ((cr = json_object_get(o, "computeResources"))) {
        json_object_set_new(cr, "desiredvCpus", json_integer(c->desired));
        if (!json_object_get(cr, "minvCpus"))
            json_object_set_new(cr, "minvCpus", json_integer(0));
    }
    if (c->spec.managed) {
        json_t *k = json_object_get(o, "kiln");
        if (!k)
            json_object_set_new(o, "kiln", k = json_object());
        json_object_set_new(
            k, "provider", json_string(cespec_provider_name(c->spec.provider)));
        json_object_set_new(k, "idleTimeoutSeconds",
                            json_integer(c->spec.idle_timeout));
        json_object_set_new(k, "bootTimeoutSeconds",
                            json_integer(c->spec.boot_timeout));
        json_t *d = elastic_describe(s, c);
        json_object_update(k, d);
        json_decref(d);
    }
    return o;
}

static int save_ce(struct server *s, const struct ce *c)
{
    return store_object_put(s->st, "ce", c->name, c->body);
}

static int load_ce(const char *name, json_t *body, void *arg)
{
    struct server *s = arg;
    struct kiln_error err;
    struct ce *c = ce_new(s, name);

    if (!c)
        return -1;
    if (ce_apply(s, c, body, false, &err) < 0)
        log_msg(LOG_ERR, "compute environment '%s' in the store: %s", name,
                err.text);
    return 0;
}

/* A [ce NAME] section's settings (text, by option name) as a body. */
static json_t *declared_body(const json_t *settings, struct kiln_error *err)
{
    json_t *body = json_object(), *v;
    const char *key;

    json_object_foreach ((json_t *)settings, key, v) {
        int rc = json_is_string(v)
                     ? cespec_option(body, key, json_string_value(v), err)
                     : 0;
        if (rc == 0)
            errprintf(err, "unknown setting '%s'", key);
        if (rc <= 0) {
            json_decref(body);
            return NULL;
        }
    }
    return body;
}

int ce_load(struct server *s, const json_t *declared)
{
    struct kiln_error err;
    const char *name;
    json_t *settings;

    if (store_foreach_object(s->st, "ce", load_ce, s) < 0
        || store_begin(s->st) < 0)
        return -1;
    if (!ce_find(s, "default"))
        save_ce(s, ce_new(s, "default"));
    json_object_foreach (json_object_get(declared, "ce"), name, settings) {
        struct ce *c = ce_find(s, name);
        json_t *body = NULL;
        bool ok = jobspec_name_ok(name, 63)
                  && (body = declared_body(settings, &err))
                  && ((c && ce_apply(s, c, body, false, &err) == 0)
                      || (!c && (c = ce_new(s, name))
                          && ce_apply(s, c, body, false, &err) == 0));
        json_decref(body);
        if (!ok) {
            log_msg(LOG_ERR, "config: compute environment '%s': %s", name,
                    jobspec_name_ok(name, 63) ? err.text : "invalid name");
            return -1;
        }
        save_ce(s, c);
    }
    return store_commit(s->st);
}

void ce_destroy_all(struct server *s)
{
    while (s->ces)
        ce_free(s, s->ces);
}

/* The name a request gives (name, or AWS's computeEnvironmentName). */
static const char *name_of(const struct proto_msg *m)
{
    const char *name = json_string_value(json_object_get(m->body, "name"));
    const char *aws =
        json_string_value(json_object_get(m->body, "computeEnvironmentName"));

    if (!name || (aws && strcmp(aws, name)))
        name = name ? NULL : aws;
    return jobspec_name_ok(name, 63) ? name : NULL;
}

/* The existing environment a request names, or NULL once the client was
 * told what is wrong. */
static struct ce *named(struct server *s, struct proto_msg *m)
{
    const char *name = name_of(m);
    struct ce *c = name ? ce_find(s, name) : NULL;

    if (!name)
        CLIENT_FAIL(s, m, EINVAL, BAD_NAME);
    else if (!c)
        CLIENT_FAIL(s, m, ENOENT, "unknown compute environment '%s'", name);
    return c;
}

/* The names of c's nodes. */
static json_t *nodes_of(struct server *s, const struct ce *c)
{
    json_t *nodes = json_array();

    for (struct node *n = s->nodes; n; n = n->next)
        if (strcmp(n->ce, c->name) == 0)
            json_array_append_new(nodes, json_string(n->name));
    return nodes;
}

static int ce_saved(struct server *s, struct proto_msg *m, struct ce *c)
{
    save_ce(s, c);
    s->sched_needed = true;
    return CLIENT_REPLY(s, m, json_pack("{s:o}", "ce", ce_json(c)));
}

int ce_list(struct server *s, struct proto_msg *m, const struct requester *who)
{
    json_t *a = json_array();

    for (struct ce *c = s->ces; c; c = c->next) {
        json_t *o = ce_json(c);
        json_object_set_new(o, "nodes", nodes_of(s, c));
        json_array_append_new(a, o);
    }
    return CLIENT_REPLY(s, m, json_pack("{s:o}", "ces", a));
}

int ce_show(struct server *s, struct proto_msg *m, const struct requester *who)
{
    struct ce *c = named(s, m);

    if (!c)
        return -1; /* named() answered */
    json_t *item = ce_describe(s, c);
    json_object_set_new(item, "nodes", nodes_of(s, c));
    return CLIENT_REPLY(s, m,
                        json_pack("{s:[o]}", "computeEnvironments", item));
}

int ce_create(struct server *s, struct proto_msg *m,
              const struct requester *who)
{
    const char *name = name_of(m);
    struct kiln_error err;
    struct ce *c;

    if (!name)
        return CLIENT_FAIL(s, m, EINVAL, BAD_NAME);
    if (ce_find(s, name))
        return CLIENT_FAIL(s, m, EEXIST, "compute environment '%s' exists",
                           name);
    if (!(c = ce_new(s, name)))
        return CLIENT_FAIL(s, m, ENOMEM, "out of memory");
    if (ce_apply(s, c, m->body, false, &err) < 0) {
        ce_free(s, c);
        return CLIENT_FAIL(s, m, EINVAL, "%s", err.text);
    }
    return ce_saved(s, m, c);
}

int ce_update(struct server *s, struct proto_msg *m,
              const struct requester *who)
{
    struct kiln_error err;
    struct ce *c = named(s, m);

    if (!c)
        return -1; /* named() answered */
    json_t *merged = cespec_merge(c->body, m->body);
    json_object_del(merged, "name");
    int rc = merged ? ce_apply(s, c, merged, true, &err)
                    : errprintf(&err, "out of memory");
    json_decref(merged);
    if (rc < 0)
        return CLIENT_FAIL(s, m, EINVAL, "%s", err.text);
    return ce_saved(s, m, c);
}

int ce_delete(struct server *s, struct proto_msg *m,
              const struct requester *who)
{
    struct ce *c = named(s, m);
    char why[200];

    if (!c)
        return -1; /* named() answered */
    const char *name = c->name;
    if (strcmp(name, "default") == 0)
        return CLIENT_FAIL(s, m, EBUSY,
                           "the default compute environment cannot be deleted");
    for (struct queue *q = s->queues; q; q = q->next)
        if (queue_has_ce(q, c))
            return CLIENT_FAIL(s, m, EBUSY,
                               "compute environment '%s' is used by job "
                               "queue '%s'",
                               name, q->name);
    if (elastic_ce_busy(s, c, why, sizeof(why)))
        return CLIENT_FAIL(s, m, EBUSY, "compute environment '%s' %s", name,
                           why);
    for (struct node *n = s->nodes; n; n = n->next)
        if (strcmp(n->ce, name) == 0)
            return CLIENT_FAIL(s, m, EBUSY,
                               "compute environment '%s' still has node '%s'",
                               name, n->name);
    store_object_delete(s->st, "ce", name);
    elastic_ce_deleted(s, c);
    ce_free(s, c);
    return CLIENT_REPLY(s, m, json_object());
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Job definitions: registered revisions of AWS-Batch-shaped JSON, kept in
 * the store's objects table as "NAME:REVISION". */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/jobdef.h"
#include "lib/jobspec.h"
#include "server/server.h"

/* Every stored revision matching name (or all, when name is NULL). */
struct scan {
    const char *name;
    json_t *found; /* array of stored bodies */
};

static int scan_one(const char *key, json_t *body, void *arg)
{
    struct scan *sc = arg;
    const char *n = json_string_value(json_object_get(body, "name"));

    if (!sc->name || (n && strcmp(n, sc->name) == 0))
        json_array_append(sc->found, body);
    return 0;
}

static json_t *revisions(struct server *s, const char *name)
{
    struct scan sc = { name, json_array() };
    char prefix[200];

    /* Only NAME's rows ("NAME:REVISION"), not every definition's. */
    snprintf(prefix, sizeof(prefix), "%s:", name ? name : "");
    if (store_foreach_object_prefix(s->st, "jobdef", name ? prefix : NULL,
                                    scan_one, &sc)
        < 0) {
        json_decref(sc.found);
        return NULL;
    }
    return sc.found;
}

/* NAME (the latest ACTIVE revision) or NAME:REV; a new reference or NULL. */
static json_t *lookup(struct server *s, const char *ref, char *why, size_t len)
{
    char name[160];
    const char *colon = strchr(ref, ':');
    long rev = 0;
    json_t *all, *v, *best = NULL;
    size_t i;

    snprintf(name, sizeof(name), "%.*s",
             colon ? (int)(colon - ref) : (int)strlen(ref), ref);
    if (colon) {
        char *end;
        rev = strtol(colon + 1, &end, 10);
        if (rev <= 0 || *end) {
            snprintf(why, len, "invalid job definition revision in '%.64s'",
                     ref);
            return NULL;
        }
    }
    if (!(all = revisions(s, name))) {
        snprintf(why, len, "cannot read the job definitions");
        return NULL;
    }
    json_array_foreach (all, i, v) {
        long r = (long)json_integer_value(json_object_get(v, "revision"));
        const char *st = json_string_value(json_object_get(v, "status"));
        if (rev ? r == rev
                : strcmp(st, "ACTIVE") == 0
                      && (!best
                          || r > json_integer_value(
                                 json_object_get(best, "revision"))))
            best = v;
    }
    if (best)
        json_incref(best);
    else
        snprintf(why, len, "unknown job definition '%.64s'%s", ref,
                 rev ? "" : " (or no ACTIVE revision)");
    json_decref(all);
    return best;
}

/* A definition's revisions belong to who registered the first; others
 * are refused (an admin may change any).  Definitions older than owners
 * are everyone's. */
static bool owned(struct server *s, struct proto_msg *m,
                  const struct requester *who, const json_t *rev)
{
    json_t *uid = json_object_get(rev, "owner_uid");

    if (!uid || identity_owns(who, (uint32_t)json_integer_value(uid)))
        return true;
    CLIENT_FAIL(s, m, EPERM,
                "permission denied: job definition '%s' belongs to %s",
                json_string_value(json_object_get(rev, "name")),
                json_string_value(json_object_get(rev, "owner")));
    return false;
}

int jobdefs_register(struct server *s, struct proto_msg *m,
                     const struct requester *who)
{
    json_t *def = json_object_get(m->body, "definition"), *all, *v, *body;
    struct kiln_error err;
    const char *name;
    long rev = 0;
    size_t i;
    char key[200];

    if (jobdef_check(def, &err) < 0)
        return CLIENT_FAIL(s, m, EINVAL, "%s", err.text);
    name = json_string_value(json_object_get(def, "jobDefinitionName"));
    if (!(all = revisions(s, name)))
        return CLIENT_FAIL(s, m, EIO, "cannot read the job definitions");
    json_array_foreach (all, i, v) {
        if (json_integer_value(json_object_get(v, "revision")) > rev)
            rev = (long)json_integer_value(json_object_get(v, "revision"));
        if (!owned(s, m, who, v)) {
            json_decref(all);
            return -1;
        }
    }
    json_decref(all);
    rev++;
    snprintf(key, sizeof(key), "%s:%ld", name, rev);
    body = json_pack("{s:s, s:I, s:s, s:O, s:s, s:I}", "name", name, "revision",
                     (json_int_t)rev, "status", "ACTIVE", "definition", def,
                     "owner", who->user, "owner_uid", (json_int_t)who->uid);
    store_object_put(s->st, "jobdef", key, body);
    json_decref(body);
    return CLIENT_REPLY(s, m,
                        json_pack("{s:s, s:I}", "jobDefinitionName", name,
                                  "revision", (json_int_t)rev));
}

int jobdefs_show(struct server *s, struct proto_msg *m,
                 const struct requester *who)
{
    const char *ref = json_string_value(json_object_get(m->body, "name"));
    char why[200];
    json_t *found;

    if (!ref || strlen(ref) > 150)
        return CLIENT_FAIL(
            s, m, EINVAL,
            "invalid request: 'name' must be NAME or NAME:REVISION");
    if (!(found = lookup(s, ref, why, sizeof(why))))
        return CLIENT_FAIL(s, m, ENOENT, "%s", why);
    return CLIENT_REPLY(s, m, json_pack("{s:o}", "jobdef", found));
}

int jobdefs_list(struct server *s, struct proto_msg *m,
                 const struct requester *who)
{
    const char *name = json_string_value(json_object_get(m->body, "name"));
    bool all_status = json_is_true(json_object_get(m->body, "all"));
    json_t *all = revisions(s, name), *out = json_array(), *v;
    size_t i;

    if (!all) {
        json_decref(out);
        return CLIENT_FAIL(s, m, EIO, "cannot read the job definitions");
    }
    json_array_foreach (all, i, v) {
        const char *st = json_string_value(json_object_get(v, "status"));
        if (!all_status && strcmp(st, "ACTIVE") != 0)
            continue;
        json_array_append_new(
            out, json_pack("{s:O, s:O, s:O, s:O}", "jobDefinitionName",
                           json_object_get(v, "name"), "revision",
                           json_object_get(v, "revision"), "status",
                           json_object_get(v, "status"), "type",
                           json_object_get(json_object_get(v, "definition"),
                                           "type")));
    }
    json_decref(all);
    return CLIENT_REPLY(s, m, json_pack("{s:o}", "jobdefs", out));
}

int jobdefs_deregister(struct server *s, struct proto_msg *m,
                       const struct requester *who)
{
    const char *ref = json_string_value(json_object_get(m->body, "name"));
    char why[200], key[200];
    json_t *found;

    if (!ref || !strchr(ref, ':') || strlen(ref) > 150)
        return CLIENT_FAIL(s, m, EINVAL,
                           "invalid request: deregister takes NAME:REVISION");
    if (!(found = lookup(s, ref, why, sizeof(why))))
        return CLIENT_FAIL(s, m, ENOENT, "%s", why);
    if (!owned(s, m, who, found)) {
        json_decref(found);
        return -1;
    }
    json_object_set_new(found, "status", json_string("INACTIVE"));
    snprintf(key, sizeof(key), "%s:%lld",
             json_string_value(json_object_get(found, "name")),
             (long long)json_integer_value(json_object_get(found, "revision")));
    store_object_put(s->st, "jobdef", key, found);
    json_decref(found);
    return CLIENT_REPLY(s, m, json_object());
}

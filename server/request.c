/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Every message the server takes, in one table: its direction, who may
 * send it, the fields its body may have, and the handler.  The version,
 * the sender's role and the fields are checked here, once, before any
 * handler runs; tests/unit/test_protocol.c checks the table against
 * doc/protocol.md. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/jsonfields.h"
#include "lib/log.h"
#include "lib/util.h"
#include "server/server.h"

#define V PROTO_VERSION_FIELD
#define FIELDS(...) ((const struct json_field[]){ V, __VA_ARGS__, { NULL } })

static const struct json_field no_fields[] = { V, { NULL } };
static const struct json_field id_fields[] = { V,
                                               { "id", JSON_FIELD_ID, true },
                                               { NULL } };
static const struct json_field ids_fields[] = {
    V,
    { "ids", JSON_ARRAY, true },
    { "reason", JSON_STRING, false },
    { NULL },
};
static const struct json_field ids_only_fields[] = {
    V,
    { "ids", JSON_ARRAY, true },
    { NULL },
};
static const struct json_field name_fields[] = { V,
                                                 { "name", JSON_STRING, true },
                                                 { NULL } };
static const struct json_field job_list_fields[] = {
    V,
    { "brief", JSON_TRUE, false },
    { NULL },
};
static const struct json_field list_fields[] = {
    V,
    { "name", JSON_STRING, false },
    { "all", JSON_TRUE, false },
    { NULL },
};
static const struct json_field queue_fields[] = {
    V,
    { "name", JSON_STRING, true },
    { "priority", JSON_INTEGER, false },
    { "ces", JSON_ARRAY, false },
    { "state", JSON_STRING, false },
    { "policy", JSON_STRING, false },
    { "jobStateTimeLimitActions", JSON_ARRAY, false },
    { NULL },
};
/* What lib/cespec checks, field by field, inside. */
static const struct json_field ce_fields[] = {
    V,
    { "name", JSON_STRING, false },
    { "computeEnvironmentName", JSON_STRING, false },
    { "state", JSON_STRING, false },
    { "type", JSON_STRING, false },
    { "computeResources", JSON_OBJECT, false },
    { "serviceRole", JSON_STRING, false },
    { "tags", JSON_OBJECT, false },
    { "kiln", JSON_OBJECT, false },
    { NULL },
};
static const struct json_field exec_end_fields[] = {
    V,
    { "exec", JSON_INTEGER, true },
    { "status", JSON_INTEGER, true },
    { "error", JSON_STRING, false },
    { NULL },
};
static const struct json_field job_attempt_fields[] = {
    V,
    { "id", JSON_INTEGER, true },
    { "attempt", JSON_INTEGER, true },
    { NULL },
};

#define CLIENT(type, role, fields, fn)                     \
    {                                                      \
        { type, PROTO_CLIENT_REQ, role, fields }, fn, NULL \
    }
#define WORKER(type, dir, role, fields, fn)   \
    {                                         \
        { type, dir, role, fields }, NULL, fn \
    }

const struct request requests[] = {
    CLIENT("server.info", PROTO_ANYONE, no_fields, api_server_info),
    CLIENT("job.submit", PROTO_USER, FIELDS({ "job", JSON_OBJECT, true }),
           api_job_submit),
    CLIENT("job.list", PROTO_USER, job_list_fields, api_job_list),
    CLIENT("job.show", PROTO_USER, id_fields, api_job_show),
    CLIENT("job.cancel", PROTO_USER, ids_fields, api_job_cancel),
    CLIENT("job.terminate", PROTO_USER, ids_fields, api_job_terminate),
    CLIENT("job.hold", PROTO_USER, ids_only_fields, api_job_hold),
    CLIENT("job.release", PROTO_USER, ids_only_fields, api_job_release),
    CLIENT("job.history", PROTO_USER,
           FIELDS({ "since", JSON_FIELD_NUMBER, false },
                  { "user", JSON_STRING, false },
                  { "limit", JSON_INTEGER, false },
                  { "next_token", JSON_STRING, false }),
           api_job_history),
    CLIENT("job.wait", PROTO_USER, id_fields, api_job_wait),
    CLIENT("node.list", PROTO_USER, FIELDS({ "name", JSON_STRING, false }),
           api_node_list),
    CLIENT("node.update", PROTO_ADMIN,
           FIELDS({ "name", JSON_STRING, true }, { "ce", JSON_STRING, false },
                  { "features", JSON_STRING, false },
                  { "state", JSON_STRING, false },
                  { "reason", JSON_STRING, false }),
           queue_node_update),
    CLIENT("queue.create", PROTO_ADMIN, queue_fields, queue_create),
    CLIENT("queue.update", PROTO_ADMIN, queue_fields, queue_update),
    CLIENT("queue.delete", PROTO_ADMIN, name_fields, queue_delete),
    CLIENT("queue.list", PROTO_USER, no_fields, queue_list),
    CLIENT("ce.create", PROTO_ADMIN, ce_fields, ce_create),
    CLIENT("ce.update", PROTO_ADMIN, ce_fields, ce_update),
    CLIENT("ce.delete", PROTO_ADMIN, name_fields, ce_delete),
    CLIENT("ce.list", PROTO_USER, no_fields, ce_list),
    CLIENT("ce.show", PROTO_USER, name_fields, ce_show),
    CLIENT("node.join", PROTO_ANYONE,
           FIELDS({ "name", JSON_STRING, true }, { "token", JSON_STRING, true },
                  { "key", JSON_STRING, false }),
           elastic_join),
    CLIENT("policy.create", PROTO_ADMIN,
           FIELDS({ "name", JSON_STRING, true },
                  { "shareDistribution", JSON_ARRAY, true },
                  { "shareDecaySeconds", JSON_INTEGER, false }),
           policy_create),
    CLIENT("policy.list", PROTO_USER, no_fields, policy_list),
    CLIENT("policy.delete", PROTO_ADMIN, name_fields, policy_delete),
    CLIENT("jobdef.register", PROTO_USER,
           FIELDS({ "definition", JSON_OBJECT, true }), jobdefs_register),
    CLIENT("jobdef.list", PROTO_USER, list_fields, jobdefs_list),
    CLIENT("jobdef.show", PROTO_USER, name_fields, jobdefs_show),
    CLIENT("jobdef.deregister", PROTO_USER, name_fields, jobdefs_deregister),
    CLIENT("job.exec", PROTO_USER,
           FIELDS({ "id", JSON_INTEGER, true }, { "token", JSON_STRING, true },
                  { "node", JSON_STRING, true }, { "argv", JSON_ARRAY, true }),
           relay_job_exec),
    CLIENT("exec.input", PROTO_USER,
           FIELDS({ "exec", JSON_INTEGER, true },
                  { "data", JSON_STRING, false }, { "eof", JSON_TRUE, false }),
           relay_to_node),
    CLIENT("exec.signal", PROTO_USER,
           FIELDS({ "exec", JSON_INTEGER, true },
                  { "signal", JSON_INTEGER, true }),
           relay_to_node),
    WORKER("node.hello", PROTO_WORKER_MSG, PROTO_PEER,
           FIELDS({ "name", JSON_STRING, true },
                  { "topology", JSON_OBJECT, true },
                  { "jobs", JSON_ARRAY, false }, { "ce", JSON_STRING, false },
                  { "features", JSON_STRING, false },
                  { "address", JSON_STRING, false },
                  { "hostname", JSON_STRING, false },
                  { "runtimes", JSON_ARRAY, false },
                  { "cgroup", JSON_STRING, false }),
           nodes_hello),
    WORKER("node.interrupted", PROTO_WORKER_MSG, PROTO_NODE,
           FIELDS({ "time", JSON_STRING, false }), nodes_interrupted),
    WORKER("node.heartbeat", PROTO_WORKER_MSG, PROTO_NODE, no_fields,
           nodes_heartbeat),
    WORKER("job.started", PROTO_WORKER_MSG, PROTO_NODE, job_attempt_fields,
           nodes_job_started),
    WORKER("job.end", PROTO_WORKER_MSG, PROTO_NODE,
           FIELDS({ "id", JSON_INTEGER, true },
                  { "attempt", JSON_INTEGER, true },
                  { "exit_code", JSON_INTEGER, true },
                  { "signal", JSON_INTEGER, false },
                  { "reason", JSON_STRING, false },
                  { "start_time", JSON_FIELD_NUMBER, false },
                  { "end_time", JSON_FIELD_NUMBER, false },
                  { "user_cpu", JSON_FIELD_NUMBER, false },
                  { "sys_cpu", JSON_FIELD_NUMBER, false },
                  { "max_rss_kib", JSON_INTEGER, false },
                  { "oom_kills", JSON_INTEGER, false }),
           nodes_job_end),
    WORKER("exec.output", PROTO_RELAYED, PROTO_NODE,
           FIELDS({ "exec", JSON_INTEGER, true }, { "fd", JSON_INTEGER, true },
                  { "data", JSON_STRING, true }),
           relay_from_node),
    WORKER("exec.end", PROTO_RELAYED, PROTO_NODE, exec_end_fields,
           relay_from_node),
};
const size_t nrequests = sizeof(requests) / sizeof(requests[0]);

static const struct request *find(const char *type, bool from_client)
{
    for (size_t i = 0; i < nrequests; i++)
        if (strcmp(requests[i].rule.type, type) == 0
            && (requests[i].rule.dir == PROTO_CLIENT_REQ) == from_client)
            return &requests[i];
    return NULL;
}

const struct json_field *request_fields(const char *type)
{
    const struct request *r = find(type, true);
    return r ? r->rule.fields : NULL;
}

void request_from_client(struct server *s, struct proto_msg *m, int batch_index)
{
    const struct request *r = find(m->type, true);
    struct requester who = { .uid = (uint32_t)-1, .gid = (uint32_t)-1 };
    struct kiln_error err;
    int e;

    snprintf(m->from, sizeof(m->from), "an unidentified client");
    /* The version first: a client of another version may not even name
     * its request as we do. */
    if (!r) {
        if ((e = proto_check_version(m, true, &err)) == 0)
            errprintf(&err, "unknown request type '%.64s'", m->type),
                e = EOPNOTSUPP;
        CLIENT_FAIL(s, m, e, "%s", err.text);
        return;
    }
    if ((e = proto_check_version(m, true, &err)) != 0) {
        CLIENT_FAIL(s, m, e, "%s", err.text);
        return;
    }
    if (identity_check(s, m, batch_index, r->rule.role == PROTO_ANYONE, &who)
        < 0)
        return;
    if (who.uid != (uint32_t)-1)
        snprintf(m->from, sizeof(m->from), "%s (uid %u)",
                 who.user[0] ? who.user : "?", (unsigned)who.uid);
    if (r->rule.role == PROTO_ADMIN && !who.admin) {
        CLIENT_FAIL(s, m, EPERM,
                    "permission denied: %s is for root and the admin group%s%s",
                    m->type, s->admin_group[0] ? " " : "", s->admin_group);
        return;
    }
    if ((e = proto_check(&r->rule, m, &err)) != 0) {
        CLIENT_FAIL(s, m, e, "%s", err.text);
        return;
    }
    r->client(s, m, &who);
}

void request_from_worker(struct server *s, struct proto_msg *m)
{
    const struct request *r = find(m->type, false);
    struct kiln_error err;
    struct node *n = NULL;
    int e;

    snprintf(m->from, sizeof(m->from), "worker '%.*s'", (int)m->idlen,
             (const char *)m->id);
    util_utf8_fix(m->from, 0);
    if (!r) {
        server_reply_error(s, s->workers, m, EOPNOTSUPP,
                           "unknown message type '%.64s'", m->type);
        return;
    }
    /* Only a welcomed node speaks, and only on the connection of its
     * hello; any other is asked to say hello again. */
    if (r->rule.role == PROTO_NODE && !(n = nodes_sender(s, m)))
        return;
    if ((e = proto_check(&r->rule, m, &err)) != 0) {
        server_reply_error(s, s->workers, m, e, "%s", err.text);
        return;
    }
    r->node(s, m, n);
}

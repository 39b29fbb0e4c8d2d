/* SPDX-License-Identifier: GPL-2.0-or-later */
/* kiln exec: a command started on a node of a running job, on behalf of
 * a process of that job that proves it with the attempt's token.  The
 * server relays between the client and the node's worker: the start, the
 * input, signals, the output and the end (doc/protocol.md "job.exec"). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "server/server.h"

enum { EXEC_MAX_ARGV = 4096, EXEC_MAX_DATA = 256 * 1024 };

/* One command started through kiln exec. */
struct sexec {
    int64_t id;
    unsigned char client[KILN_PROTO_MAX_ID]; /* the kiln exec process */
    size_t clientlen;
    int64_t job;
    int attempt;
    uint32_t uid; /* who started it: only they may feed it */
    char node[64];
    struct sexec *next;
};

static struct sexec *find(struct server *s, int64_t id)
{
    for (struct sexec *e = s->execs; e; e = e->next)
        if (e->id == id)
            return e;
    return NULL;
}

static void drop(struct server *s, struct sexec *e)
{
    for (struct sexec **pp = &s->execs; *pp; pp = &(*pp)->next)
        if (*pp == e) {
            *pp = e->next;
            free(e);
            return;
        }
}

/* The exec a client names, if it is that client's. */
static struct sexec *client_exec(struct server *s, struct proto_msg *m,
                                 const struct requester *who)
{
    json_int_t id = json_integer_value(json_object_get(m->body, "exec"));
    struct sexec *e;

    if (!(e = find(s, id)) || e->clientlen != m->idlen
        || memcmp(e->client, m->id, m->idlen) != 0 || e->uid != who->uid) {
        CLIENT_FAIL(s, m, ENOENT, "no such exec");
        return NULL;
    }
    return e;
}

int relay_job_exec(struct server *s, struct proto_msg *m,
                   const struct requester *who)
{
    json_int_t id = json_integer_value(json_object_get(m->body, "id"));
    const char *token = json_string_value(json_object_get(m->body, "token"));
    const char *node = json_string_value(json_object_get(m->body, "node"));
    json_t *argv = json_object_get(m->body, "argv"), *v;
    struct job *job;
    struct jpart *p = NULL;
    struct sexec *e;
    size_t i, bytes = 0;

    if (json_array_size(argv) == 0 || json_array_size(argv) > EXEC_MAX_ARGV)
        return CLIENT_FAIL(s, m, EINVAL,
                           "invalid job.exec: argv must be 1 to %d strings",
                           EXEC_MAX_ARGV);
    json_array_foreach (argv, i, v) {
        if (!json_is_string(v))
            return CLIENT_FAIL(s, m, EINVAL,
                               "invalid job.exec: argv must be strings");
        bytes += json_string_length(v);
    }
    if (bytes > EXEC_MAX_DATA)
        return CLIENT_FAIL(s, m, EINVAL, "invalid job.exec: argv is too long");
    /* Only a process of the job knows its token: anyone else is refused
     * alike, whatever the job's state. */
    job = jobs_find(s, id);
    if (!job || !job->token || strcmp(job->token, token) != 0
        || (who->uid != job->spec.uid && who->uid != 0))
        return CLIENT_FAIL(s, m, EACCES, "job %lld: not a process of this job",
                           (long long)id);
    if (job->state != JOB_RUNNING && job->state != JOB_STARTING)
        return CLIENT_FAIL(s, m, EBUSY, "job %lld is %s", (long long)id,
                           job_state_name(job->state));
    for (int k = 0; k < job->nparts && !p; k++)
        if (strcmp(job->part[k].name, node) == 0)
            p = &job->part[k];
    if (!p)
        return CLIENT_FAIL(s, m, ENOENT,
                           "job %lld does not run on node '%.64s' (it has %s)",
                           (long long)id, node, job->node_name);
    if (p->ended || !p->node || p->node->state != NODE_UP)
        return CLIENT_FAIL(s, m, EBUSY,
                           "job %lld: node %s is not running it now",
                           (long long)id, node);
    if (!(e = calloc(1, sizeof(*e))))
        return CLIENT_FAIL(s, m, ENOMEM, "out of memory");
    e->id = ++s->last_exec;
    memcpy(e->client, m->id, m->idlen);
    e->clientlen = m->idlen;
    e->job = job->id;
    e->attempt = job->attempts;
    e->uid = who->uid;
    snprintf(e->node, sizeof(e->node), "%s", p->name);
    e->next = s->execs;
    s->execs = e;
    nodes_send(s, p->name, "exec.start",
               json_pack("{s:I, s:i, s:I, s:O}", "id", (json_int_t)job->id,
                         "attempt", job->attempts, "exec", (json_int_t)e->id,
                         "argv", argv));
    return CLIENT_REPLY(s, m, json_pack("{s:I}", "exec", (json_int_t)e->id));
}

/* exec.input and exec.signal go on to the node as they are. */
int relay_to_node(struct server *s, struct proto_msg *m,
                  const struct requester *who)
{
    struct sexec *e = client_exec(s, m, who);
    json_t *data = json_object_get(m->body, "data");

    if (!e)
        return -1;
    if (data
        && (!json_is_string(data) || json_string_length(data) > EXEC_MAX_DATA))
        return CLIENT_FAIL(s, m, EINVAL, "invalid %s: data", m->type);
    json_t *body = json_deep_copy(m->body);
    json_object_del(body, "version");
    nodes_send(s, e->node, m->type, body);
    return CLIENT_REPLY(s, m, json_object());
}

/* From a worker: output of an exec, or its end, on to its client.  A
 * worker may only speak of the execs it runs. */
int relay_from_node(struct server *s, struct proto_msg *m, struct node *n)
{
    json_int_t id = json_integer_value(json_object_get(m->body, "exec"));
    struct sexec *e = find(s, id);

    if (!e || strcmp(e->node, n->name) != 0)
        return 0;
    json_t *body = json_deep_copy(m->body);
    json_object_del(body, "version");
    server_send(s, s->clients, e->client, e->clientlen, m->type, body);
    if (strcmp(m->type, "exec.end") == 0)
        drop(s, e);
    return 0;
}

/* A node went down, or its worker started again (its execs' pipes went
 * with the old one): its execs end, with status 255 as ssh's do when the
 * connection is lost. */
void relay_node_down(struct server *s, struct node *n)
{
    for (struct sexec *e = s->execs, *next; e; e = next) {
        next = e->next;
        if (strcmp(e->node, n->name) != 0)
            continue;
        server_send(s, s->clients, e->client, e->clientlen, "exec.end",
                    json_pack("{s:I, s:i, s:s}", "exec", (json_int_t)e->id,
                              "status", 255, "error", "the node is down"));
        drop(s, e);
    }
}

void relay_destroy_all(struct server *s)
{
    while (s->execs)
        drop(s, s->execs);
}

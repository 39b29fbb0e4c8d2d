/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of the server's modules together (request, api, jobs, sched,
 * place, deps, arrays, nodes) on a store in memory: messages go in through
 * the request table as the loop hands them over, turns are committed, and
 * the outbox is read instead of sent.  No socket, no worker, no daemon. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/jobstate.h"
#include "lib/log.h"
#include "lib/topo.h"
#include "server/server.h"

static struct server *srv;
static int clients, workers; /* stand-ins for the two sockets */

static int setup(void **state)
{
    struct kiln_error err;

    srv = calloc(1, sizeof(*srv));
    srv->clients = &clients;
    srv->workers = &workers;
    srv->auth = AUTH_NONE; /* every request is this user's, an admin */
    srv->node_timeout = 30;
    srv->start_timeout = 60;
    srv->heartbeat = 1;
    srv->kill_wait = 10;
    srv->max_jobs_per_user = 100000;
    assert_int_equal(identity_start(srv), 0);
    assert_non_null(srv->st = store_open(NULL, &err));
    assert_int_equal(fairshare_load_policies(srv), 0);
    assert_int_equal(ce_load(srv, NULL), 0);
    assert_int_equal(queue_load(srv, NULL), 0);
    assert_int_equal(fairshare_load(srv), 0);
    assert_int_equal(jobs_load(srv), 0);
    return 0;
}

static void drop_outbox(void)
{
    for (int i = 0; i < srv->nout; i++)
        json_decref(srv->out[i].body);
    srv->nout = 0;
}

static int teardown(void **state)
{
    drop_outbox();
    free(srv->out);
    jobs_destroy_all(srv);
    deps_destroy(srv);
    queue_destroy_all(srv);
    ce_destroy_all(srv);
    fairshare_destroy_all(srv);
    nodes_destroy_all(srv);
    relay_destroy_all(srv);
    store_destroy(srv->st);
    identity_stop(srv);
    free(srv);
    return 0;
}

/* One turn of the loop without its sockets: the messages, the scheduler,
 * the commit.  The outbox stays for the test to read. */
static void turn(void)
{
    drop_outbox();
    jobs_reap(srv);
    assert_int_equal(store_begin(srv->st), 0);
}

static void end_turn(void)
{
    deps_run(srv);
    if (srv->sched_needed)
        sched_run(srv);
    assert_int_equal(store_commit(srv->st), 0);
}

/* The first queued message of type, or NULL. */
static json_t *sent(const char *type)
{
    for (int i = 0; i < srv->nout; i++)
        if (strcmp(srv->out[i].type, type) == 0)
            return srv->out[i].body;
    return NULL;
}

static int count_sent(const char *type)
{
    int n = 0;
    for (int i = 0; i < srv->nout; i++)
        n += strcmp(srv->out[i].type, type) == 0;
    return n;
}

static void from_client(const char *type, json_t *body)
{
    struct proto_msg m = { .idlen = 2, .id = "c1" };

    snprintf(m.type, sizeof(m.type), "%s", type);
    json_object_set_new(body, "version", json_integer(KILN_PROTO_VERSION));
    m.body = body;
    request_from_client(srv, &m, -1);
    proto_msg_release(&m);
}

static void from_worker(const char *node, const char *type, json_t *body)
{
    struct proto_msg m = { 0 };

    m.idlen = (size_t)snprintf((char *)m.id, sizeof(m.id), "%s/0123", node);
    snprintf(m.type, sizeof(m.type), "%s", type);
    json_object_set_new(body, "version", json_integer(KILN_PROTO_VERSION));
    m.body = body;
    request_from_worker(srv, &m);
    proto_msg_release(&m);
}

static void hello(const char *node, const char *synthetic)
{
    struct kiln_error err;
    struct topo *t = topo_discover(synthetic, NULL, &err);

    assert_non_null(t);
    turn();
    from_worker(node, "node.hello",
                json_pack("{s:s, s:o, s:[]}", "name", node, "topology",
                          topo_to_json(t), "jobs"));
    topo_destroy(t);
    end_turn();
    assert_non_null(sent("node.welcome"));
}

static json_t *job_body(const char *name, int cpus)
{
    return json_pack("{s:{s:s, s:s, s:s, s:s, s:s, s:i}}", "job", "name", name,
                     "script", "#!/bin/sh\ntrue\n", "output", "/tmp/x", "cwd",
                     "/tmp", "submit_dir", "/tmp", "cpus_per_task", cpus);
}

/* Submit in a turn of its own: the id the client is told. */
static int64_t submit(json_t *body)
{
    turn();
    from_client("job.submit", body);
    end_turn();
    json_t *ok = sent("ok");
    if (!ok) {
        json_t *e = sent("error");
        fail_msg("job.submit refused: %s",
                 json_string_value(json_object_get(e, "text")));
    }
    return json_integer_value(json_object_get(ok, "id"));
}

static void worker_says(const char *node, const char *type, int64_t id,
                        int attempt, json_t *more)
{
    json_t *b =
        json_pack("{s:I, s:i}", "id", (json_int_t)id, "attempt", attempt);

    if (more)
        json_object_update_new(b, more);
    turn();
    from_worker(node, type, b);
    end_turn();
}

static enum job_state state_of(int64_t id)
{
    struct job *j = jobs_find(srv, id);
    struct store_job row;

    if (j)
        return j->state;
    assert_int_equal(store_job_get(srv->st, id, &row), 1);
    enum job_state st = row.state;
    store_job_release(&row);
    return st;
}

/* A job goes through the table, the scheduler and a node's reports to
 * SUCCEEDED, with the messages a worker and the client get. */
static void job_runs_through(void **state)
{
    hello("n1", "pack:1 core:4 pu:1");
    int64_t id = submit(job_body("a", 2));
    assert_true(id > 0);
    /* The scheduler ran at the end of the submit's turn. */
    assert_int_equal(state_of(id), JOB_STARTING);
    json_t *start = sent("job.start");
    assert_non_null(start);
    assert_int_equal(json_integer_value(json_object_get(start, "id")), id);
    assert_string_equal(json_string_value(json_object_get(start, "cpus")),
                        "0-1");
    worker_says("n1", "job.started", id, 1, NULL);
    assert_int_equal(state_of(id), JOB_RUNNING);
    worker_says("n1", "job.end", id, 1, json_pack("{s:i}", "exit_code", 0));
    assert_non_null(sent("job.end.ack"));
    assert_int_equal(state_of(id), JOB_SUCCEEDED);
    assert_null(jobs_find(srv, id));
}

/* A job that ends before its worker says job.started (a short one: the
 * worker waits LAUNCH_STARTED_WAIT for its end) still ran: its job.end's
 * start_time says so, and its events have RUNNING.  One that never ran
 * (start_time 0: a launch that failed) has none. */
static void short_job_started_by_its_end(void **state)
{
    hello("n1", "pack:1 core:4 pu:1");
    int64_t id = submit(job_body("a", 1));
    assert_int_equal(state_of(id), JOB_STARTING);
    worker_says("n1", "job.end", id, 1,
                json_pack("{s:i, s:f, s:f}", "exit_code", 0, "start_time",
                          1.0e9, "end_time", 1.0e9 + 0.002));
    assert_int_equal(state_of(id), JOB_SUCCEEDED);
    json_t *ev = store_job_events(srv->st, id);
    size_t i;
    json_t *e;
    char seq[200] = "";
    json_array_foreach (ev, i, e) {
        strcat(seq, json_string_value(json_object_get(e, "state")));
        strcat(seq, " ");
    }
    json_decref(ev);
    assert_string_equal(
        seq, "SUBMITTED PENDING RUNNABLE STARTING RUNNING SUCCEEDED ");

    id = submit(job_body("b", 1));
    worker_says("n1", "job.end", id, 1,
                json_pack("{s:i, s:s}", "exit_code", -1, "reason",
                          "launch failed: no such user"));
    assert_int_equal(state_of(id), JOB_FAILED);
    ev = store_job_events(srv->st, id);
    json_array_foreach (ev, i, e)
        assert_string_not_equal(json_string_value(json_object_get(e, "state")),
                                "RUNNING");
    json_decref(ev);
}

/* Checked at the door: a wrong field never reaches a handler, a worker
 * that did not say hello is asked to, a non-admin request is refused. */
static void table_checks(void **state)
{
    turn();
    from_client("job.show", json_pack("{s:s}", "id", "x_1"));
    json_t *e = sent("error");
    assert_non_null(e);
    assert_string_equal(json_string_value(json_object_get(e, "error")),
                        "EINVAL");
    turn();
    from_client("job.show", json_pack("{s:i, s:b}", "id", 1, "extra", 1));
    assert_non_null(
        strstr(json_string_value(json_object_get(sent("error"), "text")),
               "unknown field 'extra'"));
    turn();
    from_client("no.such", json_object());
    assert_string_equal(
        json_string_value(json_object_get(sent("error"), "error")),
        "EOPNOTSUPP");
    turn();
    from_worker("stranger", "node.heartbeat", json_object());
    assert_non_null(sent("node.rehello"));
    assert_null(sent("node.heartbeat.ack"));
    end_turn();
}

/* A job reaching a final state leaves every index at once but stays in
 * memory until the turn is over: a caller holding it reads valid data. */
static void finished_job_outlives_the_turn(void **state)
{
    struct job *j;
    int64_t id =
        submit(json_pack("{s:{s:s, s:s, s:s, s:s, s:s, s:b}}", "job", "name",
                         "h", "script", "#!/bin/sh\n", "output", "/tmp/x",
                         "cwd", "/tmp", "submit_dir", "/tmp", "hold", 1));

    assert_non_null(j = jobs_find(srv, id));
    turn();
    assert_null(jobs_cancel(srv, j, "cancelled"));
    assert_null(jobs_find(srv, id));
    assert_int_equal(j->id, id); /* still readable */
    assert_int_equal(j->state, JOB_FAILED);
    assert_ptr_equal(srv->finished, j);
    end_turn();
    turn(); /* reaped here */
    assert_null(srv->finished);
    end_turn();
    assert_int_equal(state_of(id), JOB_FAILED);
}

/* afterok: the dependant waits PENDING, and runs once its dependency
 * succeeded. */
static void dependency_released(void **state)
{
    hello("n2", "pack:1 core:2 pu:1");
    int64_t a = submit(job_body("dep-a", 1));
    json_t *b = job_body("dep-b", 1);
    json_object_set_new(
        json_object_get(b, "job"), "dependencies",
        json_pack("[{s:s, s:I}]", "type", "afterok", "id", (json_int_t)a));
    int64_t bid = submit(b);
    assert_int_equal(state_of(bid), JOB_PENDING);
    struct job *ja = jobs_find(srv, a);
    assert_non_null(ja);
    const char *node = ja->part[0].name;
    char where[64];
    snprintf(where, sizeof(where), "%s", node);
    worker_says(where, "job.started", a, 1, NULL);
    worker_says(where, "job.end", a, 1, json_pack("{s:i}", "exit_code", 0));
    assert_int_equal(state_of(a), JOB_SUCCEEDED);
    assert_true(state_of(bid) == JOB_STARTING || state_of(bid) == JOB_RUNNABLE);
}

static json_t *after(const char *name, const char *type, int64_t id)
{
    json_t *b = job_body(name, 1);
    json_object_set_new(
        json_object_get(b, "job"), "dependencies",
        json_pack("[{s:s, s:I}]", "type", type, "id", (json_int_t)id));
    return b;
}

/* A dependency that can never hold fails its dependant, and that one's
 * dependants in turn, in the same turn: the ends wake them through the
 * reverse edges, nothing else is looked at. */
static void dependency_never_cascades(void **state)
{
    int64_t a =
        submit(json_pack("{s:{s:s, s:s, s:s, s:s, s:s, s:b}}", "job", "name",
                         "ha", "script", "#!/bin/sh\n", "output", "/tmp/x",
                         "cwd", "/tmp", "submit_dir", "/tmp", "hold", 1));
    int64_t b = submit(after("nb", "afternotok", a));
    int64_t c = submit(after("nc", "afterok", b));
    int64_t d = submit(after("nd", "afterany", c));
    assert_int_equal(state_of(b), JOB_PENDING);
    assert_int_equal(state_of(d), JOB_PENDING);
    /* a ends well (its cancel is a failure: cancel b's way instead) */
    turn();
    struct job *ja = jobs_find(srv, a);
    assert_non_null(ja);
    jobs_finish(srv, ja, JOB_SUCCEEDED, 0, NULL);
    end_turn();
    assert_int_equal(srv->ncheck, 0);
    assert_int_equal(state_of(b), JOB_FAILED);
    assert_int_equal(state_of(c), JOB_FAILED);
    /* afterany: d may run, whatever c became */
    assert_true(state_of(d) == JOB_RUNNABLE || state_of(d) == JOB_STARTING);
    struct store_job row;
    assert_int_equal(store_job_get(srv->st, c, &row), 1);
    assert_non_null(strstr(row.reason, "dependency never satisfied: afterok"));
    store_job_release(&row);
}

/* An array with a throttle: no more children at once than it allows. */
static void array_throttled(void **state)
{
    json_t *b = job_body("arr", 1);
    json_object_set_new(json_object_get(b, "job"), "array",
                        json_string("0-9%2"));
    int64_t id = submit(b);
    struct job *p = jobs_find(srv, id);
    assert_non_null(p);
    assert_non_null(p->array);
    assert_int_equal(p->array->n, 10);
    assert_true(p->array->active <= 2);
    assert_true(count_sent("job.start") <= 2);
    assert_int_equal(p->array->nkids, p->array->active);
    /* A cancel reaches the active children through the parent's index,
     * and the parent ends with them, in one turn. */
    struct job *kids[2];
    int n = p->array->nkids;
    for (int i = 0; i < n; i++)
        kids[i] = p->array->kids[i];
    turn();
    from_client("job.cancel", json_pack("{s:[I]}", "ids", (json_int_t)id));
    end_turn();
    assert_non_null(sent("ok"));
    /* Started children are killed on their node; each ends when its node
     * says so, and the last end ends the parent. */
    assert_int_equal(count_sent("job.kill"), n);
    int64_t kid_ids[2];
    char where[2][64];
    for (int i = 0; i < n; i++) {
        assert_non_null(kids[i]->cancel_reason);
        kid_ids[i] = kids[i]->id;
        snprintf(where[i], sizeof(where[i]), "%s", kids[i]->part[0].name);
    }
    for (int i = 0; i < n; i++)
        worker_says(
            where[i], "job.end", kid_ids[i], 1,
            json_pack("{s:i, s:s}", "exit_code", 143, "reason", "cancelled"));
    for (int i = 0; i < n; i++)
        assert_int_equal(state_of(kid_ids[i]), JOB_FAILED);
    assert_int_equal(state_of(id), JOB_FAILED);
}

/* A queue counts its active jobs as they come and go (queue.list, and a
 * queue with jobs cannot be deleted). */
static void queue_counts(void **state)
{
    struct queue *q = queue_find(srv, "default");
    long before = q->njobs;
    int64_t id =
        submit(json_pack("{s:{s:s, s:s, s:s, s:s, s:s, s:b}}", "job", "name",
                         "qc", "script", "#!/bin/sh\n", "output", "/tmp/x",
                         "cwd", "/tmp", "submit_dir", "/tmp", "hold", 1));
    assert_int_equal(q->njobs, before + 1);
    turn();
    from_client("queue.list", json_object());
    json_t *qs = json_object_get(sent("ok"), "queues");
    assert_int_equal(
        json_integer_value(json_object_get(json_array_get(qs, 0), "jobs")),
        before + 1);
    assert_null(jobs_cancel(srv, jobs_find(srv, id), "cancelled"));
    end_turn();
    assert_int_equal(q->njobs, before);
}

/* Fair share: two shares of equal weight on a one-core environment; when
 * share a's job ends, the next start goes to share b, though a's second
 * job was queued first (fairshare.c orders the queue).  The shares are
 * listed without a weightFactor: AWS's default, 1 (this test found that
 * a missing weight counted as 0, which let share a use everything). */
static void fair_share_alternates(void **state)
{
    struct kiln_error err;
    struct topo *t = topo_discover("pack:1 core:1 pu:1", NULL, &err);

    turn();
    from_client("ce.create", json_pack("{s:s}", "name", "fce"));
    from_client("policy.create",
                json_pack("{s:s, s:[{s:s}, {s:s}]}", "name", "fs",
                          "shareDistribution", "shareIdentifier", "a",
                          "shareIdentifier", "b"));
    from_client("queue.create", json_pack("{s:s, s:s, s:[s]}", "name", "fq",
                                          "policy", "fs", "ces", "fce"));
    end_turn();
    assert_int_equal(count_sent("ok"), 3);
    turn();
    from_worker("n5", "node.hello",
                json_pack("{s:s, s:o, s:[], s:s}", "name", "n5", "topology",
                          topo_to_json(t), "jobs", "ce", "fce"));
    topo_destroy(t);
    end_turn();
    assert_non_null(sent("node.welcome"));
    const char *share[] = { "a", "a", "b", "b" };
    int64_t ids[4];
    json_t *all = json_array();
    for (int i = 0; i < 4; i++) {
        ids[i] = submit(
            json_pack("{s:{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b}}", "job",
                      "name", "f", "script", "#!/bin/sh\n", "output", "/tmp/x",
                      "cwd", "/tmp", "submit_dir", "/tmp", "queue", "fq",
                      "share_identifier", share[i], "hold", 1));
        json_array_append_new(all, json_integer(ids[i]));
    }
    turn();
    from_client("job.release", json_pack("{s:o}", "ids", all));
    end_turn();
    assert_int_equal(state_of(ids[0]), JOB_STARTING);
    assert_int_equal(state_of(ids[1]), JOB_RUNNABLE);
    worker_says("n5", "job.started", ids[0], 1, NULL);
    worker_says("n5", "job.end", ids[0], 1, json_pack("{s:i}", "exit_code", 0));
    assert_int_equal(state_of(ids[0]), JOB_SUCCEEDED);
    assert_int_equal(state_of(ids[2]), JOB_STARTING); /* b's turn */
    assert_int_equal(state_of(ids[1]), JOB_RUNNABLE);
}

/* A job on two nodes gets a part on each, and each node its job.start
 * with the job's node list (place.c). */
static void placed_on_two_nodes(void **state)
{
    hello("n3", "pack:1 core:2 pu:1");
    hello("n4", "pack:1 core:2 pu:1");
    json_t *b = job_body("two", 1);
    json_object_set_new(json_object_get(b, "job"), "nodes", json_integer(2));
    json_object_set_new(json_object_get(b, "job"), "nodelist",
                        json_string("n[3-4]"));
    json_object_del(json_object_get(b, "job"), "cpus_per_task");
    int64_t id = submit(b);
    struct job *j = jobs_find(srv, id);
    assert_non_null(j);
    assert_int_equal(j->state, JOB_STARTING);
    assert_int_equal(j->nparts, 2);
    assert_string_not_equal(j->part[0].name, j->part[1].name);
    assert_int_equal(count_sent("job.start"), 2);
    json_t *start = sent("job.start");
    assert_int_equal(json_array_size(json_object_get(start, "nodes")), 2);
    assert_string_equal(json_string_value(json_object_get(start, "nodelist")),
                        j->node_name);
}

/* job.list's brief form is the full one cut down: the same values for the
 * fields kiln queue shows (a job on two nodes among them), nothing else. */
static void brief_listing_is_the_full_one_cut(void **state)
{
    const char *fields[] = { "id",         "name",          "user",
                             "state",      "status_reason", "start_time",
                             "ntasks",     "cpus_per_task", "nodes",
                             "display_id", "array" };
    size_t i, k, two_nodes = 0;
    json_t *brief, *full, *b, *v;
    const char *key;

    submit(json_pack("{s:{s:s, s:s, s:s, s:s, s:s, s:b}}", "job", "name",
                     "held", "script", "#!/bin/sh\n", "output", "/tmp/x", "cwd",
                     "/tmp", "submit_dir", "/tmp", "hold", 1));
    turn();
    from_client("job.list", json_pack("{s:b}", "brief", 1));
    brief = json_incref(json_object_get(sent("ok"), "jobs"));
    from_client("job.list", json_object());
    full = json_object_get(srv->out[srv->nout - 1].body, "jobs");
    end_turn();
    assert_true(json_array_size(brief) >= 2);
    assert_int_equal(json_array_size(brief), json_array_size(full));
    json_array_foreach (brief, i, b) {
        json_t *f = json_array_get(full, i);
        json_object_foreach (b, key, v) {
            bool known = false;
            for (k = 0; k < sizeof(fields) / sizeof(fields[0]); k++)
                known |= strcmp(key, fields[k]) == 0;
            assert_true(known);
            if (strcmp(key, "array") == 0)
                continue; /* the full form says more of it */
            if (!json_equal(v, json_object_get(f, key)))
                fail_msg("job %s: brief %s differs", json_dumps(f, 0), key);
        }
        two_nodes += json_array_size(json_object_get(b, "nodes")) == 2;
    }
    assert_int_equal(two_nodes, 1);
    json_decref(brief);
}

/* The finished jobs from t on, asked with limit, page after page: how many
 * came, checking they came in order, each once.  The last answer is left
 * in the outbox. */
static long history_pages(double t, long limit, int *pages, int64_t *first)
{
    const char *next = NULL;
    long n = 0;
    double last = 0;

    *pages = 0;
    do {
        json_t *b = json_pack("{s:f, s:I}", "since", t, "limit",
                              (json_int_t)limit),
               *job;
        size_t i;
        if (next)
            json_object_set_new(b, "next_token", json_string(next));
        turn();
        from_client("job.history", b);
        end_turn();
        json_t *ok = sent("ok");
        assert_non_null(ok);
        json_array_foreach (json_object_get(ok, "jobs"), i, job) {
            double e = json_number_value(json_object_get(job, "end_time"));
            assert_true(e > last);
            if (!n)
                *first = json_integer_value(json_object_get(job, "id"));
            last = e;
            n++;
        }
        (*pages)++;
        next = json_string_value(json_object_get(ok, "next_token"));
    } while (next);
    return n;
}

/* job.history hands a long history in pages (next_token): all of it, or
 * the most recent limit, each job once; a made-up token is refused. */
static void history_in_pages(void **state)
{
    const double t = 4e9; /* after every other test's jobs */
    const long n = 12001;
    int64_t ids[12001], first = 0;
    int pages;

    turn();
    for (long i = 0; i < n; i++) {
        struct store_job row = {
            .name = "old",
            .user = "root",
            .queue = "default",
            .state = JOB_RUNNABLE,
            .exit_code = -1,
            .submit_time = t + i,
            .spec = json_pack("{s:i}", "ntasks", 2),
            .array_index = -1,
        };
        assert_int_equal(store_job_insert(srv->st, &row), 0);
        json_decref(row.spec);
        row.state = JOB_SUCCEEDED;
        row.exit_code = 0;
        row.end_time = t + i;
        assert_int_equal(store_job_update(srv->st, &row, t + i), 0);
        ids[i] = row.id;
    }
    end_turn();
    assert_int_equal(history_pages(t, 0, &pages, &first), n);
    assert_int_equal(pages, 3);
    assert_int_equal(first, ids[0]);
    assert_int_equal(history_pages(t, 7000, &pages, &first), 7000);
    assert_int_equal(pages, 2);
    assert_int_equal(first, ids[n - 7000]);
    assert_int_equal(history_pages(t, 5000, &pages, &first), 5000);
    assert_int_equal(pages, 1);
    assert_int_equal(history_pages(t + n - 10, 0, &pages, &first), 10);
    assert_int_equal(first, ids[n - 10]);

    turn();
    from_client("job.history", json_pack("{s:s}", "next_token", "1:x:0"));
    end_turn();
    assert_non_null(sent("error"));
    assert_null(sent("ok"));
}

/* The local socket's peer: libzmq's address of it, from SO_PEERCRED, as
 * the ZAP handler names it; anything else names nobody. */
static void local_peer_names(void **state)
{
    static const char *bad[] = { "",
                                 "127.0.0.1",
                                 "localhost:1:2",
                                 "localhost:a:2:3",
                                 "localhost:4294967296:1:1",
                                 "localhost:1:2:",
                                 ":1:2:3x",
                                 "localhost:99999999999:1:1" };
    char name[64];

    (void)state;
    assert_int_equal(
        identity_local_name("localhost:1000:100:4242", name, sizeof(name)), 0);
    assert_string_equal(name, "local:1000:100");
    assert_int_equal(identity_local_name("x:0:0:1", name, sizeof(name)), 0);
    assert_string_equal(name, "local:0:0");
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
        assert_int_equal(identity_local_name(bad[i], name, sizeof(name)), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(local_peer_names),
        cmocka_unit_test(job_runs_through),
        cmocka_unit_test(short_job_started_by_its_end),
        cmocka_unit_test(table_checks),
        cmocka_unit_test(finished_job_outlives_the_turn),
        cmocka_unit_test(dependency_released),
        cmocka_unit_test(dependency_never_cascades),
        cmocka_unit_test(array_throttled),
        cmocka_unit_test(queue_counts),
        cmocka_unit_test(fair_share_alternates),
        cmocka_unit_test(placed_on_two_nodes),
        cmocka_unit_test(brief_listing_is_the_full_one_cut),
        cmocka_unit_test(history_in_pages),
    };
    log_init("test_server", LOG_ERR, NULL);
    return cmocka_run_group_tests(tests, setup, teardown);
}

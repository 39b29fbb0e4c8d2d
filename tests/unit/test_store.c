/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for lib/store on a fresh directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "lib/store.h"
#include "lib/util.h"

struct fixture {
    char dir[64];
    struct store *st;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct kiln_error err;

    snprintf(f->dir, sizeof(f->dir), "/tmp/kiln-store-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->st = store_open(f->dir, &err);
    assert_non_null(f->st);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    store_destroy(f->st);
    util_rm_rf(f->dir);
    free(f);
    return 0;
}

static int64_t insert(struct store *st, const char *name, double t)
{
    json_t *spec = json_pack("{s:s}", "name", name);
    struct store_job j = { .name = (char *)name,
                           .user = "u",
                           .uid = 5,
                           .queue = "default",
                           .state = JOB_SUBMITTED,
                           .submit_time = t,
                           .spec = spec };
    assert_int_equal(store_job_insert(st, &j), 0);
    json_decref(spec);
    return j.id;
}

static void schema(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(store_schema_version(f->st), 8);
}

/* A compute environment's events: the last ones asked for, oldest first,
 * and only its own. */
static void ce_events(void **state)
{
    struct fixture *f = *state;
    char text[32];

    assert_int_equal(store_begin(f->st), 0);
    for (int i = 0; i < 5; i++) {
        snprintf(text, sizeof(text), "launch %d", i);
        assert_int_equal(store_ce_event(f->st, "a", 100 + i, "launch", text),
                         0);
    }
    assert_int_equal(store_ce_event(f->st, "b", 200, "idle", "other"), 0);
    assert_int_equal(store_commit(f->st), 0);
    json_t *ev = store_ce_events(f->st, "a", 3);
    assert_int_equal(json_array_size(ev), 3);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(ev, 0), "text")),
        "launch 2");
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(ev, 2), "text")),
        "launch 4");
    json_decref(ev);
    ev = store_ce_events(f->st, "b", 50);
    assert_int_equal(json_array_size(ev), 1);
    json_decref(ev);
}

static void jobs_and_events(void **state)
{
    struct fixture *f = *state;
    struct store_job j;

    assert_int_equal(store_begin(f->st), 0);
    int64_t a = insert(f->st, "a", 100), b = insert(f->st, "b", 101);
    assert_int_equal(store_commit(f->st), 0);
    assert_true(b > a);
    assert_int_equal(store_job_get(f->st, a, &j), 1);
    assert_string_equal(j.name, "a");
    assert_string_equal(json_string_value(json_object_get(j.spec, "name")),
                        "a");
    assert_int_equal(j.exit_code, -1);
    j.state = JOB_SUCCEEDED;
    j.exit_code = 0;
    j.start_time = 102;
    j.end_time = 103;
    j.node = strdup("n1");
    j.cpus = strdup("0-1");
    j.attempts = 1;
    assert_int_equal(store_job_update(f->st, &j, 103), 0);
    assert_int_equal(
        store_attempt(f->st, a, 1, "n1", "0-1", 102, 103, 0, 0, NULL), 0);
    struct store_usage u = { 0.75, 0.25, 2048, 1 };
    assert_int_equal(store_attempt_usage(f->st, a, 1, &u), 0);
    store_job_release(&j);
    assert_int_equal(store_job_get(f->st, 999, &j), 0);

    json_t *ev = store_job_events(f->st, a);
    assert_int_equal(json_array_size(ev), 2);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(ev, 1), "state")),
        "SUCCEEDED");
    json_decref(ev);
    json_t *at = store_job_attempts(f->st, a);
    assert_int_equal(json_array_size(at), 1);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(at, 0), "cpus")),
        "0-1");
    assert_true(
        json_real_value(json_object_get(json_array_get(at, 0), "user_cpu"))
        == 0.75);
    assert_int_equal(json_integer_value(
                         json_object_get(json_array_get(at, 0), "max_rss_kib")),
                     2048);
    json_decref(at);
}

static int count_cb(struct store_job *j, void *arg)
{
    (*(int *)arg)++;
    return 0;
}

static void reopen_keeps_everything(void **state)
{
    struct fixture *f = *state;
    struct kiln_error err;
    int active = 0, finished = 0;

    store_begin(f->st);
    int64_t a = insert(f->st, "a", 1);
    insert(f->st, "b", 2);
    store_commit(f->st);
    struct store_job j;
    store_job_get(f->st, a, &j);
    j.state = JOB_FAILED;
    j.end_time = 5;
    store_job_update(f->st, &j, 5);
    store_job_release(&j);
    json_t *topo = json_pack("{s:i}", "pus", 4);
    assert_int_equal(store_node_put(f->st, "n1", "UP", topo, 5), 0);
    assert_int_equal(store_node_put(f->st, "n1", "DOWN", NULL, 6),
                     0); /* keeps topology */
    json_decref(topo);
    store_destroy(f->st);

    f->st = store_open(f->dir, &err);
    assert_non_null(f->st);
    assert_int_equal(store_foreach_active(f->st, count_cb, &active), 0);
    assert_int_equal(active, 1);
    struct store_cursor start = { 0, INT64_MIN };
    assert_int_equal(
        store_foreach_finished(f->st, &start, NULL, 10, count_cb, &finished),
        0);
    assert_int_equal(finished, 1);
    finished = 0;
    assert_int_equal(store_foreach_finished(f->st, &start, "nobody", 10,
                                            count_cb, &finished),
                     0);
    assert_int_equal(finished, 0);
}

static int node_cb(const char *name, const char *state, json_t *topo,
                   const char *ce, const char *features, void *arg)
{
    assert_string_equal(name, "n1");
    assert_string_equal(state, "DOWN");
    assert_int_equal(json_integer_value(json_object_get(topo, "pus")), 4);
    (*(int *)arg)++;
    return 0;
}

static void nodes_kept(void **state)
{
    struct fixture *f = *state;
    int n = 0;
    json_t *topo = json_pack("{s:i}", "pus", 4);

    store_node_put(f->st, "n1", "UP", topo, 5);
    store_node_put(f->st, "n1", "DOWN", NULL, 6);
    json_decref(topo);
    assert_int_equal(store_foreach_node(f->st, node_cb, &n), 0);
    assert_int_equal(n, 1);
}

/* Close the store and open its database by hand (a fresh one with
 * fresh), for a test to shape it as an older or a newer kiln would. */
static sqlite3 *raw_db(struct fixture *f, bool fresh)
{
    char path[128];
    sqlite3 *db;

    store_destroy(f->st);
    f->st = NULL;
    snprintf(path, sizeof(path), "%s/kiln.db", f->dir);
    if (fresh)
        unlink(path);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    return db;
}

/* A database of schema 6 (states as names) comes up at 7 with each state
 * its number, ids and the id sequence kept. */
static void states_become_numbers(void **state)
{
    struct fixture *f = *state;
    struct kiln_error err;
    sqlite3 *db = raw_db(f, true);

    assert_int_equal(
        sqlite3_exec(
            db,
            "CREATE TABLE jobs (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL,"
            " user TEXT NOT NULL, uid INTEGER NOT NULL, queue TEXT NOT NULL, state TEXT NOT NULL,"
            " reason TEXT, exit_code INTEGER NOT NULL DEFAULT -1, submit_time REAL NOT NULL,"
            " start_time REAL, end_time REAL, node TEXT, cpus TEXT,"
            " attempts INTEGER NOT NULL DEFAULT 0, spec TEXT NOT NULL, array_id INTEGER,"
            " array_index INTEGER, alloc TEXT, token TEXT);"
            "CREATE TABLE events (id INTEGER PRIMARY KEY, job_id INTEGER NOT NULL,"
            " time REAL NOT NULL, state TEXT NOT NULL, reason TEXT, node TEXT);"
            "CREATE TABLE attempts (job_id INTEGER NOT NULL, attempt INTEGER NOT NULL, node TEXT,"
            " cpus TEXT, start_time REAL, end_time REAL, exit_code INTEGER, signal INTEGER,"
            " reason TEXT, user_cpu REAL, sys_cpu REAL, max_rss_kib INTEGER, oom_kills INTEGER,"
            " PRIMARY KEY (job_id, attempt));"
            "CREATE TABLE nodes (name TEXT PRIMARY KEY, state TEXT NOT NULL, topology TEXT,"
            " last_seen REAL, ce TEXT, features TEXT);"
            "CREATE TABLE objects (kind TEXT NOT NULL, name TEXT NOT NULL, body TEXT NOT NULL,"
            " PRIMARY KEY (kind, name));"
            "INSERT INTO jobs (id, name, user, uid, queue, state, submit_time, spec, end_time)"
            " VALUES (7, 'a', 'u', 5, 'default', 'SUCCEEDED', 1, '{\"name\":\"a\"}', 2),"
            " (9, 'b', 'u', 5, 'default', 'RUNNABLE', 1, '{\"name\":\"b\"}', NULL);"
            "INSERT INTO events (job_id, time, state) VALUES (7, 1, 'SUBMITTED'), (7, 2, 'SUCCEEDED');"
            "DELETE FROM sqlite_sequence; INSERT INTO sqlite_sequence VALUES ('jobs', 12);"
            "PRAGMA user_version=6;",
            NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    assert_non_null(f->st = store_open(f->dir, &err));
    assert_int_equal(store_schema_version(f->st), 8);
    struct store_job j;
    assert_int_equal(store_job_get(f->st, 7, &j), 1);
    assert_int_equal(j.state, JOB_SUCCEEDED);
    store_job_release(&j);
    assert_int_equal(store_job_get(f->st, 9, &j), 1);
    assert_int_equal(j.state, JOB_RUNNABLE);
    store_job_release(&j);
    json_t *ev = store_job_events(f->st, 7);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(ev, 1), "state")),
        "SUCCEEDED");
    json_decref(ev);
    /* ids are never reused: the next is 13, past the old sequence */
    store_begin(f->st);
    assert_int_equal(insert(f->st, "c", 3), 13);
    assert_int_equal(store_commit(f->st), 0);
}

static void newer_schema_refused(void **state)
{
    struct fixture *f = *state;
    struct kiln_error err;
    sqlite3 *db = raw_db(f, false);

    assert_int_equal(
        sqlite3_exec(db, "PRAGMA user_version=99", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    assert_null(store_open(f->dir, &err));
    assert_non_null(strstr(err.text, "newer than this kiln"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(schema, setup, teardown),
        cmocka_unit_test_setup_teardown(ce_events, setup, teardown),
        cmocka_unit_test_setup_teardown(jobs_and_events, setup, teardown),
        cmocka_unit_test_setup_teardown(reopen_keeps_everything, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(nodes_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(states_become_numbers, setup, teardown),
        cmocka_unit_test_setup_teardown(newer_schema_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

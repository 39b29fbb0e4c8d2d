/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The server's durable state in sqlite, with versioned migrations. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "lib/store.h"

/* Migration i brings the schema from version i to i + 1.  Append only. */
static const char *migrations[] = {
    "CREATE TABLE jobs ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  name TEXT NOT NULL, user TEXT NOT NULL, uid INTEGER NOT NULL,"
    "  queue TEXT NOT NULL, state TEXT NOT NULL, reason TEXT,"
    "  exit_code INTEGER NOT NULL DEFAULT -1,"
    "  submit_time REAL NOT NULL, start_time REAL, end_time REAL,"
    "  node TEXT, cpus TEXT, attempts INTEGER NOT NULL DEFAULT 0,"
    "  spec TEXT NOT NULL);"
    "CREATE INDEX jobs_active ON jobs(state) WHERE end_time IS NULL;"
    "CREATE INDEX jobs_end ON jobs(end_time) WHERE end_time IS NOT NULL;"
    "CREATE TABLE events ("
    "  id INTEGER PRIMARY KEY, job_id INTEGER NOT NULL, time REAL NOT NULL,"
    "  state TEXT NOT NULL, reason TEXT, node TEXT);"
    "CREATE INDEX events_job ON events(job_id);"
    "CREATE TABLE attempts ("
    "  job_id INTEGER NOT NULL, attempt INTEGER NOT NULL, node TEXT,"
    "  cpus TEXT, start_time REAL, end_time REAL, exit_code INTEGER,"
    "  signal INTEGER, reason TEXT, PRIMARY KEY (job_id, attempt));"
    "CREATE TABLE nodes ("
    "  name TEXT PRIMARY KEY, state TEXT NOT NULL, topology TEXT,"
    "  last_seen REAL);",
    /* 2: array children point at their parent. */
    "ALTER TABLE jobs ADD COLUMN array_id INTEGER;"
    "ALTER TABLE jobs ADD COLUMN array_index INTEGER;"
    "CREATE UNIQUE INDEX jobs_array ON jobs(array_id, array_index)"
    "  WHERE array_id IS NOT NULL;",
    /* 3: job queues, compute environments (and later kinds) as JSON
     * objects; a node's compute environment. */
    "CREATE TABLE objects (kind TEXT NOT NULL, name TEXT NOT NULL,"
    "  body TEXT NOT NULL, PRIMARY KEY (kind, name));"
    "ALTER TABLE nodes ADD COLUMN ce TEXT;",
    /* 4: what each attempt used. */
    "ALTER TABLE attempts ADD COLUMN user_cpu REAL;"
    "ALTER TABLE attempts ADD COLUMN sys_cpu REAL;"
    "ALTER TABLE attempts ADD COLUMN max_rss_kib INTEGER;",
    /* 5: placement beyond the cpu list (GPUs, cores per task); node
     * features; OOM kills per attempt. */
    "ALTER TABLE jobs ADD COLUMN alloc TEXT;"
    "ALTER TABLE nodes ADD COLUMN features TEXT;"
    "ALTER TABLE attempts ADD COLUMN oom_kills INTEGER;",
    /* 6: the running attempt's exec token (kiln exec after a restart). */
    "ALTER TABLE jobs ADD COLUMN token TEXT;",
    /* 7: a state is its number (enum job_state, lib/jobstate.h), not its
     * name: the names live in one table, in the code.  The tables are made
     * again with INTEGER states (sqlite cannot change a column's type);
     * ids and the id sequence are kept. */
    "CREATE TEMP TABLE seq7 AS SELECT seq FROM sqlite_sequence WHERE name = 'jobs';"
    "CREATE TABLE jobs7 ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  name TEXT NOT NULL, user TEXT NOT NULL, uid INTEGER NOT NULL,"
    "  queue TEXT NOT NULL, state INTEGER NOT NULL, reason TEXT,"
    "  exit_code INTEGER NOT NULL DEFAULT -1,"
    "  submit_time REAL NOT NULL, start_time REAL, end_time REAL,"
    "  node TEXT, cpus TEXT, attempts INTEGER NOT NULL DEFAULT 0,"
    "  spec TEXT NOT NULL, array_id INTEGER, array_index INTEGER, alloc TEXT,"
    "  token TEXT);"
    "INSERT INTO jobs7 SELECT id, name, user, uid, queue,"
    "  CASE state WHEN 'SUBMITTED' THEN 0 WHEN 'PENDING' THEN 1 WHEN 'RUNNABLE' THEN 2"
    "  WHEN 'STARTING' THEN 3 WHEN 'RUNNING' THEN 4 WHEN 'SUCCEEDED' THEN 5 ELSE 6 END,"
    "  reason, exit_code, submit_time, start_time, end_time, node, cpus, attempts, spec,"
    "  array_id, array_index, alloc, token FROM jobs;"
    "DROP TABLE jobs;"
    "ALTER TABLE jobs7 RENAME TO jobs;"
    "UPDATE sqlite_sequence SET seq = MAX(seq, COALESCE((SELECT seq FROM temp.seq7), 0))"
    "  WHERE name = 'jobs';"
    "DROP TABLE temp.seq7;"
    "CREATE INDEX jobs_active ON jobs(state) WHERE end_time IS NULL;"
    "CREATE INDEX jobs_end ON jobs(end_time) WHERE end_time IS NOT NULL;"
    "CREATE UNIQUE INDEX jobs_array ON jobs(array_id, array_index)"
    "  WHERE array_id IS NOT NULL;"
    "CREATE TABLE events7 ("
    "  id INTEGER PRIMARY KEY, job_id INTEGER NOT NULL, time REAL NOT NULL,"
    "  state INTEGER NOT NULL, reason TEXT, node TEXT);"
    "INSERT INTO events7 SELECT id, job_id, time,"
    "  CASE state WHEN 'SUBMITTED' THEN 0 WHEN 'PENDING' THEN 1 WHEN 'RUNNABLE' THEN 2"
    "  WHEN 'STARTING' THEN 3 WHEN 'RUNNING' THEN 4 WHEN 'SUCCEEDED' THEN 5 ELSE 6 END,"
    "  reason, node FROM events;"
    "DROP TABLE events;"
    "ALTER TABLE events7 RENAME TO events;"
    "CREATE INDEX events_job ON events(job_id);",
    /* 8: what the elastic manager did, per compute environment */
    "CREATE TABLE ce_events (id INTEGER PRIMARY KEY, ce TEXT NOT NULL,"
    " time REAL NOT NULL, kind TEXT NOT NULL, text TEXT NOT NULL);"
    "CREATE INDEX ce_events_ce ON ce_events(ce, id);",
};

enum stmt_id {
    S_BEGIN,
    S_COMMIT,
    S_JOB_INSERT,
    S_JOB_UPDATE,
    S_EVENT,
    S_ATTEMPT,
    S_JOB_GET,
    S_NODE_PUT,
    S_JOB_STATE,
    S_ARRAY_CHILD,
    S_OBJ_PUT,
    S_OBJ_DEL,
    S_NODE_CE,
    S_NODE_FEATURES,
    S_ATTEMPT_USAGE,
    S_JOB_SPEC,
    S_CE_EVENT,
    S_NODE_DEL,
    S_COUNT
};

/* The columns of a job row, in the order of enum job_col: one mapping for
 * every query that reads jobs (row_to_job). */
#define JOB_COLUMNS_WITH(spec)                                           \
    "id, name, user, uid, queue, state, reason, exit_code, submit_time," \
    " start_time, end_time, node, cpus, attempts, " spec ", array_id,"   \
    " array_index, alloc, token"
#define JOB_COLUMNS JOB_COLUMNS_WITH("spec")
/* Of the spec, what a listing of finished jobs shows (the size asked for),
 * cut out by sqlite: parsing whole specs, environments and all, in jansson
 * took most of the time of job.history. */
#define SPEC_SIZE                                                          \
    "(SELECT json_group_object(key, value) FROM json_each(spec) WHERE key" \
    " IN ('ntasks', 'cpus_per_task', 'mem', 'time_limit', 'mem_per_cpu',"  \
    " 'nodes'))"
enum job_col {
    C_ID,
    C_NAME,
    C_USER,
    C_UID,
    C_QUEUE,
    C_STATE,
    C_REASON,
    C_EXIT_CODE,
    C_SUBMIT,
    C_START,
    C_END,
    C_NODE,
    C_CPUS,
    C_ATTEMPTS,
    C_SPEC,
    C_ARRAY_ID,
    C_ARRAY_INDEX,
    C_ALLOC,
    C_TOKEN,
    /* then, for finished jobs, the last attempt's usage */
    C_USER_CPU,
    C_SYS_CPU,
    C_MAX_RSS,
    C_OOM_KILLS,
};

static const char *stmt_sql[S_COUNT] = {
    [S_BEGIN] = "BEGIN",
    [S_COMMIT] = "COMMIT",
    [S_JOB_INSERT] = "INSERT INTO jobs (name, user, uid, queue, state, reason,"
                     " submit_time, spec, array_id, array_index)"
                     " VALUES (?,?,?,?,?,?,?,?,?,?)",
    [S_JOB_UPDATE] =
        "UPDATE jobs SET state=?, reason=?, exit_code=?,"
        " start_time=?, end_time=?, node=?, cpus=?, attempts=?, alloc=?,"
        " token=? WHERE id=?",
    [S_JOB_SPEC] = "UPDATE jobs SET spec=? WHERE id=?",
    [S_EVENT] = "INSERT INTO events (job_id, time, state, reason, node)"
                " VALUES (?,?,?,?,?)",
    [S_ATTEMPT] =
        "INSERT OR REPLACE INTO attempts (job_id, attempt, node, cpus,"
        " start_time, end_time, exit_code, signal, reason)"
        " VALUES (?,?,?,?,?,?,?,?,?)",
    [S_ATTEMPT_USAGE] =
        "UPDATE attempts SET user_cpu=?, sys_cpu=?, max_rss_kib=?,"
        " oom_kills=?"
        " WHERE job_id=? AND attempt=?",
    [S_JOB_GET] = "SELECT " JOB_COLUMNS " FROM jobs WHERE id=?",
    [S_ARRAY_CHILD] = "SELECT id FROM jobs WHERE array_id=? AND array_index=?",
    [S_OBJ_PUT] = "INSERT OR REPLACE INTO objects VALUES (?,?,?)",
    [S_OBJ_DEL] = "DELETE FROM objects WHERE kind=? AND name=?",
    [S_CE_EVENT] = "INSERT INTO ce_events (ce, time, kind, text)"
                   " VALUES (?,?,?,?)",
    [S_NODE_DEL] = "DELETE FROM nodes WHERE name=?",
    [S_NODE_CE] = "UPDATE nodes SET ce=? WHERE name=?",
    [S_NODE_FEATURES] = "UPDATE nodes SET features=? WHERE name=?",
    [S_JOB_STATE] = "SELECT state, start_time FROM jobs WHERE id=?",
    [S_NODE_PUT] = "INSERT INTO nodes (name, state, topology, last_seen)"
                   " VALUES (?1,?2,?3,?4) ON CONFLICT(name)"
                   " DO UPDATE SET state=?2, topology=COALESCE(?3, topology),"
                   " last_seen=?4",
};

struct store {
    sqlite3 *db;
    sqlite3_stmt *stmt[S_COUNT];
    int in_txn;
    int failed;      /* sticky: the first failure of the transaction */
    int failed_code; /* its sqlite result code */
    char error[256]; /* and its message */
};

/* A statement failed: the first failure of a transaction is kept, with
 * sqlite's own words, and the transaction will be rolled back. */
static int fail(struct store *st)
{
    if (!st->failed) {
        st->failed = 1;
        st->failed_code = sqlite3_extended_errcode(st->db);
        snprintf(st->error, sizeof(st->error), "%s", sqlite3_errmsg(st->db));
    }
    errno = (st->failed_code & 0xff) == SQLITE_FULL ? ENOSPC : EIO;
    return -1;
}

void store_fail(struct store *st, const char *why)
{
    if (!st->failed) {
        st->failed = 1;
        st->failed_code = SQLITE_ERROR;
        snprintf(st->error, sizeof(st->error), "%s", why);
    }
}

const char *store_error(const struct store *st, int *errnum)
{
    if (errnum)
        *errnum = (st->failed_code & 0xff) == SQLITE_FULL ? ENOSPC : EIO;
    return st->failed ? st->error : NULL;
}

void store_destroy(struct store *st)
{
    if (st) {
        int saved = errno;
        for (int i = 0; i < S_COUNT; i++)
            sqlite3_finalize(st->stmt[i]);
        sqlite3_close(st->db);
        free(st);
        errno = saved;
    }
}

int store_schema_version(struct store *st)
{
    sqlite3_stmt *s;
    int v = -1;

    if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL)
            == SQLITE_OK
        && sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    return v;
}

static int migrate(struct store *st, struct kiln_error *err)
{
    int have = store_schema_version(st),
        want = sizeof(migrations) / sizeof(migrations[0]);
    char *msg = NULL, pragma[64];

    if (have < 0)
        return errprintf(err, "cannot read the schema version: %s",
                         sqlite3_errmsg(st->db));
    if (have > want) {
        errno = EPROTO;
        return errprintf(err,
                         "database schema version %d is newer than "
                         "this kiln (%d)",
                         have, want);
    }
    for (int v = have; v < want; v++) {
        snprintf(pragma, sizeof(pragma), "PRAGMA user_version=%d", v + 1);
        if (sqlite3_exec(st->db, "BEGIN", NULL, NULL, &msg) != SQLITE_OK
            || sqlite3_exec(st->db, migrations[v], NULL, NULL, &msg)
                   != SQLITE_OK
            || sqlite3_exec(st->db, pragma, NULL, NULL, &msg) != SQLITE_OK
            || sqlite3_exec(st->db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
            errprintf(err, "schema migration to version %d failed: %s", v + 1,
                      msg ? msg : "unknown error");
            sqlite3_free(msg);
            sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
            errno = EIO;
            return -1;
        }
    }
    return 0;
}

struct store *store_open(const char *dir, struct kiln_error *err)
{
    struct store *st;
    char *path = NULL, *msg = NULL;

    if (!(st = calloc(1, sizeof(*st))))
        return NULL;
    if ((dir && asprintf(&path, "%s/kiln.db", dir) < 0)
        || (!dir && !(path = strdup(":memory:")))) {
        path = NULL;
        goto nomem;
    }
    if (sqlite3_open_v2(path, &st->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
                            | SQLITE_OPEN_NOMUTEX,
                        NULL)
        != SQLITE_OK) {
        errprintf(err, "cannot open '%s': %s", path,
                  st->db ? sqlite3_errmsg(st->db) : "out of memory");
        goto error;
    }
    sqlite3_busy_timeout(st->db, 5000);
    /* WAL, and a commit is durable when it returns: a client is told its
     * job id only after the fsync. */
    if (sqlite3_exec(st->db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                     " PRAGMA foreign_keys=ON;",
                     NULL, NULL, &msg)
        != SQLITE_OK) {
        errprintf(err, "cannot set up '%s': %s", path, msg);
        sqlite3_free(msg);
        goto error;
    }
    if (migrate(st, err) < 0)
        goto error;
    for (int i = 0; i < S_COUNT; i++)
        if (sqlite3_prepare_v3(st->db, stmt_sql[i], -1,
                               SQLITE_PREPARE_PERSISTENT, &st->stmt[i], NULL)
            != SQLITE_OK) {
            errprintf(err, "cannot prepare a statement: %s",
                      sqlite3_errmsg(st->db));
            goto error;
        }
    free(path);
    return st;
nomem:
    errprintf(err, "out of memory");
error:
    free(path);
    store_destroy(st);
    errno = EIO;
    return NULL;
}

static int run(struct store *st, sqlite3_stmt *s)
{
    int rc = sqlite3_step(s);

    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return fail(st);
    return 0;
}

int store_begin(struct store *st)
{
    if (st->in_txn)
        return 0;
    if (run(st, st->stmt[S_BEGIN]) < 0)
        return -1;
    st->in_txn = 1;
    return 0;
}

int store_commit(struct store *st)
{
    if (!st->in_txn)
        return st->failed ? -1 : 0;
    st->in_txn = 0;
    /* A transaction with a failed statement is never committed in part. */
    if (st->failed || run(st, st->stmt[S_COMMIT]) < 0) {
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        errno = (st->failed_code & 0xff) == SQLITE_FULL ? ENOSPC : EIO;
        return -1;
    }
    return 0;
}

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, i);
}

static void bind_time(sqlite3_stmt *s, int i, double t)
{
    if (t > 0)
        sqlite3_bind_double(s, i, t);
    else
        sqlite3_bind_null(s, i);
}

static int event(struct store *st, int64_t id, double t, enum job_state state,
                 const char *reason, const char *node)
{
    sqlite3_stmt *s = st->stmt[S_EVENT];

    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_double(s, 2, t);
    sqlite3_bind_int(s, 3, (int)state);
    bind_text(s, 4, reason);
    bind_text(s, 5, node);
    return run(st, s);
}

int store_job_insert(struct store *st, struct store_job *job)
{
    sqlite3_stmt *s = st->stmt[S_JOB_INSERT];
    char *spec = json_dumps(job->spec, JSON_COMPACT);

    if (!spec) {
        store_fail(st, "out of memory");
        errno = ENOMEM;
        return -1;
    }
    bind_text(s, 1, job->name);
    bind_text(s, 2, job->user);
    sqlite3_bind_int64(s, 3, job->uid);
    bind_text(s, 4, job->queue);
    sqlite3_bind_int(s, 5, (int)job->state);
    bind_text(s, 6, job->reason);
    sqlite3_bind_double(s, 7, job->submit_time);
    bind_text(s, 8, spec);
    if (job->array_id > 0) {
        sqlite3_bind_int64(s, 9, job->array_id);
        sqlite3_bind_int64(s, 10, job->array_index);
    } else {
        sqlite3_bind_null(s, 9);
        sqlite3_bind_null(s, 10);
    }
    if (run(st, s) < 0) {
        free(spec);
        return -1;
    }
    free(spec);
    job->id = sqlite3_last_insert_rowid(st->db);
    return event(st, job->id, job->submit_time, job->state, job->reason, NULL);
}

int store_job_update(struct store *st, const struct store_job *job, double now)
{
    sqlite3_stmt *s = st->stmt[S_JOB_UPDATE];

    sqlite3_bind_int(s, 1, (int)job->state);
    bind_text(s, 2, job->reason);
    sqlite3_bind_int(s, 3, job->exit_code);
    bind_time(s, 4, job->start_time);
    bind_time(s, 5, job->end_time);
    bind_text(s, 6, job->node);
    bind_text(s, 7, job->cpus);
    sqlite3_bind_int(s, 8, job->attempts);
    bind_text(s, 9, job->alloc);
    bind_text(s, 10, job->token);
    sqlite3_bind_int64(s, 11, job->id);
    if (run(st, s) < 0)
        return -1;
    return event(st, job->id, now, job->state, job->reason, job->node);
}

int store_job_set_spec(struct store *st, int64_t id, const json_t *spec)
{
    sqlite3_stmt *s = st->stmt[S_JOB_SPEC];
    char *text = json_dumps(spec, JSON_COMPACT);
    int rc;

    if (!text) {
        store_fail(st, "out of memory");
        errno = ENOMEM;
        return -1;
    }
    bind_text(s, 1, text);
    sqlite3_bind_int64(s, 2, id);
    rc = run(st, s);
    free(text);
    return rc;
}

int store_attempt(struct store *st, int64_t job_id, int attempt,
                  const char *node, const char *cpus, double start, double end,
                  int exit_code, int signal, const char *reason)
{
    sqlite3_stmt *s = st->stmt[S_ATTEMPT];

    sqlite3_bind_int64(s, 1, job_id);
    sqlite3_bind_int(s, 2, attempt);
    bind_text(s, 3, node);
    bind_text(s, 4, cpus);
    bind_time(s, 5, start);
    bind_time(s, 6, end);
    sqlite3_bind_int(s, 7, exit_code);
    sqlite3_bind_int(s, 8, signal);
    bind_text(s, 9, reason);
    return run(st, s);
}

int store_attempt_usage(struct store *st, int64_t job_id, int attempt,
                        const struct store_usage *u)
{
    sqlite3_stmt *s = st->stmt[S_ATTEMPT_USAGE];

    sqlite3_bind_double(s, 1, u->user_cpu);
    sqlite3_bind_double(s, 2, u->sys_cpu);
    sqlite3_bind_int64(s, 3, u->max_rss_kib);
    if (u->oom_kills >= 0)
        sqlite3_bind_int(s, 4, u->oom_kills);
    else
        sqlite3_bind_null(s, 4);
    sqlite3_bind_int64(s, 5, job_id);
    sqlite3_bind_int(s, 6, attempt);
    return run(st, s);
}

static char *col_text(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    return t ? strdup((const char *)t) : NULL;
}

/* A state column: its number, FAILED for one out of range (a newer
 * kiln's). */
static enum job_state state_col(sqlite3_stmt *s, int i)
{
    int v = sqlite3_column_int(s, i);
    return v >= 0 && v < JOB_NSTATES ? (enum job_state)v : JOB_FAILED;
}

/* A one-off statement of sql, or NULL (and the transaction fails). */
static sqlite3_stmt *prepare(struct store *st, const char *sql)
{
    sqlite3_stmt *s = NULL;

    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
        fail(st);
        return NULL;
    }
    return s;
}

typedef int (*row_f)(sqlite3_stmt *row, void *arg);

/* Step s (prepared and bound) through its rows, calling fn for each; fn
 * returning -1 stops there.  s is finalized.  A failed step fails the
 * transaction.  0 or -1. */
static int each(struct store *st, sqlite3_stmt *s, row_f fn, void *arg)
{
    int rc;

    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        if (fn(s, arg) < 0) {
            sqlite3_finalize(s);
            return -1;
        }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : fail(st);
}

/* A row of JOB_COLUMNS (and, with usage, the attempt's usage after them). */
static void row_to_job(sqlite3_stmt *s, struct store_job *j, bool usage)
{
    const char *spec = (const char *)sqlite3_column_text(s, C_SPEC);

    memset(j, 0, sizeof(*j));
    j->id = sqlite3_column_int64(s, C_ID);
    j->name = col_text(s, C_NAME);
    j->user = col_text(s, C_USER);
    j->uid = (long)sqlite3_column_int64(s, C_UID);
    j->queue = col_text(s, C_QUEUE);
    j->state = state_col(s, C_STATE);
    j->reason = col_text(s, C_REASON);
    j->exit_code = sqlite3_column_int(s, C_EXIT_CODE);
    j->submit_time = sqlite3_column_double(s, C_SUBMIT);
    j->start_time = sqlite3_column_double(s, C_START);
    j->end_time = sqlite3_column_double(s, C_END);
    j->node = col_text(s, C_NODE);
    j->cpus = col_text(s, C_CPUS);
    j->alloc = col_text(s, C_ALLOC);
    j->token = col_text(s, C_TOKEN);
    j->has_usage = usage && sqlite3_column_type(s, C_USER_CPU) != SQLITE_NULL;
    if (j->has_usage) {
        j->usage.user_cpu = sqlite3_column_double(s, C_USER_CPU);
        j->usage.sys_cpu = sqlite3_column_double(s, C_SYS_CPU);
        j->usage.max_rss_kib = sqlite3_column_int64(s, C_MAX_RSS);
        j->usage.oom_kills = sqlite3_column_type(s, C_OOM_KILLS) == SQLITE_NULL
                                 ? -1
                                 : sqlite3_column_int(s, C_OOM_KILLS);
    }
    j->attempts = sqlite3_column_int(s, C_ATTEMPTS);
    j->spec = spec ? json_loads(spec, 0, NULL) : NULL;
    j->array_id = sqlite3_column_int64(s, C_ARRAY_ID);
    j->array_index = sqlite3_column_type(s, C_ARRAY_INDEX) == SQLITE_NULL
                         ? -1
                         : sqlite3_column_int64(s, C_ARRAY_INDEX);
}

void store_job_release(struct store_job *j)
{
    free(j->name);
    free(j->user);
    free(j->queue);
    free(j->reason);
    free(j->node);
    free(j->cpus);
    free(j->alloc);
    free(j->token);
    json_decref(j->spec);
    memset(j, 0, sizeof(*j));
}

int store_job_get(struct store *st, int64_t id, struct store_job *job)
{
    sqlite3_stmt *s = st->stmt[S_JOB_GET];
    int rc;

    sqlite3_bind_int64(s, 1, id);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        row_to_job(s, job, false);
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return fail(st);
    return rc == SQLITE_ROW;
}

int store_job_state(struct store *st, int64_t id, enum job_state *state,
                    double *start)
{
    sqlite3_stmt *s = st->stmt[S_JOB_STATE];
    int rc;

    sqlite3_bind_int64(s, 1, id);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *state = state_col(s, 0);
        *start = sqlite3_column_double(s, 1);
    }
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return fail(st);
    return rc == SQLITE_ROW;
}

int64_t store_array_child(struct store *st, int64_t array_id, long index)
{
    sqlite3_stmt *s = st->stmt[S_ARRAY_CHILD];
    int64_t id = 0;
    int rc;

    sqlite3_bind_int64(s, 1, array_id);
    sqlite3_bind_int64(s, 2, index);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        id = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return fail(st);
    return id;
}

struct progress {
    long *max_index;
    int *counts;
};

static int progress_row(sqlite3_stmt *row, void *arg)
{
    struct progress *p = arg;
    long mx = (long)sqlite3_column_int64(row, 2);

    p->counts[state_col(row, 0)] += sqlite3_column_int(row, 1);
    if (mx > *p->max_index)
        *p->max_index = mx;
    return 0;
}

int store_array_progress(struct store *st, int64_t array_id, long *max_index,
                         int counts[JOB_NSTATES])
{
    struct progress p = { max_index, counts };
    sqlite3_stmt *s =
        prepare(st, "SELECT state, COUNT(*), MAX(array_index) FROM jobs"
                    " WHERE array_id=? GROUP BY state");

    *max_index = -1;
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, array_id);
    return each(st, s, progress_row, &p);
}

struct job_rows {
    store_job_f fn;
    void *arg;
    bool usage; /* the rows have the last attempt's usage after the job */
};

static int job_row(sqlite3_stmt *row, void *arg)
{
    struct job_rows *r = arg;
    struct store_job j;

    row_to_job(row, &j, r->usage);
    int rc = r->fn(&j, r->arg);
    store_job_release(&j);
    return rc < 0 ? -1 : 0;
}

int store_foreach_active(struct store *st, store_job_f fn, void *arg)
{
    struct job_rows r = { fn, arg, false };
    sqlite3_stmt *s = prepare(st, "SELECT " JOB_COLUMNS " FROM jobs"
                                  " WHERE end_time IS NULL ORDER BY id");

    return s ? each(st, s, job_row, &r) : -1;
}

/* ?1, ?2 and ?3 of the finished-job queries: after where, whose. */
static void bind_after(sqlite3_stmt *s, const struct store_cursor *after,
                       const char *user)
{
    sqlite3_bind_double(s, 1, after->end_time);
    sqlite3_bind_int64(s, 2, after->id);
    bind_text(s, 3, user);
}

int store_foreach_finished(struct store *st, const struct store_cursor *after,
                           const char *user, int max, store_job_f fn, void *arg)
{
    struct job_rows r = { fn, arg, true };

#define LAST_ATTEMPT(col) \
    ", (SELECT " col      \
    " FROM attempts a WHERE a.job_id = jobs.id AND a.attempt = jobs.attempts)"
    /* jobs_end indexes (end_time, rowid): the order asked for. */
    sqlite3_stmt *s = prepare(
        st,
        "SELECT " JOB_COLUMNS_WITH(SPEC_SIZE) LAST_ATTEMPT("user_cpu")
            LAST_ATTEMPT("sys_cpu") LAST_ATTEMPT("max_rss_kib") LAST_ATTEMPT(
                "oom_kills") " FROM jobs WHERE end_time IS NOT NULL"
                             " AND (end_time, id) > (?1, ?2) AND (?3 IS NULL OR user = ?3)"
                             " ORDER BY end_time, id LIMIT ?4");
#undef LAST_ATTEMPT
    if (!s)
        return -1;
    bind_after(s, after, user);
    sqlite3_bind_int(s, 4, max);
    return each(st, s, job_row, &r);
}

static int cursor_row(sqlite3_stmt *row, void *arg)
{
    struct store_cursor *c = arg;

    c->end_time = sqlite3_column_double(row, 0);
    c->id = sqlite3_column_int64(row, 1);
    return 0;
}

int store_finished_before_last(struct store *st,
                               const struct store_cursor *after,
                               const char *user, long n,
                               struct store_cursor *at)
{
    sqlite3_stmt *s = prepare(
        st, "SELECT end_time, id FROM jobs WHERE end_time IS NOT NULL"
            " AND (end_time, id) > (?1, ?2) AND (?3 IS NULL OR user = ?3)"
            " ORDER BY end_time DESC, id DESC LIMIT 1 OFFSET ?4");
    struct store_cursor c = { 0, 0 };

    if (!s)
        return -1;
    bind_after(s, after, user);
    sqlite3_bind_int64(s, 4, n);
    if (each(st, s, cursor_row, &c) < 0)
        return -1;
    if (!c.id)
        return 0;
    *at = c;
    return 1;
}

/* Each row as an object of its columns, by name. */
static int json_row(sqlite3_stmt *row, void *arg)
{
    json_t *o = json_object();

    for (int i = 0; o && i < sqlite3_column_count(row); i++) {
        json_t *v;
        switch (sqlite3_column_type(row, i)) {
        case SQLITE_INTEGER:
            v = json_integer(sqlite3_column_int64(row, i));
            break;
        case SQLITE_FLOAT: v = json_real(sqlite3_column_double(row, i)); break;
        case SQLITE_NULL: v = json_null(); break;
        default: v = json_string((const char *)sqlite3_column_text(row, i));
        }
        json_object_set_new(o, sqlite3_column_name(row, i), v);
    }
    return o ? json_array_append_new(arg, o) : -1;
}

static json_t *rows_to_json(struct store *st, const char *sql, int64_t id)
{
    sqlite3_stmt *s = prepare(st, sql);
    json_t *a = json_array();

    if (!s || !a) {
        sqlite3_finalize(s);
        json_decref(a);
        return NULL;
    }
    sqlite3_bind_int64(s, 1, id);
    if (each(st, s, json_row, a) < 0) {
        json_decref(a);
        errno = EIO;
        return NULL;
    }
    return a;
}

json_t *store_job_events(struct store *st, int64_t id)
{
    json_t *a = rows_to_json(st,
                             "SELECT time, state, reason, node FROM events"
                             " WHERE job_id=? ORDER BY id",
                             id),
           *e;
    size_t i;

    /* A state is stored as its number and shown by its name. */
    json_array_foreach (a, i, e) {
        json_int_t v = json_integer_value(json_object_get(e, "state"));
        json_object_set_new(e, "state",
                            json_string(job_state_name(v >= 0 && v < JOB_NSTATES
                                                           ? (enum job_state)v
                                                           : JOB_FAILED)));
    }
    return a;
}

json_t *store_job_attempts(struct store *st, int64_t id)
{
    return rows_to_json(
        st,
        "SELECT attempt, node, cpus, start_time, end_time,"
        " exit_code, signal, reason, user_cpu, sys_cpu, max_rss_kib, oom_kills"
        " FROM attempts WHERE job_id=? ORDER BY attempt",
        id);
}

int store_node_put(struct store *st, const char *name, const char *state,
                   const json_t *topology, double last_seen)
{
    sqlite3_stmt *s = st->stmt[S_NODE_PUT];
    char *topo = topology ? json_dumps(topology, JSON_COMPACT) : NULL;
    int rc;

    bind_text(s, 1, name);
    bind_text(s, 2, state);
    bind_text(s, 3, topo);
    bind_time(s, 4, last_seen);
    rc = run(st, s);
    free(topo);
    return rc;
}

struct node_rows {
    store_node_f fn;
    void *arg;
};

static int node_row(sqlite3_stmt *row, void *arg)
{
    struct node_rows *r = arg;
    const char *t = (const char *)sqlite3_column_text(row, 2);
    json_t *topo = t ? json_loads(t, 0, NULL) : NULL;
    int rc = r->fn((const char *)sqlite3_column_text(row, 0),
                   (const char *)sqlite3_column_text(row, 1), topo,
                   (const char *)sqlite3_column_text(row, 3),
                   (const char *)sqlite3_column_text(row, 4), r->arg);

    json_decref(topo);
    return rc < 0 ? -1 : 0;
}

int store_foreach_node(struct store *st, store_node_f fn, void *arg)
{
    struct node_rows r = { fn, arg };
    sqlite3_stmt *s =
        prepare(st, "SELECT name, state, topology, ce, features FROM nodes"
                    " ORDER BY name");

    return s ? each(st, s, node_row, &r) : -1;
}

int store_node_delete(struct store *st, const char *name)
{
    sqlite3_stmt *s = st->stmt[S_NODE_DEL];

    bind_text(s, 1, name);
    return run(st, s);
}

int store_ce_event(struct store *st, const char *ce, double when,
                   const char *kind, const char *text)
{
    sqlite3_stmt *s = st->stmt[S_CE_EVENT];

    bind_text(s, 1, ce);
    bind_time(s, 2, when);
    bind_text(s, 3, kind);
    bind_text(s, 4, text);
    return run(st, s);
}

static int ce_event_row(sqlite3_stmt *row, void *arg)
{
    json_t *o =
        json_pack("{s:f, s:s, s:s}", "time", sqlite3_column_double(row, 0),
                  "kind", (const char *)sqlite3_column_text(row, 1), "text",
                  (const char *)sqlite3_column_text(row, 2));

    /* newest first from the query: oldest first in the answer */
    return o ? json_array_insert_new(arg, 0, o) : -1;
}

json_t *store_ce_events(struct store *st, const char *ce, int limit)
{
    json_t *a = json_array();
    sqlite3_stmt *s = prepare(st, "SELECT time, kind, text FROM ce_events"
                                  " WHERE ce=? ORDER BY id DESC LIMIT ?");

    if (!s)
        return a;
    bind_text(s, 1, ce);
    sqlite3_bind_int(s, 2, limit);
    each(st, s, ce_event_row, a);
    return a;
}

int store_node_set_ce(struct store *st, const char *name, const char *ce)
{
    sqlite3_stmt *s = st->stmt[S_NODE_CE];

    bind_text(s, 1, ce);
    bind_text(s, 2, name);
    return run(st, s);
}

int store_node_set_features(struct store *st, const char *name,
                            const char *features)
{
    sqlite3_stmt *s = st->stmt[S_NODE_FEATURES];

    bind_text(s, 1, features);
    bind_text(s, 2, name);
    return run(st, s);
}

int store_object_put(struct store *st, const char *kind, const char *name,
                     const json_t *body)
{
    sqlite3_stmt *s = st->stmt[S_OBJ_PUT];
    char *text = json_dumps(body, JSON_COMPACT);
    int rc;

    if (!text) {
        store_fail(st, "out of memory");
        errno = ENOMEM;
        return -1;
    }
    bind_text(s, 1, kind);
    bind_text(s, 2, name);
    bind_text(s, 3, text);
    rc = run(st, s);
    free(text);
    return rc;
}

int store_object_delete(struct store *st, const char *kind, const char *name)
{
    sqlite3_stmt *s = st->stmt[S_OBJ_DEL];

    bind_text(s, 1, kind);
    bind_text(s, 2, name);
    return run(st, s);
}

int store_foreach_object(struct store *st, const char *kind, store_object_f fn,
                         void *arg)
{
    return store_foreach_object_prefix(st, kind, NULL, fn, arg);
}

struct object_rows {
    store_object_f fn;
    void *arg;
};

static int object_row(sqlite3_stmt *row, void *arg)
{
    struct object_rows *r = arg;
    json_t *body =
        json_loads((const char *)sqlite3_column_text(row, 1), 0, NULL);
    int rc =
        body ? r->fn((const char *)sqlite3_column_text(row, 0), body, r->arg)
             : 0;

    json_decref(body);
    return rc < 0 ? -1 : 0;
}

int store_foreach_object_prefix(struct store *st, const char *kind,
                                const char *prefix, store_object_f fn,
                                void *arg)
{
    struct object_rows r = { fn, arg };
    sqlite3_stmt *s;
    char *end = NULL;
    int rc;

    /* Names from prefix up to (not including) prefix with its last byte
     * plus one: a range of the (kind, name) key, read through its index. */
    if (prefix && *prefix) {
        if (!(end = strdup(prefix))) {
            store_fail(st, "out of memory");
            return -1;
        }
        end[strlen(end) - 1]++;
    }
    if (!(s = prepare(
              st,
              end ? "SELECT name, body FROM objects WHERE kind=?"
                    " AND name >= ? AND name < ? ORDER BY name"
                  : "SELECT name, body FROM objects WHERE kind=? ORDER BY name"))) {
        free(end);
        return -1;
    }
    bind_text(s, 1, kind);
    if (end) {
        bind_text(s, 2, prefix);
        bind_text(s, 3, end);
    }
    rc = each(st, s, object_row, &r);
    free(end);
    return rc;
}

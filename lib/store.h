/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The server's durable state in sqlite (WAL): jobs, their events and
 * attempts, nodes.  Writes between store_begin() and store_commit() share
 * one transaction, so a loop turn costs one fsync (group commit). */
#ifndef KILN_STORE_H
#define KILN_STORE_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "lib/error.h"
#include "lib/jobstate.h"

struct store;

/* Open or create DIR/kiln.db and bring its schema up to date; with dir
 * NULL, a database in memory (for tests). */
struct store *store_open(const char *dir, struct kiln_error *err);
void store_destroy(struct store *st);

/* The schema version the database is at after store_open(). */
int store_schema_version(struct store *st);

/* Every write below that fails (sqlite's error, or no memory) fails the
 * whole transaction by itself: callers need not remember it, and nothing
 * of it is committed. */
int store_begin(struct store *st);
/* Commit; or, when any statement since store_begin failed (or store_fail
 * was called), roll everything back and return -1 with errno (ENOSPC for
 * a full disk or database, else EIO).  The failure stays (sticky): the
 * store takes no more commits. */
int store_commit(struct store *st);
/* Fail the transaction for a reason of the caller's (a write it could
 * not even start); the first failure wins. */
void store_fail(struct store *st, const char *why);
/* The first failure's message (sqlite's words), or NULL; *errnum as for
 * store_commit. */
const char *store_error(const struct store *st, int *errnum);

/* What an attempt used. */
struct store_usage {
    double user_cpu, sys_cpu; /* CPU seconds in user and system mode */
    int64_t max_rss_kib;      /* peak memory (KiB) */
    int oom_kills;            /* processes the OOM killer killed; -1 unknown */
};

/* A job row.  Strings are owned by the row when it comes from the store
 * (free with store_job_release); json fields are references. */
struct store_job {
    int64_t id;
    char *name, *user, *queue, *reason, *node, *cpus;
    enum job_state state;
    char *alloc;    /* JSON text: what lib/alloc chose beyond cpus, or NULL */
    char *token;    /* the running attempt's exec token (a secret), or NULL */
    bool has_usage; /* store_foreach_finished: the last attempt's usage */
    struct store_usage usage;
    long uid;
    int exit_code; /* -1 until known */
    double submit_time, start_time, end_time;
    int attempts;
    json_t *spec;     /* the validated job.submit body */
    int64_t array_id; /* an array child's parent, else 0 */
    long array_index; /* an array child's index, else -1 */
};

/* Insert a new job (id assigned by the store, never reused) and its first
 * event.  Sets job->id. */
int store_job_insert(struct store *st, struct store_job *job);

/* Write the mutable columns of job (state, reason, exit code, times, node,
 * cpus, attempts) and append an event (state, reason, node) at time now. */
int store_job_update(struct store *st, const struct store_job *job, double now);

/* Replace a job's stored spec (what job.hold and job.release change). */
int store_job_set_spec(struct store *st, int64_t id, const json_t *spec);

/* Record an attempt's outcome. */
int store_attempt(struct store *st, int64_t job_id, int attempt,
                  const char *node, const char *cpus, double start, double end,
                  int exit_code, int signal, const char *reason);

int store_attempt_usage(struct store *st, int64_t job_id, int attempt,
                        const struct store_usage *u);

/* Load one job; returns 1 found, 0 not found, -1 error. */
int store_job_get(struct store *st, int64_t id, struct store_job *job);
void store_job_release(struct store_job *job);

/* The id of child index of array array_id, 0 if it has no row yet, -1 on
 * error. */
int64_t store_array_child(struct store *st, int64_t array_id, long index);

/* The children of array_id that have rows: their largest index (-1 when
 * none) and, added into counts[state], how many are in each state. */
int store_array_progress(struct store *st, int64_t array_id, long *max_index,
                         int counts[JOB_NSTATES]);

/* Just a job's state and start time: 1 found, 0 not found, -1 error.
 * Cheaper than store_job_get. */
int store_job_state(struct store *st, int64_t id, enum job_state *state,
                    double *start);

typedef int (*store_job_f)(struct store_job *job, void *arg);

/* Call fn for every job not in a final state, in id order.  fn may keep
 * the strings it is handed by stealing them (set the field to NULL). */
int store_foreach_active(struct store *st, store_job_f fn, void *arg);

/* A place among the finished jobs, which are in (end_time, id) order. */
struct store_cursor {
    double end_time;
    int64_t id;
};

/* Call fn for the first max finished jobs after *after, in order, only
 * user's when user is not NULL.  Each comes with its last attempt's usage,
 * and of its spec only the size it asked for (ntasks, cpus_per_task, mem,
 * mem_per_cpu, nodes, time_limit). */
int store_foreach_finished(struct store *st, const struct store_cursor *after,
                           const char *user, int max, store_job_f fn,
                           void *arg);

/* The place just before the n most recent finished jobs after *after
 * (user's): *at, that of the (n + 1)th most recent.  1 found, 0 when
 * there are no more than n, -1 error. */
int store_finished_before_last(struct store *st,
                               const struct store_cursor *after,
                               const char *user, long n,
                               struct store_cursor *at);

/* The job's events and attempts as JSON arrays (new references). */
json_t *store_job_events(struct store *st, int64_t id);
json_t *store_job_attempts(struct store *st, int64_t id);

/* Nodes: remember a node's topology so that a restarted server knows the
 * cluster's shape before the workers come back.  A NULL topology keeps the
 * one stored. */
int store_node_put(struct store *st, const char *name, const char *state,
                   const json_t *topology, double last_seen);
typedef int (*store_node_f)(const char *name, const char *state,
                            json_t *topology, const char *ce,
                            const char *features, void *arg);
int store_foreach_node(struct store *st, store_node_f fn, void *arg);
/* Set the compute environment a node belongs to (NULL: the default). */
int store_node_set_ce(struct store *st, const char *name, const char *ce);
/* Set a node's features (comma separated; NULL: none). */
int store_node_set_features(struct store *st, const char *name,
                            const char *features);

/* Named objects of a kind ("queue", "ce", ...), each a JSON object. */
/* Forget a node (an instance that was terminated). */
int store_node_delete(struct store *st, const char *name);
/* What the elastic manager did in compute environment ce, and the last
 * limit of it, oldest first: [{"time", "kind", "text"}]. */
int store_ce_event(struct store *st, const char *ce, double when,
                   const char *kind, const char *text);
json_t *store_ce_events(struct store *st, const char *ce, int limit);
int store_object_put(struct store *st, const char *kind, const char *name,
                     const json_t *body);
int store_object_delete(struct store *st, const char *kind, const char *name);
typedef int (*store_object_f)(const char *name, json_t *body, void *arg);
int store_foreach_object(struct store *st, const char *kind, store_object_f fn,
                         void *arg);
/* Only those whose name starts with prefix (through the key's index: the
 * cost is what is read). */
int store_foreach_object_prefix(struct store *st, const char *kind,
                                const char *prefix, store_object_f fn,
                                void *arg);

#endif

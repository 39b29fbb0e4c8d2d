/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The head-node daemon: shared state of its modules (api, nodes, jobs,
 * sched).  Single-threaded; nothing here is locked. */
#ifndef KILN_SERVER_H
#define KILN_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "lib/jobspec.h"
#include "lib/proto.h"
#include "lib/store.h"
#include "lib/topo.h"

enum job_state {
    JOB_SUBMITTED, JOB_PENDING, JOB_RUNNABLE, JOB_STARTING, JOB_RUNNING,
    JOB_SUCCEEDED, JOB_FAILED,
};

const char *job_state_name(enum job_state s);
int job_state_parse(const char *name); /* -1 if unknown */

enum node_state { NODE_UNKNOWN, NODE_UP, NODE_DOWN };

struct node {
    char name[64];
    enum node_state state;
    struct topo *topo;   /* NULL until the worker has said hello once */
    bool *busy;          /* per PU of topo */
    int nbusy;
    int64_t mem_used;    /* MiB promised to running jobs */
    double last_heard;   /* monotonic seconds */
    int njobs;
    struct node *next;
};

/* A job the server still has work for (not in a final state).  Finished
 * jobs live only in the store. */
struct job {
    int64_t id;
    struct jobspec spec;
    json_t *spec_json;     /* as submitted, validated */
    enum job_state state;
    char *reason;          /* status reason, NULL if none */
    int exit_code;         /* -1 until known */
    double submit_time, start_time, end_time;
    char *node_name;       /* where it runs or ran last */
    struct node *node;     /* set while it holds cores on node */
    int *pu;               /* indices into node->topo->pu */
    int npu;
    char *cpus;            /* OS cpu list on node */
    int attempts;          /* attempts started so far */
    bool kill_sent;
    char *cancel_reason;   /* set once a cancel was asked for */
    json_t *waiters;       /* array of client identities (base64) */
    struct job *qnext;     /* runnable queue link */
};

struct outmsg;

struct server {
    void *ctx, *clients, *workers;
    char client_ep[256], worker_ep[256];
    struct store *st;
    void *jobs;            /* tsearch tree of struct job, by id */
    int njobs;
    struct job *qhead, *qtail; /* RUNNABLE jobs in submit order */
    struct node *nodes;
    bool sched_needed;
    bool deps_dirty;       /* a job started or ended: re-check dependants */
    /* replies and messages to send once this turn's commit is done */
    struct outmsg *out;
    int nout, outcap;
    /* settings */
    double node_timeout;   /* seconds without a heartbeat before DOWN */
    double heartbeat;      /* seconds between worker heartbeats */
    int kill_wait;         /* seconds between SIGTERM and SIGKILL */
    double started;        /* monotonic time the server started */
    bool store_failed;
};

/* Queue a message for after the commit.  sock is s->clients or
 * s->workers; body is consumed. */
void server_send(struct server *s, void *sock, const void *id, size_t idlen,
                 const char *type, json_t *body);
void server_reply_error(struct server *s, void *sock, const struct proto_msg *m,
                        int errnum, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* jobs.c */
struct job *jobs_find(struct server *s, int64_t id);
int jobs_load(struct server *s);
struct job *jobs_submit(struct server *s, json_t *spec_json,
                        struct jobspec *spec, struct kiln_error *err);
/* Move job to state with reason (may be NULL), record the event.  Final
 * states free the job's cores, answer its waiters and drop it from
 * memory: job is invalid afterwards. */
void jobs_set_state(struct server *s, struct job *job, enum job_state state,
                    const char *reason);
/* An attempt ended without success (not a cancel): back to the queue if
 * the job's retry strategy allows another attempt, else FAILED. */
void jobs_attempt_failed(struct server *s, struct job *job, int exit_code,
                         const char *reason);
void jobs_enqueue(struct server *s, struct job *job);
/* A PENDING job is released (not held): RUNNABLE, or left to deps_run. */
void jobs_leave_pending(struct server *s, struct job *job);
void jobs_dequeue(struct server *s, struct job *job);
void jobs_release_cores(struct server *s, struct job *job);
json_t *jobs_to_json(struct server *s, const struct job *job);
json_t *jobs_row_to_json(const struct store_job *row);
typedef void (*jobs_f)(struct server *s, struct job *job, void *arg);
void jobs_foreach(struct server *s, jobs_f fn, void *arg);
void jobs_destroy_all(struct server *s);

/* api.c: client requests */
void api_handle(struct server *s, struct proto_msg *m);

/* nodes.c: worker messages and liveness */
void nodes_handle(struct server *s, struct proto_msg *m);
void nodes_check(struct server *s);
int nodes_load(struct server *s);
struct node *nodes_find(struct server *s, const char *name);
void nodes_destroy_all(struct server *s);

/* deps.c */
/* Why spec's dependencies are invalid (an unknown job), or NULL. */
const char *deps_validate(struct server *s, const struct jobspec *spec);
/* Release or fail the PENDING jobs whose dependencies are now decided. */
void deps_run(struct server *s);

/* sched.c */
void sched_run(struct server *s);
/* Why no node can ever run spec, or NULL if some node could. */
const char *sched_infeasible(struct server *s, const struct jobspec *spec);

#endif

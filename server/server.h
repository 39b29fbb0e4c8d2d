/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The head-node daemon: shared state of its modules (api, nodes, jobs,
 * sched).  Single-threaded but for the threads that check a batch's MUNGE
 * credentials (identity.c), which touch nothing here. */
#ifndef KILN_SERVER_H
#define KILN_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "lib/arrayspec.h"
#include "lib/auth.h"
#include "lib/cespec.h"
#include "lib/jobspec.h"
#include "lib/jobstate.h"
#include "lib/jsonfields.h"
#include "lib/keys.h"
#include "lib/proto.h"
#include "lib/store.h"
#include "lib/token.h"
#include "lib/topo.h"

enum node_state { NODE_UNKNOWN, NODE_UP, NODE_DOWN };

enum { CE_SHORT_TYPES = 8 };

/* A compute environment: a named set of nodes, which a managed one grows
 * and shrinks by launching and retiring instances (elastic.c). */
struct ce {
    /* ce.c: what an admin set */
    char name[64];
    bool enabled;       /* a disabled one gets no new jobs, launches nothing */
    struct cespec spec; /* the body, checked */
    json_t *body;       /* as AWS's CreateComputeEnvironment has it */
    /* elastic.c: what the manager does with it */
    char status[16];         /* CREATING, VALID or INVALID */
    char status_reason[256]; /* why INVALID, or what it waits for */
    long desired;            /* vCPUs it should have now */
    long launch_floor;       /* an admin's desiredvCpus, until reached */
    double backoff_until;    /* monotonic: no launch before (provider said
                              * slow down, or capacity was short) */
    int backoff_step;
    bool reconciled; /* its provider's instances were compared with the
                      * store since the start */
    int plan_index;  /* scratch of a pass: its place, or -1 */
    char short_type[CE_SHORT_TYPES][32]; /* types short of capacity */
    double short_until[CE_SHORT_TYPES];  /* monotonic: until then */
    struct ce *next;
};

/* A fair-share scheduling policy (fairshare.c). */
struct policy {
    char name[64];
    long decay;     /* shareDecaySeconds: usage half-life */
    json_t *shares; /* shareDistribution: [{shareIdentifier, weightFactor}] */
    struct policy *next;
};

/* One share identifier's use of a fair-share queue. */
struct share {
    char id[256];
    double usage; /* cpu-seconds, as of `when` */
    double when;
    double running; /* scratch: what it runs now */
    int seen_first; /* scratch */
};

/* A job queue: a priority, the compute environments it tries in order, and
 * its RUNNABLE jobs in submit order.  Each group of fields has one writer,
 * named beside it; the others read. */
struct queue {
    /* queue.c: what an admin set */
    char name[64];
    int priority;       /* higher is scheduled first */
    bool enabled;       /* a disabled one takes no new jobs, runs the rest */
    struct ce *ces[16]; /* its compute environments, in order (a ce in use
                            * by a queue cannot be deleted) */
    int nces;
    char policy[64];    /* fair-share policy name, "" for priority+FIFO */
    json_t *actions;    /* jobStateTimeLimitActions, or NULL */
    struct queue *next; /* the server's list, by priority */
    /* sched.c: the backfill reservation of the last pass */
    int64_t reserved_job; /* the job holding this queue's reservation, or 0 */
    double reserved_at;   /* and when it is expected to start (UTC) */
    /* fairshare.c: usage per share identifier, with a policy */
    struct share *shares;
    int nshares;
    /* jobs.c: the RUNNABLE jobs, linked through job->qnext, and how many
     * active jobs it has */
    struct job *qhead, *qtail;
    long njobs;
};

struct node {
    char name[64]; /* first: the tree of nodes by name takes it as a key */
    /* What a scheduling pass reads of every node, in one cache line. */
    struct node *next;
    int npu;   /* the PUs of topo, 0 without one */
    int nbusy; /* those held by jobs */
    enum node_state state;
    struct topo *topo; /* NULL until the worker has said hello once */
    bool *busy;        /* per PU of topo */
    int64_t mem_used;  /* MiB promised to running jobs */
    double last_heard; /* monotonic seconds */
    int njobs;
    struct jpart **running; /* the job parts holding cores here (njobs) */
    int running_cap;
    char address[64];   /* its IPv4 address, as the worker said, or "" */
    char hostname[64];  /* the machine's host name, as the worker said */
    char runtimes[128]; /* OCI runtimes that work there, comma separated */
    char ce[64];        /* the compute environment it belongs to */
    char features[256]; /* comma separated, for --constraint */
    char drain[128];    /* why an admin drained it; "" when not drained */
    bool admin_down;    /* an admin set it down (drained, its jobs stopped) */
    bool *gpu_busy;     /* per GPU of topo */
    int ngpu_busy;
    /* The connection its hello came on (routing id NAME/RANDOM, fresh for
     * each connection of the worker): the only one whose messages are
     * taken as the node's, and the only one the node's messages go to. */
    unsigned char rid[KILN_PROTO_MAX_ID];
    size_t ridlen;
};

/* One node's share of a job that runs (server/place.c). */
struct jpart {
    struct job *job;
    char name[64];     /* the node */
    struct node *node; /* set while it holds cores there */
    int *pu;           /* indices into node->topo->pu it holds */
    int npu;
    int *gpu; /* indices into node->topo->gpu it holds */
    int ngpu;
    int64_t mem_held; /* MiB it holds there */
    char *cpus;       /* OS cpu list: its cpuset there */
    char *held;       /* OS cpu list it holds (whole cores, exclusive) */
    json_t *tasks;    /* each of its tasks' cpu list */
    json_t *slots;    /* the same as positions among its cpus, in the
                            * node's logical order (an MPI rankfile's slots) */
    json_t *gpus;     /* GPU indices */
    int first_task;   /* the job-wide rank of its first task */
    bool started, ended;
};

/* A job the server still has work for (not in a final state).  Finished
 * jobs live only in the store.  Written by jobs.c alone, but for its
 * parts, node_name, cpus and alloc (place.c, which holds its cores) and
 * array (arrays.c, its children's progress). */
struct job {
    int64_t id;
    struct jobspec spec; /* parsed, but for script, args and env (NULL) */
    json_t *spec_json;   /* as submitted, validated: all of it */
    enum job_state state;
    char *reason;  /* status reason, NULL if none */
    int exit_code; /* -1 until known */
    double submit_time, start_time, end_time;
    char *node_name;    /* where it runs or ran last ("n1,n2" for several) */
    char *cpus;         /* OS cpu list on its (main) node */
    char *alloc;        /* its placement on every node, JSON (server/place.c) */
    struct jpart *part; /* its nodes while it runs: part[0] runs the script */
    int nparts;
    int parts_running; /* parts not yet ended */
    /* the attempt's outcome, gathered as its parts end */
    bool main_ended;
    int main_exit, main_signal;
    char *main_reason;
    char *part_failure;    /* the first part that failed or was lost, and why */
    bool part_lost;        /* a part was lost with its node: that is why */
    char *token;           /* the secret of this attempt, for kiln exec */
    int attempts;          /* attempts started so far */
    double runnable_since; /* monotonic time it last became RUNNABLE */
    double starting_since; /* monotonic time it last became STARTING */
    int lost_starts;       /* attempts whose start no node confirmed: not
                            * counted against its retry strategy */
    bool kill_sent;        /* job.kill went to its running parts */
    char *cancel_reason;   /* set once a cancel was asked for */
    json_t *waiters;       /* array of client identities (hex) */
    struct queue *queue;   /* the job queue it was submitted to */
    struct job *qnext;     /* runnable queue link */
    struct array *array;   /* an array's parent: its children's progress */
    int64_t array_id;      /* an array child: its parent's id, else 0 */
    long array_index;      /* an array child: its index */
    struct job *finished_next; /* s->finished: ended this turn */
    struct deps *deps;         /* deps.c: its dependencies, parsed once */
};

/* An array parent creates its children one by one as cores free up, so a
 * 100,000-element array costs one row at submit. */
struct array {
    struct arrayspec spec;   /* its indices (compact: ranges) */
    size_t n;                /* how many */
    size_t next;             /* position of the next child to create */
    long throttle;           /* at most this many children at once; 0 = any */
    int active;              /* children created and not yet final */
    int counts[JOB_NSTATES]; /* children created, by state */
    unsigned char *skip;     /* per position: cancelled before creation (made
                            * at the first such cancel) */
    struct job **kids;       /* the children created and not final (active) */
    int nkids, capkids;
};

/* Client requests are read, and their credentials checked, this many at a
 * time. */
enum { SERVER_BATCH = 64 };

/* Who sent the request being handled (identity.c). */
struct requester {
    uint32_t uid, gid;
    char user[64]; /* "" when this host does not know the uid */
    bool admin;    /* root or the admin group: may manage anything */
};

/* A message queued for after the commit (server_send). */
struct outmsg {
    void *sock;
    unsigned char id[KILN_PROTO_MAX_ID];
    size_t idlen;
    char type[64];
    json_t *body;
};

struct server {
    void *ctx, *clients, *workers;
    char client_ep[256], worker_ep[256];
    char local_path[108];    /* the local socket's, or "" */
    unsigned long local_ino; /* and its inode, as bound */
    char advertise[256];     /* the client endpoint as instances reach it */
    struct store *st;
    void *jobs;           /* tsearch tree of struct job, by id */
    struct job *finished; /* jobs that reached a final state this turn:
                            * out of every index, freed by jobs_reap once
                            * the turn's messages are sent */
    int njobs;
    struct queue *queues; /* by priority, highest first */
    struct ce *ces;
    struct policy *policies;
    struct node *nodes;      /* sorted by name */
    void *node_names;        /* nodes.c: the same, a tsearch tree by name */
    struct elastic *elastic; /* elastic.c: instances, launches, providers */
    bool sched_needed;
    /* deps.c */
    json_t *singletons; /* "UID/NAME": active job ids, ascending */
    json_t *dependants; /* "ID": the ids of the jobs waiting for job ID */
    int64_t *check;     /* jobs whose dependencies to check this turn */
    size_t ncheck, capcheck;
    json_t *user_jobs; /* "UID": how many active jobs (jobs.c) */
    long
        max_jobs_per_user; /* active jobs one user may have (an array is one) */
    struct sexec *execs;   /* kiln exec commands relayed (relay.c) */
    int64_t last_exec;     /* the number of the last one */
    /* replies and messages to send once this turn's commit is done */
    struct outmsg *out;
    int nout, outcap;
    /* security (identity.c, curve.c) */
    enum auth_mode auth;
    char keys_dir[512];
    struct curve_key key;      /* the server's pair, with munge */
    char token[TOKEN_LEN + 1]; /* with --auth none: what its owner presents */
    struct keyring *ring;      /* the worker keys it accepts */
    void *zap;                 /* the ZAP handler's socket */
    struct identity *identity; /* credential checks and the users' cache */
    char admin_group[64];      /* its members manage anything, as root does */
    bool private_jobs;         /* non-admins see only their own jobs */
    /* settings */
    double node_timeout;  /* seconds without a heartbeat before DOWN */
    double start_timeout; /* seconds a node has to confirm a job.start */
    double heartbeat;     /* seconds between worker heartbeats */
    int kill_wait;        /* seconds between SIGTERM and SIGKILL */
    double started;       /* monotonic time the server started */
    bool orphans_checked; /* nodes.c: the grace after the start is over,
                            * every reloaded job's node checked */
    /* scheduler pass statistics, for server.info and make bench */
    long sched_passes, sched_starts;
    double sched_last_ms, sched_max_ms, sched_total_ms;
};

/* Queue a message for after the commit.  sock is s->clients or
 * s->workers; body is consumed.  Returns 0 (a handler's "answered"). */
int server_send(struct server *s, void *sock, const void *id, size_t idlen,
                const char *type, json_t *body);
/* Queue an error answer to m, logged once with m->from.  Returns -1 (a
 * handler's "refused"). */
int server_reply_error(struct server *s, void *sock, const struct proto_msg *m,
                       int errnum, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Answer the client request m (after the commit): "ok" with body, or an
 * error with errno e and a message.  Handlers return what these do. */
#define CLIENT_REPLY(s, m, body) \
    server_send(s, (s)->clients, (m)->id, (m)->idlen, "ok", body)
#define CLIENT_FAIL(s, m, e, ...) \
    server_reply_error(s, (s)->clients, m, e, __VA_ARGS__)

/* jobs.c */
struct job *jobs_find(struct server *s, int64_t id);
int jobs_load(struct server *s);
/* A start that its nodes did not confirm in time: the job never ran.
 * Each node is told to kill it (should the start still arrive), its cores
 * are freed, and it goes back to the queue; the attempt is not counted
 * against its retry strategy. */
void jobs_requeue_unstarted(struct server *s, struct job *job, const char *why);
/* How many active (not final) jobs user uid has. */
long jobs_of_user(const struct server *s, long uid);
/* Hold or release job: its spec changes, in memory and in the store. */
void jobs_set_hold(struct server *s, struct job *job, bool hold);
struct job *jobs_submit(struct server *s, json_t *spec_json,
                        struct jobspec *spec, struct kiln_error *err);
/* Record that part p of a job holds cores on n (n->njobs, n->running),
 * and that it no longer does. */
int nodes_add_job(struct node *n, struct jpart *p);
void nodes_remove_job(struct node *n, struct jpart *p);

/* Move job to state with reason (may be NULL), record the event.  Final
 * states free the job's cores, answer its waiters and take it out of
 * every index (jobs_find no longer finds it); its memory stays valid
 * until jobs_reap, at the end of the turn. */
void jobs_set_state(struct server *s, struct job *job, enum job_state state,
                    const char *reason);
/* An attempt ended without success (not a cancel): back to the queue if
 * the job's retry strategy allows another attempt, else FAILED. */
void jobs_attempt_failed(struct server *s, struct job *job, int exit_code,
                         const char *reason);
void jobs_enqueue(struct server *s, struct job *job);
/* Part p of a running job ended (job.end) with this outcome (started: when
 * the main part began, as its node saw it; 0 unknown), or was lost
 * with its node.  The first part to fail, or the main node's end, stops
 * the others; the attempt ends when every part has. */
void jobs_part_ended(struct server *s, struct job *job, struct jpart *p,
                     double started, int exit_code, int sig,
                     const char *reason);
/* Start an attempt of job on nodes[0..spec.nodes-1] (the scheduler's
 * choice): a new exec token, its cores held (place.c), STARTING, and a
 * job.start for each node.  -1 when it does not fit after all. */
int jobs_start(struct server *s, struct job *job, struct node **nodes);
/* The start never reached its node: back to the queue, not counted. */
void jobs_start_lost(struct server *s, struct job *job, const char *why);
/* End job (an array parent) in a final state with its exit code. */
void jobs_finish(struct server *s, struct job *job, enum job_state state,
                 int exit_code, const char *reason);
/* Remember that a cancel was asked for (the first reason stays). */
void jobs_mark_cancelled(struct job *job, const char *why);
/* A client (hex routing id) waits for the job's end: -1 with errno
 * ENOMEM, or EBUSY past 1,024 waiters. */
int jobs_add_waiter(struct job *job, const char *client);
void jobs_part_lost(struct server *s, struct job *job, struct jpart *p,
                    const char *why);
/* Create the child of array parent with this index: stored, RUNNABLE,
 * not queued.  NULL with err set on failure. */
struct job *jobs_create_child(struct server *s, struct job *parent, long index,
                              struct kiln_error *err);
/* Cancel job (any state) with the status reason why ("cancelled: ..."):
 * see doc/protocol.md "job.cancel".  Returns NULL or why it cannot be. */
const char *jobs_cancel(struct server *s, struct job *job, const char *why);
/* A PENDING job is released (not held): RUNNABLE, or left to deps_run. */
void jobs_leave_pending(struct server *s, struct job *job);
void jobs_dequeue(struct server *s, struct job *job);
void jobs_release_cores(struct server *s, struct job *job);
json_t *jobs_to_json(struct server *s, const struct job *job);
/* The short form job.list gives with "brief": id, name, user, state,
 * status_reason, start_time, ntasks, cpus_per_task, nodes, and display_id
 * and array (size, created) where they apply. */
json_t *jobs_to_json_brief(const struct job *job);
json_t *jobs_row_to_json(const struct store_job *row);
typedef void (*jobs_f)(struct server *s, struct job *job, void *arg);
void jobs_foreach(struct server *s, jobs_f fn, void *arg);
/* Free the jobs that ended this turn (after the outbox is flushed). */
void jobs_reap(struct server *s);
void jobs_destroy_all(struct server *s);

/* place.c: placement on nodes.  A node's share is that of node 0 of the
 * job, the largest. */
/* May the job run on n at all (features, host lists, size)? */
bool place_eligible(const struct node *n, const struct jobspec *spec);
/* Could node i of the job start on n now? */
bool place_fits_now(const struct node *n, const struct jobspec *spec, long i);
long place_free_cpus(const struct node *n);
/* PUs of n the job needs free (exclusive: all; whole cores: theirs). */
long place_need_cpus(const struct node *n, const struct jobspec *spec);
/* Choose and hold the job's cores, GPUs and memory on nodes[0..n-1] (node
 * i of the job on nodes[i]); sets the parts, node_name, cpus and alloc.
 * -1 with errno ENOSPC when it does not fit (nothing is held then). */
int place_start(struct job *job, struct node **nodes, int n);
/* The parts job->alloc describes, holding nothing yet (after a restart). */
int place_load(struct job *job);
/* Hold again on n what the job's part there says (after a restart). */
int place_reattach(struct node *n, struct job *job);
/* The job's part on n (by name), or NULL. */
struct jpart *place_part(const struct job *job, const struct node *n);
void place_release_part(struct jpart *p);
void place_release(struct job *job);
void place_free_parts(struct job *job);
/* The job.start message for part i (new object). */
json_t *place_start_msg(struct server *s, const struct job *job, int i);

/* identity.c: who sent a client request, what they may do */
/* The threads that check a batch's credentials together (munge mode). */
/* Its context (s->identity): 0, or -1 without memory. */
int identity_start(struct server *s);
void identity_stop(struct server *s);
/* Check the credentials of msgs[0..n-1] (n <= SERVER_BATCH) at once;
 * identity_check then takes the verdict of msgs[index]. */
void identity_verify_batch(struct server *s, struct proto_msg *msgs, int n);
/* Who sent m, the index-th of its batch (-1: checked now), into *who:
 * 0, or -1 after refusing m.  With anyone, a request without a
 * credential passes, from nobody (uid -1). */
int identity_check(struct server *s, struct proto_msg *m, int index,
                   bool anyone, struct requester *who);
/* The local socket's peer, from libzmq's address of it ("...:UID:GID:PID",
 * from SO_PEERCRED), as the ZAP handler names it: "local:UID:GID".  0, or
 * -1 when addr has no such credentials. */
int identity_local_name(const char *addr, char *name, size_t len);
/* May who manage what uid owns (their own, or an admin)? */
bool identity_owns(const struct requester *who, uint32_t uid);
/* May who see uid's jobs (not hidden by private_jobs)? */
bool identity_sees(const struct server *s, const struct requester *who,
                   uint32_t uid);

/* curve.c: CURVE on the workers' socket */
/* The server's key pair and the accepted worker keys (before detaching),
 * then the ZAP handler (once the ZeroMQ context exists). */
int curve_load_key(struct server *s, struct kiln_error *err);
int curve_setup(struct server *s, struct kiln_error *err);
/* Make sock, not yet bound, the CURVE server for workers or clients. */
void curve_server_socket(struct server *s, void *sock, bool workers);
/* Listen for clients on the local socket at path too (the client socket
 * bound, the keys loaded): no CURVE there, and each client is who the
 * kernel says.  0, or -1 with err. */
int curve_bind_local(struct server *s, const char *path,
                     struct kiln_error *err);
/* Remove the local socket's file, if it is still the one bound. */
void curve_unlink_local(struct server *s);
void curve_zap(struct server *s);
void curve_close(struct server *s);

/* request.c: the table of every message the server takes */
typedef int (*client_handler_f)(struct server *s, struct proto_msg *m,
                                const struct requester *who);
typedef int (*node_handler_f)(struct server *s, struct proto_msg *m,
                              struct node *n);
struct request {
    struct proto_rule rule;
    client_handler_f client; /* for a client's request */
    node_handler_f node;     /* for a worker's message: n is the sender,
                              * NULL for a peer not yet welcomed */
};
extern const struct request requests[];
extern const size_t nrequests;
/* Check m (the index-th of its batch) and hand it to its handler, or
 * answer it with the error. */
void request_from_client(struct server *s, struct proto_msg *m,
                         int batch_index);
void request_from_worker(struct server *s, struct proto_msg *m);
/* The fields a client request of type may have (also what the
 * configuration file's queues and environments are checked with). */
const struct json_field *request_fields(const char *type);

/* api.c: the requests about jobs and nodes */
int api_server_info(struct server *s, struct proto_msg *m,
                    const struct requester *who);
int api_job_submit(struct server *s, struct proto_msg *m,
                   const struct requester *who);
int api_job_list(struct server *s, struct proto_msg *m,
                 const struct requester *who);
int api_job_show(struct server *s, struct proto_msg *m,
                 const struct requester *who);
int api_job_cancel(struct server *s, struct proto_msg *m,
                   const struct requester *who);
int api_job_terminate(struct server *s, struct proto_msg *m,
                      const struct requester *who);
int api_job_hold(struct server *s, struct proto_msg *m,
                 const struct requester *who);
int api_job_release(struct server *s, struct proto_msg *m,
                    const struct requester *who);
int api_job_history(struct server *s, struct proto_msg *m,
                    const struct requester *who);
int api_job_wait(struct server *s, struct proto_msg *m,
                 const struct requester *who);
int api_node_list(struct server *s, struct proto_msg *m,
                  const struct requester *who);

/* relay.c: kiln exec, relayed between a client and a node */
int relay_job_exec(struct server *s, struct proto_msg *m,
                   const struct requester *who);
/* exec.input and exec.signal, on to the node */
int relay_to_node(struct server *s, struct proto_msg *m,
                  const struct requester *who);
/* exec.output and exec.end, on to the client */
int relay_from_node(struct server *s, struct proto_msg *m, struct node *n);
void relay_node_down(struct server *s, struct node *n);
void relay_destroy_all(struct server *s);

/* nodes.c: worker messages and liveness */
int nodes_hello(struct server *s, struct proto_msg *m, struct node *n);
int nodes_heartbeat(struct server *s, struct proto_msg *m, struct node *n);
int nodes_job_started(struct server *s, struct proto_msg *m, struct node *n);
int nodes_job_end(struct server *s, struct proto_msg *m, struct node *n);
/* The welcomed node m comes from, on the connection of its hello; NULL
 * (and it is asked to say hello again) for any other. */
struct node *nodes_sender(struct server *s, struct proto_msg *m);
void nodes_check(struct server *s);
int nodes_load(struct server *s);
struct node *nodes_find(struct server *s, const char *name);
/* Send to node name on the connection its hello came on; a node with no
 * such connection gets nothing (said in the log).  Takes body. */
void nodes_send(struct server *s, const char *name, const char *type,
                json_t *body);
/* Set and store n's compute environment and features (NULL: unchanged;
 * features "": none). */
void nodes_set(struct server *s, struct node *n, const char *ce,
               const char *features);
/* Call fn for each job holding cores on a node (STARTING or RUNNING, its
 * node known), once, from a snapshot: fn may end jobs. */
void nodes_foreach_running(struct server *s, jobs_f fn, void *arg);
/* May new jobs start there (up, not drained)? */
bool nodes_usable(const struct node *n);
/* UP, DOWN, DRAINING, DRAINED or UNKNOWN, as kiln nodes shows it. */
const char *nodes_state_name(const struct node *n);
/* An admin's "drain", "down" or "resume", with a reason; -1 if state is
 * none of them. */
int nodes_admin(struct server *s, struct node *n, const char *state,
                const char *reason);
/* node.interrupted: a spot instance's notice; its jobs are stopped and
 * requeued as their retry strategy allows ("spot interruption"). */
int nodes_interrupted(struct server *s, struct proto_msg *m, struct node *n);
/* The node's machine is gone: its jobs are lost there, and it is
 * forgotten (false while jobs still hold it; it is then DOWN). */
bool nodes_forget(struct server *s, const char *name, const char *why);
void nodes_destroy_all(struct server *s);

/* arrays.c */
/* Set up job (whose spec has an array) as a parent; done is true when the
 * job comes back from the store, to count the children it already has. */
int arrays_init(struct server *s, struct job *job, bool reload);
void arrays_free(struct array *a);
/* Create the parent's next child, RUNNABLE and not queued, or NULL if it
 * was cancelled before creation (it is then recorded FAILED). */
struct job *arrays_next_child(struct server *s, struct job *parent);
/* May the parent create a child now?  Its throttle, and the child's own
 * dependency (sequential, aftercorr) decide; children that can never run
 * are recorded FAILED on the way, which may end (and free) the parent. */
bool arrays_may_start(struct server *s, struct job *parent);
/* Record the parent's next child FAILED with why, without running it. */
void arrays_fail_next(struct server *s, struct job *parent, const char *why);
/* A child reloaded from the store joins its parent's active children. */
void arrays_adopt(struct server *s, struct job *child);
/* A child moved from state old to its current state. */
void arrays_child_moved(struct server *s, struct job *child,
                        enum job_state old);
/* Cancel every child of parent (created or not). */
void arrays_cancel(struct server *s, struct job *parent, const char *why);
/* Find the child PARENT_INDEX, active or finished: its id, or 0.  For one
 * not created yet, *pending_parent is set to the parent. */
int64_t arrays_child_id(struct server *s, int64_t parent, long index,
                        struct job **pending_parent);
/* Cancel child index of parent before it is created: -1 if it was. */
int arrays_skip(struct job *parent, long index);
/* Add the array fields to a job's JSON. */
void arrays_to_json(const struct job *job, json_t *o);
/* The same for a finished parent, from its children's rows. */
void arrays_row_to_json(struct server *s, const struct store_job *row,
                        json_t *o);

/* ce.c: compute environments */
/* The store's, then those of the configuration file ({"ce": {NAME:
 * {OPTION: TEXT}}}), which win. */
int ce_load(struct server *s, const json_t *declared);
struct ce *ce_find(struct server *s, const char *name);
int ce_create(struct server *s, struct proto_msg *m,
              const struct requester *who);
int ce_update(struct server *s, struct proto_msg *m,
              const struct requester *who);
int ce_delete(struct server *s, struct proto_msg *m,
              const struct requester *who);
int ce_list(struct server *s, struct proto_msg *m, const struct requester *who);
int ce_show(struct server *s, struct proto_msg *m, const struct requester *who);
void ce_destroy_all(struct server *s);

/* elastic.c: managed compute environments grow and shrink */
int elastic_start(struct server *s, const char *state, struct kiln_error *err);
void elastic_stop(struct server *s);
/* In each turn, after the scheduler: take the providers' answers, and
 * (when the scheduler ran, or once a second) plan and check instances. */
void elastic_turn(struct server *s, bool sched_ran);
/* After the turn's commit: hand its provider calls over. */
void elastic_flush(struct server *s);
/* Readable when providers have answered (-1 before elastic_start). */
int elastic_fd(const struct server *s);
/* ce.c changed c's settings. */
void elastic_ce_changed(struct server *s, struct ce *c);
/* May c not be deleted yet (instances)?  why says so. */
bool elastic_ce_busy(struct server *s, const struct ce *c, char *why,
                     size_t len);
void elastic_ce_deleted(struct server *s, const struct ce *c);
/* {"instances": [...], "events": [...]} of c, for kiln ce show. */
json_t *elastic_describe(struct server *s, const struct ce *c);
/* Node n's instance fields, for node.list; the instances that have no
 * node yet, as rows of it. */
void elastic_node_json(struct server *s, const struct node *n, json_t *o);
void elastic_launching_nodes(struct server *s, json_t *nodes, const char *only);
/* Does job wait for capacity being launched, or for a max reached?  Then
 * text says so. */
bool elastic_why(struct server *s, const struct job *job, char *text,
                 size_t len);
/* Could an instance that q's environments may launch take spec? */
bool elastic_could_fit(struct server *s, const struct queue *q,
                       const struct jobspec *spec);
/* The node's spot instance is being reclaimed: replace it, with
 * another type for a while. */
void elastic_interrupted(struct server *s, struct node *n);
/* Is node n a spot instance? */
bool elastic_is_spot(struct server *s, const struct node *n);
/* A node said hello: its instance, if it is one, is up. */
void elastic_node_up(struct server *s, struct node *n);
int elastic_join(struct server *s, struct proto_msg *m,
                 const struct requester *who);

/* queue.c: job queues */
int queue_load(struct server *s, const json_t *declared);
struct queue *queue_find(struct server *s, const char *name);
/* Is node n in the compute environment ce, and is ce enabled? */
bool queue_node_in(const struct node *n, const struct ce *ce);
/* Does a queue list ce? */
bool queue_has_ce(const struct queue *q, const struct ce *ce);
int queue_create(struct server *s, struct proto_msg *m,
                 const struct requester *who);
int queue_update(struct server *s, struct proto_msg *m,
                 const struct requester *who);
int queue_delete(struct server *s, struct proto_msg *m,
                 const struct requester *who);
int queue_list(struct server *s, struct proto_msg *m,
               const struct requester *who);
int queue_node_update(struct server *s, struct proto_msg *m,
                      const struct requester *who);
/* Cancel RUNNABLE jobs stuck longer than their queue's
 * jobStateTimeLimitActions allow (called every second). */
void queue_stuck_jobs(struct server *s);
void queue_destroy_all(struct server *s);

/* jobdefs.c: the job definitions registered (jobdef.*) */
int jobdefs_register(struct server *s, struct proto_msg *m,
                     const struct requester *who);
int jobdefs_list(struct server *s, struct proto_msg *m,
                 const struct requester *who);
int jobdefs_show(struct server *s, struct proto_msg *m,
                 const struct requester *who);
int jobdefs_deregister(struct server *s, struct proto_msg *m,
                       const struct requester *who);

/* fairshare.c */
struct policy *policy_find(struct server *s, const char *name);
double fairshare_weight(const struct policy *p, const char *share);
/* A job of a fair-share queue stopped running: charge its share. */
void fairshare_charge(struct server *s, struct job *job);
/* The job of q to consider next: the first job of the share with the
 * lowest weighted usage among the jobs before stop (NULL: all). */
struct job *fairshare_next(struct server *s, struct queue *q, struct job *stop);
/* Policies before the queues (which name them), usage after. */
int fairshare_load_policies(struct server *s);
int fairshare_load(struct server *s);
void fairshare_destroy_all(struct server *s);
int policy_create(struct server *s, struct proto_msg *m,
                  const struct requester *who);
int policy_list(struct server *s, struct proto_msg *m,
                const struct requester *who);
int policy_delete(struct server *s, struct proto_msg *m,
                  const struct requester *who);

/* deps.c: dependencies, by reverse edges: a job's start or end wakes the
 * jobs waiting for it, and only those are checked (no walk of all jobs).
 * Also the index of active jobs by user and name that singleton
 * dependencies read. */
/* A new (or reloaded) active job: its dependencies parsed, its edges
 * added, and it is checked this turn. */
void deps_track(struct server *s, struct job *job);
/* job reached a final state: its dependants are checked, its edges go. */
void deps_untrack(struct server *s, const struct job *job);
/* job started running: its "after" dependants are checked. */
void deps_started(struct server *s, const struct job *job);
/* Check job's dependencies again this turn (it was released). */
void deps_recheck(struct server *s, const struct job *job);
void deps_release(struct job *job);
void deps_destroy(struct server *s);
/* Why spec's dependencies are invalid (an unknown job), or NULL. */
const char *deps_validate(struct server *s, const struct jobspec *spec);
/* Release or fail the PENDING jobs whose dependencies were to be checked
 * (and those their outcome wakes in turn). */
void deps_run(struct server *s);

/* sched.c */
void sched_run(struct server *s);
/* Why job (PENDING or RUNNABLE) is not running, now: {code, text, ...}
 * with code one of held, dependency, never, queue, throttle, resources,
 * fairshare; expected_start (UTC seconds) when a backfill reservation
 * holds cores for it. */
json_t *sched_why(struct server *s, const struct job *job);
/* Why no node of q's environments can ever run spec, or NULL if one could. */
const char *sched_infeasible(struct server *s, const struct queue *q,
                             const struct jobspec *spec);

#endif

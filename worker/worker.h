/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The compute-node daemon: shared state of its modules. */
#ifndef KILN_WORKER_H
#define KILN_WORKER_H

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>
#include <zmq.h>

#include "lib/auth.h"
#include "lib/error.h"
#include "lib/keys.h"
#include "lib/proto.h"
#include "lib/token.h"
#include "lib/topo.h"

/* A job (one attempt) this node has been given and not yet forgotten. */
struct wjob {
    int64_t id;
    int attempt;
    char dir[PATH_MAX]; /* SPOOL/jobs/ID.ATTEMPT */
    pid_t shell;        /* the job's supervisor, 0 once it has exited */
    bool launching;     /* asked of the launcher, not answered yet */
    bool relaunch;      /* in the spool with no shell: one is started once
                           the server says the attempt is still ours */
    bool kill_pending;  /* told to stop while launching */
    int pidfd;          /* -1 when not watched */
    char *cpus;         /* the cpus it was given (OS list), or NULL */
    json_t *result;     /* job.end body once finished, until acknowledged */
    double next_send;   /* monotonic time to (re)send the result */
    double started_due; /* when job.started goes, unless its job.end goes
                           first (which says it started): 0 once either */
    bool synced;        /* result.json is on disk, not just in the cache */
    struct wjob *next;
};

/* A launch asked of the launcher, in the order of the asking. */
struct launch_wait {
    int64_t id;
    int attempt;
    double since; /* monotonic */
};

/* A command started through kiln exec for a job here (exec.c). */
struct wexec {
    int64_t exec; /* the server's number for it */
    int64_t job;
    int attempt;
    pid_t pid;
    int in, out, err; /* pipes to and from it; -1 once closed */
    bool reaped, done;
    int status;
    struct wexec *next;
};

/* spot.c: the look for a spot interruption notice. */
struct spot {
    pid_t pid; /* the helper looking now, or 0 */
    int fd;    /* its output, or -1 */
    char buf[512];
    size_t n;
    double next;  /* monotonic: the next look */
    bool noticed; /* told the server: no more looks */
};

struct worker {
    void *ctx, *sock;
    char name[64];
    char server[256];   /* client endpoint, as given */
    char endpoint[256]; /* worker endpoint, learnt from server.info */
    char spool[PATH_MAX];
    char shell_path[PATH_MAX]; /* kiln-shell, the launcher and the shells */
    pid_t launcher;            /* launcher.c: its pid, or 0 when none runs */
    int launcher_fd, launcher_pidfd;
    struct launch_wait *pending; /* the launches it has not answered yet */
    size_t npending, cap_pending;
    char kiln_path[PATH_MAX]; /* this program, the jobs' kiln exec */
    char cgroup_scope[128]; /* kiln/NAME-HASH: the parent of the job cgroups */
    char ce[64];            /* --ce: the compute environment to join, or "" */
    char features[256];     /* --features: for --constraint, or "" */
    char metadata[256];     /* --metadata: a cloud instance's IMDS, or "" */
    struct spot spot;       /* spot.c: looking for an interruption notice */
    int last_refusal;       /* EAGAIN, or EPERM: the server's last "no" */
    json_t *runtimes; /* the OCI runtimes that work here, preferred first */
    bool simulate;    /* --simulate: placement as usual, jobs unpinned */
    struct topo *topo;
    json_t *topo_json;
    bool welcomed;
    double heartbeat; /* seconds */
    double next_heartbeat, next_hello;
    double last_heard; /* when the server last sent anything (monotonic) */
    int kill_wait;
    struct wjob *jobs;
    struct wexec *execs;
    char address[64];    /* the IPv4 address it reaches the server from */
    enum auth_mode auth; /* munge: CURVE to the server, jobs as their owners */
    char server_key[41]; /* the server's public key (Z85) */
    char token[TOKEN_LEN + 1]; /* --auth none: the owner's token */
    char keys_dir[PATH_MAX];   /* where it is, for the jobs' kiln commands */
    struct curve_key key;      /* this node's pair */
    char key_path[PATH_MAX];
    void *monitor; /* the socket monitor's events */
    int refused;   /* the handshake failure last logged, or 0 */
};

/* secure.c: CURVE keys and the handshake's fate */
int secure_load(struct worker *w, const char *dir, const char *key,
                struct kiln_error *err);
void secure_socket(struct worker *w);
void secure_check(struct worker *w);
void secure_close(struct worker *w);

/* worker.c: the table of every message a worker takes from the server */
struct worker_msg {
    struct proto_rule rule;
    void (*fn)(struct worker *w, json_t *body);
};
extern const struct worker_msg worker_msgs[];
extern const size_t nworker_msgs;

/* The signals that stop a job shell (the worker's SIGTERM for a cancel,
 * or an admin's): blocked from the shell's start (launcher.c) and waited
 * for, with SIGCHLD (shell.c). */
static inline bool shell_stop_signal(int sig)
{
    return sig == SIGTERM || sig == SIGINT || sig == SIGHUP;
}

/* Those and SIGCHLD. */
static inline void shell_wait_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGCHLD);
    for (int sig = 1; sig < SIGRTMIN; sig++)
        if (shell_stop_signal(sig))
            sigaddset(set, sig);
}

/* launcher.c: the resident launcher of the shells, and its socket */
enum { LAUNCHER_FD = 3 }; /* the socket, in kiln-shell --launcher */
/* Its answer to a job directory, with a pidfd of the shell (SCM_RIGHTS)
 * when there is one. */
struct launcher_reply {
    int32_t pid; /* the shell's, or 0 */
    int32_t err; /* why there is none, or 0 */
};
/* Ask for the shell of the job in dir (starting the launcher if none
 * runs); its answer comes to launch_started.  0, or -1 with errno. */
int launcher_request(struct worker *w, int64_t id, int attempt,
                     const char *dir);
/* The socket to poll for answers, or -1 when none is awaited. */
int launcher_poll_fd(const struct worker *w);
void launcher_readable(struct worker *w);
/* next, or the time by which the oldest launch must be answered; at that
 * time, the launcher is stopped and its launches fail. */
double launcher_next(const struct worker *w, double next);
void launcher_tick(struct worker *w, double now);
/* Stop the launcher, as the worker stops (its shells go on; the launches
 * it had not answered fail). */
void launcher_stop(struct worker *w);

/* launch.c */
int launch_recover(struct worker *w);
/* For cgroup_prune: is the group NAME (of cores, or of a job) one that a
 * running job's shell may be using? */
bool launch_holds_group(const char *name, void *arg);
/* The shell writes result.json without waiting for the disk: the server
 * usually acknowledges it within milliseconds, and the page cache outlives
 * a crash of the worker (a crash of the machine loses the node, and the
 * server fails its jobs).  A result the server has not acknowledged within
 * a second, or one still unacknowledged as the worker stops, is made
 * durable here. */
void launch_sync_result(struct wjob *j);
void launch_start(struct worker *w, json_t *msg);
/* The launcher's answer: the job's shell and a pidfd of it, or err. */
/* How long job.started waits for a job.end that would say it too. */
#define LAUNCH_STARTED_WAIT 0.02
/* Send job.started for the jobs whose shell has run LAUNCH_STARTED_WAIT
 * without ending; next, or the time the next is due if sooner. */
double launch_started_due(struct worker *w, double now, double next);
void launch_started(struct worker *w, int64_t id, int attempt, pid_t pid,
                    int pidfd, int err);
void launch_kill(struct worker *w, int64_t id, int attempt, const char *reason);
/* The server has welcomed this node (and sent its kills): start the shells
 * of the attempts recovered without one. */
void launch_resume(struct worker *w);
void launch_reaped(struct worker *w, struct wjob *j);
void launch_ack(struct worker *w, int64_t id, int attempt);
struct wjob *launch_find(struct worker *w, int64_t id, int attempt);
json_t *launch_job_list(struct worker *w);
/* The worker stops: forget its jobs (their shells go on without it). */
void launch_forget_all(struct worker *w);

/* exec.c */
#include <zmq.h>
void exec_start(struct worker *w, json_t *msg);
void exec_input(struct worker *w, json_t *msg);
void exec_signal(struct worker *w, json_t *msg);
/* The job's attempt ended here: kill what its execs left running. */
void exec_job_ended(struct worker *w, int64_t id, int attempt);
int exec_count_fds(struct worker *w);
int exec_poll_items(struct worker *w, zmq_pollitem_t *items,
                    struct wexec **owners, int max);
void exec_readable(struct worker *w, struct wexec *e, int fd);
/* A child ended: if it was an exec's, note it and return true. */
bool exec_reaped(struct worker *w, pid_t pid, int status);

/* spot.c: with --metadata, a spot interruption notice is told to the
 * server (node.interrupted) once. */
void spot_init(struct worker *w);
int spot_poll_item(struct worker *w, zmq_pollitem_t *item);
double spot_next(const struct worker *w, double next);
void spot_tick(struct worker *w, double now);
void spot_readable(struct worker *w);
/* Forget the execs that have ended (after each poll round). */
void exec_sweep(struct worker *w);

/* container.c: jobs in OCI containers */
struct kiln_error;
struct engine_job {
    const char *dir;     /* the job's spool directory, mounted at /.kiln */
    const char *name;    /* the container's id */
    const char *runtime; /* runc, crun */
    const char *source;  /* an OCI bundle or a root file system */
    bool shebang;        /* the script has a #! line */
    json_t *args,
        *mounts; /* script arguments; [{source, destination, readonly}] */
    char **env;
    const char *cwd, *submit_dir, *script_dir;
    long uid, gid;
    const char *cpus, *mems;
    int64_t mem_mib;
    const char *cgroup_path; /* where the runtime puts it: under the job's */
    bool simulate;
    const char *user; /* the job's user, who opens what it mounts */
    bool as_user;     /* the shell is root and the job another user's */
};
/* The OCI runtimes that work here, in the order given ("crun,runc"; NULL:
 * that one). */
json_t *engine_runtimes(const char *order);
/* Write DIR/bundle/config.json for the job and fill argv with the runtime's
 * command line.  -1 with err naming what is wrong with the container. */
enum { ENGINE_MAX_ARGV = 4096 + 200 };
/* Bind mounts one container may have (the job's, its directories, a
 * bundle's own): bundle.c passes one descriptor for each, engines one
 * --mount each. */
enum { ENGINE_MAX_MOUNTS = 199 };
int engine_prepare(const struct engine_job *c, char *argv[ENGINE_MAX_ARGV],
                   struct kiln_error *err);
/* bundle.c: as the job's user, open the container's root file system and
 * the sources of its binds (the job's, and a bundle's own); then, as root,
 * in a mount namespace of the calling process's own, stage them under
 * BUNDLE (rootfs: an overlay with a tmpfs on top; m/N: the sources).  The binds
 * [{source, destination, ro}] to give the runtime, or NULL with err.  For
 * an engine (an image), only the check: the user's own paths. */
json_t *bundle_stage(const struct engine_job *c, const char *bundle,
                     struct kiln_error *err);
/* Remove the container's state, whatever became of it. */
void engine_remove(const char *runtime, const char *name);

/* worker.c */
void worker_send(struct worker *w, const char *type, json_t *body);

/* shell.c: the per-job supervisor, the program kiln-shell DIR that the
 * worker execs for each job (shell_main.c).  Returns its exit status. */
int shell_run(const char *dir);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A job's control group, on cgroup v2 or v1, whichever the node has.
 * Tested by the integration tests: it needs a real, writable hierarchy. */
#ifndef KILN_CGROUP_H
#define KILN_CGROUP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/error.h"

enum cgroup_version { CGROUP_NONE = 0, CGROUP_V1 = 1, CGROUP_V2 = 2 };

/* Which cgroup hierarchy this node has that Kiln can write to, found at
 * the first call of the process (and of the processes it forks after).
 * The root is /sys/fs/cgroup unless KILN_CGROUP_ROOT names another (for
 * tests). */
enum cgroup_version cgroup_detect(void);
const char *cgroup_version_name(enum cgroup_version v);

struct cgroup;

/* Create (or reuse) the group scope/name, e.g. "kiln/node1" and "job_12",
 * with the given cpus (OS list), memory nodes (OS list; NULL: the
 * parent's), and a memory limit when mem_mib > 0 (none otherwise, even if
 * the group had one).  A reused group is written only where it differs:
 * the cores of a node keep one group each, job after job.
 * Returns the group, or NULL with err set when the node has no writable
 * cgroup hierarchy or a limit cannot be set. */
struct cgroup *cgroup_create(const char *scope, const char *name,
                             const char *cpus, const char *mems,
                             int64_t mem_mib, struct kiln_error *err);

/* Open an existing group without changing it (after a restart). */
struct cgroup *cgroup_open(const char *scope, const char *name);

/* Move pid into the group. 0 or -1 with errno. */
int cgroup_attach(struct cgroup *cg, pid_t pid);

/* Send sig to every process in the group (freezing it first on v1 so
 * that nothing forks past the signal).  Returns the number signalled. */
int cgroup_signal(struct cgroup *cg, int sig);

/* Number of processes in the group, or -1. */
int cgroup_count(struct cgroup *cg);

/* Start counting for a new job in the group: the usage, OOM kills and
 * peak below are from here on.  Call it while the group is empty. */
void cgroup_begin(struct cgroup *cg);

/* Number of OOM kills the kernel made in the group since cgroup_begin. */
long cgroup_oom_kills(struct cgroup *cg);

/* What the group's processes used since cgroup_begin; -1 where the node's
 * kernel does not say (memory.peak is from Linux 5.19, and a reused
 * group's peak is the job's alone from 6.12 on v2). */
struct cgroup_usage {
    double user_cpu, sys_cpu; /* seconds */
    int64_t peak_bytes;
    long oom_kills;
};
int cgroup_usage(struct cgroup *cg, struct cgroup_usage *u);

/* Free cg, leaving the group as it is.  NULL-safe. */
void cgroup_close(struct cgroup *cg);

/* Remove the empty groups of scope, but those keep says to keep (keep may
 * be NULL), then scope itself if it is left empty: the groups of cores a
 * worker keeps from job to job, as it starts and as it stops. */
void cgroup_prune(const char *scope, bool (*keep)(const char *name, void *arg),
                  void *arg);

/* Remove the group (it must be empty) and free cg.  NULL-safe. */
void cgroup_destroy(struct cgroup *cg);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What a job is, as client and server both say it: its states (AWS
 * Batch's), which of them are final, the exit status a job's end gives a
 * waiting command, and the syntax of a job id.  Pure, no I/O; tested by
 * test_jobstate. */
#ifndef KILN_JOBSTATE_H
#define KILN_JOBSTATE_H

#include <stdbool.h>
#include <stdint.h>

enum job_state {
    JOB_SUBMITTED,
    JOB_PENDING,
    JOB_RUNNABLE,
    JOB_STARTING,
    JOB_RUNNING,
    JOB_SUCCEEDED,
    JOB_FAILED,
};
enum { JOB_NSTATES = JOB_FAILED + 1 };

const char *job_state_name(enum job_state s);
int job_state_parse(const char *name); /* -1 if unknown (or NULL) */
bool job_state_final(enum job_state s);

/* The exit status of a command that waited for a job that ended in
 * state with exit_code (kiln submit --wait, kiln run): 0 for SUCCEEDED,
 * else the job's own status when it had one (1-255), else 1. */
int job_exit_status(enum job_state state, int exit_code);

/* A job id as a user writes it: "ID" (a positive integer), or
 * "ID_INDEX" for the child INDEX of array ID.  Returns 0 with *id set
 * and *index -1, or with *index the child's; -1 if text is not a job
 * id. */
int job_id_parse(const char *text, int64_t *id, long *index);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Job states, their end, and job ids: one rule for client and server. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/jobstate.h"

static const char *const names[JOB_NSTATES] = {
    [JOB_SUBMITTED] = "SUBMITTED", [JOB_PENDING] = "PENDING",
    [JOB_RUNNABLE] = "RUNNABLE",   [JOB_STARTING] = "STARTING",
    [JOB_RUNNING] = "RUNNING",     [JOB_SUCCEEDED] = "SUCCEEDED",
    [JOB_FAILED] = "FAILED",
};

const char *job_state_name(enum job_state s)
{
    return (unsigned)s < JOB_NSTATES ? names[s] : "UNKNOWN";
}

int job_state_parse(const char *name)
{
    for (int i = 0; name && i < JOB_NSTATES; i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    return -1;
}

bool job_state_final(enum job_state s)
{
    return s == JOB_SUCCEEDED || s == JOB_FAILED;
}

int job_exit_status(enum job_state state, int exit_code)
{
    if (state == JOB_SUCCEEDED)
        return 0;
    return exit_code > 0 && exit_code < 256 ? exit_code : 1;
}

/* A decimal number of digits only (no sign, no space), within max. */
static int number(const char *s, size_t len, long long max, long long *out)
{
    long long v = 0;

    if (len == 0 || len > 19)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)s[i]) || v > (max - (s[i] - '0')) / 10)
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int job_id_parse(const char *text, int64_t *id, long *index)
{
    const char *us = text ? strchr(text, '_') : NULL;
    long long a, i = -1;

    if (!text || strlen(text) > 40
        || number(text, us ? (size_t)(us - text) : strlen(text), INT64_MAX, &a)
               < 0
        || a <= 0 || (us && number(us + 1, strlen(us + 1), 2147483647, &i) < 0))
        return -1;
    *id = a;
    *index = (long)i;
    return 0;
}

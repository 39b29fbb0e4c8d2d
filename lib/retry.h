/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Retry strategies as AWS Batch documents them: attempts (1-10) and
 * evaluateOnExit rules (onExitCode, onReason, onStatusReason, action
 * RETRY or EXIT; the first rule whose conditions all match wins; a
 * pattern may end with '*' to match any rest).  Pure, no I/O. */
#ifndef KILN_RETRY_H
#define KILN_RETRY_H

#include <stdbool.h>
#include <jansson.h>

#include "lib/error.h"

enum { RETRY_MAX_ATTEMPTS = 10, RETRY_MAX_RULES = 5 };

/* Check a retryStrategy object: {"attempts": N, "evaluateOnExit": [...]}.
 * Returns 0, or -1 with err naming the field (errno EINVAL). */
int retry_check(const json_t *strategy, struct kiln_error *err);

/* How many attempts strategy allows (1 when strategy is NULL). */
int retry_attempts(const json_t *strategy);

/* After attempt number done ended without success, with the given exit
 * code and reasons, should the job run again?  True when attempts remain
 * and the first matching rule says RETRY (or no rule matches, or there are
 * no rules).  reason is what the node said; status_reason what the job
 * will show. */
bool retry_decide(const json_t *strategy, int done, int exit_code,
                  const char *reason, const char *status_reason);

/* Does text match pattern (exact, or a prefix when pattern ends with *)? */
bool retry_match(const char *pattern, const char *text);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Retry strategies as AWS Batch documents them. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/retry.h"

bool retry_match(const char *pattern, const char *text)
{
    size_t n = strlen(pattern);

    if (n > 0 && pattern[n - 1] == '*')
        return strncmp(pattern, text, n - 1) == 0;
    return strcmp(pattern, text) == 0;
}

/* AWS: onExitCode holds digits and may end with *; the reasons hold
 * letters, digits, periods, colons and white space, and may end with *. */
static bool pattern_ok(const char *p, bool exit_code)
{
    size_t n = strlen(p);

    if (n == 0 || n > 512)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c == '*' && i == n - 1)
            continue;
        if (exit_code ? !isdigit((unsigned char)c)
                      : !(isalnum((unsigned char)c) || c == '.' || c == ':'
                          || c == ' '))
            return false;
    }
    return true;
}

int retry_check(const json_t *s, struct kiln_error *err)
{
    json_t *rules = NULL, *r;
    json_int_t attempts;
    json_error_t jerr;
    size_t i;

    errno = EINVAL;
    if (json_unpack_ex((json_t *)s, &jerr, JSON_STRICT, "{s:I, s?o}",
                       "attempts", &attempts, "evaluateOnExit", &rules)
        < 0)
        return errprintf(err, "invalid retryStrategy: %s", jerr.text);
    if (attempts < 1 || attempts > RETRY_MAX_ATTEMPTS)
        return errprintf(err, "invalid retryStrategy.attempts: %lld (1-%d)",
                         (long long)attempts, RETRY_MAX_ATTEMPTS);
    if (rules
        && (!json_is_array(rules) || json_array_size(rules) > RETRY_MAX_RULES))
        return errprintf(err,
                         "invalid retryStrategy.evaluateOnExit: an array of at "
                         "most %d rules",
                         RETRY_MAX_RULES);
    json_array_foreach (rules, i, r) {
        const char *code = NULL, *reason = NULL, *status = NULL, *action;
        if (json_unpack_ex(r, &jerr, JSON_STRICT, "{s?s, s?s, s?s, s:s}",
                           "onExitCode", &code, "onReason", &reason,
                           "onStatusReason", &status, "action", &action)
            < 0)
            return errprintf(err,
                             "invalid retryStrategy.evaluateOnExit[%zu]: %s", i,
                             jerr.text);
        if (strcasecmp(action, "RETRY") != 0 && strcasecmp(action, "EXIT") != 0)
            return errprintf(
                err,
                "invalid retryStrategy.evaluateOnExit[%zu].action: "
                "'%.32s' (RETRY or EXIT)",
                i, action);
        if (!code && !reason && !status)
            return errprintf(err,
                             "invalid retryStrategy.evaluateOnExit[%zu]: needs "
                             "onExitCode, onReason or onStatusReason",
                             i);
        if ((code && !pattern_ok(code, true))
            || (reason && !pattern_ok(reason, false))
            || (status && !pattern_ok(status, false)))
            return errprintf(err,
                             "invalid retryStrategy.evaluateOnExit[%zu]: bad "
                             "pattern",
                             i);
    }
    errno = 0;
    return 0;
}

int retry_attempts(const json_t *s)
{
    json_int_t n = json_integer_value(json_object_get(s, "attempts"));
    return n >= 1 && n <= RETRY_MAX_ATTEMPTS ? (int)n : 1;
}

bool retry_decide(const json_t *s, int done, int exit_code, const char *reason,
                  const char *status_reason)
{
    json_t *rules = json_object_get(s, "evaluateOnExit"), *r;
    char code[16];
    size_t i;

    if (done >= retry_attempts(s))
        return false;
    snprintf(code, sizeof(code), "%d", exit_code);
    json_array_foreach (rules, i, r) {
        const char *pc = json_string_value(json_object_get(r, "onExitCode"));
        const char *pr = json_string_value(json_object_get(r, "onReason"));
        const char *ps =
            json_string_value(json_object_get(r, "onStatusReason"));
        if ((pc && !retry_match(pc, code))
            || (pr && !retry_match(pr, reason ? reason : ""))
            || (ps && !retry_match(ps, status_reason ? status_reason : "")))
            continue;
        return strcasecmp(json_string_value(json_object_get(r, "action")),
                          "RETRY")
               == 0;
    }
    return true; /* no rule, or none matched: retry (AWS) */
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Daemon and command logging with syslog levels.  No unit test: every
 * integration test reads its lines. */
#ifndef KILN_LOG_H
#define KILN_LOG_H

#include <stdio.h>
#include <syslog.h>

/* Set the role shown on each line ("server", "worker:n1", "kiln submit"),
 * the lowest level written, and the stream (stderr when NULL).  The role
 * string is copied. */
void log_init(const char *role, int level, FILE *stream);

/* Parse "error", "warning", "info", "debug" into a syslog level; -1 if the
 * name is unknown. */
int log_level_parse(const char *name);

extern int log_level_current;

void log_write(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Arguments are not evaluated below the current level. */
#define log_msg(level, ...)                  \
    do {                                     \
        if ((level) <= log_level_current)    \
            log_write((level), __VA_ARGS__); \
    } while (0)

/* Like log_msg(LOG_ERR, ...) with ": strerror(errno)" appended. */
void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print "kiln: message" to stderr and exit(1); for commands, not daemons. */
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif

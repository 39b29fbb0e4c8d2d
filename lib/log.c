/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Daemon and command logging with syslog levels. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/time.h>

#include "lib/log.h"

int log_level_current = LOG_INFO;
static char log_role[64] = "kiln";
static FILE *log_stream;

static const char *level_names[] = {
    [LOG_EMERG] = "emerg", [LOG_ALERT] = "alert",     [LOG_CRIT] = "crit",
    [LOG_ERR] = "error",   [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
    [LOG_INFO] = "info",   [LOG_DEBUG] = "debug",
};

void log_init(const char *role, int level, FILE *stream)
{
    snprintf(log_role, sizeof(log_role), "%s", role);
    log_level_current = level;
    log_stream = stream;
}

int log_level_parse(const char *name)
{
    for (int i = 0; i <= LOG_DEBUG; i++)
        if (strcmp(name, level_names[i]) == 0)
            return i;
    if (strcmp(name, "warn") == 0)
        return LOG_WARNING;
    return -1;
}

static void vlog(int level, const char *fmt, va_list ap, int errnum)
{
    FILE *f = log_stream ? log_stream : stderr;
    struct timeval tv;
    struct tm tm;
    char stamp[32];

    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(f, "%s.%03ldZ %s %s: ", stamp, (long)tv.tv_usec / 1000, log_role,
            level_names[level & 7]);
    vfprintf(f, fmt, ap);
    if (errnum)
        fprintf(f, ": %s", strerror(errnum));
    fputc('\n', f);
    fflush(f);
}

void log_write(int level, const char *fmt, ...)
{
    va_list ap;
    int saved = errno;

    va_start(ap, fmt);
    vlog(level, fmt, ap, 0);
    va_end(ap);
    errno = saved;
}

void log_err(const char *fmt, ...)
{
    va_list ap;
    int saved = errno;

    if (LOG_ERR > log_level_current)
        return;
    va_start(ap, fmt);
    vlog(LOG_ERR, fmt, ap, saved);
    va_end(ap);
    errno = saved;
}

void die(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: ", log_role);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

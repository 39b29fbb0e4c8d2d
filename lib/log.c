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

/* One line, in one write: the worker's log is also its shells' (each a
 * process of its own, appending to the same file), and lines must not
 * interleave.  Control characters in it (a newline in a user's path)
 * show as '?', so that no one can write a line of their own. */
static void vlog(int level, const char *fmt, va_list ap, int errnum)
{
    FILE *f = log_stream ? log_stream : stderr;
    struct timeval tv;
    struct tm tm;
    char line[4096];
    int n;

    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    n = (int)strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
    n += snprintf(line + n, sizeof(line) - (size_t)n,
                  ".%03ldZ %s %s: ", (long)tv.tv_usec / 1000, log_role,
                  level_names[level & 7]);
    int head = n < (int)sizeof(line) ? n : (int)sizeof(line) - 1;
    n = head + vsnprintf(line + head, sizeof(line) - (size_t)head, fmt, ap);
    if (errnum && n < (int)sizeof(line))
        n += snprintf(line + n, sizeof(line) - (size_t)n, ": %s",
                      strerror(errnum));
    if (n < head)
        n = head;
    if (n > (int)sizeof(line) - 2)
        n = (int)sizeof(line) - 2; /* cut, with room for the newline */
    for (int i = head; i < n; i++)
        if (((unsigned char)line[i] < 0x20 && line[i] != '\t')
            || line[i] == 0x7f)
            line[i] = '?';
    line[n++] = '\n';
    fwrite(line, 1, (size_t)n, f);
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

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Parsing and printing of time limits, memory sizes and counts. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lib/units.h"

/* Parse a non-negative decimal integer at *p and advance past it. */
static int take_number(const char **p, int64_t *out)
{
    int64_t v = 0;

    if (!isdigit((unsigned char)**p))
        return -1;
    while (isdigit((unsigned char)**p)) {
        if (v > (INT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (**p - '0');
        (*p)++;
    }
    *out = v;
    return 0;
}

int units_parse_time(const char *s, int64_t *seconds)
{
    int64_t days = 0, f[3];
    int n = 0;
    const char *p = s;

    if (!s || !*s)
        goto inval;
    if (!strcasecmp(s, "unlimited") || !strcasecmp(s, "infinite")) {
        *seconds = 0;
        return 0;
    }
    if (strchr(s, '-')) {
        if (take_number(&p, &days) < 0 || *p++ != '-')
            goto inval;
    }
    for (;;) {
        if (n == 3 || take_number(&p, &f[n]) < 0)
            goto inval;
        n++;
        if (*p == '\0')
            break;
        if (*p++ != ':')
            goto inval;
    }
    /* No field beyond a century of seconds: the sums below then stay far
     * from overflowing. */
    if (days > 365 * 100)
        goto inval;
    for (int i = 0; i < n; i++)
        if (f[i] > (int64_t)100 * 366 * 86400)
            goto inval;
    if (strchr(s, '-')) {
        /* D-H, D-H:M, D-H:M:S */
        int64_t h = f[0], m = n > 1 ? f[1] : 0, sec = n > 2 ? f[2] : 0;
        *seconds = ((days * 24 + h) * 60 + m) * 60 + sec;
    } else if (n == 1) {
        *seconds = f[0] * 60; /* minutes */
    } else if (n == 2) {
        *seconds = f[0] * 60 + f[1]; /* M:S */
    } else {
        *seconds = (f[0] * 60 + f[1]) * 60 + f[2];
    }
    return 0;
inval:
    errno = EINVAL;
    return -1;
}

int units_parse_mem(const char *s, int64_t *mib)
{
    const char *p = s;
    int64_t v, scale_num = 1, scale_den = 1;

    if (!s || take_number(&p, &v) < 0)
        goto inval;
    switch (toupper((unsigned char)*p)) {
    case '\0':
    case 'M': break;
    case 'K': scale_den = 1024; break;
    case 'G': scale_num = 1024; break;
    case 'T': scale_num = 1024 * 1024; break;
    default: goto inval;
    }
    if (*p) {
        p++;
        if (toupper((unsigned char)*p) == 'B'
            || toupper((unsigned char)*p) == 'I')
            p++;
        if (*p == 'B' || *p == 'b')
            p++;
        if (*p)
            goto inval;
    }
    if (v <= 0 || v > INT64_MAX / scale_num)
        goto inval;
    v = v * scale_num;
    *mib = (v + scale_den - 1) / scale_den;
    return 0;
inval:
    errno = EINVAL;
    return -1;
}

int units_parse_count(const char *s, long max, long *out)
{
    char *end;
    long v;

    if (!s || !isdigit((unsigned char)*s))
        goto inval;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end || v <= 0 || v > max)
        goto inval;
    *out = v;
    return 0;
inval:
    errno = EINVAL;
    return -1;
}

void units_format_elapsed(int64_t t, char *buf, size_t len)
{
    if (t < 0)
        t = 0;
    if (t >= 86400)
        snprintf(buf, len, "%lld-%02lld:%02lld:%02lld", (long long)(t / 86400),
                 (long long)(t % 86400 / 3600), (long long)(t % 3600 / 60),
                 (long long)(t % 60));
    else
        snprintf(buf, len, "%02lld:%02lld:%02lld", (long long)(t / 3600),
                 (long long)(t % 3600 / 60), (long long)(t % 60));
}

void units_format_time(double t, char *buf, size_t len)
{
    time_t secs = (time_t)t;
    struct tm tm;

    if (t <= 0) {
        snprintf(buf, len, "-");
        return;
    }
    localtime_r(&secs, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
}

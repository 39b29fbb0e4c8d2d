/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Parsing and printing of time limits, memory sizes and counts. */
#ifndef KILN_UNITS_H
#define KILN_UNITS_H

#include <stdint.h>
#include <stddef.h>

/* Parse a Slurm-style time limit into seconds: "M", "M:S", "H:M:S",
 * "D-H", "D-H:M", "D-H:M:S", or "unlimited"/"infinite" (0).  Returns 0,
 * or -1 with errno EINVAL. */
int units_parse_time(const char *s, int64_t *seconds);

/* Parse a memory size into MiB: a positive integer with an optional
 * suffix K, M (the default), G or T.  Returns 0, or -1 with errno EINVAL. */
int units_parse_mem(const char *s, int64_t *mib);

/* Parse a positive decimal count no greater than max.  Returns 0, or -1
 * with errno EINVAL. */
int units_parse_count(const char *s, long max, long *out);

/* Format seconds as [D-]HH:MM:SS (Slurm's elapsed form) into buf. */
void units_format_elapsed(int64_t seconds, char *buf, size_t len);

/* Format a UTC time (seconds since the epoch, fractional) as
 * YYYY-MM-DDTHH:MM:SS in local time, or "-" when t is 0. */
void units_format_time(double t, char *buf, size_t len);

#endif

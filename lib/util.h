/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Small helpers for files and time. */
#ifndef KILN_UTIL_H
#define KILN_UTIL_H

#include <stddef.h>

/* Seconds since the epoch, with sub-second precision. */
double util_now(void);

/* Seconds on the monotonic clock. */
double util_monotonic(void);

/* Create path and its missing parents with mode. 0 or -1 with errno. */
int util_mkdir_p(const char *path, int mode);

/* Write len bytes to path through a temporary file, fsync and rename, so a
 * reader sees the old content or the new, never part.  0 or -1/errno. */
int util_write_atomic(const char *path, const void *data, size_t len);

/* Read a whole file (at most max bytes) into a new NUL-terminated buffer;
 * NULL with errno (EFBIG when larger than max). */
char *util_read_file(const char *path, size_t max, size_t *len);

/* Remove a directory tree. 0 or -1 with errno. */
int util_rm_rf(const char *path);

#endif

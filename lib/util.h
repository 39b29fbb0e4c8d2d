/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Small helpers for files and time.  Tested through the store, spool and
 * restart tests that depend on them. */
#ifndef KILN_UTIL_H
#define KILN_UTIL_H

#include <stddef.h>

/* Seconds since the epoch, with sub-second precision. */
double util_now(void);

/* Seconds on the monotonic clock. */
double util_monotonic(void);

/* Create path and its missing parents with mode. 0 or -1 with errno. */
int util_mkdir_p(const char *path, int mode);

enum { UTIL_DURABLE = 1, UTIL_EXCLUSIVE = 2 };

/* Write len bytes to path through a temporary file and rename, so a reader
 * sees the old content or the new, never part; with UTIL_DURABLE, fsync
 * first, so the content also survives a crash of the machine (0.4 ms here,
 * worth it only for records).  With UTIL_EXCLUSIVE, through a temporary
 * file of this process's own and link(2): path is made only if it is not
 * there (EEXIST), and of several processes at once one makes it.  0 or
 * -1/errno. */
int util_write_atomic(const char *path, const void *data, size_t len,
                      int flags);

/* Read a whole file (at most max bytes) into a new NUL-terminated buffer;
 * NULL with errno (EFBIG when larger than max). */
char *util_read_file(const char *path, size_t max, size_t *len);

/* A descriptor of process pid that polls readable once it has ended
 * (pidfd_open, Linux 5.3), or -1 with errno. */
int util_pidfd_open(int pid);

/* The start time of process pid (clock ticks since boot, from
 * /proc/PID/stat), or 0 if there is no such process.  With the pid it
 * names one process for good, even after the pid is reused. */
unsigned long long util_proc_starttime(int pid);

/* The kiln program, for what a daemon starts that is a command (kiln
 * worker for a local instance, kiln exec in a job): beside this program,
 * else in the bindir.  0, or -1 when it is not there. */
int util_kiln_path(char *out, size_t len);

/* Where Kiln's helper program name (kiln-shell, kiln-ec2) is: beside
 * this program (a build tree, or a copy of both), else where it is
 * installed.  0, or -1 when neither is there (out holds the installed
 * path). */
int util_helper_path(const char *name, char *out, size_t len);

/* Remove a directory tree. 0 or -1 with errno. */
int util_rm_rf(const char *path);

/* The strings of JSON array a (or, with key, that field of its objects;
 * integers too) joined by sep, as a new string; NULL on ENOMEM. */
struct json_t;
/* Become user name (uid, gid) with their groups, for good: 0 or -1 with
 * errno.  For a process of a daemon running as root. */
int util_become_user(const char *name, unsigned uid, unsigned gid);

/* Make s valid UTF-8 in place: a sequence cut at the end (by a "%.64s",
 * say) is dropped, any other invalid byte becomes '?'.  Then cut it to at
 * most max bytes (0: no limit) at a character boundary.  Its length. */
size_t util_utf8_fix(char *s, size_t max);

/* No control characters (a reason, a message shown to people)? */
int util_printable(const char *s);

/* The name of user uid, or "uid N" when the host does not know it (in a
 * static buffer). */
const char *util_user_name(unsigned uid);

char *util_json_join(const struct json_t *a, const char *key, const char *sep);

/* An OS cpu list ("0-3,8,10-11") into set: 0, or -1 when it is not one
 * (or names a cpu past CPU_SETSIZE). */
#include <sched.h>
int util_cpulist_parse(const char *list, cpu_set_t *set);

/* Tune malloc for a program that builds and frees JSON of many megabytes
 * (kiln queue, the server answering it): glibc's fast bins off, whose
 * consolidation ran over every small chunk at each large request and took
 * a quarter of the time.  The per-thread cache still serves small sizes. */
void util_malloc_tune(void);

/* s, or dflt when s is NULL. */
static inline const char *util_str_or(const char *s, const char *dflt)
{
    return s ? s : dflt;
}

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Small helpers for files and time. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <ftw.h>
#include <limits.h>
#include <malloc.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <jansson.h>

#include "lib/util.h"

double util_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

double util_monotonic(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int util_mkdir_p(const char *path, int mode)
{
    char buf[PATH_MAX];
    size_t len = strlen(path);

    if (len == 0 || len >= sizeof(buf)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(buf, path, len + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, mode) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(buf, mode) < 0 && errno != EEXIST)
        return -1;
    return 0;
}

int util_write_atomic(const char *path, const void *data, size_t len, int flags)
{
    char tmp[PATH_MAX];
    const char *p = data;
    int fd, saved;

    int tlen =
        flags & UTIL_EXCLUSIVE
            ? snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid())
            : snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    if (tlen >= (int)sizeof(tmp)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
        return -1;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            goto error;
        }
        p += n;
        len -= (size_t)n;
    }
    if (((flags & UTIL_DURABLE) && fsync(fd) < 0) || close(fd) < 0) {
        fd = -1;
        goto error;
    }
    if (!(flags & UTIL_EXCLUSIVE))
        return rename(tmp, path);
    if (link(tmp, path) < 0)
        goto error;
    unlink(tmp);
    return 0;
error:
    saved = errno;
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    errno = saved;
    return -1;
}

char *util_read_file(const char *path, size_t max, size_t *lenp)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    size_t len = 0, cap = 4096;
    char *buf;

    if (fd < 0)
        return NULL;
    if (!(buf = malloc(cap + 1)))
        goto error;
    for (;;) {
        if (len == cap) {
            if (cap >= max) {
                errno = EFBIG;
                goto error;
            }
            cap = cap * 2 > max ? max : cap * 2;
            char *nb = realloc(buf, cap + 1);
            if (!nb)
                goto error;
            buf = nb;
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            goto error;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';
    if (lenp)
        *lenp = len;
    return buf;
error : {
    int saved = errno;
    free(buf);
    close(fd);
    errno = saved;
    return NULL;
}
}

static int rm_one(const char *path, const struct stat *sb, int flag,
                  struct FTW *f)
{
    return remove(path);
}

/* A job's directory is a few files: they go by name from the directory's
 * listing, with no stat of each (nftw's way); a directory in it, which can
 * be deep (a container's upper layer), goes by nftw. */
int util_rm_rf(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    struct dirent *de;
    int saved = 0;

    if (!d) {
        if (fd >= 0)
            close(fd);
        if (errno == ENOTDIR || errno == ELOOP) /* a file, or a link */
            return unlink(path);
        return -1;
    }
    while ((de = readdir(d))) {
        const char *n = de->d_name;
        char sub[PATH_MAX];
        if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
            continue;
        if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN) {
            if (unlinkat(fd, n, 0) == 0 || errno == ENOENT)
                continue;
            if (errno != EISDIR) {
                saved = saved ? saved : errno;
                continue;
            }
        }
        if (snprintf(sub, sizeof(sub), "%s/%s", path, n) >= (int)sizeof(sub))
            saved = saved ? saved : ENAMETOOLONG;
        else if (nftw(sub, rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0
                 && errno != ENOENT)
            saved = saved ? saved : errno;
    }
    closedir(d);
    if (saved) {
        errno = saved;
        return -1;
    }
    return rmdir(path);
}

unsigned long long util_proc_starttime(int pid)
{
    char path[64], *text, *p;
    unsigned long long t = 0;

    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    if (!(text = util_read_file(path, 4096, NULL)))
        return 0;
    /* Field 2 is "(comm)" and may hold spaces: count from the last ')'.
     * Field 22 is the start time: p stops on its first character. */
    if ((p = strrchr(text, ')'))) {
        int field = 2;
        for (p++; *p && field < 22; p++)
            if (*p == ' ')
                field++;
        if (field == 22)
            t = strtoull(p, NULL, 10);
    }
    free(text);
    return t;
}

char *util_json_join(const json_t *a, const char *key, const char *sep)
{
    size_t i, n = 0, cap = 64;
    char *out = malloc(cap);
    json_t *v;

    if (!out)
        return NULL;
    out[0] = '\0';
    json_array_foreach (a, i, v) {
        json_t *e = key ? json_object_get(v, key) : v;
        char num[32];
        const char *s = json_is_integer(e)
                            ? (snprintf(num, sizeof(num), "%lld",
                                        (long long)json_integer_value(e)),
                               num)
                            : json_string_value(e);
        if (!s)
            continue;
        while (n + strlen(s) + strlen(sep) + 1 > cap) {
            char *bigger = realloc(out, cap *= 2);
            if (!bigger) {
                free(out);
                return NULL;
            }
            out = bigger;
        }
        n += (size_t)snprintf(out + n, cap - n, "%s%s", n ? sep : "", s);
    }
    return out;
}

const char *util_user_name(unsigned uid)
{
    static char name[64];
    struct passwd *pw = getpwuid((uid_t)uid);

    if (pw)
        snprintf(name, sizeof(name), "%s", pw->pw_name);
    else
        snprintf(name, sizeof(name), "uid %u", uid);
    return name;
}

int util_printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

int util_become_user(const char *name, unsigned uid, unsigned gid)
{
    if (initgroups(name, (gid_t)gid) < 0 || setgid((gid_t)gid) < 0
        || setuid((uid_t)uid) < 0)
        return -1;
    /* No way back to root. */
    if (uid != 0 && setuid(0) == 0) {
        errno = EPERM;
        return -1;
    }
    return 0;
}

/* At s, the length of a valid UTF-8 sequence (> 0); or, negated, that of
 * a valid start cut short (the rest of a character is missing); or 0 for
 * a byte that starts nothing (RFC 3629: no overlong forms, no surrogates,
 * nothing above U+10FFFF). */
static long utf8_seq(const unsigned char *s)
{
    unsigned c = s[0], lo = 0x80, hi = 0xbf;
    long n;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        lo = c == 0xe0 ? 0xa0 : 0x80;
        hi = c == 0xed ? 0x9f : 0xbf;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        lo = c == 0xf0 ? 0x90 : 0x80;
        hi = c == 0xf4 ? 0x8f : 0xbf;
    } else
        return 0;
    for (long i = 1; i < n; i++) {
        bool ok =
            i == 1 ? s[i] >= lo && s[i] <= hi : s[i] >= 0x80 && s[i] <= 0xbf;
        if (!ok)
            /* A byte that could not follow: cut short if it is no
             * continuation at all, else simply wrong. */
            return s[i] < 0x80 || s[i] > 0xbf ? -i : 0;
    }
    return n;
}

size_t util_utf8_fix(char *s, size_t max)
{
    unsigned char *p = (unsigned char *)s;
    size_t i = 0, j = 0;

    while (p[i]) {
        long n = utf8_seq(p + i);
        if (n < 0) { /* a character cut in two ("%.64s"): drop its start */
            i += (size_t)-n;
            continue;
        }
        if (n == 0) {
            p[i] = '?';
            n = 1;
        }
        if (max && j + (size_t)n > max)
            break;
        memmove(p + j, p + i, (size_t)n);
        i += (size_t)n;
        j += (size_t)n;
    }
    p[j] = '\0';
    return j;
}

int util_cpulist_parse(const char *list, cpu_set_t *set)
{
    const char *p = list;

    CPU_ZERO(set);
    if (!list || !*list)
        return -1;
    while (*p) {
        char *end;
        long a, b;
        if (*p < '0' || *p > '9')
            return -1;
        a = b = strtol(p, &end, 10);
        if (*end == '-') {
            if (end[1] < '0' || end[1] > '9')
                return -1;
            b = strtol(end + 1, &end, 10);
        }
        if (a > b || b >= CPU_SETSIZE)
            return -1;
        for (long c = a; c <= b; c++)
            CPU_SET(c, set);
        if (*end == ',' && end[1])
            end++;
        else if (*end)
            return -1;
        p = end;
    }
    return 0;
}

#ifndef KILN_LIBEXECDIR /* a build outside make's (the fuzz targets) */
#define KILN_LIBEXECDIR "/usr/local/libexec/kiln"
#endif
#ifndef KILN_BINDIR
#define KILN_BINDIR "/usr/local/bin"
#endif

int util_helper_path(const char *name, char *out, size_t len)
{
    char self[PATH_MAX], *slash;
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

    if (n > 0 && (self[n] = '\0', slash = strrchr(self, '/'))) {
        snprintf(out, len, "%.*s/%s", (int)(slash - self), self, name);
        if (access(out, X_OK) == 0)
            return 0;
    }
    snprintf(out, len, "%s/%s", KILN_LIBEXECDIR, name);
    return access(out, X_OK);
}

int util_kiln_path(char *out, size_t len)
{
    /* The daemons are programs of their own (kiln-server, kiln-worker): the
     * kiln beside them in a build tree, else the installed one. */
    if (util_helper_path("kiln", out, len) == 0)
        return 0;
    snprintf(out, len, "%s/kiln", KILN_BINDIR);
    return access(out, X_OK);
}

void util_malloc_tune(void)
{
#ifdef M_MXFAST
    mallopt(M_MXFAST, 0);
#endif
}

int util_pidfd_open(int pid)
{
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

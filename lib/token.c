/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/token.h"
#include "lib/util.h"

int token_path(char *path, size_t len, struct kiln_error *err)
{
    const char *file = getenv("KILN_TOKEN_FILE"), *home = getenv("HOME");
    struct passwd *pw;

    if (file && *file) {
        if (snprintf(path, len, "%s", file) >= (int)len)
            return errprintf(err, "KILN_TOKEN_FILE is too long");
        return 0;
    }
    if ((!home || !*home) && (pw = getpwuid(getuid())))
        home = pw->pw_dir;
    if (!home || !*home)
        return errprintf(err, "no home folder for the single-user token: set "
                              "KILN_TOKEN_FILE");
    if (snprintf(path, len, "%s/.kiln/token", home) >= (int)len)
        return errprintf(err, "the home folder's name is too long");
    return 0;
}

static bool token_ok(const char *t)
{
    if (strlen(t) != TOKEN_LEN)
        return false;
    for (; *t; t++)
        if (!strchr("0123456789abcdef", *t))
            return false;
    return true;
}

/* Read path into token; 1, 0 (none), -1 with err. */
static int read_token(const char *path, char token[TOKEN_LEN + 1],
                      bool owner_only, struct kiln_error *err)
{
    struct stat st;
    char buf[TOKEN_LEN + 2];
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    ssize_t n;

    if (fd < 0)
        return errno == ENOENT || errno == EACCES
                   ? 0
                   : errprintf(err, "cannot read %s: %s", path,
                               strerror(errno));
    if (fstat(fd, &st) < 0
        || (owner_only && (st.st_uid != geteuid() || (st.st_mode & 077)))) {
        close(fd);
        return errprintf(
            err,
            "%s must belong to uid %u and be readable by it alone (chmod "
            "600)",
            path, (unsigned)geteuid());
    }
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
    if (!token_ok(buf))
        return errprintf(err, "%s does not hold a Kiln token (%d hex digits)",
                         path, TOKEN_LEN);
    memcpy(token, buf, TOKEN_LEN + 1);
    return 1;
}

int token_load_or_create(char token[TOKEN_LEN + 1], struct kiln_error *err)
{
    char path[PATH_MAX], dir[PATH_MAX];
    unsigned char r[TOKEN_LEN / 2];
    int rc;

    if (token_path(path, sizeof(path), err) < 0)
        return -1;
    if ((rc = read_token(path, token, true, err)) != 0)
        return rc < 0 ? -1 : 0;
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        if (util_mkdir_p(dir, 0700) < 0)
            return errprintf(err, "cannot make %s: %s", dir, strerror(errno));
    }
    if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
        return errprintf(err, "cannot make a token: %s", strerror(errno));
    for (size_t i = 0; i < sizeof(r); i++)
        snprintf(token + 2 * i, 3, "%02x", r[i]);
    if (util_write_atomic(path, token, TOKEN_LEN, UTIL_DURABLE) < 0)
        return errprintf(err, "cannot write %s: %s", path, strerror(errno));
    return 0;
}

int token_read(char token[TOKEN_LEN + 1], struct kiln_error *err)
{
    char path[PATH_MAX];

    if (token_path(path, sizeof(path), err) < 0)
        return -1;
    return read_token(path, token, false, err);
}

bool token_endpoint_local(const char *ep)
{
    char host[256];
    const char *colon;
    struct in_addr a4;
    struct in6_addr a6;

    if (!strncmp(ep, "ipc://", 6) || !strncmp(ep, "inproc://", 9))
        return true;
    if (strncmp(ep, "tcp://", 6) != 0 || !(colon = strrchr(ep + 6, ':')))
        return false;
    size_t n = (size_t)(colon - (ep + 6));
    if (n >= sizeof(host))
        return false;
    memcpy(host, ep + 6, n);
    host[n] = '\0';
    if (host[0] == '[' && n > 2 && host[n - 1] == ']') {
        host[n - 1] = '\0';
        return inet_pton(AF_INET6, host + 1, &a6) == 1
               && IN6_IS_ADDR_LOOPBACK(&a6);
    }
    if (!strcmp(host, "localhost"))
        return true;
    return inet_pton(AF_INET, host, &a4) == 1
           && (ntohl(a4.s_addr) >> 24) == 127;
}

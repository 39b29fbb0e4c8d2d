/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The server's local socket: the checks both sides make (lib/localsock.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/localsock.h"

int localsock_path_ok(const char *path, struct kiln_error *err)
{
    struct sockaddr_un un;

    if (path[0] != '/')
        return errprintf(err, "local socket '%s': want an absolute path", path);
    if (strlen(path) >= sizeof(un.sun_path))
        return errprintf(err,
                         "local socket '%s': longer than a UNIX socket path "
                         "may be (%zu bytes)",
                         path, sizeof(un.sun_path) - 1);
    if (strpbrk(path, "\n\r"))
        return errprintf(err, "local socket path has a line break");
    return 0;
}

bool localsock_live(const char *path)
{
    struct sockaddr_un un = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    bool live;

    if (fd < 0 || strlen(path) >= sizeof(un.sun_path)) {
        if (fd >= 0)
            close(fd);
        return false;
    }
    memcpy(un.sun_path, path, strlen(path) + 1);
    /* A backlog that is full is a server too. */
    live =
        connect(fd, (struct sockaddr *)&un, sizeof(un)) == 0 || errno == EAGAIN;
    close(fd);
    return live;
}

/* One component of the path: the socket itself (last) or a folder.  An
 * entry of a folder that others may write (sticky, as /tmp) could be
 * anybody's: it must be root's or this user's own. */
static int owned_one(const char *at, bool last, bool in_shared, uid_t owner,
                     bool *shared, struct kiln_error *err)
{
    struct stat st;

    if (lstat(at, &st) < 0)
        return errprintf(err, "%s: %s", at, strerror(errno));
    if (last && !S_ISSOCK(st.st_mode))
        return errprintf(err, "%s is not a socket", at);
    if (!last && !S_ISDIR(st.st_mode))
        return errprintf(err, "%s is not a folder (a symbolic link?)", at);
    if (in_shared && st.st_uid != 0 && st.st_uid != geteuid())
        return errprintf(err,
                         "%s belongs to uid %u, and anybody may make it in "
                         "the folder above",
                         at, (unsigned)st.st_uid);
    if (last && st.st_uid != owner)
        return errprintf(err,
                         "%s belongs to uid %u, and the server there runs as "
                         "uid %u",
                         at, (unsigned)st.st_uid, (unsigned)owner);
    if (!last && st.st_uid != 0 && st.st_uid != owner)
        return errprintf(err,
                         "folder %s belongs to uid %u, neither root nor the "
                         "server's (uid %u)",
                         at, (unsigned)st.st_uid, (unsigned)owner);
    *shared = !last && (st.st_mode & (S_IWGRP | S_IWOTH));
    if (*shared && !(st.st_mode & S_ISVTX))
        return errprintf(err,
                         "folder %s is writable by others (mode %03o), who "
                         "could have put a socket of theirs there",
                         at, (unsigned)(st.st_mode & 0777));
    return 0;
}

int localsock_owned(const char *path, uid_t owner, struct kiln_error *err)
{
    char at[sizeof(((struct sockaddr_un *)0)->sun_path)];
    bool shared = false;

    if (localsock_path_ok(path, err) < 0)
        return -1;
    if (owned_one("/", false, false, owner, &shared, err) < 0)
        return -1;
    for (const char *p = path + 1;; p++) {
        if (*p != '/' && *p)
            continue;
        memcpy(at, path, (size_t)(p - path));
        at[p - path] = '\0';
        if (owned_one(at, *p == '\0', shared, owner, &shared, err) < 0)
            return -1;
        if (!*p)
            return 0;
    }
}

int localsock_check_server(const char *path, int fd, struct kiln_error *err)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);
    struct kiln_error why;

    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
        return errprintf(err, "cannot tell who listens on %s: %s", path,
                         strerror(errno));
    if (localsock_owned(path, cred.uid, &why) < 0)
        return errprintf(err,
                         "the socket %s may not be the server's, so nothing "
                         "is sent there: %s",
                         path, why.text);
    return 0;
}

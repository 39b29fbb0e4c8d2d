/* SPDX-License-Identifier: GPL-2.0-or-later */
/* kiln-shell: the supervisor of one job on one node (as flux-shell and
 * slurmstepd are).  A program of its own, linked with only what it uses.
 *
 *   kiln-shell --launcher   the worker's resident launcher, which forks a
 *                           shell for each job (worker/launcher.c is the
 *                           worker's end of its socket)
 *   kiln-shell DIR          one job's shell, started by hand */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/cgroup.h"
#include "lib/util.h"
#include "worker/worker.h"

static int send_reply(int fd, const struct launcher_reply *r, int pidfd)
{
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } c;
    struct iovec iov = { (void *)r, sizeof(*r) };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
    ssize_t n;

    if (pidfd >= 0) {
        memset(&c, 0, sizeof(c));
        m.msg_control = c.buf;
        m.msg_controllen = sizeof(c.buf);
        struct cmsghdr *h = CMSG_FIRSTHDR(&m);
        h->cmsg_level = SOL_SOCKET;
        h->cmsg_type = SCM_RIGHTS;
        h->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(h), &pidfd, sizeof(int));
    }
    while ((n = sendmsg(fd, &m, MSG_NOSIGNAL)) < 0 && errno == EINTR)
        ;
    return n == (ssize_t)sizeof(*r) ? 0 : -1;
}

/* The child's command line as ps shows it, "kiln-shell DIR", as when each
 * shell was exec'd (sysadmins and scripts find a job's shell by it: pgrep
 * -f DIR).  Written over the launcher's argument and environment strings,
 * which lie end to end, once the environment has moved to the heap (as
 * setproctitle does); a title longer than they are is cut. */
static void set_title(char **argv, const char *dir)
{
    char *start = argv[0], *end = start + strlen(start) + 1, **env;
    size_t n = 0;

    for (int i = 1; argv[i] && argv[i] == end; i++)
        end += strlen(argv[i]) + 1;
    while (environ[n])
        n++;
    if (!(env = calloc(n + 1, sizeof(*env))))
        return;
    for (size_t i = 0; i < n; i++) {
        if (!(env[i] = strdup(environ[i])))
            return;
        if (environ[i] == end)
            end += strlen(environ[i]) + 1;
    }
    environ = env;
    memset(start, 0, (size_t)(end - start));
    snprintf(start, (size_t)(end - start), "kiln-shell %s", dir);
}

/* In the launcher's child: the job's shell, in a session of its own, its
 * input from /dev/null and its messages to the worker's log (the
 * launcher's), with the signal mask the launcher was started with: the
 * stop signals blocked, so that a kill sent at once waits, pending, for
 * the shell's sigtimedwait. */
static int shell_child(char **argv, const char *dir)
{
    set_title(argv, dir);
    signal(SIGCHLD, SIG_DFL); /* the launcher's reaping is not the shell's */
    setsid();
    dup2(STDERR_FILENO, STDOUT_FILENO);
    return shell_run(dir);
}

/* The launcher's loop (worker/launcher.c is the worker's end), until the
 * worker closes fd.  Its exit status. */
static int launcher_run(int fd, char **argv)
{
    char dir[PATH_MAX + 1];
    ssize_t n;

    /* Shells are reaped as they end: the worker watches them through
     * their pidfds, which tell their end whoever reaps them. */
    signal(SIGCHLD, SIG_IGN);
    /* Once, for every shell: the hierarchy, and the seed of jansson's
     * hash tables (else each shell reads /dev/urandom for it). */
    cgroup_detect();
    json_object_seed(0);
    while ((n = recv(fd, dir, sizeof(dir) - 1, MSG_TRUNC)) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return 1;
        }
        struct launcher_reply r = { 0, 0 };
        int pidfd = -1;
        if ((size_t)n >= sizeof(dir)) {
            r.err = ENAMETOOLONG;
        } else if ((dir[n] = '\0', dir[0] != '/') || strlen(dir) != (size_t)n) {
            r.err = EINVAL;
        } else if ((r.pid = fork()) == 0) {
            close(fd);
            _exit(shell_child(argv, dir));
        } else if (r.pid < 0) {
            r.pid = 0;
            r.err = errno;
        } else if ((pidfd = util_pidfd_open(r.pid)) < 0) {
            /* Not reaped before the reply is sent: the pid stays its. */
            r.pid = 0;
            r.err = errno;
        }
        int rc = send_reply(fd, &r, pidfd);
        if (pidfd >= 0)
            close(pidfd);
        if (rc < 0)
            return 1;
    }
    return 0; /* the worker has gone: its shells go on without us */
}

int main(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "--launcher"))
        return launcher_run(LAUNCHER_FD, argv);
    if (argc != 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: kiln-shell DIR (the worker starts it, one per "
                        "job)\n");
        return 2;
    }
    return shell_run(argv[1]);
}

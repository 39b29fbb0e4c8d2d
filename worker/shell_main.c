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
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
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
 * the shell's sigtimedwait.  Every disposition is the default. */
static int shell_child(char **argv, const char *dir)
{
    set_title(argv, dir);
    setsid();
    dup2(STDERR_FILENO, STDOUT_FILENO);
    return shell_run(dir);
}

/* Reap the shells that have ended.  Not before: until the launcher has
 * answered for a shell, its pid must stay its child's (pidfd_open). */
static void reap(int sfd)
{
    struct signalfd_siginfo si;

    while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
        ;
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
}

/* One request: the job directory in dir (n bytes as received), a shell
 * forked for it, and the answer. -1 when the worker cannot be answered. */
static int answer(int fd, int sfd, char **argv, char *dir, ssize_t n,
                  size_t size)
{
    struct launcher_reply r = { 0, 0 };
    int pidfd = -1;

    if ((size_t)n >= size) {
        r.err = ENAMETOOLONG;
    } else if ((dir[n] = '\0', dir[0] != '/') || strlen(dir) != (size_t)n) {
        r.err = EINVAL;
    } else if ((r.pid = fork()) == 0) {
        close(fd);
        close(sfd);
        _exit(shell_child(argv, dir));
    } else if (r.pid < 0) {
        r.pid = 0;
        r.err = errno;
    } else if ((pidfd = util_pidfd_open(r.pid)) < 0) {
        /* Unwatchable: it must not run unseen (not reaped yet, the pid
         * is still the shell's). */
        r.err = errno;
        kill(r.pid, SIGKILL);
        r.pid = 0;
    }
    int rc = send_reply(fd, &r, pidfd);
    if (pidfd >= 0)
        close(pidfd);
    return rc;
}

/* The launcher's loop (worker/launcher.c is the worker's end), until the
 * worker closes fd.  Its exit status.  SIGCHLD is blocked (the mask the
 * shells start with): it comes through a signalfd. */
static int launcher_run(int fd, char **argv)
{
    char dir[PATH_MAX + 1];
    sigset_t chld;
    int sfd;

    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    if ((sfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
        return 1;
    /* Once, for every shell: the hierarchy, and the seed of jansson's
     * hash tables (else each shell reads /dev/urandom for it). */
    cgroup_detect();
    json_object_seed(0);
    for (;;) {
        struct pollfd p[2] = { { fd, POLLIN, 0 }, { sfd, POLLIN, 0 } };
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return 1;
        }
        if (p[1].revents)
            reap(sfd);
        if (!p[0].revents)
            continue;
        ssize_t n = recv(fd, dir, sizeof(dir) - 1, MSG_TRUNC | MSG_DONTWAIT);
        if (n == 0)
            break; /* the worker has gone: its shells go on without us */
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return 1;
        }
        if (answer(fd, sfd, argv, dir, n, sizeof(dir)) < 0)
            return 1;
    }
    reap(sfd);
    return 0;
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

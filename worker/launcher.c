/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The worker's end of the resident launcher, kiln-shell --launcher
 * (shell_main.c), which forks the shell of each job.  A fork of that small
 * single-threaded process costs a fraction of an exec of kiln-shell and
 * its dynamic link, and the worker, a large threaded daemon, forks
 * nothing.
 *
 * The worker sends a job directory (one SOCK_SEQPACKET message) and goes
 * on; the launcher answers, in order, with the shell's pid or the errno of
 * why there is none, and a pidfd of the shell (SCM_RIGHTS) for the worker
 * to watch.  The shells do not need the launcher: each is in a session of
 * its own, and goes on when the launcher or the worker stops.  The
 * launcher stops when the worker closes its end. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/util.h"
#include "worker/worker.h"

/* How long the worker waits for an answer before it gives up on the
 * launcher (it goes on with its other work meanwhile). */
enum { LAUNCHER_TIMEOUT_S = 10 };

/* The reply and the pidfd it carries (-1 if none); -1 with errno when the
 * launcher is gone (EPIPE), has not answered yet (EAGAIN) or makes no
 * sense (EPROTO). */
static int recv_reply(int fd, struct launcher_reply *r, int *pidfd, int flags)
{
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } c;
    struct iovec iov = { r, sizeof(*r) };
    struct msghdr m = { .msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = c.buf,
                        .msg_controllen = sizeof(c.buf) };
    ssize_t n;

    *pidfd = -1;
    while ((n = recvmsg(fd, &m, MSG_CMSG_CLOEXEC | flags)) < 0
           && errno == EINTR)
        ;
    if (n < 0)
        return -1;
    for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h))
        if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS
            && h->cmsg_len == CMSG_LEN(sizeof(int)))
            memcpy(pidfd, CMSG_DATA(h), sizeof(int));
    if (n == (ssize_t)sizeof(*r) && !(m.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
        && (r->err ? r->pid == 0 && *pidfd < 0 : r->pid > 1 && *pidfd >= 0))
        return 0;
    if (*pidfd >= 0)
        close(*pidfd);
    *pidfd = -1;
    errno = n == 0 ? EPIPE : EPROTO;
    return -1;
}

/* kiln-shell --launcher, its socket as fd 3, its input from /dev/null,
 * its output the worker's, in a session of its own, every signal at its
 * default and the stop signals blocked (for the shells it forks). */
static int launcher_up(struct worker *w)
{
    char *const argv[] = { "kiln-shell", "--launcher", NULL };
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t all, stops;
    struct timeval tv = { 1, 0 };
    int sv[2], rc;
    pid_t pid;

    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return -1;
    sigfillset(&all);
    shell_wait_signals(&stops);
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY,
                                     0);
    posix_spawn_file_actions_adddup2(&fa, sv[1], LAUNCHER_FD);
    posix_spawn_file_actions_addclosefrom_np(&fa, LAUNCHER_FD + 1);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setsigmask(&attr, &stops);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF
                                        | POSIX_SPAWN_SETSIGMASK);
    rc = posix_spawn(&pid, w->shell_path, &fa, &attr, argv, environ);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    close(sv[1]);
    if (rc != 0) {
        close(sv[0]);
        errno = rc;
        return -1;
    }
    /* Requests are small and the socket's buffer holds hundreds: a send
     * waits only on a launcher that has stopped reading. */
    setsockopt(sv[0], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    w->launcher = pid;
    w->launcher_fd = sv[0];
    w->launcher_pidfd = util_pidfd_open(pid);
    log_msg(LOG_DEBUG, "launcher started, pid %d", (int)pid);
    return 0;
}

/* Every launch still waiting for its answer fails with err. */
static void fail_pending(struct worker *w, int err)
{
    while (w->npending) {
        struct launch_wait p = w->pending[0];
        memmove(w->pending, w->pending + 1,
                --w->npending * sizeof(w->pending[0]));
        launch_started(w, p.id, p.attempt, 0, -1, err);
    }
}

/* Stop the launcher: closed out, it leaves by itself (and a sanitizer
 * build checks it for leaks as it does); one that is stuck, or still
 * there after grace_ms, is killed.  Through its pidfd: the pid may be
 * another's once the launcher is reaped. */
static void stop(struct worker *w, int grace_ms)
{
    if (!w->launcher)
        return;
    close(w->launcher_fd);
    if (w->launcher_pidfd >= 0) {
        struct pollfd p = { w->launcher_pidfd, POLLIN, 0 };
        if (grace_ms <= 0 || poll(&p, 1, grace_ms) <= 0)
            syscall(SYS_pidfd_send_signal, w->launcher_pidfd, SIGKILL, NULL, 0);
        close(w->launcher_pidfd);
    }
    waitpid(w->launcher, NULL, 0);
    w->launcher = 0;
    w->launcher_fd = w->launcher_pidfd = -1;
    /* It may have started their shells or not: they fail to launch rather
     * than run twice (the next job on their cores kills what is left). */
    fail_pending(w, EPIPE);
}

void launcher_stop(struct worker *w)
{
    stop(w, 2000);
}

int launcher_request(struct worker *w, int64_t id, int attempt, const char *dir)
{
    size_t len = strlen(dir);
    ssize_t n = -1;

    if (w->npending == w->cap_pending) {
        size_t cap = w->cap_pending ? 2 * w->cap_pending : 16;
        struct launch_wait *p = realloc(w->pending, cap * sizeof(*p));
        if (!p)
            return -1;
        w->pending = p;
        w->cap_pending = cap;
    }
    /* A launcher that is gone has not read the request: ask a new one. */
    for (int tries = 0; tries < 2 && n < 0; tries++) {
        if (!w->launcher && launcher_up(w) < 0)
            return -1;
        while ((n = send(w->launcher_fd, dir, len, MSG_NOSIGNAL)) < 0
               && errno == EINTR)
            ;
        if (n < 0) {
            int grace = errno == EPIPE ? 2000 : 0; /* gone, or stuck */
            log_err("the launcher (pid %d) is gone: starting another",
                    (int)w->launcher);
            stop(w, grace);
        }
    }
    if (n != (ssize_t)len)
        return -1;
    w->pending[w->npending++] =
        (struct launch_wait){ id, attempt, util_monotonic() };
    return 0;
}

int launcher_poll_fd(const struct worker *w)
{
    return w->launcher && w->npending ? w->launcher_fd : -1;
}

void launcher_readable(struct worker *w)
{
    struct launcher_reply r;
    int pidfd;

    while (w->npending) {
        if (recv_reply(w->launcher_fd, &r, &pidfd, MSG_DONTWAIT) < 0) {
            if (errno == EAGAIN)
                return;
            int grace = errno == EPIPE ? 2000 : 0; /* gone, or confused */
            log_err("the launcher (pid %d) failed", (int)w->launcher);
            stop(w, grace);
            return;
        }
        struct launch_wait p = w->pending[0];
        memmove(w->pending, w->pending + 1,
                --w->npending * sizeof(w->pending[0]));
        launch_started(w, p.id, p.attempt, r.pid, pidfd, r.err);
    }
}

double launcher_next(const struct worker *w, double next)
{
    double by = w->npending ? w->pending[0].since + LAUNCHER_TIMEOUT_S : next;
    return by < next ? by : next;
}

void launcher_tick(struct worker *w, double now)
{
    if (w->npending && now >= w->pending[0].since + LAUNCHER_TIMEOUT_S) {
        log_msg(LOG_ERR,
                "the launcher (pid %d) did not answer in %d s: starting "
                "another",
                (int)w->launcher, LAUNCHER_TIMEOUT_S);
        stop(w, 0);
    }
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The ec2 provider: each operation is one run of the kiln-ec2 helper
 * (server/ec2_main.c), which speaks the EC2 Query API.  The request goes
 * to its stdin as JSON, the answer comes from its stdout; a helper that
 * takes longer than the deadline is killed and the operation fails
 * (RequestTimeout), to be tried again by the manager. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/util.h"
#include "server/provider.h"

extern char **environ;

enum { DEADLINE_MS = 180000, MAX_ANSWER = 64 << 20 };

static const char *const kinds[] = { "launch", "terminate", "describe" };

/* Write all of text to fd, and read all of fd2 into a new string, within
 * the deadline.  NULL on timeout or error. */
static char *exchange(int in, int out, const char *text)
{
    size_t sent = 0, len = strlen(text), n = 0, cap = 0;
    char *buf = NULL;
    double end = util_monotonic() + DEADLINE_MS / 1000.0;

    while (1) {
        struct pollfd p[2] = { { sent < len ? in : -1, POLLOUT, 0 },
                               { out, POLLIN, 0 } };
        int left = (int)((end - util_monotonic()) * 1000);
        if (left <= 0 || poll(p, 2, left) <= 0) {
            if (errno == EINTR)
                continue;
            free(buf);
            return NULL;
        }
        if (sent < len && (p[0].revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t w = write(in, text + sent, len - sent);
            if (w < 0 && errno != EAGAIN && errno != EINTR) {
                free(buf);
                return NULL;
            }
            sent += w > 0 ? (size_t)w : 0;
            if (sent == len)
                close(in), in = -1;
        }
        if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
            if (n + 65536 + 1 > cap) {
                cap = (n + 65536 + 1) * 2;
                char *nb = cap <= MAX_ANSWER ? realloc(buf, cap) : NULL;
                if (!nb) {
                    free(buf);
                    return NULL;
                }
                buf = nb;
            }
            ssize_t r = read(out, buf + n, cap - n - 1);
            if (r == 0)
                break;
            if (r < 0 && errno != EAGAIN && errno != EINTR) {
                free(buf);
                return NULL;
            }
            n += r > 0 ? (size_t)r : 0;
        }
    }
    if (in >= 0)
        close(in);
    if (!buf && !(buf = malloc(1)))
        return NULL;
    buf[n] = '\0';
    return buf;
}

static void run(struct op *op)
{
    char helper[PATH_MAX];
    int to[2] = { -1, -1 }, from[2] = { -1, -1 };
    posix_spawn_file_actions_t fa;
    pid_t pid;

    if (util_helper_path("kiln-ec2", helper, sizeof(helper)) < 0) {
        op_fail(op, "NoProvider", "cannot find %s: is Kiln installed whole?",
                helper);
        return;
    }
    json_t *req = json_pack(
        "{s:s, s:s, s:O, s:O, s:s}", "kind", kinds[op->kind], "ce", op->ce,
        "conf", op->conf, "args", op->args, "server_id",
        util_str_or(json_string_value(json_object_get(op->args, "server_id")),
                    ""));
    char *text = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (!text || pipe2(to, O_CLOEXEC) < 0 || pipe2(from, O_CLOEXEC) < 0) {
        op_fail(op, "InternalError", "cannot start %s: %s", helper,
                strerror(errno));
        free(text);
        if (to[0] >= 0)
            close(to[0]), close(to[1]);
        return;
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, to[0], 0);
    posix_spawn_file_actions_adddup2(&fa, from[1], 1);
    char *const argv[] = { helper, "call", NULL };
    int rc = posix_spawn(&pid, helper, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(to[0]);
    close(from[1]);
    char *answer = rc == 0 ? exchange(to[1], from[0], text) : NULL;
    if (rc != 0)
        close(to[1]);
    close(from[0]);
    free(text);
    if (rc == 0) {
        if (!answer)
            kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    json_t *o = answer ? json_loads(answer, 0, NULL) : NULL;
    free(answer);
    json_t *err = json_object_get(o, "error");
    if (rc != 0)
        op_fail(op, "InternalError", "cannot start %s: %s", helper,
                strerror(rc));
    else if (!o)
        op_fail(op, "RequestTimeout",
                "no answer from the EC2 helper within %d s",
                DEADLINE_MS / 1000);
    else if (err)
        op_fail(op,
                util_str_or(json_string_value(json_object_get(err, "code")),
                            "InternalError"),
                "%s",
                util_str_or(json_string_value(json_object_get(err, "message")),
                            ""));
    else
        op->result = json_incref(json_object_get(o, "result"));
    json_decref(o);
}

const struct provider provider_ec2 = { "ec2", run };

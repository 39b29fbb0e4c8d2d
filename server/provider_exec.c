/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The exec provider: a site's own programs power its nodes on and off,
 * as Slurm's ResumeProgram and SuspendProgram do (IPMI, OpenStack,
 * Kubernetes, anything).  An instance is one host of the environment's
 * host list, and its id is the host's name.
 *
 *   resumeProgram HOSTLIST    start these hosts; their kiln worker must
 *                             join with --ce and the token in
 *                             KILN_JOIN_TOKEN (also KILN_SERVER, KILN_CE,
 *                             KILN_SERVER_KEY, KILN_AUTH are set)
 *   suspendProgram HOSTLIST   stop them
 *
 * Each runs in a process group of its own, with the environment's
 * program timeout; its output (the last 2 KiB) comes back to be logged
 * as an event.  A site's hosts cannot be listed: after a restart, the
 * stored instances are taken as they are. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/hostlist.h"
#include "lib/util.h"
#include "server/provider.h"

extern char **environ;

enum { TAIL = 2048 };

/* Run program with one argument and the extra environment; 0 when it
 * exited 0 within timeout seconds, else -1 with op failed.  Its output's
 * tail goes to out. */
static int run_program(struct op *op, const char *program, const char *arg,
                       char *const *extra, long timeout, char *out)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    int fds[2], status = 0;
    size_t n = 0, ne = 0, ex = 0;
    pid_t pid;

    out[0] = '\0';
    while (environ[ne])
        ne++;
    while (extra[ex])
        ex++;
    char **env = calloc(ne + ex + 1, sizeof(*env));
    if (!env || pipe2(fds, O_CLOEXEC) < 0) {
        free(env);
        op_fail(op, "ProgramFailed", "cannot run %s: %s", program,
                strerror(errno));
        return -1;
    }
    memcpy(env, environ, ne * sizeof(*env));
    memcpy(env + ne, extra, ex * sizeof(*env));
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
    posix_spawnattr_init(&at);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&at, 0);
    char *const argv[] = { (char *)program, (char *)arg, NULL };
    int rc = posix_spawn(&pid, program, &fa, &at, argv, env);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    free(env);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        op_fail(op, "ProgramFailed", "cannot run %s: %s", program,
                strerror(rc));
        return -1;
    }
    double end = util_monotonic() + (double)timeout;
    bool timed_out = false;
    char buf[4096];
    for (;;) {
        struct pollfd p = { fds[0], POLLIN, 0 };
        int left = (int)((end - util_monotonic()) * 1000);
        if (left <= 0) {
            timed_out = true;
            break;
        }
        if (poll(&p, 1, left) < 0 && errno != EINTR)
            break;
        ssize_t r = p.revents ? read(fds[0], buf, sizeof(buf)) : 0;
        if (p.revents && r <= 0)
            break; /* EOF: every writer is gone */
        for (ssize_t i = 0; i < r; i++) {
            if (n == TAIL - 1) {
                memmove(out, out + TAIL / 2, TAIL / 2 - 1);
                n = TAIL / 2 - 1;
            }
            out[n++] = buf[i];
        }
    }
    close(fds[0]);
    out[n] = '\0';
    util_utf8_fix(out, 0);
    if (timed_out)
        kill(-pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (timed_out) {
        op_fail(op, "ProgramTimeout", "%s %s did not finish within %ld s",
                program, arg, timeout);
        return -1;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        op_fail(
            op, "ProgramFailed", "%s %s %s %d: %.300s", program, arg,
            WIFEXITED(status) ? "exited with status" : "was killed by signal",
            WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), out);
        return -1;
    }
    return 0;
}

static const char *conf_str(const struct op *op, const char *key)
{
    return json_string_value(
        json_object_get(json_object_get(op->conf, "kiln"), key));
}

static bool taken(const json_t *ids, const char *name)
{
    json_t *v;
    size_t i;

    json_array_foreach (ids, i, v)
        if (!strcmp(json_string_value(v), name))
            return true;
    return false;
}

static void launch(struct op *op)
{
    const json_t *w = json_object_get(op->args, "worker");
    long count = (long)json_integer_value(json_object_get(op->args, "count"));
    struct kiln_error err;
    char out[TAIL], vars[5][600];
    int n = 0;
    char **hosts = hostlist_expand(conf_str(op, "hosts"), 65536, &n, &err);
    const char *picked[4096];
    int np = 0;

    if (!hosts) {
        op_fail(op, "InvalidHosts", "%s", err.text);
        return;
    }
    for (int i = 0; i < n && np < count && np < 4096; i++)
        if (!taken(json_object_get(op->args, "in_use"), hosts[i]))
            picked[np++] = hosts[i];
    if (np == 0) {
        hostlist_names_free(hosts);
        op_fail(op, "InsufficientCapacity",
                "every host of %s is in use already", conf_str(op, "hosts"));
        return;
    }
    char *list = hostlist_compress(picked, np);
    const char *keys[] = { "join", "server", "ce", "server_key", "auth" };
    const char *names[] = { "KILN_JOIN_TOKEN", "KILN_SERVER", "KILN_CE",
                            "KILN_SERVER_KEY", "KILN_AUTH" };
    char *extra[6];
    for (int i = 0; i < 5; i++) {
        snprintf(
            vars[i], sizeof(vars[i]), "%s=%s", names[i],
            util_str_or(json_string_value(json_object_get(w, keys[i])), ""));
        extra[i] = vars[i];
    }
    extra[5] = NULL;
    if (list
        && run_program(op, conf_str(op, "resumeProgram"), list, extra,
                       op->spec.program_timeout, out)
               == 0) {
        json_t *a = json_array();
        for (int i = 0; i < np; i++)
            json_array_append_new(a,
                                  json_pack("{s:s, s:s, s:b}", "id", picked[i],
                                            "type", "node", "spot", 0));
        op->result = json_pack("{s:o, s:s}", "instances", a, "output", out);
    }
    free(list);
    hostlist_names_free(hosts);
}

static void terminate(struct op *op)
{
    json_t *ids = json_object_get(op->args, "ids"), *v;
    const char *names[4096];
    char out[TAIL];
    char *none[] = { NULL };
    size_t i, n = 0;

    json_array_foreach (ids, i, v)
        if (n < 4096)
            names[n++] = json_string_value(v);
    char *list = n ? hostlist_compress(names, (int)n) : NULL;
    if (!list) {
        op_fail(op, "InternalError", "no hosts to suspend");
        return;
    }
    if (run_program(op, conf_str(op, "suspendProgram"), list, none,
                    op->spec.program_timeout, out)
        == 0)
        op->result = json_pack("{s:s}", "output", out);
    free(list);
}

static void run(struct op *op)
{
    switch (op->kind) {
    case OP_LAUNCH: launch(op); break;
    case OP_TERMINATE: terminate(op); break;
    case OP_DESCRIBE:
        /* a site's hosts cannot be listed: what is stored stands */
        op->result = json_pack("{s:n}", "instances");
        break;
    }
}

const struct provider provider_exec = { "exec", run };

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* kiln exec HOST COMMAND...: from inside a job, run COMMAND on another of
 * the job's nodes, in the job's cgroup and on its cores there, with input
 * and output connected here, as ssh would; Open MPI uses it as its
 * launch agent.  It exits with the command's status, 255 when it could not
 * be run. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/client.h"
#include "lib/base64.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/util.h"
#include "lib/proto.h"
#include "lib/zmtp.h"

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
    got_signal = sig;
}

static void usage(FILE *f)
{
    fprintf(
        f,
        "Usage: kiln exec HOST COMMAND [ARGS...]\n"
        "Inside a job: run COMMAND on HOST, another node of the job, in the job\n"
        "there (its cgroup, cores and user), as ssh HOST COMMAND would.\n");
}

int cmd_exec(int argc, char **argv)
{
    const char *id = getenv("KILN_JOB_ID"), *token = getenv("KILN_JOB_TOKEN"),
               *host;
    json_t *args = json_array();
    int i = 1;
    char *end;

    /* ssh's options, which launchers pass out of habit: -x -q -n -T -t take
     * nothing, -l -o -p a value; none changes what runs. */
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--"))
            break;
        if (strchr("lop", argv[i][1]) && argv[i][2] == '\0')
            i++;
        else if (!strchr("xqnTt", argv[i][1]) || argv[i][2] != '\0')
            die("unknown option '%s'", argv[i]);
    }
    if (i < argc && !strcmp(argv[i], "--"))
        i++;
    if (argc - i < 2) {
        usage(stderr);
        exit(255);
    }
    if (!id || !token || strtoll(id, &end, 10) <= 0 || *end) {
        fprintf(
            stderr,
            "%s: runs inside a job: KILN_JOB_ID and KILN_JOB_TOKEN are not set\n",
            client_prog);
        return 255;
    }
    host = argv[i++];
    for (; i < argc; i++)
        json_array_append_new(args, json_string(argv[i]));
    char err[512];
    json_t *r =
        client_request_ex("job.exec",
                          json_pack("{s:I, s:s, s:s, s:o}", "id",
                                    (json_int_t)strtoll(id, NULL, 10), "token",
                                    token, "node", host, "argv", args),
                          -1, err, sizeof(err));
    if (!r) {
        fprintf(stderr, "%s: %s\n", client_prog, err);
        return 255;
    }
    json_int_t exec = json_integer_value(json_object_get(r, "exec"));
    json_decref(r);

    struct zmtp *sock = client_socket();
    struct sigaction sa = { .sa_handler = on_signal };
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    bool in_open = true;
    int signals_sent = 0, idle = 0;
    for (;;) {
        struct pollfd it[2] = { { zmtp_fd(sock), POLLIN, 0 },
                                { 0, POLLIN, 0 } };
        /* What is already read in needs no wait. */
        int rc = zmtp_buffered(sock) ? 1 : poll(it, in_open ? 2 : 1, 1000);
        if (zmtp_buffered(sock))
            it[0].revents = POLLIN;
        /* Quiet for 30 s: ask whether the server still knows the exec (it
         * answers "no such exec" after a restart). */
        if (rc == 0 && ++idle >= 30) {
            idle = 0;
            client_send(sock, "exec.input",
                        json_pack("{s:I, s:s}", "exec", exec, "data", ""));
        }
        if (got_signal) {
            /* Passed on to the command; a second one ends us regardless. */
            if (++signals_sent > 1)
                return 128 + got_signal;
            client_send(sock, "exec.signal",
                        json_pack("{s:I, s:i}", "exec", exec, "signal",
                                  (int)got_signal));
            got_signal = 0;
        }
        if (rc < 0) {
            if (errno == EINTR)
                continue;
            die("poll: %s", strerror(errno));
        }
        if (in_open && (it[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            char buf[32768];
            ssize_t n = read(0, buf, sizeof(buf));
            if (n > 0) {
                char *data = base64_encode(buf, (size_t)n);
                client_send(sock, "exec.input",
                            json_pack("{s:I, s:s}", "exec", exec, "data",
                                      data ? data : ""));
                free(data);
            } else if (n == 0 || errno != EINTR) {
                client_send(sock, "exec.input",
                            json_pack("{s:I, s:b}", "exec", exec, "eof", 1));
                in_open = false;
            }
        }
        if (!(it[0].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        struct proto_msg m;
        while ((rc = client_recv(&m, 0)) > 0) {
            if (!strcmp(m.type, "exec.output")) {
                size_t len = 0;
                unsigned char *bytes = base64_decode(
                    util_str_or(
                        json_string_value(json_object_get(m.body, "data")), ""),
                    &len);
                int fd = json_integer_value(json_object_get(m.body, "fd")) == 2
                             ? 2
                             : 1;
                if (bytes && len && write(fd, bytes, len) < 0 && errno == EPIPE)
                    in_open = false;
                free(bytes);
            } else if (!strcmp(m.type, "exec.end")) {
                int status =
                    (int)json_integer_value(json_object_get(m.body, "status"));
                const char *e =
                    json_string_value(json_object_get(m.body, "error"));
                if (e)
                    fprintf(stderr, "%s: %s: %s\n", client_prog, host, e);
                proto_msg_release(&m);
                return status;
            } else if (!strcmp(m.type, "error")) {
                client_check_refusal(m.body);
                /* The server no longer knows the exec: it is lost. */
                fprintf(stderr, "%s: %s: %s\n", client_prog, host,
                        json_string_value(json_object_get(m.body, "text")));
                proto_msg_release(&m);
                return 255;
            }
            proto_msg_release(&m);
        }
    }
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the benchmark programs share (benchlib.h). */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "lib/auth.h"
#include "lib/error.h"
#include "lib/proto.h"
#include "lib/token.h"
#include "lib/zsock.h"
#include "tests/bench/benchlib.h"

void *bench_sock;

void bench_row(const char *figure, const char *value, const char *how)
{
    printf("| %s | %s | %s |\n", figure, value, how);
    fflush(stdout);
}

void *bench_connect(void *ctx, const char *ep)
{
    void *s = zmq_socket(ctx, ZMQ_DEALER);
    const char *keys = getenv("KILN_KEYS");
    int zero = 0;

    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof(zero));
    if (keys && zsock_client_keys(s, keys, NULL, NULL) < 0)
        exit(2);
    /* A single-user server lets in its owner, with the token. */
    char token[TOKEN_LEN + 1];
    if (!keys && token_read(token, NULL) > 0)
        zsock_token(s, token);
    zmq_connect(s, ep);
    return s;
}

/* Each request signed as kiln signs it, unless the cluster runs without
 * (KILN_BENCH_AUTH=none, as tests/bench/run.sh sets it). */
static char *sign(const unsigned char *digest, void *arg)
{
    const char *mode = getenv("KILN_BENCH_AUTH");

    (void)arg;
    return mode && !strcmp(mode, "none") ? NULL : auth_sign(digest, NULL);
}

void bench_send(const char *type, json_t *body)
{
    json_object_set_new(body, "version", json_integer(KILN_PROTO_VERSION));
    if (proto_send_signed(bench_sock, type, body, sign, NULL) < 0) {
        perror("send");
        exit(1);
    }
    json_decref(body);
}

json_t *bench_recv(void)
{
    struct proto_msg m;
    struct kiln_error err;
    zmq_pollitem_t it = { bench_sock, 0, ZMQ_POLLIN, 0 };

    if (zmq_poll(&it, 1, 60000) != 1) {
        fprintf(stderr, "bench: no answer within 60 s\n");
        exit(1);
    }
    if (proto_recv(bench_sock, 0, &m, &err) != 1 || strcmp(m.type, "ok") != 0) {
        fprintf(stderr, "bench: bad answer: %s\n",
                m.body ? json_string_value(json_object_get(m.body, "text"))
                       : err.text);
        exit(1);
    }
    return m.body;
}

json_t *bench_call(const char *type, json_t *body)
{
    bench_send(type, body);
    return bench_recv();
}

json_t *bench_job(void)
{
    struct passwd *pw = getpwuid(getuid());
    return json_pack("{s:{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I}}", "job",
                     "name", "bench", "script", "#!/bin/sh\ntrue\n", "output",
                     "/dev/null", "cwd", "/tmp", "submit_dir", "/tmp", "user",
                     pw ? pw->pw_name : "root", "uid", (json_int_t)getuid(),
                     "gid", (json_int_t)getgid());
}

void bench_cancel(const json_int_t *ids, int n)
{
    for (int i = 0; i < n; i += 20000) {
        json_t *a = json_array();
        for (int k = i; k < n && k < i + 20000; k++)
            json_array_append_new(a, json_integer(ids[k]));
        json_decref(bench_call("job.cancel", json_pack("{s:o}", "ids", a)));
    }
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for lib/proto: framing over a real ZeroMQ pair, malformed
 * input, the checks of a message against its rule. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <zmq.h>

#include "lib/error.h"
#include "lib/jsonfields.h"
#include "lib/proto.h"
#include "lib/util.h"

struct pair {
    void *ctx, *router, *dealer;
};

static int setup(void **state)
{
    struct pair *p = calloc(1, sizeof(*p));
    char ep[256];
    size_t len = sizeof(ep);
    int zero = 0;

    p->ctx = zmq_ctx_new();
    p->router = zmq_socket(p->ctx, ZMQ_ROUTER);
    p->dealer = zmq_socket(p->ctx, ZMQ_DEALER);
    zmq_setsockopt(p->router, ZMQ_LINGER, &zero, sizeof(zero));
    zmq_setsockopt(p->dealer, ZMQ_LINGER, &zero, sizeof(zero));
    zmq_setsockopt(p->dealer, ZMQ_ROUTING_ID, "peer1", 5);
    assert_int_equal(zmq_bind(p->router, "tcp://127.0.0.1:*"), 0);
    zmq_getsockopt(p->router, ZMQ_LAST_ENDPOINT, ep, &len);
    assert_int_equal(zmq_connect(p->dealer, ep), 0);
    *state = p;
    return 0;
}

static int teardown(void **state)
{
    struct pair *p = *state;
    zmq_close(p->router);
    zmq_close(p->dealer);
    zmq_ctx_term(p->ctx);
    free(p);
    return 0;
}

/* Receive on sock, waiting up to 2 s for something to arrive. */
static int recv_wait(void *sock, int router, struct proto_msg *m,
                     struct kiln_error *err)
{
    zmq_pollitem_t it = { sock, 0, ZMQ_POLLIN, 0 };
    if (zmq_poll(&it, 1, 2000) != 1)
        return 0;
    return proto_recv(sock, router, m, err);
}

static void roundtrip(void **state)
{
    struct pair *p = *state;
    struct proto_msg m;
    struct kiln_error err;
    json_t *body = json_pack("{s:i, s:s}", "version", 1, "x", "y");

    assert_int_equal(proto_send(p->dealer, NULL, 0, "job.list", body), 0);
    assert_int_equal(recv_wait(p->router, 1, &m, &err), 1);
    assert_string_equal(m.type, "job.list");
    assert_int_equal(m.idlen, 5);
    assert_memory_equal(m.id, "peer1", 5);
    assert_true(json_equal(m.body, body));
    /* and back */
    assert_int_equal(proto_send(p->router, m.id, m.idlen, "ok", body), 0);
    proto_msg_release(&m);
    assert_int_equal(recv_wait(p->dealer, 0, &m, &err), 1);
    assert_string_equal(m.type, "ok");
    proto_msg_release(&m);
    /* A long answer goes by its own path (handed to ZeroMQ, not copied). */
    char *big = malloc(200000);
    memset(big, 'k', 199999);
    big[199999] = '\0';
    json_object_set_new(body, "x", json_string(big));
    free(big);
    assert_int_equal(
        proto_send(p->router, (const void *)"peer1", 5, "ok", body), 0);
    assert_int_equal(recv_wait(p->dealer, 0, &m, &err), 1);
    assert_string_equal(m.type, "ok");
    assert_true(json_equal(m.body, body));
    proto_msg_release(&m);
    json_decref(body);
    /* nothing waiting */
    assert_int_equal(proto_recv(p->router, 1, &m, &err), 0);
}

static void send_frames(void *sock, int n, const char *const *frames,
                        const size_t *lens)
{
    for (int i = 0; i < n; i++)
        zmq_send(sock, frames[i], lens[i], i + 1 < n ? ZMQ_SNDMORE : 0);
}

static void malformed(void **state)
{
    struct pair *p = *state;
    struct proto_msg m;
    struct kiln_error err;
    static const struct {
        int n;
        const char *f[5];
        const char *why;
    } cases[] = {
        { 2, { "", "job.list" }, "malformed message" },
        { 3, { "x", "job.list", "{}" }, "expected an empty delimiter" },
        { 3, { "", "", "{}" }, "bad type frame" },
        { 3, { "", "job.list", "{" }, "malformed message body" },
        { 3, { "", "job.list", "[]" }, "not a JSON object" },
        { 3,
          { "", "job.list", "{\"a\":1,\"a\":2}" },
          "malformed message body" },
        { 5, { "", "a", "b", "c", "d" }, "malformed message" },
        { 1, { "" }, "malformed message" },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t lens[5];
        for (int k = 0; k < cases[i].n; k++)
            lens[k] = strlen(cases[i].f[k]);
        send_frames(p->dealer, cases[i].n, cases[i].f, lens);
        errno = 0;
        assert_int_equal(recv_wait(p->router, 1, &m, &err), -1);
        assert_int_equal(errno, EPROTO);
        assert_non_null(strstr(err.text, cases[i].why));
        assert_int_equal(m.idlen, 5); /* the peer can still be answered */
        assert_null(m.body);
    }
    /* a NUL inside the type */
    const char *f[] = { "", "job\0list", "{}" };
    size_t lens[] = { 0, 8, 2 };
    send_frames(p->dealer, 3, f, lens);
    assert_int_equal(recv_wait(p->router, 1, &m, &err), -1);
    /* an oversized body */
    char *big = malloc(KILN_PROTO_MAX_BODY + 10);
    memset(big, ' ', KILN_PROTO_MAX_BODY + 10);
    const char *f2[] = { "", "job.submit", big };
    size_t lens2[] = { 0, 10, KILN_PROTO_MAX_BODY + 10 };
    send_frames(p->dealer, 3, f2, lens2);
    assert_int_equal(recv_wait(p->router, 1, &m, &err), -1);
    assert_non_null(strstr(err.text, "above the limit"));
    free(big);
    /* the socket still works afterwards */
    json_t *b = json_object();
    proto_send(p->dealer, NULL, 0, "job.list", b);
    json_decref(b);
    assert_int_equal(recv_wait(p->router, 1, &m, &err), 1);
    proto_msg_release(&m);
}

static void errnos(void **state)
{
    assert_string_equal(proto_errno_name(ENOENT), "ENOENT");
    assert_int_equal(proto_errno_value("EPROTO"), EPROTO);
    assert_int_equal(proto_errno_value("ENOTHING"), 0);
    assert_string_equal(proto_errno_name(12345), "EIO");
    json_t *e = proto_error_body(EINVAL, "bad thing");
    assert_string_equal(json_string_value(json_object_get(e, "error")),
                        "EINVAL");
    assert_string_equal(json_string_value(json_object_get(e, "text")),
                        "bad thing");
    json_decref(e);
}

static void checks(void **state)
{
    static const struct json_field fields[] = {
        PROTO_VERSION_FIELD,
        { "id", JSON_INTEGER, true },
        { NULL },
    };
    const struct proto_rule r = { "job.x", PROTO_CLIENT_REQ, PROTO_USER,
                                  fields };
    struct proto_msg m = { .type = "job.x" };
    struct kiln_error err;

    m.body = json_pack("{s:i, s:i}", "version", KILN_PROTO_VERSION, "id", 3);
    assert_int_equal(proto_check(&r, &m, &err), 0);
    json_object_set_new(m.body, "version",
                        json_integer(KILN_PROTO_VERSION + 1));
    assert_int_equal(proto_check(&r, &m, &err), EPROTO);
    json_object_del(m.body, "version");
    assert_int_equal(proto_check(&r, &m, &err), EPROTO);
    assert_int_equal(proto_check_version(&m, false, &err), 0);
    json_object_set_new(m.body, "version", json_integer(KILN_PROTO_VERSION));
    json_object_set_new(m.body, "id", json_string("3"));
    assert_int_equal(proto_check(&r, &m, &err), EINVAL);
    assert_non_null(strstr(err.text, "'id' must be an integer"));
    json_object_set_new(m.body, "id", json_integer(3));
    json_object_set_new(m.body, "extra", json_true());
    assert_int_equal(proto_check(&r, &m, &err), EINVAL);
    assert_non_null(strstr(err.text, "unknown field 'extra'"));
    json_decref(m.body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(malformed, setup, teardown),
        cmocka_unit_test(errnos),
        cmocka_unit_test(checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for lib/auth (modes, digests) and the credential frame of
 * lib/proto: what a client signs is what the server checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <zmq.h>

#include "lib/auth.h"
#include "lib/proto.h"

static void modes(void **state)
{
    struct kiln_error err;
    enum auth_mode m = AUTH_NONE;

    assert_int_equal(auth_mode_parse("munge", &m, &err), 0);
    assert_int_equal(m, AUTH_MUNGE);
    assert_int_equal(auth_mode_parse("none", &m, &err), 0);
    assert_int_equal(m, AUTH_NONE);
    assert_int_equal(auth_mode_parse("MUNGE", &m, &err), -1);
    assert_non_null(strstr(err.text, "munge or none"));
    assert_int_equal(auth_mode_parse(NULL, &m, &err), -1);
}

static void digests_bind_type_and_body(void **state)
{
    unsigned char a[AUTH_DIGEST_LEN], b[AUTH_DIGEST_LEN], c[AUTH_DIGEST_LEN];

    auth_digest("job.cancel", "{\"ids\":[1]}", 11, a);
    auth_digest("job.cancel", "{\"ids\":[1]}", 11, b);
    assert_memory_equal(a, b, AUTH_DIGEST_LEN);
    auth_digest("job.hold", "{\"ids\":[1]}", 11, b);
    assert_memory_not_equal(a, b, AUTH_DIGEST_LEN);
    auth_digest("job.cancel", "{\"ids\":[2]}", 11, c);
    assert_memory_not_equal(a, c, AUTH_DIGEST_LEN);
    /* The NUL between them: "ab"+"c" is not "a"+"bc". */
    auth_digest("ab", "c", 1, a);
    auth_digest("a", "bc", 2, b);
    assert_memory_not_equal(a, b, AUTH_DIGEST_LEN);
}

static unsigned char signed_digest[AUTH_DIGEST_LEN];

static char *fake_sign(const unsigned char *digest, void *arg)
{
    memcpy(signed_digest, digest, AUTH_DIGEST_LEN);
    return strdup(arg);
}

static void credential_frame_round_trip(void **state)
{
    void *ctx = zmq_ctx_new(), *r = zmq_socket(ctx, ZMQ_ROUTER),
         *d = zmq_socket(ctx, ZMQ_DEALER);
    json_t *body = json_pack("{s:i, s:[i]}", "version", 1, "ids", 7);
    struct proto_msg m;
    struct kiln_error err;
    unsigned char want[AUTH_DIGEST_LEN];
    char *text = json_dumps(body, JSON_COMPACT);

    assert_int_equal(zmq_bind(r, "inproc://auth"), 0);
    assert_int_equal(zmq_connect(d, "inproc://auth"), 0);
    assert_int_equal(
        proto_send_signed(d, "job.cancel", body, fake_sign, "MUNGE:abc:"), 0);
    zmq_pollitem_t it = { r, 0, ZMQ_POLLIN, 0 };
    assert_int_equal(zmq_poll(&it, 1, 2000), 1);
    assert_int_equal(proto_recv(r, 1, &m, &err), 1);
    assert_string_equal(m.type, "job.cancel");
    assert_string_equal(m.cred, "MUNGE:abc:");
    auth_digest("job.cancel", text, strlen(text), want);
    assert_memory_equal(m.digest, want, AUTH_DIGEST_LEN);
    assert_memory_equal(signed_digest, want, AUTH_DIGEST_LEN);
    proto_msg_release(&m);
    assert_null(m.cred);

    /* Unsigned: no credential; an empty credential frame is malformed. */
    assert_int_equal(proto_send(d, NULL, 0, "job.list", body), 0);
    assert_int_equal(zmq_poll(&it, 1, 2000), 1);
    assert_int_equal(proto_recv(r, 1, &m, &err), 1);
    assert_null(m.cred);
    proto_msg_release(&m);
    zmq_send(d, "", 0, ZMQ_SNDMORE);
    zmq_send(d, "job.list", 8, ZMQ_SNDMORE);
    zmq_send(d, "{}", 2, ZMQ_SNDMORE);
    zmq_send(d, "", 0, 0);
    assert_int_equal(zmq_poll(&it, 1, 2000), 1);
    assert_int_equal(proto_recv(r, 1, &m, &err), -1);
    assert_non_null(strstr(err.text, "bad credential frame"));

    free(text);
    json_decref(body);
    zmq_close(d);
    zmq_close(r);
    zmq_ctx_term(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(modes),
        cmocka_unit_test(digests_bind_type_and_body),
        cmocka_unit_test(credential_frame_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

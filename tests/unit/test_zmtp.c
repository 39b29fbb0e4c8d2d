/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for lib/zmtp and lib/z85: kiln's own ZMTP client against a
 * real libzmq ROUTER, as the server runs one (NULL, PLAIN, CURVE). */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <sodium.h>
#include <zmq.h>

#include "lib/z85.h"
#include "lib/zmtp.h"

static void *ctx;

/* A ROUTER on a free loopback port, with mech set up by the caller. */
static void *router(const char *mech, char *endpoint, size_t len,
                    const char *server_secret_z85, int heartbeat_ms)
{
    void *r = zmq_socket(ctx, ZMQ_ROUTER);
    int one = 1, zero = 0, timeout = 4 * heartbeat_ms;

    if (heartbeat_ms) {
        zmq_setsockopt(r, ZMQ_HEARTBEAT_IVL, &heartbeat_ms, sizeof(int));
        zmq_setsockopt(r, ZMQ_HEARTBEAT_TIMEOUT, &timeout, sizeof(int));
    }

    zmq_setsockopt(r, ZMQ_LINGER, &zero, sizeof(zero));
    zmq_setsockopt(r, ZMQ_ROUTER_MANDATORY, &one, sizeof(one));
    if (!strcmp(mech, "CURVE")) {
        zmq_setsockopt(r, ZMQ_CURVE_SERVER, &one, sizeof(one));
        zmq_setsockopt(r, ZMQ_CURVE_SECRETKEY, server_secret_z85, 41);
    } else if (!strcmp(mech, "PLAIN")) {
        zmq_setsockopt(r, ZMQ_PLAIN_SERVER, &one, sizeof(one));
    }
    assert_int_equal(zmq_bind(r, "tcp://127.0.0.1:*"), 0);
    zmq_getsockopt(r, ZMQ_LAST_ENDPOINT, endpoint, &len);
    return r;
}

/* A whole message from the ROUTER: its frames' sizes and the first
 * bytes of each, and the peer's routing id. */
static int router_recv(void *r, char id[256], size_t *idlen, size_t *sizes,
                       char (*heads)[16])
{
    int n = -1, more = 1;

    while (more) {
        zmq_msg_t f;
        zmq_msg_init(&f);
        assert_true(zmq_msg_recv(&f, r, 0) >= 0);
        if (n < 0) {
            *idlen = zmq_msg_size(&f);
            memcpy(id, zmq_msg_data(&f), *idlen);
        } else {
            sizes[n] = zmq_msg_size(&f);
            memcpy(heads[n], zmq_msg_data(&f), sizes[n] < 15 ? sizes[n] : 15);
            heads[n][sizes[n] < 15 ? sizes[n] : 15] = '\0';
        }
        more = zmq_msg_more(&f);
        zmq_msg_close(&f);
        n++;
    }
    return n;
}

/* Frames both ways, one of them long (above 255 bytes: the 8-byte size). */
static void exchange(void *r, struct zmtp *z)
{
    struct kiln_error err;
    static char big[100000];
    /* The empty delimiter without a buffer: UBSan says if it is copied. */
    struct proto_frame out[3] = { { NULL, 0 }, { "job.list", 8 }, { big, 0 } };
    char id[256], heads[4][16];
    size_t idlen, sizes[4];

    memset(big, 'x', sizeof(big));
    out[2].len = sizeof(big);
    assert_int_equal(zmtp_send(z, out, 3, 1000, &err), 0);
    assert_int_equal(router_recv(r, id, &idlen, sizes, heads), 3);
    assert_int_equal(sizes[0], 0);
    assert_string_equal(heads[1], "job.list");
    assert_int_equal(sizes[2], sizeof(big));

    zmq_send(r, id, idlen, ZMQ_SNDMORE);
    zmq_send(r, "", 0, ZMQ_SNDMORE);
    zmq_send(r, "ok", 2, ZMQ_SNDMORE);
    zmq_send(r, big, sizeof(big), 0);
    struct proto_frame in[5];
    int n = 0;
    assert_int_equal(zmtp_recv(z, in, 5, &n, 1 << 20, 2000, &err), 1);
    assert_int_equal(n, 3);
    assert_int_equal(in[0].len, 0);
    assert_int_equal(in[1].len, 2);
    assert_memory_equal(in[1].data, "ok", 2);
    assert_int_equal(in[2].len, sizeof(big));
    assert_memory_equal(in[2].data, big, sizeof(big));
    /* Nothing more: a timeout, not an error. */
    assert_int_equal(zmtp_recv(z, in, 5, &n, 1 << 20, 50, &err), 0);
}

static void null_mechanism(void **state)
{
    char ep[256];
    struct kiln_error err;
    void *r = router("NULL", ep, sizeof(ep), NULL, 0);
    struct zmtp_security sec = { .mechanism = ZMTP_NULL };
    struct zmtp *z = zmtp_connect(ep, &sec, 2000, &err);

    if (!z)
        fail_msg("%s", err.text);
    exchange(r, z);
    zmtp_close(z);
    zmq_close(r);
}

/* A ZAP handler (RFC 27), as the server has one: PLAIN with password
 * "secret" is let in, any other PLAIN refused; CURVE let in. */
static void *zap_handler(void *arg)
{
    void *h = arg;

    for (;;) {
        char f[8][256];
        size_t len[8];
        int n = 0, more = 1;
        while (more) {
            zmq_msg_t m;
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, h, 0) < 0) {
                zmq_msg_close(&m);
                zmq_close(h); /* the context is ending */
                return NULL;
            }
            if (n < 8) {
                len[n] = zmq_msg_size(&m) < 255 ? zmq_msg_size(&m) : 255;
                memcpy(f[n], zmq_msg_data(&m), len[n]);
                f[n][len[n]] = '\0';
                n++;
            }
            more = zmq_msg_more(&m);
            zmq_msg_close(&m);
        }
        /* version, request id, domain, address, identity, mechanism,
         * credentials... */
        int ok =
            n >= 6
            && (strcmp(f[5], "PLAIN") || (n >= 8 && !strcmp(f[7], "secret")));
        zmq_send(h, "1.0", 3, ZMQ_SNDMORE);
        zmq_send(h, f[1], len[1], ZMQ_SNDMORE);
        zmq_send(h, ok ? "200" : "400", 3, ZMQ_SNDMORE);
        zmq_send(h, ok ? "OK" : "wrong token", ok ? 2 : 11, ZMQ_SNDMORE);
        zmq_send(h, "", 0, ZMQ_SNDMORE);
        zmq_send(h, "", 0, 0);
    }
}

static void plain_mechanism(void **state)
{
    char ep[256];
    struct kiln_error err;
    void *h = zmq_socket(ctx, ZMQ_REP);
    pthread_t t;
    int zero = 0;

    zmq_setsockopt(h, ZMQ_LINGER, &zero, sizeof(zero));
    assert_int_equal(zmq_bind(h, "inproc://zeromq.zap.01"), 0);
    pthread_create(&t, NULL, zap_handler, h);
    void *r = router("PLAIN", ep, sizeof(ep), NULL, 0);
    struct zmtp_security sec = { .mechanism = ZMTP_PLAIN,
                                 .user = "kiln",
                                 .password = "secret" };
    struct zmtp *z = zmtp_connect(ep, &sec, 2000, &err);
    if (!z)
        fail_msg("%s", err.text);
    exchange(r, z);
    zmtp_close(z);
    /* Another token: refused, with the handler's reason. */
    sec.password = "guess";
    assert_null(zmtp_connect(ep, &sec, 2000, &err));
    assert_int_equal(errno, EACCES);
    zmq_close(r);
    /* The handler closes its socket as the context ends. */
    pthread_detach(t);
}

static void curve_keys(char spub[41], char ssec[41], struct zmtp_security *sec)
{
    unsigned char bin[32];

    assert_int_equal(zmq_curve_keypair(spub, ssec), 0);
    memset(sec, 0, sizeof(*sec));
    sec->mechanism = ZMTP_CURVE;
    assert_true(z85_decode_key(sec->server_key, spub));
    crypto_box_keypair(sec->public_key, sec->secret_key);
    (void)bin;
}

static void curve_mechanism(void **state)
{
    char ep[256], spub[41], ssec[41];
    struct kiln_error err;
    struct zmtp_security sec;

    curve_keys(spub, ssec, &sec);
    void *r = router("CURVE", ep, sizeof(ep), ssec, 0);
    struct zmtp *z = zmtp_connect(ep, &sec, 2000, &err);
    if (!z)
        fail_msg("%s", err.text);
    /* Twice: the nonces go on counting. */
    exchange(r, z);
    exchange(r, z);
    zmtp_close(z);
    zmq_close(r);
}

/* Another server's key: the handshake fails, and says so. */
static void curve_wrong_server(void **state)
{
    char ep[256], spub[41], ssec[41], opub[41], osec[41];
    struct kiln_error err;
    struct zmtp_security sec;

    curve_keys(spub, ssec, &sec);
    assert_int_equal(zmq_curve_keypair(opub, osec), 0);
    void *r = router("CURVE", ep, sizeof(ep), osec, 0);
    assert_null(zmtp_connect(ep, &sec, 2000, &err));
    assert_int_equal(errno, EACCES);
    zmq_close(r);
}

/* A client without the key, to a CURVE server: named at once. */
static void mechanism_mismatch(void **state)
{
    char ep[256], spub[41], ssec[41];
    struct kiln_error err;
    struct zmtp_security sec;

    curve_keys(spub, ssec, &sec);
    void *r = router("CURVE", ep, sizeof(ep), ssec, 0);
    struct zmtp_security none = { .mechanism = ZMTP_NULL };
    assert_null(zmtp_connect(ep, &none, 2000, &err));
    assert_int_equal(errno, EPROTONOSUPPORT);
    assert_non_null(strstr(err.text, "the server speaks CURVE"));
    zmq_close(r);
}

/* A server's local socket speaks NULL: taken by a client that would
 * speak CURVE only when it says so (accept_null), and only at a path no
 * other user could have put there. */
static void null_taken_on_ipc(void **state)
{
    char dir[] = "/tmp/kiln-zmtp-XXXXXX", ep[256], spub[41], ssec[41];
    struct kiln_error err;
    struct zmtp_security sec;
    void *r = zmq_socket(ctx, ZMQ_ROUTER);
    int zero = 0;

    assert_non_null(mkdtemp(dir));
    snprintf(ep, sizeof(ep), "ipc://%s/s", dir);
    zmq_setsockopt(r, ZMQ_LINGER, &zero, sizeof(zero));
    assert_int_equal(zmq_bind(r, ep), 0);
    curve_keys(spub, ssec, &sec);
    assert_null(zmtp_connect(ep, &sec, 2000, &err));
    assert_int_equal(errno, EPROTONOSUPPORT);
    sec.accept_null = true;
    struct zmtp *z = zmtp_connect(ep, &sec, 2000, &err);
    if (!z)
        fail_msg("%s", err.text);
    assert_int_equal(zmtp_mechanism(z), ZMTP_NULL);
    exchange(r, z);
    zmtp_close(z);
    /* A folder others may write: refused before a byte is sent. */
    assert_int_equal(chmod(dir, 0777), 0);
    assert_null(zmtp_connect(ep, &sec, 2000, &err));
    assert_int_equal(errno, EPERM);
    assert_non_null(strstr(err.text, "writable by others"));
    zmq_close(r);
    rmdir(dir);
}

static void nobody_there(void **state)
{
    char ep[256];
    struct kiln_error err;
    struct zmtp_security sec = { .mechanism = ZMTP_NULL };
    struct sockaddr_in a = { .sin_family = AF_INET,
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t alen = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    /* A port nothing listens on. */
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    getsockname(fd, (struct sockaddr *)&a, &alen);
    snprintf(ep, sizeof(ep), "tcp://127.0.0.1:%d", ntohs(a.sin_port));
    assert_null(zmtp_connect(ep, &sec, 300, &err));
    close(fd);
    assert_int_equal(errno, EHOSTUNREACH);
    assert_null(zmtp_connect("udp://x", &sec, 300, &err));
    assert_non_null(strstr(err.text, "invalid server address"));
}

/* A server that beats its heart (as Kiln's does) keeps a client that
 * waits longer than its timeout, because the client answers. */
static void heartbeats(void **state)
{
    char ep[256], spub[41], ssec[41];
    struct kiln_error err;
    struct zmtp_security sec;

    curve_keys(spub, ssec, &sec);
    void *r = router("CURVE", ep, sizeof(ep), ssec, 50);
    struct zmtp *z = zmtp_connect(ep, &sec, 2000, &err);
    if (!z)
        fail_msg("%s", err.text);
    struct proto_frame in[5];
    int n;
    assert_int_equal(zmtp_recv(z, in, 5, &n, 1 << 20, 800, &err), 0);
    exchange(r, z);
    zmtp_close(z);
    zmq_close(r);
}

static void z85_as_libzmq(void **state)
{
    for (int i = 0; i < 200; i++) {
        unsigned char key[32], back[32];
        char mine[41], theirs[41];
        randombytes_buf(key, sizeof(key));
        z85_encode_key(mine, key);
        assert_non_null(zmq_z85_encode(theirs, key, 32));
        assert_string_equal(mine, theirs);
        assert_true(z85_decode_key(back, theirs));
        assert_memory_equal(back, key, 32);
    }
    unsigned char k[32];
    assert_false(z85_decode_key(k, "short"));
    assert_false(z85_decode_key(k, "0000000000000000000000000000000000000 ~~"));
    assert_false(z85_decode_key(k, "########################################"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(z85_as_libzmq),
        cmocka_unit_test(null_mechanism),
        cmocka_unit_test(plain_mechanism),
        cmocka_unit_test(curve_mechanism),
        cmocka_unit_test(curve_wrong_server),
        cmocka_unit_test(mechanism_mismatch),
        cmocka_unit_test(null_taken_on_ipc),
        cmocka_unit_test(nobody_there),
        cmocka_unit_test(heartbeats),
    };
    int rc;

    ctx = zmq_ctx_new();
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    if (rc == 0) /* a failed test leaves its sockets open */
        zmq_ctx_term(ctx);
    return rc;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Wire protocol over ZeroMQ sockets (the daemons and the tools): sending
 * and receiving whole messages, and the limits of every socket.  The
 * decoding and checks are in protomsg.c. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "lib/auth.h"
#include "lib/error.h"
#include "lib/proto.h"

static int send_frames(void *sock, const void *id, size_t idlen,
                       const char *type, const char *text, const char *cred)
{
    if (id && zmq_send(sock, id, idlen, ZMQ_SNDMORE) < 0)
        return -1;
    if (zmq_send(sock, "", 0, ZMQ_SNDMORE) < 0
        || zmq_send(sock, type, strlen(type), ZMQ_SNDMORE) < 0
        || zmq_send(sock, text, strlen(text), cred ? ZMQ_SNDMORE : 0) < 0
        || (cred && zmq_send(sock, cred, strlen(cred), 0) < 0))
        return -1;
    return 0;
}

static void free_text(void *data, void *hint)
{
    (void)hint;
    free(data);
}

int proto_send(void *sock, const void *id, size_t idlen, const char *type,
               const json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT);
    size_t len;
    zmq_msg_t msg;

    if (!text) {
        errno = ENOMEM;
        return -1;
    }
    len = strlen(text);
    if (len < 65536) {
        int rc = send_frames(sock, id, idlen, type, text, NULL);
        free(text);
        return rc;
    }
    /* A long answer (a listing) is handed over, not copied once more. */
    if (zmq_msg_init_data(&msg, text, len, free_text, NULL) < 0) {
        free(text);
        return -1;
    }
    if ((id && zmq_send(sock, id, idlen, ZMQ_SNDMORE) < 0)
        || zmq_send(sock, "", 0, ZMQ_SNDMORE) < 0
        || zmq_send(sock, type, strlen(type), ZMQ_SNDMORE) < 0
        || zmq_msg_send(&msg, sock, 0) < 0) {
        int saved = errno;
        zmq_msg_close(&msg);
        errno = saved;
        return -1;
    }
    return 0;
}

int proto_send_signed(void *sock, const char *type, const json_t *body,
                      proto_sign_f sign, void *arg)
{
    struct proto_request r;
    int rc;

    if (proto_request_frames(type, body, sign, arg, &r) < 0)
        return -1;
    rc = send_frames(sock, NULL, 0, type, r.text, r.cred);
    proto_request_release(&r);
    return rc;
}

static int recv_frames(void *sock, zmq_msg_t *frames, int max, int first_flags)
{
    int n = 0, more = 1;

    while (more) {
        zmq_msg_t scratch, *f = n < max ? &frames[n] : &scratch;
        zmq_msg_init(f);
        if (zmq_msg_recv(f, sock, n == 0 ? first_flags : 0) < 0) {
            int saved = errno;
            zmq_msg_close(f);
            for (int i = 0; i < n && i < max; i++)
                zmq_msg_close(&frames[i]);
            errno = saved;
            return -1;
        }
        more = zmq_msg_more(f);
        if (f == &scratch)
            zmq_msg_close(f);
        if (n <= max)
            n++;
    }
    return n;
}

int proto_recv(void *sock, int router, struct proto_msg *m,
               struct kiln_error *err)
{
    zmq_msg_t fr[6];
    struct proto_frame f[5];
    int n, rc;

    memset(m, 0, sizeof(*m));
    n = recv_frames(sock, fr, 5, ZMQ_DONTWAIT);
    if (n < 0)
        return errno == EAGAIN ? 0 : -1;
    for (int i = 0; i < n && i < 5; i++)
        f[i] =
            (struct proto_frame){ zmq_msg_data(&fr[i]), zmq_msg_size(&fr[i]) };
    rc = proto_parse(f, n > 5 ? 6 : n, router, m, err);
    if (rc > 0 && router) {
        /* The CURVE key's name, as the server's ZAP handler gave it (the
         * frames the peer sent carry it, not the routing id). */
        const char *peer = zmq_msg_gets(&fr[2], "User-Id");
        snprintf(m->peer, sizeof(m->peer), "%s", peer ? peer : "");
        const char *addr = zmq_msg_gets(&fr[2], "Peer-Address");
        snprintf(m->peer_address, sizeof(m->peer_address), "%s",
                 addr ? addr : "");
    }
    for (int i = 0; i < n && i < 5; i++)
        zmq_msg_close(&fr[i]);
    return rc;
}

int proto_socket_setup(void *sock, enum proto_side side)
{
    bool server = side == PROTO_SIDE_SERVER || side == PROTO_SIDE_NODES;
    int zero = 0, one = 1, ivl = 2000, timeout = 10000;
    int idle = 10, probe_ivl = 2, probes = 5;
    int sndtimeo = server ? 0 : side == PROTO_SIDE_CLIENT ? 5000 : 1000;
    int64_t max = server ? 4 * (int64_t)KILN_PROTO_MAX_BODY
                         : (int64_t)KILN_PROTO_MAX_REPLY + 4096;

    if (zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof(zero)) < 0
        || zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &max, sizeof(max)) < 0
        || zmq_setsockopt(sock, ZMQ_SNDTIMEO, &sndtimeo, sizeof(sndtimeo)) < 0)
        return -1;
    if (side == PROTO_SIDE_NODES)
        return zmq_setsockopt(sock, ZMQ_TCP_KEEPALIVE, &one, sizeof(one)) < 0
                       || zmq_setsockopt(sock, ZMQ_TCP_KEEPALIVE_IDLE, &idle,
                                         sizeof(idle))
                              < 0
                       || zmq_setsockopt(sock, ZMQ_TCP_KEEPALIVE_INTVL,
                                         &probe_ivl, sizeof(probe_ivl))
                              < 0
                       || zmq_setsockopt(sock, ZMQ_TCP_KEEPALIVE_CNT, &probes,
                                         sizeof(probes))
                              < 0
                   ? -1
                   : 0;
    if (zmq_setsockopt(sock, ZMQ_HEARTBEAT_IVL, &ivl, sizeof(ivl)) < 0
        || zmq_setsockopt(sock, ZMQ_HEARTBEAT_TIMEOUT, &timeout,
                          sizeof(timeout))
               < 0)
        return -1;
    return 0;
}

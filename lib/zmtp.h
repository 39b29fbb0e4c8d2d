/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A ZeroMQ DEALER's side of one connection, for kiln: ZMTP 3.0 (RFC 23)
 * with the NULL, PLAIN and CURVE (RFC 26) mechanisms, blocking, with
 * deadlines.  kiln runs one request per process, often a thousand
 * processes a second; libzmq's start (its 20 libraries, two threads, the
 * hand-offs between them) cost more than the request.  The server and the
 * workers keep libzmq; this speaks to it.  Tested in test_zmtp against a
 * libzmq ROUTER. */
#ifndef KILN_ZMTP_H
#define KILN_ZMTP_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/error.h"
#include "lib/proto.h"

enum zmtp_mechanism { ZMTP_NULL, ZMTP_PLAIN, ZMTP_CURVE };

struct zmtp_security {
    enum zmtp_mechanism mechanism;
    const char *user, *password;  /* PLAIN */
    unsigned char server_key[32]; /* CURVE: the server's public key */
    unsigned char public_key[32], secret_key[32]; /* CURVE: this client's */
    /* A server that greets with NULL is taken too, whatever mechanism is
     * above: for a local socket, whose server the caller then checks
     * (zmtp_mechanism says which was spoken). */
    bool accept_null;
    bool once; /* a refused connection is not tried again */
};

struct zmtp;

/* Connect to endpoint (tcp://HOST:PORT or ipc://PATH) and shake hands, by
 * the deadline timeout_ms from now; a refused connection is tried again
 * every 100 ms until then, as libzmq does.  NULL with err saying why and
 * errno: EHOSTUNREACH (no server, or none that greets), EPROTONOSUPPORT
 * (a server with another mechanism), EACCES (it refused the handshake),
 * EPERM (an ipc:// socket that may not be the server's: lib/localsock.h,
 * checked before anything is sent). */
struct zmtp *zmtp_connect(const char *endpoint, const struct zmtp_security *sec,
                          int timeout_ms, struct kiln_error *err);

/* Send one message of n frames.  0, or -1 with err set (the connection is
 * then unusable). */
int zmtp_send(struct zmtp *z, const struct proto_frame *fr, int n,
              int timeout_ms, struct kiln_error *err);

/* The next message, waiting at most timeout_ms (-1: for ever): 1 with
 * *fr pointing at its frames (up to max of them, *n saying how many it had;
 * valid until the next call), 0 when none came in time, -1 with err set
 * when the connection failed or the peer broke the protocol.  The
 * server's heartbeats are answered here.  max_bytes bounds one message. */
int zmtp_recv(struct zmtp *z, struct proto_frame *fr, int max, int *n,
              size_t max_bytes, int timeout_ms, struct kiln_error *err);

/* For poll(): the socket, and whether a whole frame is already buffered
 * (then zmtp_recv gets on without waiting for the socket). */
int zmtp_fd(const struct zmtp *z);
enum zmtp_mechanism zmtp_mechanism(const struct zmtp *z);
bool zmtp_buffered(struct zmtp *z);

void zmtp_close(struct zmtp *z);

#endif

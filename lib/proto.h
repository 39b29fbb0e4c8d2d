/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Wire protocol: ZeroMQ multipart framing, JSON bodies, the message table.
 * Every message type is described in doc/protocol.md. */
#ifndef KILN_PROTO_H
#define KILN_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

/* doc/protocol.md "Versions": bump with any change to a message. */
enum {
    KILN_PROTO_VERSION = 1,
    KILN_PROTO_MAX_BODY = 1 << 20,    /* bytes; larger requests are refused */
    KILN_PROTO_MAX_REPLY = 256 << 20, /* bytes: what the server may send */
    KILN_PROTO_MAX_ID = 255,          /* routing identity bytes */
};

enum proto_dir {
    PROTO_CLIENT_REQ = 1, /* client -> server, answered */
    PROTO_WORKER_MSG,     /* worker -> server */
    PROTO_SERVER_MSG,     /* server -> worker */
    PROTO_REPLY,          /* answer to a client or worker */
    PROTO_RELAYED,        /* worker -> server -> client, as it is */
};

/* Who may send a message, checked before its handler runs. */
enum proto_role {
    PROTO_ANYONE = 1, /* any client, with or without a credential */
    PROTO_USER,       /* a client whose credential checks out */
    PROTO_ADMIN,      /* root, or a member of the server's admin group */
    PROTO_PEER,       /* a worker not yet welcomed (its hello) */
    PROTO_NODE,       /* a worker, on the connection of its accepted hello */
    PROTO_SERVER,     /* the server, to a worker */
};

struct json_field;

/* What is checked of a message before any handler sees it: its type, who
 * may send it, and every field its body may have (lib/jsonfields.h).  The
 * server's and the worker's message tables are made of these, and
 * tests/unit/test_protocol.c checks them against doc/protocol.md. */
struct proto_rule {
    const char *type;
    enum proto_dir dir;
    enum proto_role role;
    const struct json_field *fields; /* ended by a NULL name */
};

/* The fields every versioned message has first. */
#define PROTO_VERSION_FIELD           \
    {                                 \
        "version", JSON_INTEGER, true \
    }

struct proto_msg;
struct kiln_error;
/* Check m's "version": one other than ours is EPROTO, and so is none when
 * required.  Returns 0, or EPROTO with err set. */
int proto_check_version(const struct proto_msg *m, bool required,
                        struct kiln_error *err);
/* Check m against r: its version (required when r lists it as required),
 * then its fields: one the rule does not list, of the wrong type, or a
 * required one missing is EINVAL.  Returns 0, or the errno value with err
 * set. */
int proto_check(const struct proto_rule *r, const struct proto_msg *m,
                struct kiln_error *err);

/* One received message.  The body is owned by the message. */
struct proto_msg {
    unsigned char id[KILN_PROTO_MAX_ID]; /* ROUTER identity, if any */
    size_t idlen;
    char type[64];
    json_t *body; /* always a JSON object */
    char *cred;   /* a client's credential frame, or NULL (lib/auth.h) */
    unsigned char digest[32]; /* what a credential must sign (with cred) */
    char peer[64];         /* the name of the CURVE key it came with, or "" */
    char peer_address[64]; /* the IP address it came from, or "" */
    char from[96];         /* who sent it, for the log: set by the receiver */
};

/* A frame of a message as it travels. */
struct proto_frame {
    const void *data;
    size_t len;
};

/* Decode the frames of one message, as proto_recv says (n may be more than
 * the 5 a message can have).  1 with *m filled, or -1 with errno EPROTO and
 * err set. */
struct kiln_error;
int proto_parse(const struct proto_frame *fr, int n, int router,
                struct proto_msg *m, struct kiln_error *err);

/* Send "" type body cred from a client: sign, given the digest of type
 * and body (lib/auth.h), returns the credential frame (freed here) or
 * NULL to send none.  -1 with errno on failure. */
typedef char *(*proto_sign_f)(const unsigned char *digest, void *arg);
int proto_send_signed(void *sock, const char *type, const json_t *body,
                      proto_sign_f sign, void *arg);

/* The frames of a client's request, "" type body [cred], signed as
 * proto_send_signed signs (sign may be NULL: no credential).  Release with
 * proto_request_release.  0, or -1 with errno. */
struct proto_request {
    struct proto_frame fr[4];
    int n;
    char *text, *cred;
};
int proto_request_frames(const char *type, const json_t *body,
                         proto_sign_f sign, void *arg, struct proto_request *r);
void proto_request_release(struct proto_request *r);

/* Send [identity] "" type body on sock.  identity is NULL for a DEALER.
 * body is not consumed.  Returns 0, or -1 with errno (EHOSTUNREACH when a
 * ROUTER_MANDATORY peer is gone). */
int proto_send(void *sock, const void *id, size_t idlen, const char *type,
               const json_t *body);

/* Receive one message without blocking.  With router set, the first frame
 * is the peer identity, and the body may be KILN_PROTO_MAX_BODY bytes;
 * without, it comes from the server and may be KILN_PROTO_MAX_REPLY.  A
 * router also takes a fourth frame, a client's credential.  Returns 1 with *m filled (free with
 * proto_msg_release), 0 when nothing is waiting, or -1 with errno EPROTO and
 * err set when the message was malformed (it has been consumed; m->id is
 * still filled so the peer can be answered when idlen > 0). */
int proto_recv(void *sock, int router, struct proto_msg *m,
               struct kiln_error *err);

void proto_msg_release(struct proto_msg *m);

/* Build an error reply body: {"error": errno name, "text": text}. */
json_t *proto_error_body(int errnum, const char *text);

/* The symbolic name of an errno value ("ENOENT"), or "EIO" if unknown;
 * and back (0 when the name is unknown). */
const char *proto_errno_name(int errnum);
int proto_errno_value(const char *name);

/* Where a socket is, for proto_socket_setup. */
enum proto_side {
    PROTO_SIDE_SERVER, /* a ROUTER of the server: never blocks, frames of at
                        * most 4 x KILN_PROTO_MAX_BODY (a larger one drops
                        * the connection before it is read into memory) */
    PROTO_SIDE_NODES,  /* the server's ROUTER for workers: as SERVER, but
                        * TCP keepalives instead of ZeroMQ heartbeats */
    PROTO_SIDE_CLIENT, /* a client's DEALER: sends give up after 5 s */
    PROTO_SIDE_WORKER, /* a worker's DEALER: sends give up after 1 s */
};

/* Limits every Kiln socket has: no linger, ZMQ_MAXMSGSIZE, a send timeout,
 * and ZeroMQ heartbeats that close a connection whose peer went silent
 * (2 s apart, 10 s without an answer), asking no time-to-live of the
 * peer.  The server's worker socket has none of its own, but TCP
 * keepalives (a peer gone for 20 s is dropped): libzmq cancels a timer by
 * a walk over all of its I/O thread's timers, and each message from a
 * worker cancelled one, a quarter of the server's CPU with 5,000 nodes.
 * Nodes are watched by their node.heartbeat anyway.  0 or -1 with errno. */
int proto_socket_setup(void *sock, enum proto_side side);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The connection to the server: address lookup, one request, one answer. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "client/client.h"
#include "lib/auth.h"
#include "lib/config.h"
#include "lib/error.h"
#include "lib/keys.h"
#include "lib/token.h"
#include "lib/log.h"
#include "lib/proto.h"

static const char *opt_server, *opt_config;
static char server_addr[256], keys_dir[4096];
static void *ctx, *sock, *monitor;
static int curve; /* 1 when the socket speaks CURVE */
/* Why the last request went without a credential, or "". */
static char sign_error[sizeof(((struct kiln_error *)0)->text)];

bool client_common_opt(int c, const char *arg)
{
    switch (c) {
    case OPT_SERVER: opt_server = arg; return true;
    case OPT_CONFIG: opt_config = arg; return true;
    }
    return false;
}

/* The server: --server, else KILN_SERVER, else the config file, else the
 * default; and where its public key is: KILN_KEYS, else the config file,
 * else the default folder. */
static void settings(void)
{
    struct kiln_config cfg;
    struct kiln_error err;
    const char *s = opt_server ? opt_server : getenv("KILN_SERVER");
    const char *k = getenv("KILN_KEYS");

    if (server_addr[0])
        return;
    if (config_load(opt_config, &cfg, &err) < 0)
        die("%s", err.text);
    snprintf(server_addr, sizeof(server_addr), "%s",
             s && *s      ? s
             : cfg.server ? cfg.server
                          : KILN_DEFAULT_SERVER);
    snprintf(keys_dir, sizeof(keys_dir), "%s",
             k && *k           ? k
             : cfg.client_keys ? cfg.client_keys
                               : KILN_DEFAULT_KEYS);
    config_release(&cfg);
}

const char *client_server(void)
{
    settings();
    return server_addr;
}

static void client_close(void)
{
    if (monitor) {
        zmq_socket_monitor(sock, NULL, 0);
        zmq_close(monitor);
    }
    if (sock)
        zmq_close(sock);
    if (ctx)
        zmq_ctx_term(ctx);
}

static void connect_once(void)
{
    if (sock)
        return;
    if (!(ctx = zmq_ctx_new()) || !(sock = zmq_socket(ctx, ZMQ_DEALER))
        || proto_socket_setup(sock, PROTO_SIDE_CLIENT) < 0)
        die("cannot create a ZeroMQ socket: %s", zmq_strerror(errno));
    settings();
    /* Encrypted, to the server whose key this host has (its answers are
     * then its own); a handshake that fails is said at once. */
    struct kiln_error err;
    if ((curve = keys_client_socket(sock, keys_dir, NULL, &err)) < 0)
        die("%s", err.text);
    /* No server key here: a single-user server (--auth none) lets in its
     * owner, who has its token. */
    char token[TOKEN_LEN + 1];
    int got = curve ? 0 : token_read(token, &err);
    if (got < 0)
        die("%s", err.text);
    if (got > 0 && token_client_socket(sock, token) < 0)
        die("cannot set the single-user token: %s", zmq_strerror(errno));
    if (zmq_socket_monitor(sock, "inproc://kiln-client-monitor",
                           ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
                               | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
                               | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)
            == 0
        && (monitor = zmq_socket(ctx, ZMQ_PAIR)))
        zmq_connect(monitor, "inproc://kiln-client-monitor");
    if (zmq_connect(sock, client_server()) < 0)
        die("invalid server address '%s': %s", client_server(),
            zmq_strerror(errno));
    atexit(client_close);
}

void client_check_handshake(void)
{
    zmq_msg_t ev;

    if (!monitor)
        return;
    zmq_msg_init(&ev);
    if (zmq_msg_recv(&ev, monitor, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&ev);
        return;
    }
    zmq_msg_close(&ev);
    if (curve)
        die("cannot talk to the server at %s: the encrypted (CURVE) handshake failed. Is "
            "%s/server.pub the server's, and does the server run --auth munge? (KILN_KEYS "
            "or [client] keys say where the key is)",
            client_server(), keys_dir);
    char tpath[PATH_MAX] = "?";
    token_path(tpath, sizeof(tpath), NULL);
    die("cannot talk to the server at %s: the handshake failed. A cluster's server "
        "encrypts its traffic (CURVE), and this host has no %s/server.pub: copy the "
        "server's there, or set KILN_KEYS to its folder. A single-user server (--auth "
        "none) lets in its owner alone, with the token in %s",
        client_server(), keys_dir, tpath);
}

void *client_socket(void)
{
    connect_once();
    return sock;
}

static char *sign(const unsigned char *digest, void *arg)
{
    struct kiln_error err;
    char *cred = auth_sign(digest, &err);

    /* Sent without one: a server in --auth none mode needs none, and one
     * that does says so, and then this is why. */
    snprintf(sign_error, sizeof(sign_error), "%s", cred ? "" : err.text);
    return cred;
}

/* How long a request waits for its answer: KILN_TIMEOUT seconds, else 5. */
static int client_timeout_ms(void)
{
    const char *t = getenv("KILN_TIMEOUT");

    return (t && atoi(t) > 0 && atoi(t) < 86400 ? atoi(t) : 5) * 1000;
}

void client_send(void *s, const char *type, json_t *body)
{
    if (!body
        || json_object_set_new(body, "version",
                               json_integer(KILN_PROTO_VERSION))
               < 0)
        die("out of memory");
    if (proto_send_signed(s, type, body, sign, NULL) < 0) {
        /* Nothing was queued: no connection came up within the send
         * timeout.  A refused handshake says so; else the server is
         * down or unreachable. */
        if (errno == EAGAIN) {
            client_check_handshake();
            die("cannot reach the server at %s: no connection within %d s",
                client_server(), client_timeout_ms() / 1000);
        }
        die("cannot send to the server at %s: %s", client_server(),
            zmq_strerror(errno));
    }
    json_decref(body);
}

void client_check_refusal(const json_t *body)
{
    const char *e = json_string_value(json_object_get(body, "error"));

    if (sign_error[0] && e && strcmp(e, "EACCES") == 0)
        die("%s", sign_error);
}

json_t *client_request_ex(const char *type, json_t *body, int timeout_ms,
                          char *err_text, size_t len)
{
    struct proto_msg m;
    struct kiln_error err;
    int rc;

    if (timeout_ms < 0)
        timeout_ms = client_timeout_ms();
    connect_once();
    zmq_setsockopt(sock, ZMQ_SNDTIMEO, &timeout_ms, sizeof(timeout_ms));
    client_send(sock, type, body);
    zmq_pollitem_t it[2] = { { sock, 0, ZMQ_POLLIN, 0 },
                             { monitor, 0, ZMQ_POLLIN, 0 } };
    for (;;) {
        rc = zmq_poll(it, monitor ? 2 : 1, timeout_ms);
        if (rc < 0 && errno == EINTR)
            continue;
        break;
    }
    if (rc > 0 && !(it[0].revents & ZMQ_POLLIN)) {
        client_check_handshake();
        rc = 0;
    }
    if (rc <= 0)
        die("cannot reach the server at %s: no answer within %d s",
            client_server(), timeout_ms / 1000);
    if ((rc = proto_recv(sock, 0, &m, &err)) <= 0)
        die("bad answer from the server at %s: %s", client_server(),
            rc < 0 ? err.text : "empty");
    if (strcmp(m.type, "ok") != 0) {
        const char *text = json_string_value(json_object_get(m.body, "text"));
        client_check_refusal(m.body);
        if (!err_text)
            die("%s", text ? text : "the server refused the request");
        snprintf(err_text, len, "%s", text ? text : "refused");
        proto_msg_release(&m);
        return NULL;
    }
    return m.body;
}

json_t *client_request(const char *type, json_t *body)
{
    return client_request_ex(type, body, -1, NULL, 0);
}

void client_print_json(const json_t *o)
{
    char *s = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (!s)
        die("out of memory");
    puts(s);
    free(s);
}

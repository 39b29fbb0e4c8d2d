/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The connection to the server: address lookup, one request, one answer. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/client.h"
#include "lib/auth.h"
#include "lib/config.h"
#include "lib/error.h"
#include "lib/keys.h"
#include "lib/localsock.h"
#include "lib/token.h"
#include "lib/z85.h"
#include "lib/zmtp.h"
#include "lib/log.h"
#include "lib/proto.h"

static const char *opt_server, *opt_config;
static char server_addr[256], keys_dir[4096];
/* The TCP address to use when the local socket found by default refuses
 * (a server that stopped), or "". */
static char fallback_addr[256];
static struct zmtp *conn;
static int curve;  /* 1 when the connection speaks CURVE */
static bool local; /* the server's local socket: the kernel says who we are */
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

/* An ipc:// address with its path resolved (no link left in it, so that
 * the path checked is the one connected to); as it is when it does not
 * resolve (the connection then says why). */
static void set_address(char *out, size_t len, const char *addr)
{
    char real[PATH_MAX];

    if (!strncmp(addr, "ipc://", 6) && realpath(addr + 6, real))
        snprintf(out, len, "ipc://%s", real);
    else
        snprintf(out, len, "%s", addr);
}

/* The server: --server, else KILN_SERVER, else the server's local socket
 * when this host has one ([client] local, default KILN_DEFAULT_LOCAL),
 * else the config file, else the default; and where its public key is:
 * KILN_KEYS, else the config file, else the default folder. */
static void settings(void)
{
    struct kiln_config cfg;
    struct kiln_error err;
    const char *s = opt_server ? opt_server : getenv("KILN_SERVER");
    const char *k = getenv("KILN_KEYS");
    const char *tcp;

    if (server_addr[0])
        return;
    if (config_load(opt_config, &cfg, &err) < 0)
        die("%s", err.text);
    tcp = cfg.server ? cfg.server : KILN_DEFAULT_SERVER;
    const char *l = cfg.client_local ? cfg.client_local : KILN_DEFAULT_LOCAL;
    if (strcmp(l, "none") && localsock_path_ok(l, &err) < 0)
        die("[client] local: %s", err.text);
    if (!(s && *s) && strcmp(l, "none") && access(l, F_OK) == 0) {
        char ep[sizeof(server_addr)];
        snprintf(ep, sizeof(ep), "ipc://%s", l);
        set_address(server_addr, sizeof(server_addr), ep);
        snprintf(fallback_addr, sizeof(fallback_addr), "%s", tcp);
    } else {
        set_address(server_addr, sizeof(server_addr), s && *s ? s : tcp);
    }
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
    zmtp_close(conn);
}

/* How long a request waits for its answer: KILN_TIMEOUT seconds, else 5. */
static int client_timeout_ms(void)
{
    const char *t = getenv("KILN_TIMEOUT");

    return (t && atoi(t) > 0 && atoi(t) < 86400 ? atoi(t) : 5) * 1000;
}

/* Encrypted, to the server whose key this host has (its answers are then
 * its own); else, with the single-user token, to a server that lets in
 * its owner alone; else plain. */
static void security(struct zmtp_security *sec, char *token)
{
    struct kiln_error err;
    struct curve_key server, mine;
    char path[sizeof(keys_dir) + 16];

    memset(sec, 0, sizeof(*sec));
    /* A local socket speaks NULL, checked once connected. */
    sec->accept_null = !strncmp(server_addr, "ipc://", 6);
    sec->once = fallback_addr[0] != '\0';
    snprintf(path, sizeof(path), "%s/server.pub", keys_dir);
    if (access(path, F_OK) == 0) {
        if (keys_read(path, false, &server, &err) < 0)
            die("%s", err.text);
        if (keys_pair(&mine) < 0)
            die("cannot make a CURVE key pair");
        sec->mechanism = ZMTP_CURVE;
        z85_decode_key(sec->server_key, server.public);
        z85_decode_key(sec->public_key, mine.public);
        z85_decode_key(sec->secret_key, mine.secret);
        curve = 1;
        return;
    }
    int got = token_read(token, &err);
    if (got < 0)
        die("%s", err.text);
    if (got > 0) {
        sec->mechanism = ZMTP_PLAIN;
        sec->user = "kiln";
        sec->password = token;
    }
}

static void connect_once(void)
{
    static struct zmtp_security sec;
    static char token[TOKEN_LEN + 1];
    struct kiln_error err;
    int timeout = client_timeout_ms();

    if (conn)
        return;
    settings();
    security(&sec, token);
    conn = zmtp_connect(client_server(), &sec, timeout, &err);
    if (!conn && fallback_addr[0] && errno == EHOSTUNREACH) {
        /* The local socket of a server that is not running. */
        snprintf(server_addr, sizeof(server_addr), "%s", fallback_addr);
        fallback_addr[0] = '\0';
        security(&sec, token);
        conn = zmtp_connect(client_server(), &sec, timeout, &err);
    }
    if (!conn && errno == EPERM)
        die("%s (set KILN_SERVER, or [client] local = none, to use another)",
            err.text);
    /* The server's local socket, checked as it connected. */
    if (conn && zmtp_mechanism(conn) == ZMTP_NULL
        && !strncmp(server_addr, "ipc://", 6)) {
        local = true;
        curve = 0;
    }
    if (conn) {
        atexit(client_close);
        return;
    }
    if (errno == EHOSTUNREACH)
        die("cannot reach the server at %s: no connection within %d s (%s)",
            client_server(), timeout / 1000, err.text);
    if (curve)
        die("cannot talk to the server at %s: the encrypted (CURVE) handshake "
            "failed (%s). Is %s/server.pub the server's, and does the server "
            "run --auth munge? (KILN_KEYS or [client] keys say where the key "
            "is)",
            client_server(), err.text, keys_dir);
    char tpath[PATH_MAX] = "?";
    token_path(tpath, sizeof(tpath), NULL);
    die("cannot talk to the server at %s: the handshake failed (%s). A "
        "cluster's server encrypts its traffic (CURVE), and this host has no "
        "%s/server.pub: copy the server's there, or set KILN_KEYS to its "
        "folder. A single-user server (--auth none) lets in its owner alone, "
        "with the token in %s",
        client_server(), err.text, keys_dir, tpath);
}

struct zmtp *client_socket(void)
{
    connect_once();
    return conn;
}

static char *sign(const unsigned char *digest, void *arg)
{
    if (local)
        return NULL; /* the kernel vouches */
    struct kiln_error err;
    char *cred = auth_sign(digest, &err);

    /* Sent without one: a server in --auth none mode needs none, and one
     * that does says so, and then this is why. */
    snprintf(sign_error, sizeof(sign_error), "%s", cred ? "" : err.text);
    return cred;
}

void client_send(struct zmtp *z, const char *type, json_t *body)
{
    struct proto_request r;
    struct kiln_error err;

    if (!body
        || json_object_set_new(body, "version",
                               json_integer(KILN_PROTO_VERSION))
               < 0
        || proto_request_frames(type, body, sign, NULL, &r) < 0)
        die("out of memory");
    if (zmtp_send(z, r.fr, r.n, client_timeout_ms(), &err) < 0)
        die("cannot send to the server at %s: %s", client_server(), err.text);
    proto_request_release(&r);
    json_decref(body);
}

int client_recv(struct proto_msg *m, int timeout_ms)
{
    struct proto_frame fr[5];
    struct kiln_error err;
    int n, rc;

    connect_once();
    rc = zmtp_recv(conn, fr, 5, &n, KILN_PROTO_MAX_REPLY, timeout_ms, &err);
    if (rc < 0)
        die("lost the server at %s: %s", client_server(), err.text);
    if (rc == 0)
        return 0;
    if (proto_parse(fr, n, 0, m, &err) < 0)
        die("bad answer from the server at %s: %s", client_server(), err.text);
    return 1;
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

    if (timeout_ms < 0)
        timeout_ms = client_timeout_ms();
    client_send(client_socket(), type, body);
    if (client_recv(&m, timeout_ms) == 0)
        die("cannot reach the server at %s: no answer within %d s",
            client_server(), timeout_ms / 1000);
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

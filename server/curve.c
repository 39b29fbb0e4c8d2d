/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Both sockets speak CURVE: the server proves itself with its key pair and
 * all traffic is encrypted.  Its ZAP handler (ZeroMQ RFC 27) lets in any
 * client (clients prove who they are with MUNGE credentials) and only the
 * workers whose public key is in the keys folder (lib/keys.h); the
 * accepted key's name comes with every message from that worker
 * (proto_msg.peer).  The client socket may also listen on a local UNIX
 * socket (lib/localsock.h), without CURVE: there the kernel says who the
 * client is, and that comes with each of its messages instead. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "lib/localsock.h"
#include "lib/log.h"
#include "lib/util.h"
#include "server/server.h"

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"

int curve_load_key(struct server *s, struct kiln_error *err)
{
    char path[600];
    struct kiln_error why;

    snprintf(path, sizeof(path), "%s/server.key", s->keys_dir);
    if (keys_read(path, true, &s->key, &why) < 0)
        return errprintf(
            err,
            "%s: make the keys with 'kiln keygen --dir %s' (or start "
            "the server with --auth none)",
            why.text, s->keys_dir);
    s->ring = keys_ring_load(s->keys_dir);
    return 0;
}

int curve_setup(struct server *s, struct kiln_error *err)
{
    int zero = 0;

    if (!(s->zap = zmq_socket(s->ctx, ZMQ_REP)))
        return errprintf(err, "cannot create the ZAP socket: %s",
                         zmq_strerror(errno));
    zmq_setsockopt(s->zap, ZMQ_LINGER, &zero, sizeof(zero));
    if (zmq_bind(s->zap, ZAP_ENDPOINT) < 0)
        return errprintf(err, "cannot bind the ZAP handler: %s",
                         zmq_strerror(errno));
    return 0;
}

void curve_server_socket(struct server *s, void *sock, bool workers)
{
    int one = 1;
    const char *domain = workers ? "kiln" : "kiln-clients";

    if (s->auth == AUTH_NONE) {
        /* The single-user mode: the owner's token, in PLAIN, on loopback. */
        zmq_setsockopt(sock, ZMQ_PLAIN_SERVER, &one, sizeof(one));
    } else {
        zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &one, sizeof(one));
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, s->key.secret, 41);
    }
    zmq_setsockopt(sock, ZMQ_ZAP_DOMAIN, domain, strlen(domain));
}

int curve_bind_local(struct server *s, const char *path, struct kiln_error *err)
{
    char ep[128], dir[128];
    const char *slash;
    int zero = 0;
    const char *domain = "kiln-local";

    if (localsock_path_ok(path, err) < 0)
        return -1;
    /* libzmq replaces whatever socket file is there: not a live one. */
    if (localsock_live(path))
        return errprintf(err,
                         "another server listens on the local socket %s: "
                         "give this one another (--local PATH, or none)",
                         path);
    slash = strrchr(path, '/');
    snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
    /* The folder is made readable by all: each client checks that it
     * and the socket are the server's (localsock_check_server). */
    struct stat st;
    if (dir[0] && stat(dir, &st) < 0
        && (util_mkdir_p(dir, 0755) < 0 || chmod(dir, 0755) < 0))
        return errprintf(err,
                         "cannot make the folder of the local socket %s: %s",
                         path, strerror(errno));
    /* Options are taken at each bind: the TCP endpoint keeps CURVE. */
    zmq_setsockopt(s->clients, ZMQ_CURVE_SERVER, &zero, sizeof(zero));
    zmq_setsockopt(s->clients, ZMQ_ZAP_DOMAIN, domain, strlen(domain));
    snprintf(ep, sizeof(ep), "ipc://%s", path);
    if (zmq_bind(s->clients, ep) < 0)
        return errprintf(err, "cannot listen on the local socket %s: %s", path,
                         zmq_strerror(errno));
    /* Anybody may connect: the kernel says who they are. */
    if (chmod(path, 0666) < 0)
        return errprintf(err, "cannot open the local socket %s to users: %s",
                         path, strerror(errno));
    if (stat(path, &st) == 0) {
        snprintf(s->local_path, sizeof(s->local_path), "%s", path);
        s->local_ino = st.st_ino;
    }
    return 0;
}

void curve_unlink_local(struct server *s)
{
    struct stat st;

    /* libzmq leaves the file; clients then find it refusing.  Gone is
     * clearer, but only if it is still this server's. */
    if (s->local_path[0] && stat(s->local_path, &st) == 0
        && st.st_ino == s->local_ino)
        unlink(s->local_path);
}

/* Is the PLAIN password of a ZAP request the owner's token?  (Compared
 * in constant time.) */
static bool token_fits(const struct server *s, zmq_msg_t *pass)
{
    unsigned char diff = zmq_msg_size(pass) != TOKEN_LEN;
    const unsigned char *p = zmq_msg_data(pass);

    for (size_t i = 0; i < TOKEN_LEN && zmq_msg_size(pass) == TOKEN_LEN; i++)
        diff |= p[i] ^ (unsigned char)s->token[i];
    return diff == 0;
}

/* One ZAP request: 200 with the key's name, or 400. */
static void zap_one(struct server *s)
{
    zmq_msg_t fr[8];
    int n = 0, more = 1;

    while (more) {
        zmq_msg_t scratch, *f = n < 8 ? &fr[n] : &scratch;
        zmq_msg_init(f);
        if (zmq_msg_recv(f, s->zap, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(f);
            break;
        }
        more = zmq_msg_more(f);
        if (f == &scratch)
            zmq_msg_close(f);
        else
            n++;
    }
    if (n < 2)
        goto done;
    const char *name = NULL;
    char addr[64] = "";
    if (n >= 4)
        snprintf(addr, sizeof(addr), "%.*s", (int)zmq_msg_size(&fr[3]),
                 (char *)zmq_msg_data(&fr[3]));
    bool curve = n >= 6 && zmq_msg_size(&fr[5]) == 5
                 && !memcmp(zmq_msg_data(&fr[5]), "CURVE", 5);
    bool client = n >= 3 && zmq_msg_size(&fr[2]) == 12
                  && !memcmp(zmq_msg_data(&fr[2]), "kiln-clients", 12);
    bool plain = n >= 8 && zmq_msg_size(&fr[5]) == 5
                 && !memcmp(zmq_msg_data(&fr[5]), "PLAIN", 5);
    bool local = n >= 6 && zmq_msg_size(&fr[2]) == 10
                 && !memcmp(zmq_msg_data(&fr[2]), "kiln-local", 10)
                 && zmq_msg_size(&fr[5]) == 4
                 && !memcmp(zmq_msg_data(&fr[5]), "NULL", 4);
    char user[64];
    if (local) {
        /* The local socket: who the kernel says connected. */
        name = identity_local_name(addr, user, sizeof(user)) == 0 ? user : NULL;
        if (!name)
            log_msg(LOG_WARNING,
                    "refused a client on the local socket: no peer "
                    "credentials in '%s'",
                    addr);
    } else if (s->auth == AUTH_NONE) {
        name = plain && token_fits(s, &fr[7]) ? "owner" : NULL;
        if (!name)
            log_msg(LOG_WARNING,
                    "refused a %s from %s: it does not have the single-user "
                    "token (--auth none lets in its owner alone)",
                    client ? "client" : "worker", addr);
    } else if (curve && client) {
        name = ""; /* any client: its requests carry credentials */
    } else if (curve && n >= 7 && zmq_msg_size(&fr[6]) == 32) {
        s->ring = keys_ring_refresh(s->ring, s->keys_dir);
        name = keys_ring_find(s->ring, zmq_msg_data(&fr[6]));
    }
    if (!name && (s->auth == AUTH_NONE || local)) {
        /* said above */
    } else if (!name) {
        char z85[41] = "?";
        if (curve && n >= 7 && zmq_msg_size(&fr[6]) == 32)
            zmq_z85_encode(z85, zmq_msg_data(&fr[6]), 32);
        log_msg(LOG_WARNING,
                "refused a worker from %s: its CURVE key %s is not in %s "
                "(cluster.pub or workers/*.pub)",
                addr, z85, s->keys_dir);
    } else if (*name && !local) {
        log_msg(LOG_DEBUG, "worker from %s has key '%s'", addr, name);
    }
    zmq_send(s->zap, "1.0", 3, ZMQ_SNDMORE);
    zmq_send(s->zap, zmq_msg_data(&fr[1]), zmq_msg_size(&fr[1]), ZMQ_SNDMORE);
    zmq_send(s->zap, name ? "200" : "400", 3, ZMQ_SNDMORE);
    zmq_send(s->zap, name ? "OK" : "unknown key", name ? 2 : 11, ZMQ_SNDMORE);
    zmq_send(s->zap, name ? name : "", name ? strlen(name) : 0, ZMQ_SNDMORE);
    zmq_send(s->zap, "", 0, 0);
done:
    for (int i = 0; i < n; i++)
        zmq_msg_close(&fr[i]);
}

void curve_zap(struct server *s)
{
    int events = 0;
    size_t len = sizeof(events);

    while (s->zap && zmq_getsockopt(s->zap, ZMQ_EVENTS, &events, &len) == 0
           && (events & ZMQ_POLLIN))
        zap_one(s);
}

void curve_close(struct server *s)
{
    if (s->zap)
        zmq_close(s->zap);
    keys_ring_free(s->ring);
}

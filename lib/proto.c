/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Wire protocol: framing, decoding that never trusts the peer, the checks every
 * message passes before its handler. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "lib/auth.h"
#include "lib/error.h"
#include "lib/jsonfields.h"
#include "lib/proto.h"

int proto_check_version(const struct proto_msg *m, bool required,
                        struct kiln_error *err)
{
    const json_t *v = json_object_get(m->body, "version");

    /* doc/protocol.md "Versions" */
    if ((v || required)
        && (!json_is_integer(v)
            || json_integer_value(v) != KILN_PROTO_VERSION)) {
        errprintf(err, "protocol version mismatch: this side speaks version %d",
                  KILN_PROTO_VERSION);
        return EPROTO;
    }
    return 0;
}

int proto_check(const struct proto_rule *r, const struct proto_msg *m,
                struct kiln_error *err)
{
    bool required = false;
    char what[96];
    int e;

    for (const struct json_field *f = r->fields; f && f->name; f++)
        required = required || (strcmp(f->name, "version") == 0 && f->required);
    if ((e = proto_check_version(m, required, err)) != 0)
        return e;
    snprintf(what, sizeof(what), "%s %s", r->type,
             r->dir == PROTO_CLIENT_REQ ? "request" : "message");
    if (r->fields && json_fields_check(m->body, r->fields, what, "", err) < 0)
        return EINVAL;
    return 0;
}

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

int proto_send(void *sock, const void *id, size_t idlen, const char *type,
               const json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT);
    int rc;

    if (!text) {
        errno = ENOMEM;
        return -1;
    }
    rc = send_frames(sock, id, idlen, type, text, NULL);
    free(text);
    return rc;
}

int proto_send_signed(void *sock, const char *type, const json_t *body,
                      proto_sign_f sign, void *arg)
{
    char *text = json_dumps(body, JSON_COMPACT), *cred;
    unsigned char digest[AUTH_DIGEST_LEN];
    int rc;

    if (!text) {
        errno = ENOMEM;
        return -1;
    }
    auth_digest(type, text, strlen(text), digest);
    cred = sign(digest, arg);
    rc = send_frames(sock, NULL, 0, type, text, cred);
    free(cred);
    free(text);
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
    int n, base = router ? 1 : 0, rc = -1;
    json_error_t jerr;
    size_t len;

    memset(m, 0, sizeof(*m));
    n = recv_frames(sock, fr, 5, ZMQ_DONTWAIT);
    if (n < 0)
        return errno == EAGAIN ? 0 : -1;
    if (router && n >= 1) {
        len = zmq_msg_size(&fr[0]);
        if (len > KILN_PROTO_MAX_ID) {
            errprintf(err, "routing identity too long");
            goto proto;
        }
        memcpy(m->id, zmq_msg_data(&fr[0]), len);
        m->idlen = len;
    }
    if ((n != base + 3 && !(router && n == base + 4))
        || zmq_msg_size(&fr[base]) != 0) {
        errprintf(err, "malformed message: expected an empty delimiter, a "
                       "type, a body and perhaps a credential");
        goto proto;
    }
    len = zmq_msg_size(&fr[base + 1]);
    if (len == 0 || len >= sizeof(m->type)) {
        errprintf(err, "malformed message: bad type frame");
        goto proto;
    }
    memcpy(m->type, zmq_msg_data(&fr[base + 1]), len);
    m->type[len] = '\0';
    if (router) {
        /* The CURVE key's name, as the server's ZAP handler gave it (the
         * frames the peer sent carry it, not the routing id). */
        const char *peer = zmq_msg_gets(&fr[base + 1], "User-Id");
        snprintf(m->peer, sizeof(m->peer), "%s", peer ? peer : "");
        const char *addr = zmq_msg_gets(&fr[base + 1], "Peer-Address");
        snprintf(m->peer_address, sizeof(m->peer_address), "%s",
                 addr ? addr : "");
    }
    if (strlen(m->type) != len) {
        errprintf(err, "malformed message: bad type frame");
        goto proto;
    }
    len = zmq_msg_size(&fr[base + 2]);
    size_t max = router ? KILN_PROTO_MAX_BODY : KILN_PROTO_MAX_REPLY;
    if (len > max) {
        errprintf(err, "message body of %zu bytes is above the limit of %zu",
                  len, max);
        goto proto;
    }
    m->body = json_loadb(zmq_msg_data(&fr[base + 2]), len,
                         JSON_REJECT_DUPLICATES, &jerr);
    if (!m->body || !json_is_object(m->body)) {
        errprintf(err, "malformed message body: %s",
                  m->body ? "not a JSON object" : jerr.text);
        json_decref(m->body);
        m->body = NULL;
        goto proto;
    }
    if (n == base + 4) {
        len = zmq_msg_size(&fr[base + 3]);
        if (len == 0 || len > AUTH_MAX_CRED
            || memchr(zmq_msg_data(&fr[base + 3]), 0, len)
            || !(m->cred = strndup(zmq_msg_data(&fr[base + 3]), len))) {
            errprintf(err, "malformed message: bad credential frame");
            json_decref(m->body);
            m->body = NULL;
            goto proto;
        }
        auth_digest(m->type, zmq_msg_data(&fr[base + 2]),
                    zmq_msg_size(&fr[base + 2]), m->digest);
    }
    rc = 1;
    goto done;
proto:
    errno = EPROTO;
done:
    for (int i = 0; i < n && i < 5; i++)
        zmq_msg_close(&fr[i]);
    return rc;
}

void proto_msg_release(struct proto_msg *m)
{
    json_decref(m->body);
    m->body = NULL;
    free(m->cred);
    m->cred = NULL;
}

static const struct {
    int value;
    const char *name;
} errnames[] = {
    { EPERM, "EPERM" },   { ENOENT, "ENOENT" },
    { EINVAL, "EINVAL" }, { EEXIST, "EEXIST" },
    { EPROTO, "EPROTO" }, { ENOSPC, "ENOSPC" },
    { EBUSY, "EBUSY" },   { EOPNOTSUPP, "EOPNOTSUPP" },
    { ENOMEM, "ENOMEM" }, { EIO, "EIO" },
    { EAGAIN, "EAGAIN" }, { EMSGSIZE, "EMSGSIZE" },
    { EACCES, "EACCES" }, { ENODEV, "ENODEV" },
    { E2BIG, "E2BIG" },
};

const char *proto_errno_name(int errnum)
{
    for (size_t i = 0; i < sizeof(errnames) / sizeof(errnames[0]); i++)
        if (errnames[i].value == errnum)
            return errnames[i].name;
    return "EIO";
}

int proto_errno_value(const char *name)
{
    for (size_t i = 0; i < sizeof(errnames) / sizeof(errnames[0]); i++)
        if (strcmp(errnames[i].name, name) == 0)
            return errnames[i].value;
    return 0;
}

json_t *proto_error_body(int errnum, const char *text)
{
    return json_pack("{s:s, s:s}", "error", proto_errno_name(errnum), "text",
                     text ? text : strerror(errnum));
}

int proto_socket_setup(void *sock, enum proto_side side)
{
    int zero = 0, ivl = 2000, ttl = 10000, timeout = 10000;
    int sndtimeo = side == PROTO_SIDE_SERVER   ? 0
                   : side == PROTO_SIDE_CLIENT ? 5000
                                               : 1000;
    int64_t max = side == PROTO_SIDE_SERVER
                      ? 4 * (int64_t)KILN_PROTO_MAX_BODY
                      : (int64_t)KILN_PROTO_MAX_REPLY + 4096;

    if (zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof(zero)) < 0
        || zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &max, sizeof(max)) < 0
        || zmq_setsockopt(sock, ZMQ_SNDTIMEO, &sndtimeo, sizeof(sndtimeo)) < 0
        || zmq_setsockopt(sock, ZMQ_HEARTBEAT_IVL, &ivl, sizeof(ivl)) < 0
        || zmq_setsockopt(sock, ZMQ_HEARTBEAT_TTL, &ttl, sizeof(ttl)) < 0
        || zmq_setsockopt(sock, ZMQ_HEARTBEAT_TIMEOUT, &timeout,
                          sizeof(timeout))
               < 0)
        return -1;
    return 0;
}

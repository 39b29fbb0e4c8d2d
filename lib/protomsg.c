/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Wire protocol, the part without ZeroMQ (kiln, which speaks through
 * lib/zmtp, links only this): decoding that never trusts the peer, the
 * checks every message passes before its handler, and the frames of a
 * request. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

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

int proto_parse(const struct proto_frame *fr, int n, int router,
                struct proto_msg *m, struct kiln_error *err)
{
    int base = router ? 1 : 0;
    json_error_t jerr;
    size_t len;

    memset(m, 0, sizeof(*m));
    if (router && n >= 1) {
        len = fr[0].len;
        if (len > KILN_PROTO_MAX_ID) {
            errprintf(err, "routing identity too long");
            goto proto;
        }
        memcpy(m->id, fr[0].data, len);
        m->idlen = len;
    }
    if ((n != base + 3 && !(router && n == base + 4)) || fr[base].len != 0) {
        errprintf(err, "malformed message: expected an empty delimiter, a "
                       "type, a body and perhaps a credential");
        goto proto;
    }
    len = fr[base + 1].len;
    if (len == 0 || len >= sizeof(m->type)
        || memchr(fr[base + 1].data, '\0', len)) {
        errprintf(err, "malformed message: bad type frame");
        goto proto;
    }
    memcpy(m->type, fr[base + 1].data, len);
    m->type[len] = '\0';
    len = fr[base + 2].len;
    size_t max = router ? KILN_PROTO_MAX_BODY : KILN_PROTO_MAX_REPLY;
    if (len > max) {
        errprintf(err, "message body of %zu bytes is above the limit of %zu",
                  len, max);
        goto proto;
    }
    m->body = json_loadb(fr[base + 2].data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!m->body || !json_is_object(m->body)) {
        errprintf(err, "malformed message body: %s",
                  m->body ? "not a JSON object" : jerr.text);
        json_decref(m->body);
        m->body = NULL;
        goto proto;
    }
    if (n == base + 4) {
        len = fr[base + 3].len;
        if (len == 0 || len > AUTH_MAX_CRED || memchr(fr[base + 3].data, 0, len)
            || !(m->cred = strndup(fr[base + 3].data, len))) {
            errprintf(err, "malformed message: bad credential frame");
            json_decref(m->body);
            m->body = NULL;
            goto proto;
        }
        auth_digest(m->type, fr[base + 2].data, fr[base + 2].len, m->digest);
    }
    return 1;
proto:
    errno = EPROTO;
    return -1;
}

int proto_request_frames(const char *type, const json_t *body,
                         proto_sign_f sign, void *arg, struct proto_request *r)
{
    unsigned char digest[AUTH_DIGEST_LEN];

    memset(r, 0, sizeof(*r));
    if (!(r->text = json_dumps(body, JSON_COMPACT))) {
        errno = ENOMEM;
        return -1;
    }
    auth_digest(type, r->text, strlen(r->text), digest);
    r->cred = sign ? sign(digest, arg) : NULL;
    r->fr[0] = (struct proto_frame){ "", 0 };
    r->fr[1] = (struct proto_frame){ type, strlen(type) };
    r->fr[2] = (struct proto_frame){ r->text, strlen(r->text) };
    r->fr[3] = (struct proto_frame){ r->cred, r->cred ? strlen(r->cred) : 0 };
    r->n = r->cred ? 4 : 3;
    return 0;
}

void proto_request_release(struct proto_request *r)
{
    free(r->text);
    free(r->cred);
    r->text = r->cred = NULL;
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

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* MUNGE credentials bound to one request (see auth.h). */
#include <stdlib.h>
#include <string.h>
#include <munge.h>
#include <sodium.h>

#include "lib/auth.h"

int auth_mode_parse(const char *text, enum auth_mode *mode,
                    struct kiln_error *err)
{
    if (text && strcmp(text, "munge") == 0)
        *mode = AUTH_MUNGE;
    else if (text && strcmp(text, "none") == 0)
        *mode = AUTH_NONE;
    else
        return errprintf(err, "invalid authentication '%.32s': munge or none",
                         text ? text : "");
    return 0;
}

void auth_digest(const char *type, const void *body, size_t len,
                 unsigned char out[AUTH_DIGEST_LEN])
{
    crypto_hash_sha256_state c;

    /* libsodium, not OpenSSL: a client's start-up would pay ~1 ms for
     * OpenSSL's initialisation, for one hash. */
    if (sodium_init() < 0 || crypto_hash_sha256_init(&c) != 0
        || crypto_hash_sha256_update(&c, (const unsigned char *)type,
                                     strlen(type) + 1)
               != 0
        || crypto_hash_sha256_update(&c, body, len) != 0
        || crypto_hash_sha256_final(&c, out) != 0)
        memset(out, 0, AUTH_DIGEST_LEN); /* matches no credential's payload */
}

/* A context for munged at KILN_MUNGE_SOCKET, or the default one (NULL). */
static munge_ctx_t context(void)
{
    const char *path = getenv("KILN_MUNGE_SOCKET");
    munge_ctx_t ctx;

    if (!path || !*path || !(ctx = munge_ctx_create()))
        return NULL;
    munge_ctx_set(ctx, MUNGE_OPT_SOCKET, path);
    return ctx;
}

char *auth_sign(const unsigned char digest[AUTH_DIGEST_LEN],
                struct kiln_error *err)
{
    munge_ctx_t ctx = context();
    char *cred = NULL;
    munge_err_t e = munge_encode(&cred, ctx, digest, AUTH_DIGEST_LEN);

    if (e != EMUNGE_SUCCESS) {
        const char *why = ctx ? munge_ctx_strerror(ctx) : NULL;
        errprintf(
            err, "cannot get a MUNGE credential%s: %s%s",
            e == EMUNGE_SOCKET ? " (is munged running on this machine?)" : "",
            why ? why : munge_strerror(e),
            e == EMUNGE_SOCKET ? ". Start it (systemctl start munge), or use a "
                                 "server started with --auth none"
                               : "");
        free(cred);
        cred = NULL;
    }
    if (ctx)
        munge_ctx_destroy(ctx);
    return cred;
}

int auth_verify(const char *cred, const unsigned char digest[AUTH_DIGEST_LEN],
                uid_t *uid, gid_t *gid, struct kiln_error *err)
{
    munge_ctx_t ctx = context();
    void *payload = NULL;
    int len = 0, rc = -1;
    munge_err_t e = munge_decode(cred, ctx, &payload, &len, uid, gid);

    switch (e) {
    case EMUNGE_SUCCESS:
        if (len == AUTH_DIGEST_LEN
            && memcmp(payload, digest, AUTH_DIGEST_LEN) == 0)
            rc = 0;
        else
            errprintf(err, "the MUNGE credential was made for another request");
        break;
    case EMUNGE_CRED_REPLAYED:
        errprintf(
            err,
            "replayed MUNGE credential: a credential is good for one request");
        break;
    case EMUNGE_CRED_EXPIRED:
        errprintf(
            err,
            "expired MUNGE credential: are the clocks of this host and the "
            "client's in step?");
        break;
    case EMUNGE_SOCKET:
        errprintf(err,
                  "the server cannot reach munged to check credentials: %s",
                  ctx ? munge_ctx_strerror(ctx) : munge_strerror(e));
        break;
    default:
        errprintf(err, "invalid MUNGE credential: %s", munge_strerror(e));
        break;
    }
    free(payload);
    if (ctx)
        munge_ctx_destroy(ctx);
    return rc;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Who sent a request.  A client signs each request with a MUNGE credential
 * whose payload is the SHA-256 digest of the request's type and body: the
 * credential is good for that request only, once (munged refuses a replay)
 * and within its time to live.  Tested by t5001 (replay, missing munged)
 * and test_auth (digests, modes). */
#ifndef KILN_AUTH_H
#define KILN_AUTH_H

#include <stddef.h>
#include <sys/types.h>

#include "lib/error.h"

enum { AUTH_DIGEST_LEN = 32, AUTH_MAX_CRED = 4096 };

/* munge: clients prove who they are; none: one user, trusted as sent. */
enum auth_mode { AUTH_MUNGE, AUTH_NONE };

/* "munge" or "none".  -1 with err set for anything else. */
int auth_mode_parse(const char *text, enum auth_mode *mode,
                    struct kiln_error *err);

/* The digest a credential signs: SHA-256 of type, a NUL, and body. */
void auth_digest(const char *type, const void *body, size_t len,
                 unsigned char out[AUTH_DIGEST_LEN]);

/* A credential for digest from munged (at KILN_MUNGE_SOCKET if set), to
 * free(); NULL with err saying what is missing. */
char *auth_sign(const unsigned char digest[AUTH_DIGEST_LEN],
                struct kiln_error *err);

/* Decode cred and check that it signs digest: 0 with *uid and *gid, or -1
 * with err naming the fault (replayed, expired, forged, not this request). */
int auth_verify(const char *cred, const unsigned char digest[AUTH_DIGEST_LEN],
                uid_t *uid, gid_t *gid, struct kiln_error *err);

#endif

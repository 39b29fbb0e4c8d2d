/* SPDX-License-Identifier: GPL-2.0-or-later */
/* AWS Signature Version 4, as AWS's "Signing AWS API requests" specifies
 * it: the canonical request, the string to sign, the signing key derived
 * from the secret, date, region and service, and the Authorization
 * header.  Pure (OpenSSL's SHA-256 and HMAC), no I/O.  Tested with AWS's
 * published test-suite cases (test_sigv4) and against botocore for random
 * requests (t2202). */
#ifndef KILN_SIGV4_H
#define KILN_SIGV4_H

#include <stddef.h>

struct sigv4_request {
    const char *method;         /* "GET", "POST" */
    const char *path;           /* "/", as sent */
    const char *query;          /* "a=1&b=2" as sent (encoded), or "" */
    const char *const *headers; /* "Name: value", every header to sign;
                                 * host and x-amz-date among them */
    size_t nheaders;
    const void *payload;
    size_t payload_len;
    const char *region, *service;
    const char *amz_date; /* YYYYMMDDTHHMMSSZ, as in x-amz-date */
};

/* The canonical request (a new string), and the signed header names
 * ("host;x-amz-date") in signed (at least 1024 bytes).  NULL when out of
 * memory or a header has no colon. */
char *sigv4_canonical_request(const struct sigv4_request *r, char *signed_names,
                              size_t len);

/* The Authorization header's value for r signed with the key pair, in
 * out: "AWS4-HMAC-SHA256 Credential=AK/DATE/REGION/SERVICE/aws4_request,
 * SignedHeaders=..., Signature=HEX".  0, or -1 (out of memory, out too
 * small). */
int sigv4_authorization(const struct sigv4_request *r, const char *access_key,
                        const char *secret_key, char *out, size_t len);

/* Append s to out (len bytes, NUL-terminated) URI-encoded as SigV4 wants
 * (A-Z a-z 0-9 - _ . ~ kept, every other byte %XX).  -1 when it does not
 * fit. */
int sigv4_uri_encode(const char *s, char *out, size_t len);

/* The lowercase hex SHA-256 of data, in hex (65 bytes). */
void sigv4_sha256_hex(const void *data, size_t len, char hex[65]);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Base64 through libsodium (which ZeroMQ's CURVE already loads). */
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base64.h"

enum { VARIANT = sodium_base64_VARIANT_ORIGINAL };

char *base64_encode(const void *data, size_t len)
{
    size_t size;
    char *out;

    if (len > (size_t)1 << 30
        || !(out = malloc(size = sodium_base64_encoded_len(len, VARIANT)))) {
        errno = ENOMEM;
        return NULL;
    }
    sodium_bin2base64(out, size, data, len, VARIANT);
    return out;
}

unsigned char *base64_decode(const char *text, size_t *len)
{
    size_t n = strlen(text);
    const char *end;
    unsigned char *out;

    if (n % 4 || n > (size_t)1 << 30) {
        errno = EINVAL;
        return NULL;
    }
    if (!(out = malloc(n / 4 * 3 + 1))) {
        errno = ENOMEM;
        return NULL;
    }
    /* The whole text, padding and all, or nothing. */
    if (sodium_base642bin(out, n / 4 * 3 + 1, text, n, NULL, len, &end, VARIANT)
            < 0
        || *end) {
        free(out);
        errno = EINVAL;
        return NULL;
    }
    return out;
}

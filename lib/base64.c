/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Base64 through OpenSSL's block functions. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

#include "lib/base64.h"

char *base64_encode(const void *data, size_t len)
{
    char *out;

    if (len > (size_t)1 << 30 || !(out = malloc(4 * ((len + 2) / 3) + 1))) {
        errno = ENOMEM;
        return NULL;
    }
    EVP_EncodeBlock((unsigned char *)out, data, (int)len);
    return out;
}

unsigned char *base64_decode(const char *text, size_t *len)
{
    size_t n = strlen(text);
    unsigned char *out;
    int got;

    if (n % 4 || n > (size_t)1 << 30) {
        errno = EINVAL;
        return NULL;
    }
    if (!(out = malloc(n / 4 * 3 + 1))) {
        errno = ENOMEM;
        return NULL;
    }
    if ((got = EVP_DecodeBlock(out, (const unsigned char *)text, (int)n)) < 0) {
        free(out);
        errno = EINVAL;
        return NULL;
    }
    /* EVP_DecodeBlock counts the padding as bytes: take them off. */
    if (n && text[n - 1] == '=')
        got--;
    if (n > 1 && text[n - 2] == '=')
        got--;
    *len = (size_t)got;
    return out;
}

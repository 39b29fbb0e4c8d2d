/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Base64 for bytes carried in JSON strings (kiln exec's streams), by
 * libsodium.  Tested in test_base64. */
#ifndef KILN_BASE64_H
#define KILN_BASE64_H

#include <stddef.h>

/* A new NUL-terminated base64 string of data[0..len-1], or NULL (ENOMEM). */
char *base64_encode(const void *data, size_t len);

/* The bytes of text (a new buffer, *len of them), or NULL when text is not
 * valid base64 (EINVAL) or on ENOMEM. */
unsigned char *base64_decode(const char *text, size_t *len);

#endif

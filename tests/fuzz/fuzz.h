/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What every libFuzzer target of Kiln's shares: the input as a
 * NUL-terminated string (parsers take strings), and its split into parts
 * at NUL bytes for targets that take several. */
#ifndef KILN_FUZZ_H
#define KILN_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A copy of data as a string; the caller frees it. */
static inline char *fuzz_string(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);

    if (s) {
        memcpy(s, data, size);
        s[size] = '\0';
    }
    return s;
}

/* The n-th part of s (parts end at '\x01'), copied; "" past the end. */
static inline char *fuzz_part(const char *s, int n)
{
    while (n-- > 0 && s) {
        s = strchr(s, '\x01');
        if (s)
            s++;
    }
    if (!s)
        return strdup("");
    size_t len = strcspn(s, "\x01");
    char *p = malloc(len + 1);
    if (p) {
        memcpy(p, s, len);
        p[len] = '\0';
    }
    return p;
}

#endif

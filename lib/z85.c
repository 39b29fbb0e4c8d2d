/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Z85: each 4 bytes, big-endian, as 5 digits of base 85. */
#include <stdint.h>
#include <string.h>

#include "lib/z85.h"

static const char digits[] =
    "0123456789abcdefghijklmnopqrstuvwxyz"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

void z85_encode_key(char text[41], const unsigned char key[32])
{
    for (int i = 0; i < 8; i++) {
        uint32_t v = (uint32_t)key[4 * i] << 24 | (uint32_t)key[4 * i + 1] << 16
                     | (uint32_t)key[4 * i + 2] << 8 | key[4 * i + 3];
        for (int d = 4; d >= 0; d--) {
            text[5 * i + d] = digits[v % 85];
            v /= 85;
        }
    }
    text[40] = '\0';
}

bool z85_decode_key(unsigned char key[32], const char *text)
{
    if (strlen(text) != 40)
        return false;
    for (int i = 0; i < 8; i++) {
        uint64_t v = 0;
        for (int d = 0; d < 5; d++) {
            const char *p = strchr(digits, text[5 * i + d]);
            if (!p || !*p)
                return false;
            v = v * 85 + (uint64_t)(p - digits);
        }
        if (v > UINT32_MAX)
            return false;
        for (int b = 0; b < 4; b++)
            key[4 * i + b] = (unsigned char)(v >> (24 - 8 * b));
    }
    return true;
}

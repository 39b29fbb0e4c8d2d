/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Z85 (ZeroMQ RFC 32), the text form of CURVE keys: 32 bytes as 40
 * characters.  Kiln's own, so that kiln itself need not load libzmq.
 * Tested in test_zmtp against libzmq's zmq_z85_encode and decode. */
#ifndef KILN_Z85_H
#define KILN_Z85_H

#include <stdbool.h>

/* text (41 bytes) from key (32 bytes). */
void z85_encode_key(char text[41], const unsigned char key[32]);

/* key from text: false unless text is exactly 40 Z85 characters. */
bool z85_decode_key(unsigned char key[32], const char *text);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The single-user mode's token (--auth none): a random secret in a file
 * only its owner can read, ~/.kiln/token (or $KILN_TOKEN_FILE).  The
 * server makes it; its owner's clients and workers present it (ZeroMQ
 * PLAIN, on loopback or ipc only), so no other local user reaches a
 * server that would run their jobs as its owner.  Tested in
 * tests/unit/test_token.c and t5001. */
#ifndef KILN_TOKEN_H
#define KILN_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/error.h"

enum { TOKEN_LEN = 64 }; /* hex characters */

/* Where the token is: $KILN_TOKEN_FILE, else $HOME/.kiln/token (HOME from
 * the password database when unset).  0 or -1 with err. */
int token_path(char *path, size_t len, struct kiln_error *err);

/* The server: read the token, or make it (its folder 0700, the file 0600)
 * when there is none.  A token file that others could read or that
 * belongs to someone else is refused.  0 or -1 with err. */
int token_load_or_create(char token[TOKEN_LEN + 1], struct kiln_error *err);

/* Clients and workers: 1 with the token read, 0 when there is no token
 * file (or it is not this user's to read), -1 with err when it is
 * malformed. */
int token_read(char token[TOKEN_LEN + 1], struct kiln_error *err);

/* Is endpoint one that only this machine can reach: ipc://, inproc://,
 * or tcp:// on a loopback address (127.0.0.0/8, [::1], localhost)? */
bool token_endpoint_local(const char *endpoint);

#endif

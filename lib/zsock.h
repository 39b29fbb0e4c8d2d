/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The security of a ZeroMQ client socket, for the worker and the test and
 * bench tools (kiln itself speaks through lib/zmtp): CURVE with the
 * server's key, or the single-user token over PLAIN. */
#ifndef KILN_ZSOCK_H
#define KILN_ZSOCK_H

#include "lib/error.h"
#include "lib/keys.h"

/* Make sock (not yet connected) a CURVE client of the server with this
 * public key, with the pair own.  -1 with errno on failure. */
int zsock_curve(void *sock, const char *server_public,
                const struct curve_key *own);

/* Make sock (not yet connected) speak CURVE to the server whose public key
 * is dir/server.pub, as a client with a key pair of its own: own, or a new
 * one when NULL.  1 when set, 0 when dir has no server.pub (the server then
 * runs --auth none, and sock stays plain), -1 with err set when it cannot
 * be read. */
int zsock_client_keys(void *sock, const char *dir, const struct curve_key *own,
                      struct kiln_error *err);

/* Present the single-user token on a socket before it connects (PLAIN). */
int zsock_token(void *sock, const char *token);

#endif

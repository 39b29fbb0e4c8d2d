/* SPDX-License-Identifier: GPL-2.0-or-later */
/* CURVE key files for the server and workers, made by kiln keygen.
 *
 *   DIR/server.key, DIR/server.pub     the server's pair; workers need .pub
 *   DIR/cluster.key, DIR/cluster.pub   a pair every worker may share
 *   DIR/workers/NAME.key, NAME.pub     one node's own pair
 *
 * A .key file holds "public = Z85" and "secret = Z85" lines and is mode
 * 0600; a .pub file holds the public line only.  The server accepts the
 * workers whose public key is cluster.pub or one of workers/NAME.pub.
 * Tested by test_keys and t5001. */
#ifndef KILN_KEYS_H
#define KILN_KEYS_H

#include <stdbool.h>
#include <time.h>

#include "lib/error.h"

#define KILN_DEFAULT_KEYS "/etc/kiln/keys"

struct curve_key {
    char public[41]; /* Z85 */
    char secret[41]; /* Z85, "" when only the public key was read */
};

/* Make a pair named name: server and cluster in dir, any other name in
 * dir/workers.  An existing pair is kept unless force.  The .key path is
 * written to keypath.  -1 with err set on failure. */
int keys_generate(const char *dir, const char *name, bool force, char *keypath,
                  size_t len, struct kiln_error *err);

/* Read a .key or .pub file; need_secret refuses a file without a secret
 * or readable by others than its owner. */
int keys_read(const char *path, bool need_secret, struct curve_key *k,
              struct kiln_error *err);

/* A new pair, as made for each client connection.  0, or -1. */
int keys_pair(struct curve_key *k);

/* Accept a worker's public key (Z85) as node name's: dir/workers/NAME.pub
 * (kept across restarts).  0, or -1 with err set. */
int keys_put_public(const char *dir, const char *name, const char *public,
                    struct kiln_error *err);
/* And no longer (its instance is gone). */
void keys_remove_public(const char *dir, const char *name);

/* The public keys the server accepts, from dir; reloaded when
 * keys_changed says the files moved. */
struct keyring;
struct keyring *keys_ring_load(const char *dir);
/* The name of the accepted key (binary, 32 bytes): "cluster", a worker's
 * name, or NULL when the key is not accepted. */
const char *keys_ring_find(struct keyring *r, const unsigned char key[32]);
int keys_ring_count(const struct keyring *r);
/* Re-read dir if cluster.pub or the workers folder changed since. */
struct keyring *keys_ring_refresh(struct keyring *r, const char *dir);
void keys_ring_free(struct keyring *r);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ZeroMQ socket options for CURVE keys and the single-user token. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "lib/zsock.h"

int zsock_curve(void *sock, const char *server_public,
                const struct curve_key *own)
{
    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, server_public, 41) < 0
        || zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, own->public, 41) < 0
        || zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, own->secret, 41) < 0)
        return -1;
    return 0;
}

int zsock_client_keys(void *sock, const char *dir, const struct curve_key *own,
                      struct kiln_error *err)
{
    struct curve_key server, mine;
    char path[4096];

    snprintf(path, sizeof(path), "%s/server.pub", dir);
    if (access(path, F_OK) < 0)
        return 0;
    if (keys_read(path, false, &server, err) < 0)
        return -1;
    if (own)
        mine = *own;
    else if (keys_pair(&mine) < 0)
        return errprintf(err, "cannot make a CURVE key pair");
    if (zsock_curve(sock, server.public, &mine) < 0)
        return errprintf(err, "cannot set CURVE keys: %s", zmq_strerror(errno));
    return 1;
}

int zsock_token(void *sock, const char *token)
{
    if (zmq_setsockopt(sock, ZMQ_PLAIN_USERNAME, "kiln", 4) < 0
        || zmq_setsockopt(sock, ZMQ_PLAIN_PASSWORD, token, strlen(token)) < 0)
        return -1;
    return 0;
}

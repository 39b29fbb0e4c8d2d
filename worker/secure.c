/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The worker's side of CURVE: the server's public key and this node's key
 * pair (lib/keys.h), set on its socket before it connects, and a monitor
 * that says in the log when the server refuses the handshake. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "lib/log.h"
#include "lib/zsock.h"
#include "worker/worker.h"

#define MONITOR "inproc://kiln-worker-monitor"

int secure_load(struct worker *w, const char *dir, const char *key,
                struct kiln_error *err)
{
    char path[PATH_MAX], own[PATH_MAX];
    struct curve_key server;

    snprintf(path, sizeof(path), "%s/server.pub", dir);
    if (keys_read(path, false, &server, err) < 0)
        return errprintf(err,
                         "%s: copy the server's server.pub here (or start with "
                         "--auth none, as the server must be)",
                         err->text);
    snprintf(w->server_key, sizeof(w->server_key), "%s", server.public);
    if (!realpath(dir, w->keys_dir))
        snprintf(w->keys_dir, sizeof(w->keys_dir), "%s", dir);
    if (!key) {
        snprintf(own, sizeof(own), "%s/workers/%s.key", dir, w->name);
        if (access(own, F_OK) < 0)
            snprintf(own, sizeof(own), "%s/cluster.key", dir);
        key = own;
    }
    if (keys_read(key, true, &w->key, err) < 0)
        return errprintf(
            err,
            "%s: this worker has no CURVE key; make one with kiln keygen "
            "(cluster, or this node's name) on the server",
            err->text);
    snprintf(w->key_path, sizeof(w->key_path), "%s", key);
    return 0;
}

void secure_socket(struct worker *w)
{
    zsock_curve(w->sock, w->server_key, &w->key);
    if (zmq_socket_monitor(w->sock, MONITOR,
                           ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
                               | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
                               | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL
                               | ZMQ_EVENT_HANDSHAKE_SUCCEEDED)
            == 0
        && (w->monitor = zmq_socket(w->ctx, ZMQ_PAIR))) {
        int zero = 0;
        zmq_setsockopt(w->monitor, ZMQ_LINGER, &zero, sizeof(zero));
        zmq_connect(w->monitor, MONITOR);
    }
}

/* Say once why the server turned us away, and again after a success. */
void secure_check(struct worker *w)
{
    zmq_msg_t ev, addr;

    while (w->monitor) {
        zmq_msg_init(&ev);
        if (zmq_msg_recv(&ev, w->monitor, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&ev);
            return;
        }
        uint16_t event = 0;
        uint32_t value = 0;
        if (zmq_msg_size(&ev) >= 6) {
            memcpy(&event, zmq_msg_data(&ev), 2);
            memcpy(&value, (char *)zmq_msg_data(&ev) + 2, 4);
        }
        int more = zmq_msg_more(&ev);
        zmq_msg_close(&ev);
        if (more) {
            zmq_msg_init(&addr);
            zmq_msg_recv(&addr, w->monitor, 0);
            zmq_msg_close(&addr);
        }
        if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
            w->refused = 0;
            continue;
        }
        if (w->refused == event)
            continue;
        w->refused = event;
        if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
            log_msg(LOG_ERR,
                    "the server refused this worker's CURVE key %s (%s, status "
                    "%u): its public key must be the server's cluster.pub or "
                    "workers/%s.pub",
                    w->key.public, w->key_path, (unsigned)value, w->name);
        else
            log_msg(
                LOG_ERR,
                "CURVE handshake with the server at %s failed (%s %u): is "
                "server.pub the server's, and does the server use --auth munge?",
                w->endpoint,
                event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL ? "protocol "
                                                               "error"
                                                             : "error",
                (unsigned)value);
    }
}

void secure_close(struct worker *w)
{
    if (w->monitor) {
        zmq_socket_monitor(w->sock, NULL, 0);
        zmq_close(w->monitor);
    }
}

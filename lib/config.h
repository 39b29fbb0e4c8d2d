/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The configuration file: an ini file read with inih.  Tested end to end
 * (t0001 client settings, t2004 declared queues and environments).
 *
 *   [client]  server = tcp://head:7810, keys (where server.pub is), local
 *   [server]  listen, local, worker_listen, state, log_level, node_timeout, kill_wait,
 *             start_timeout, max_jobs_per_user, advertise, heartbeat,
 *             auth, keys, admin_group, private_jobs
 *   [worker]  spool, name, cpus, log_level, ce, features, runtimes, auth,
 *             keys, key
 *   [queue NAME]  priority, ce (comma list, in order), state
 *   [ce NAME]     state, type, provider, min-vcpus, ... (kiln ce create's
 *                 options, lib/cespec.h)
 */
#ifndef KILN_CONFIG_H
#define KILN_CONFIG_H

#include <jansson.h>

#include "lib/error.h"

#define KILN_DEFAULT_SERVER "tcp://127.0.0.1:7810"
#define KILN_DEFAULT_STATE "/var/lib/kiln"
#define KILN_DEFAULT_SPOOL "/var/spool/kiln"
#define KILN_DEFAULT_CONFIG "/etc/kiln/kiln.conf"

/* Every value is a copy owned by the struct, or NULL when not set. */
struct kiln_config {
    char *server, *client_keys, *client_local;
    char *listen, *local, *worker_listen, *state, *log_level, *node_timeout,
        *kill_wait;
    char *start_timeout, *max_jobs_per_user, *advertise, *heartbeat;
    char *spool, *worker_name, *worker_cpus, *worker_log_level, *worker_ce;
    char *worker_features, *worker_runtimes;
    char *auth, *keys, *admin_group, *private_jobs;
    char *worker_auth, *worker_keys, *worker_key;
    /* Sections "[queue NAME]" and "[ce NAME]": {"queue": {NAME: {key:
     * value}}, "ce": {...}}, values as the server takes them. */
    json_t *declared;
};

/* Read path, or KILN_CONFIG from the environment, or the default file if it
 * exists.  A file named explicitly must exist.  Unknown sections and keys
 * are errors that name the line.  Returns 0 or -1 with err set. */
int config_load(const char *path, struct kiln_config *cfg,
                struct kiln_error *err);
void config_release(struct kiln_config *cfg);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Providers launch, list and terminate the instances of managed compute
 * environments.  Their calls can take seconds (an HTTPS round trip, a
 * site's script), so they run on a thread of their own, one operation
 * at a time, and never touch the server's state: an operation carries
 * copies of what it needs and comes back with its result, which the
 * server's loop applies in a turn (elastic.c).
 *
 * An instance's id is also its node's name, so a provider makes ids that
 * are valid node names (letters, digits and ._-+@:,). */
#ifndef KILN_PROVIDER_H
#define KILN_PROVIDER_H

#include <stdbool.h>
#include <jansson.h>

#include "lib/cespec.h"

enum op_kind { OP_LAUNCH, OP_TERMINATE, OP_DESCRIBE };

struct op {
    enum op_kind kind;
    char ce[64];
    struct cespec spec;
    json_t *conf; /* the environment's body (lib/cespec.h), a copy */
    /* launch: {"launch": ID, "type", "count", "spot", "vcpus",
     *          "worker": {"server", "ce", "join", "server_key", "auth",
     *                     "kiln"}, "dir"}
     * terminate: {"ids": [ID...], "dir"}
     * describe: {"dir"} */
    json_t *args;
    /* Set by the provider.  launch: {"instances": [{"id", "type",
     * "spot"}]}, describe: {"instances": [{"id", "launch", "type",
     * "spot"}]} (the live ones, with Kiln's tags), terminate: {} */
    json_t *result;
    int status;        /* 0, or -1 with code and message */
    char code[64];     /* e.g. InsufficientInstanceCapacity, AuthFailure */
    char message[512]; /* the provider's own words */
    struct op *next;
};

struct provider {
    const char *name;
    /* Run op and set its result, or status -1 with code and message. */
    void (*run)(struct op *op);
};

extern const struct provider provider_local, provider_ec2, provider_exec;

/* The thread that runs operations.  provider_pool_fd() becomes readable
 * when results wait; provider_pool_take() returns them (oldest first). */
struct provider_pool;
struct provider_pool *provider_pool_start(void);
int provider_pool_fd(const struct provider_pool *p);
void provider_pool_submit(struct provider_pool *p, struct op *op);
struct op *provider_pool_take(struct provider_pool *p);
/* Stop the thread after the operation it runs; ops not run are freed. */
void provider_pool_stop(struct provider_pool *p);

void op_free(struct op *op);
/* Set op's failure (status -1, code, message). */
void op_fail(struct op *op, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the benchmark programs share: a row of make bench's table, and
 * requests to a server as kiln makes them (signed with MUNGE, over CURVE
 * when KILN_KEYS names the keys; KILN_BENCH_AUTH=none for a single-user
 * server).  Each helper exits on failure: a benchmark has no use for a
 * figure after an error. */
#ifndef KILN_BENCHLIB_H
#define KILN_BENCHLIB_H

#include <jansson.h>

/* The socket bench_send and bench_recv use. */
extern void *bench_sock;

/* One row of the table: the figure, its value, and how it was had. */
void bench_row(const char *figure, const char *value, const char *how);

/* A client socket connected to the server at ep. */
void *bench_connect(void *ctx, const char *ep);

/* Send a request on bench_sock (body is taken). */
void bench_send(const char *type, json_t *body);
/* The next answer on bench_sock, which must be "ok" within 60 s. */
json_t *bench_recv(void);
/* One request, one answer. */
json_t *bench_call(const char *type, json_t *body);

/* A trivial job.submit body (true, output discarded), as this user. */
json_t *bench_job(void);

/* Cancel n jobs, 20,000 a request. */
void bench_cancel(const json_int_t *ids, int n);

#endif

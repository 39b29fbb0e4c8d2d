/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bench_store DIR N: write DIR/kiln.db as a server would have it after N
 * trivial jobs ran: for each job its row, a spec with a user's usual
 * environment, four events (RUNNABLE, STARTING, RUNNING, SUCCEEDED), its
 * attempt and usage.  make bench then starts a server on it to time
 * queries against a large store.  Prints the rows per second it wrote.
 * Not a pass/fail test. */
#include <stdio.h>
#include <stdlib.h>

#include "lib/store.h"
#include "lib/util.h"

/* What kiln submit sends for a script with the submitter's environment
 * (--export=ALL): about 1.5 KB of JSON, as a job from a login shell has. */
static json_t *spec_of(long i)
{
    json_t *env = json_object();
    char k[32], v[80];

    for (int e = 0; e < 24; e++) {
        snprintf(k, sizeof(k), "VARIABLE_%02d", e);
        snprintf(v, sizeof(v), "/home/user/some/value/of/the/login/shell/%ld",
                 i + e);
        json_object_set_new(env, k, json_string(v));
    }
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:o}", "name",
                     "bench", "script", "#!/bin/sh\ntrue\n", "output",
                     "/tmp/kiln-%j.out", "cwd", "/tmp", "submit_dir", "/tmp",
                     "user", "root", "uid", 0, "gid", 0, "environment", env);
}

int main(int argc, char **argv)
{
    struct kiln_error err;
    struct store *st;
    long n = argc > 2 ? atol(argv[2]) : 0, batch = 5000;

    if (argc != 3 || n <= 0) {
        fprintf(stderr, "usage: bench_store DIR N\n");
        return 2;
    }
    if (util_mkdir_p(argv[1], 0700) < 0 || !(st = store_open(argv[1], &err))) {
        fprintf(stderr, "bench_store: %s\n", argv[1]);
        return 1;
    }
    double t0 = util_monotonic(), when = util_now() - (double)n / 100;
    const enum job_state path[] = { JOB_STARTING, JOB_RUNNING, JOB_SUCCEEDED };
    for (long i = 0; i < n; i += batch) {
        if (store_begin(st) < 0)
            return 1;
        for (long j = i; j < i + batch && j < n; j++) {
            double t = when + (double)j / 100;
            struct store_job row = {
                .name = "bench",
                .user = "root",
                .queue = "default",
                .state = JOB_RUNNABLE,
                .exit_code = -1,
                .submit_time = t,
                .spec = spec_of(j),
                .array_index = -1,
            };
            store_job_insert(st, &row);
            json_decref(row.spec);
            row.node = "b0";
            row.cpus = "0";
            row.attempts = 1;
            row.start_time = t + 0.001;
            for (int p = 0; p < 3; p++) {
                row.state = path[p];
                if (row.state == JOB_SUCCEEDED) {
                    row.exit_code = 0;
                    row.end_time = t + 0.004;
                }
                store_job_update(st, &row, t + 0.001 * (p + 1));
            }
            store_attempt(st, row.id, 1, "b0", "0", row.start_time,
                          row.end_time, 0, 0, NULL);
            struct store_usage u = { 0.001, 0.001, 1024, 0 };
            store_attempt_usage(st, row.id, 1, &u);
        }
        if (store_commit(st) < 0) {
            fprintf(stderr, "bench_store: %s\n", store_error(st, NULL));
            return 1;
        }
    }
    printf("%.0f\n", (double)n / (util_monotonic() - t0));
    store_destroy(st);
    return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* How long lib/alloc takes to place a job on large nodes, half full, for
 * make bench.  Not a pass/fail test. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/alloc.h"
#include "lib/topo.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void run(const char *spec, struct alloc_req req, const char *what)
{
    struct kiln_error err;
    struct topo *t = topo_discover(spec, NULL, &err);
    if (!t) {
        fprintf(stderr, "bench_alloc: %s\n", err.text);
        exit(1);
    }
    struct alloc_node an = topo_alloc_node(t);
    bool *busy = calloc(t->npu, sizeof(*busy));
    int placed = 0, n = 2000;

    srand(7);
    for (int i = 0; i < t->npu; i++)
        busy[i] = rand() % 2; /* half the node taken, scattered */
    double t0 = now();
    for (int i = 0; i < n; i++) {
        struct alloc_result r;
        if (alloc_place(&an, busy, NULL, &req, &r) == 0) {
            placed++;
            alloc_result_release(&r);
        }
    }
    double us = (now() - t0) / n * 1e6;
    printf(
        "placement on %4d PUs (%s): %7.1f us per job, %s (%d of %d placed)\n",
        t->npu, spec, us, what, placed, n);
    free(busy);
    topo_destroy(t);
}

int main(void)
{
    struct alloc_req small = { .ntasks = 1, .cpus_per_task = 4 };
    struct alloc_req wide = { .ntasks = 16,
                              .cpus_per_task = 2,
                              .dist = ALLOC_CYCLIC };
    struct alloc_req cores = { .ntasks = 8,
                               .cpus_per_task = 1,
                               .threads_per_core = 1 };

    run("pack:2 numa:2 l3:2 core:4 pu:2", small, "4 cpus");
    run("pack:2 numa:2 l3:4 core:8 pu:2", small, "4 cpus");
    run("pack:2 numa:2 l3:4 core:8 pu:2", wide, "16 cyclic tasks x 2");
    run("pack:2 numa:2 l3:4 core:8 pu:2", cores, "8 whole cores");
    run("pack:2 numa:4 l3:8 core:8 pu:2", small, "4 cpus");
    return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for lib/alloc on hand-made and hwloc synthetic topologies. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/alloc.h"
#include "lib/topo.h"

static struct topo *synthetic(const char *spec)
{
    struct kiln_error err;
    struct topo *t = topo_discover(spec, NULL, &err);
    if (!t)
        fail_msg("%s", err.text);
    return t;
}

/* Place req, check it against busy, mark what it holds busy, and return
 * its cpuset as an OS cpu list; tasks (if not NULL) gets each task's list
 * joined by ' '. */
static char *place(struct topo *t, bool *busy, bool *gpu_busy,
                   struct alloc_req req, char *tasks, int *gpus)
{
    struct alloc_node an = topo_alloc_node(t);
    struct alloc_result r;

    if (alloc_place(&an, busy, gpu_busy, &req, &r) < 0)
        fail_msg("alloc_place: %s", strerror(errno));
    for (int i = 0; i < r.nheld; i++) {
        assert_false(busy[r.held[i]]);
        busy[r.held[i]] = true;
    }
    for (int i = 0; i < r.ngpu; i++) {
        assert_false(gpu_busy[r.gpu[i]]);
        gpu_busy[r.gpu[i]] = true;
        gpus[i] = r.gpu[i];
    }
    assert_int_equal(r.ngpu, req.gpus);
    if (tasks) {
        size_t n = 0;
        tasks[0] = 0;
        for (int k = 0; k < req.ntasks; k++) {
            char *c = topo_cpulist(t, r.task + k * req.cpus_per_task,
                                   req.cpus_per_task);
            n += (size_t)sprintf(tasks + n, "%s%s", k ? " " : "", c);
            free(c);
        }
    }
    char *s = topo_cpulist(t, r.cpus, r.ncpus);
    alloc_result_release(&r);
    return s;
}

/* Allocate need PUs as one task and mark them busy; return the list. */
static char *take(struct topo *t, bool *busy, int need)
{
    return place(t, busy, NULL,
                 (struct alloc_req){ .ntasks = 1, .cpus_per_task = need }, NULL,
                 NULL);
}

#define CHECK_CPUS(got, want)          \
    do {                               \
        char *g_ = (got);              \
        assert_string_equal(g_, want); \
        free(g_);                      \
    } while (0)

static void whole_cores_first(void **state)
{
    /* 1 package, 4 cores, 2 PUs each: OS numbering follows hwloc's. */
    struct topo *t = synthetic("pack:1 core:4 pu:2");
    bool *busy = calloc(t->npu, sizeof(*busy));
    char *a, *b, *c;

    a = take(t, busy, 1);
    assert_string_equal(a, "0");
    b = take(t, busy, 2); /* a whole free core, not PU 1 beside job a */
    assert_string_equal(b, "2-3");
    c = take(t, busy, 1); /* best fit: the half-used core */
    assert_string_equal(c, "1");
    free(a), free(b), free(c);
    free(busy);
    topo_destroy(t);
}

static void compact_within_package(void **state)
{
    /* 2 packages x 2 NUMA x 4 cores x 1 PU. */
    struct topo *t = synthetic("pack:2 numa:2 core:4 pu:1");
    bool *busy = calloc(t->npu, sizeof(*busy));
    char *a, *b, *c;

    assert_int_equal(t->npu, 16);
    assert_int_equal(t->npkg, 2);
    assert_int_equal(t->nnuma, 4);
    a = take(t, busy, 4); /* one NUMA node exactly */
    assert_string_equal(a, "0-3");
    b = take(t, busy, 6); /* does not fit a NUMA node; fits package 1 whole */
    assert_string_equal(b, "8-13");
    c = take(t, busy,
             3); /* best-fit NUMA node: the one with 2 left is too small,
                             NUMA 1 (4 free) fits */
    assert_string_equal(c, "4-6");
    free(a), free(b), free(c);
    free(busy);
    topo_destroy(t);
}

static void spans_packages_when_needed(void **state)
{
    struct topo *t = synthetic("pack:2 core:4 pu:1");
    bool *busy = calloc(t->npu, sizeof(*busy));
    char *a;

    a = take(t, busy, 6);
    assert_string_equal(a, "0-5");
    free(a);
    struct alloc_node an = topo_alloc_node(t);
    struct alloc_req req = { .ntasks = 1, .cpus_per_task = 3 };
    struct alloc_result r;
    errno = 0;
    assert_int_equal(alloc_place(&an, busy, NULL, &req, &r), -1);
    assert_int_equal(errno, ENOSPC);
    req.cpus_per_task = 0;
    assert_int_equal(alloc_place(&an, busy, NULL, &req, &r), -1);
    assert_int_equal(errno, EINVAL);
    free(busy);
    topo_destroy(t);
}

static void smt_nomultithread(void **state)
{
    /* One package, 8 cores with 2 PUs each. */
    struct topo *t = synthetic("pack:1 core:8 pu:2");
    bool *busy = calloc(t->npu, sizeof(*busy));
    char tasks[256];

    /* One PU per core: the job runs on 0,2,4,6 and holds cores 0-3 whole. */
    CHECK_CPUS(place(t, busy, NULL,
                     (struct alloc_req){ .ntasks = 2,
                                         .cpus_per_task = 2,
                                         .threads_per_core = 1 },
                     tasks, NULL),
               "0,2,4,6");
    assert_string_equal(tasks, "0,2 4,6");
    for (int i = 0; i < 8; i++)
        assert_true(busy[i]);
    assert_false(busy[8]);
    /* Without the hint, threads are cpus: 3 cpus take core 4 whole and half
     * of core 5, the rest of which a 1-cpu job then fills. */
    CHECK_CPUS(take(t, busy, 3), "8-10");
    CHECK_CPUS(take(t, busy, 1), "11");
    free(busy);
    topo_destroy(t);
}

static void two_sockets_one_package(void **state)
{
    /* 2 packages x 16 cores: a 16-core job lands on one package. */
    struct topo *t = synthetic("pack:2 core:16 pu:1");
    bool *busy = calloc(t->npu, sizeof(*busy));

    CHECK_CPUS(take(t, busy, 2), "0-1");
    CHECK_CPUS(take(t, busy, 16), "16-31");
    CHECK_CPUS(take(t, busy, 14), "2-15");
    free(busy);
    topo_destroy(t);
}

static void two_sockets_two_numa(void **state)
{
    /* 2 packages x 2 NUMA nodes x 8 cores. */
    struct topo *t = synthetic("pack:2 numa:2 core:8 pu:1");
    bool *busy = calloc(t->npu, sizeof(*busy));

    CHECK_CPUS(take(t, busy, 6), "0-5");  /* one NUMA node */
    CHECK_CPUS(take(t, busy, 8), "8-15"); /* a whole NUMA node, not 6-7 + 6 */
    CHECK_CPUS(take(t, busy, 2), "6-7");  /* best fit: the hole left */
    CHECK_CPUS(take(t, busy, 12),
               "16-27"); /* package 1: NUMA 2 whole + 4 of NUMA 3 */
    free(busy);
    topo_destroy(t);
}

static void l3_groups(void **state)
{
    /* A 64-core part with 8 L3 groups of 8 cores. */
    struct topo *t = synthetic("pack:1 l3:8 core:8 pu:1");
    bool *busy = calloc(t->npu, sizeof(*busy));

    assert_int_equal(t->nl3, 8);
    CHECK_CPUS(take(t, busy, 3), "0-2");
    CHECK_CPUS(take(t, busy, 8), "8-15");   /* a whole L3 group, not 3-10 */
    CHECK_CPUS(take(t, busy, 5), "3-7");    /* fills group 0 exactly */
    CHECK_CPUS(take(t, busy, 12), "16-27"); /* two groups, the first whole */
    CHECK_CPUS(take(t, busy, 4), "28-31");  /* best fit: the half group */
    free(busy);
    topo_destroy(t);
}

static void cyclic_alternates_packages(void **state)
{
    struct topo *t = synthetic("pack:2 core:4 pu:1");
    bool *busy = calloc(t->npu, sizeof(*busy));
    char tasks[256];

    CHECK_CPUS(place(t, busy, NULL,
                     (struct alloc_req){ .ntasks = 4,
                                         .cpus_per_task = 1,
                                         .dist = ALLOC_CYCLIC },
                     tasks, NULL),
               "0-1,4-5");
    assert_string_equal(tasks, "0 4 1 5");
    /* Block keeps a task's neighbours together. */
    CHECK_CPUS(place(t, busy, NULL,
                     (struct alloc_req){ .ntasks = 2, .cpus_per_task = 2 },
                     tasks, NULL),
               "2-3,6-7");
    assert_string_equal(tasks, "2-3 6-7");
    free(busy);
    topo_destroy(t);
}

static void gpus_near_their_package(void **state)
{
    /* 2 packages x 4 cores, GPU 0 on package 0, GPUs 1 and 2 on package 1. */
    struct topo *t = synthetic("pack:2 core:4 pu:1");
    struct alloc_gpu g[3] = { { 0, 0 }, { 1, 1 }, { 1, 1 } };
    bool *busy = calloc(t->npu, sizeof(*busy)), gbusy[3] = { false };
    int gpus[3];

    t->gpu = g;
    t->ngpu = 3;
    /* Two GPUs: only package 1 has two, and the cores come from there. */
    CHECK_CPUS(
        place(t, busy, gbusy,
              (struct alloc_req){ .ntasks = 1, .cpus_per_task = 2, .gpus = 2 },
              NULL, gpus),
        "4-5");
    assert_int_equal(gpus[0], 1);
    assert_int_equal(gpus[1], 2);
    /* One GPU: GPU 0, with package 0's cores, though package 1 has room. */
    CHECK_CPUS(
        place(t, busy, gbusy,
              (struct alloc_req){ .ntasks = 1, .cpus_per_task = 2, .gpus = 1 },
              NULL, gpus),
        "0-1");
    assert_int_equal(gpus[0], 0);
    /* None left. */
    struct alloc_node an = topo_alloc_node(t);
    struct alloc_result r;
    struct alloc_req req = { .ntasks = 1, .cpus_per_task = 1, .gpus = 1 };
    assert_int_equal(alloc_place(&an, busy, gbusy, &req, &r), -1);
    assert_int_equal(errno, ENOSPC);
    t->gpu = NULL;
    t->ngpu = 0;
    free(busy);
    topo_destroy(t);
}

static void exclusive_takes_the_node(void **state)
{
    struct topo *t = synthetic("pack:1 core:4 pu:2");
    bool *busy = calloc(t->npu, sizeof(*busy));
    char tasks[64];

    CHECK_CPUS(place(t, busy, NULL,
                     (struct alloc_req){
                         .ntasks = 1, .cpus_per_task = 2, .exclusive = true },
                     tasks, NULL),
               "0-7");
    assert_string_equal(tasks, "0-1");
    for (int i = 0; i < 8; i++)
        busy[i] = i == 5;
    struct alloc_node an = topo_alloc_node(t);
    struct alloc_result r;
    struct alloc_req req = { .ntasks = 1,
                             .cpus_per_task = 1,
                             .exclusive = true };
    assert_int_equal(alloc_place(&an, busy, NULL, &req, &r), -1);
    assert_int_equal(errno, ENOSPC);
    free(busy);
    topo_destroy(t);
}

static void never_twice(void **state)
{
    /* Fill and free at random with mixed shapes; no PU is ever handed out
     * twice, and every task gets what it asked for. */
    struct topo *t = synthetic("pack:2 numa:2 l3:2 core:4 pu:2");
    struct alloc_node an = topo_alloc_node(t);
    bool *busy = calloc(t->npu, sizeof(*busy));
    int owner[64];

    assert_int_equal(t->npu, 64);
    memset(owner, -1, sizeof(owner));
    srand(42);
    for (int round = 0; round < 5000; round++) {
        struct alloc_req req = { .ntasks = 1 + rand() % 3,
                                 .cpus_per_task = 1 + rand() % 4,
                                 .threads_per_core = rand() % 3 == 0,
                                 .dist =
                                     rand() % 2 ? ALLOC_CYCLIC : ALLOC_BLOCK,
                                 .exclusive = rand() % 50 == 0 };
        struct alloc_result r;
        if (alloc_place(&an, busy, NULL, &req, &r) == 0) {
            assert_int_equal(r.ncpus, req.exclusive
                                          ? t->npu
                                          : req.ntasks * req.cpus_per_task);
            for (int i = 0; i < r.nheld; i++) {
                assert_false(busy[r.held[i]]);
                busy[r.held[i]] = true;
                owner[r.held[i]] = round;
            }
            for (int i = 0; i < req.ntasks * req.cpus_per_task; i++)
                assert_int_equal(owner[r.task[i]], round);
            alloc_result_release(&r);
        } else {
            assert_int_equal(errno, ENOSPC);
        }
        int victim = owner[rand() % t->npu];
        for (int i = 0; victim >= 0 && i < t->npu; i++)
            if (owner[i] == victim) {
                busy[i] = false;
                owner[i] = -1;
            }
    }
    free(busy);
    topo_destroy(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(whole_cores_first),
        cmocka_unit_test(compact_within_package),
        cmocka_unit_test(spans_packages_when_needed),
        cmocka_unit_test(smt_nomultithread),
        cmocka_unit_test(two_sockets_one_package),
        cmocka_unit_test(two_sockets_two_numa),
        cmocka_unit_test(l3_groups),
        cmocka_unit_test(cyclic_alternates_packages),
        cmocka_unit_test(gpus_near_their_package),
        cmocka_unit_test(exclusive_takes_the_node),
        cmocka_unit_test(never_twice),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

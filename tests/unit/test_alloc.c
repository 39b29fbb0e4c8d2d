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

/* Allocate need PUs and mark them busy; return the OS cpu list. */
static char *take(struct topo *t, bool *busy, int need)
{
    int *idx = calloc(need, sizeof(*idx));
    assert_int_equal(alloc_choose(t->pu, t->npu, busy, need, idx), need);
    for (int i = 0; i < need; i++) {
        assert_false(busy[idx[i]]);
        busy[idx[i]] = true;
    }
    char *s = topo_cpulist(t, idx, need);
    free(idx);
    return s;
}

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
    c = take(t, busy, 3); /* best-fit NUMA node: the one with 2 left is too small,
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
    int idx[8];
    errno = 0;
    assert_int_equal(alloc_choose(t->pu, t->npu, busy, 3, idx), -1);
    assert_int_equal(errno, ENOSPC);
    assert_int_equal(alloc_choose(t->pu, t->npu, busy, 0, idx), -1);
    free(busy);
    topo_destroy(t);
}

static void never_twice(void **state)
{
    /* Fill and free at random; no PU is ever handed out twice. */
    struct topo *t = synthetic("pack:2 numa:2 core:8 pu:2");
    bool *busy = calloc(t->npu, sizeof(*busy));
    int owner[64], idx[64];

    memset(owner, -1, sizeof(owner));
    srand(42);
    for (int round = 0; round < 2000; round++) {
        int need = 1 + rand() % 8;
        if (alloc_choose(t->pu, t->npu, busy, need, idx) == need) {
            for (int i = 0; i < need; i++) {
                assert_false(busy[idx[i]]);
                busy[idx[i]] = true;
                owner[idx[i]] = round;
            }
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
        cmocka_unit_test(never_twice),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

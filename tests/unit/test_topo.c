/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for lib/topo: discovery, restriction, JSON both ways. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/topo.h"

static void this_machine(void **state)
{
    struct kiln_error err;
    struct topo *t = topo_discover(NULL, NULL, &err);

    assert_non_null(t);
    assert_true(t->npu >= 1);
    assert_true(t->mem_mib > 0);
    topo_destroy(t);
    t = topo_discover(NULL, "0", &err);
    assert_non_null(t);
    assert_int_equal(t->npu, 1);
    assert_int_equal(t->pu[0].os, 0);
    topo_destroy(t);
    assert_null(topo_discover(NULL, "100000", &err));
    assert_non_null(strstr(err.text, "does not have"));
    assert_null(topo_discover(NULL, "x-y", &err));
    assert_null(topo_discover("pack:banana", NULL, &err));
}

static void json_roundtrip(void **state)
{
    struct kiln_error err;
    struct topo *t = topo_discover("pack:2 numa:1 core:2 pu:2", "2-5", &err),
                *u;
    json_t *o;
    int idx[8];

    assert_non_null(t);
    assert_int_equal(t->npu, 4);
    assert_int_equal(t->ncores, 2);
    assert_int_equal(t->npkg, 2);
    o = topo_to_json(t);
    u = topo_from_json(o, &err);
    assert_non_null(u);
    assert_int_equal(u->npu, 4);
    assert_memory_equal(u->pu, t->pu, 4 * sizeof(*t->pu));
    assert_int_equal(topo_indices(u, "3,5", idx), 2);
    assert_int_equal(u->pu[idx[0]].os, 3);
    assert_int_equal(topo_indices(u, "0", idx), -1); /* not managed */
    char *s = topo_cpulist(u, (int[]){ 0, 1, 3 }, 3);
    assert_string_equal(s, "2-3,5");
    free(s);
    json_decref(o);
    topo_destroy(t);
    topo_destroy(u);
}

static void bad_json(void **state)
{
    static const char *bad[] = {
        "{}",
        "{\"memory_mib\":1,\"pu\":[]}",
        "{\"memory_mib\":1,\"pu\":[[0,0,0]]}",
        "{\"memory_mib\":1,\"pu\":[[0,0,0,0],[0,1,0,0]]}",
        "{\"memory_mib\":-1,\"pu\":[[0,0,0,0]]}",
        "{\"memory_mib\":1,\"pu\":[[-1,0,0,0]]}",
        "{\"memory_mib\":1,\"pu\":\"x\"}",
    };
    struct kiln_error err;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *o = json_loads(bad[i], 0, NULL);
        assert_non_null(o);
        assert_null(topo_from_json(o, &err));
        json_decref(o);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(this_machine),
        cmocka_unit_test(json_roundtrip),
        cmocka_unit_test(bad_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for lib/hostlist. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/hostlist.h"

static char *joined(json_t *a)
{
    static char buf[512];
    size_t i, n = 0;
    json_t *v;

    buf[0] = 0;
    json_array_foreach(a, i, v)
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", i ? " " : "",
                              json_string_value(v));
    return buf;
}

static void expands(void **state)
{
    struct kiln_error err;
    json_t *a = hostlist_expand("node[1-3,7],gpu[01-02],login", &err);

    assert_non_null(a);
    assert_string_equal(joined(a), "node1 node2 node3 node7 gpu01 gpu02 login");
    assert_true(hostlist_has(a, "gpu02"));
    assert_false(hostlist_has(a, "node4"));
    char *c = hostlist_compress(a);
    assert_string_equal(c, "gpu[01-02],login,node[1-3,7]");
    free(c);
    json_decref(a);
}

static void refuses_malformed(void **state)
{
    static const char *bad[] = { "", "a[1-", "a]", "a[x]", "a[3-1]", "a,,b", "a b",
                                 "a[1-100000]", "a;rm", ",a", "a[]", NULL };
    struct kiln_error err;

    for (int i = 0; bad[i]; i++) {
        json_t *a = hostlist_expand(bad[i], &err);
        if (a)
            fail_msg("'%s' was accepted", bad[i]);
        assert_non_null(strstr(err.text, "invalid host list"));
    }
}

static void compresses(void **state)
{
    json_t *a = json_pack("[s,s,s,s]", "n3", "n1", "n2", "x");
    char *c = hostlist_compress(a);

    assert_string_equal(c, "n[1-3],x");
    free(c);
    json_decref(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(expands),
        cmocka_unit_test(refuses_malformed),
        cmocka_unit_test(compresses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

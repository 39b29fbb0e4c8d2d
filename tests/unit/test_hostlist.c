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

static void parses(void **state)
{
    struct kiln_error err;
    struct hostlist *hl = hostlist_parse("node[1-3,7],gpu[01-02],login", &err);

    assert_non_null(hl);
    assert_int_equal(hostlist_count(hl), 7);
    assert_true(hostlist_has(hl, "gpu02"));
    assert_true(hostlist_has(hl, "node7"));
    assert_true(hostlist_has(hl, "login"));
    assert_false(hostlist_has(hl, "node4"));
    assert_false(hostlist_has(hl, "gpu2")); /* the width of 01 counts */
    hostlist_free(hl);
    /* 65,536 hosts stay a range, not 65,536 names. */
    hl = hostlist_parse("n[1-65536]", &err);
    assert_int_equal(hostlist_count(hl), 65536);
    assert_true(hostlist_has(hl, "n40000"));
    hostlist_free(hl);
}

static void compresses(void **state)
{
    const char *names[] = { "th3", "th1", "th2", "login", "th1" };
    char *c = hostlist_compress(names, 5);

    assert_string_equal(c, "login,th[1-3]");
    free(c);
}

/* Every name, in order, bounded. */
static void expands(void **state)
{
    struct kiln_error err;
    int n = 0;
    char **names = hostlist_expand("node[08-10],gpu1", 100, &n, &err);

    assert_non_null(names);
    assert_int_equal(n, 4);
    assert_string_equal(names[0], "node08");
    assert_string_equal(names[2], "node10");
    assert_string_equal(names[3], "gpu1");
    assert_null(names[4]);
    hostlist_names_free(names);
    assert_null(hostlist_expand("n[1-200]", 100, &n, &err));
    assert_non_null(strstr(err.text, "at most 100"));
    assert_null(hostlist_expand("n[1-", 100, &n, &err));
}

static void refuses_malformed(void **state)
{
    static const char *bad[] = {
        "",
        "a[1-",
        "a]",
        "a[x]",
        "a[3-1]",
        "a,,b",
        "a b",
        "a[1-100000]",
        "a;rm",
        ",a",
        "a[]",
        "a[1-2,]",
        "a[0-9223372036854775807]",
        "a[99999999999999999999]",
        "a[1-9223372036854775807,1-9223372036854775807]",
        "nO[6,-0]",
        "a[1- 2]",
        "a[+1]",
        "a[1--2]",
        "a[0-99][0-99]",
        "a[1-40000],b[1-40000]",
        NULL
    };
    struct kiln_error err;

    for (int i = 0; bad[i]; i++) {
        struct hostlist *hl = hostlist_parse(bad[i], &err);
        if (hl)
            fail_msg("'%s' was accepted", bad[i]);
        assert_non_null(strstr(err.text, "invalid host list"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses),
        cmocka_unit_test(compresses),
        cmocka_unit_test(expands),
        cmocka_unit_test(refuses_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

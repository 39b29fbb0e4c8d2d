/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for lib/features. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "lib/features.h"

static void expressions(void **state)
{
    assert_true(features_expr_ok("avx512"));
    assert_true(features_expr_ok("avx512&ib|bigmem"));
    assert_true(features_expr_ok("a,b"));
    assert_false(features_expr_ok(""));
    assert_false(features_expr_ok("a&&b"));
    assert_false(features_expr_ok("a|"));
    assert_false(features_expr_ok("a b"));
    assert_false(features_expr_ok("(a)"));
    assert_true(features_list_ok("avx512,ib"));
    assert_false(features_list_ok("avx512&ib"));
}

static void matching(void **state)
{
    const char *node = "avx512,ib,rack3";

    assert_true(features_match("ib", node));
    assert_true(features_match("avx512&ib", node));
    assert_true(features_match("avx512,rack3", node));
    assert_false(features_match("avx512&gpu", node));
    assert_true(features_match("gpu|ib", node));
    assert_true(features_match("gpu&x|avx512&rack3", node));
    assert_false(features_match("gpu&x|avx512&rack4", node));
    assert_false(features_match("av", node)); /* whole names only */
    assert_false(features_match("ib", NULL));
    assert_false(features_match("ib", ""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(expressions),
        cmocka_unit_test(matching),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

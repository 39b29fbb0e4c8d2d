/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for lib/arrayspec: Slurm's array index syntax. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/arrayspec.h"

static void expect(const char *spec, const long *want, size_t nwant, long throttle)
{
    long *idx, t;
    size_t n;
    struct kiln_error err;

    if (arrayspec_parse(spec, &idx, &n, &t, &err) < 0)
        fail_msg("'%s' refused: %s", spec, err.text);
    assert_int_equal(n, nwant);
    assert_memory_equal(idx, want, n * sizeof(*idx));
    assert_int_equal(t, throttle);
    free(idx);
}

static void forms(void **state)
{
    expect("0-3", (long[]){ 0, 1, 2, 3 }, 4, 0);
    expect("1-10:4", (long[]){ 1, 5, 9 }, 3, 0);
    expect("9,1,5", (long[]){ 1, 5, 9 }, 3, 0);
    expect("3,1-4%2", (long[]){ 1, 2, 3, 4 }, 4, 2);
    expect("7", (long[]){ 7 }, 1, 0);
}

static void refused(void **state)
{
    static const char *bad[] = { "", "x", "5-1", "1-", "-1", "1,,2", "1-4:0", "1%0", "1%",
                                 "1-2-3", "0-2000000", "99999999", "1 2", "1,%3" };
    long *idx, t;
    size_t n;
    struct kiln_error err;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        errno = 0;
        if (arrayspec_parse(bad[i], &idx, &n, &t, &err) == 0)
            fail_msg("'%s' accepted", bad[i]);
        assert_int_equal(errno, EINVAL);
    }
}

static void large_and_find(void **state)
{
    long *idx, t;
    size_t n;
    struct kiln_error err;

    assert_int_equal(arrayspec_parse("0-99999", &idx, &n, &t, &err), 0);
    assert_int_equal(n, 100000);
    assert_int_equal(arrayspec_find(idx, n, 0), 0);
    assert_int_equal(arrayspec_find(idx, n, 77777), 77777);
    assert_int_equal(arrayspec_find(idx, n, 100000), -1);
    free(idx);
    assert_int_equal(arrayspec_parse("1-10:3", &idx, &n, &t, &err), 0);
    assert_int_equal(arrayspec_find(idx, n, 7), 2);
    assert_int_equal(arrayspec_find(idx, n, 8), -1);
    free(idx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(forms),
        cmocka_unit_test(refused),
        cmocka_unit_test(large_and_find),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

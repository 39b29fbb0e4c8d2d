/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for lib/arrayspec: Slurm's array index syntax, held as
 * ranges. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/arrayspec.h"

/* Every index in order through arrayspec_at, and back through find. */
static void expect(const char *spec, const long *want, size_t nwant,
                   long throttle)
{
    struct arrayspec a;
    struct kiln_error err;

    if (arrayspec_parse(spec, &a, &err) < 0)
        fail_msg("'%s' refused: %s", spec, err.text);
    assert_int_equal(arrayspec_check(spec, &err), 0);
    assert_int_equal(a.n, nwant);
    for (size_t i = 0; i < nwant; i++) {
        assert_int_equal(arrayspec_at(&a, i), want[i]);
        assert_int_equal(arrayspec_find(&a, want[i]), (long)i);
    }
    assert_int_equal(a.throttle, throttle);
    arrayspec_release(&a);
}

static void forms(void **state)
{
    (void)state;
    expect("0-3", (long[]){ 0, 1, 2, 3 }, 4, 0);
    expect("1-10:4", (long[]){ 1, 5, 9 }, 3, 0);
    expect("1-11:4", (long[]){ 1, 5, 9 }, 3, 0);
    expect("9,1,5", (long[]){ 1, 5, 9 }, 3, 0);
    expect("3,1-4%2", (long[]){ 1, 2, 3, 4 }, 4, 2);
    expect("7", (long[]){ 7 }, 1, 0);
    expect("7,7,7", (long[]){ 7 }, 1, 0);
    /* Overlapping ranges, with and without steps. */
    expect("1-9:4,3", (long[]){ 1, 3, 5, 9 }, 4, 0);
    expect("0-12:3,0-12:4", (long[]){ 0, 3, 4, 6, 8, 9, 12 }, 7, 0);
    expect("5-8,1-6", (long[]){ 1, 2, 3, 4, 5, 6, 7, 8 }, 8, 0);
    expect("20-30:10,0-10:10", (long[]){ 0, 10, 20, 30 }, 4, 0);
}

static void refused(void **state)
{
    static const char *bad[] = { "",      "x",         "5-1",
                                 "1-",    "-1",        "1,,2",
                                 "1-4:0", "1%0",       "1%",
                                 "1-2-3", "0-2000000", "99999999",
                                 "1 2",   "1,%3",      "0-999999,0-999999" };
    struct arrayspec a;
    struct kiln_error err;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        errno = 0;
        if (arrayspec_parse(bad[i], &a, &err) == 0)
            fail_msg("'%s' accepted", bad[i]);
        assert_int_equal(errno, EINVAL);
        assert_int_equal(arrayspec_check(bad[i], &err), -1);
    }
}

/* A million children cost one range, not a million entries. */
static void large_and_find(void **state)
{
    struct arrayspec a;
    struct kiln_error err;

    (void)state;
    assert_int_equal(arrayspec_parse("0-999999", &a, &err), 0);
    assert_int_equal(a.n, 1000000);
    assert_int_equal(a.nr, 1);
    assert_int_equal(arrayspec_find(&a, 0), 0);
    assert_int_equal(arrayspec_find(&a, 777777), 777777);
    assert_int_equal(arrayspec_find(&a, 1000000), -1);
    assert_int_equal(arrayspec_at(&a, 999999), 999999);
    arrayspec_release(&a);
    assert_int_equal(arrayspec_parse("1-10:3", &a, &err), 0);
    assert_int_equal(arrayspec_find(&a, 7), 2);
    assert_int_equal(arrayspec_find(&a, 8), -1);
    assert_int_equal(arrayspec_find(&a, 0), -1);
    arrayspec_release(&a);
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

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for lib/units: time limits, memory sizes, counts, elapsed. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "lib/units.h"

static void time_forms(void **state)
{
    static const struct {
        const char *in;
        int64_t secs;
    } ok[] = {
        { "10", 600 },       { "0", 0 },           { "1:30", 90 },
        { "2:00:05", 7205 }, { "1-0", 86400 },     { "1-2", 93600 },
        { "1-2:3", 93780 },  { "1-2:3:4", 93784 }, { "unlimited", 0 },
        { "INFINITE", 0 },
    };
    static const char *bad[] = { "",
                                 "xyz",
                                 "1:",
                                 ":1",
                                 "1:2:3:4",
                                 "-1",
                                 "1-",
                                 "1-2-3",
                                 "5m",
                                 "1.5",
                                 " 1",
                                 "99999999999999999999",
                                 "55-8555555555555555",
                                 "1:9999999999999999",
                                 "153722867280912931" };
    int64_t v;

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_int_equal(units_parse_time(ok[i].in, &v), 0);
        assert_int_equal(v, ok[i].secs);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        errno = 0;
        assert_int_equal(units_parse_time(bad[i], &v), -1);
        assert_int_equal(errno, EINVAL);
    }
    assert_int_equal(units_parse_time(NULL, &v), -1);
}

static void mem_forms(void **state)
{
    static const struct {
        const char *in;
        int64_t mib;
    } ok[] = {
        { "512", 512 },    { "512M", 512 },  { "4G", 4096 }, { "4g", 4096 },
        { "1T", 1048576 }, { "1024K", 1 },   { "1K", 1 },    { "2GB", 2048 },
        { "2GiB", 2048 },  { "100MB", 100 },
    };
    static const char *bad[] = {
        "", "-1", "0", "abc", "4X", "4GG", "1.5G", "G"
    };
    int64_t v;

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_int_equal(units_parse_mem(ok[i].in, &v), 0);
        assert_int_equal(v, ok[i].mib);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(units_parse_mem(bad[i], &v), -1);
}

static void counts(void **state)
{
    long v;

    assert_int_equal(units_parse_count("4", 10, &v), 0);
    assert_int_equal(v, 4);
    assert_int_equal(units_parse_count("11", 10, &v), -1);
    assert_int_equal(units_parse_count("0", 10, &v), -1);
    assert_int_equal(units_parse_count("abc", 10, &v), -1);
    assert_int_equal(units_parse_count("3x", 10, &v), -1);
    assert_int_equal(units_parse_count("-3", 10, &v), -1);
    assert_int_equal(units_parse_count("", 10, &v), -1);
}

static void elapsed(void **state)
{
    char buf[32];

    units_format_elapsed(0, buf, sizeof(buf));
    assert_string_equal(buf, "00:00:00");
    units_format_elapsed(3725, buf, sizeof(buf));
    assert_string_equal(buf, "01:02:05");
    units_format_elapsed(93784, buf, sizeof(buf));
    assert_string_equal(buf, "1-02:03:04");
    units_format_elapsed(-5, buf, sizeof(buf));
    assert_string_equal(buf, "00:00:00");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(time_forms),
        cmocka_unit_test(mem_forms),
        cmocka_unit_test(counts),
        cmocka_unit_test(elapsed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

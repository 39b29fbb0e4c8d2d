/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for lib/util: UTF-8 made valid before text goes into JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>

#include "lib/error.h"
#include "lib/util.h"

static void fix(const char *in, size_t max, const char *want)
{
    char buf[64];

    snprintf(buf, sizeof(buf), "%s", in);
    assert_int_equal(util_utf8_fix(buf, max), strlen(want));
    assert_string_equal(buf, want);
}

static void utf8(void **state)
{
    (void)state;
    fix("plain", 0, "plain");
    fix("caf\xc3\xa9", 0, "caf\xc3\xa9");
    fix("caf\xc3", 0, "caf");                       /* cut in two at the end */
    fix("\xe2\x82\xac\xe2\x82", 0, "\xe2\x82\xac"); /* euro, then half of one */
    fix("a\xffz", 0, "a?z");                        /* not UTF-8 at all */
    fix("a\xc0\xafz", 0, "a??z");                   /* overlong */
    fix("\xed\xa0\x80", 0, "???");                  /* a surrogate */
    fix("caf\xc3\xa9", 4, "caf"); /* a limit inside a character */
    fix("caf\xc3\xa9", 5, "caf\xc3\xa9");
}

/* A "%.5s" that cuts a character still makes a message JSON takes. */
static void errprintf_cut(void **state)
{
    struct kiln_error err;

    (void)state;
    errprintf(&err, "bad name '%.4s'", "caf\xc3\xa9-long");
    assert_string_equal(err.text, "bad name 'caf'");
    json_t *o = json_pack("{s:s}", "error", err.text);
    assert_non_null(o);
    json_decref(o);
}

static void cpulist(void **state)
{
    cpu_set_t set;

    assert_int_equal(util_cpulist_parse("0-3,8,10-11", &set), 0);
    assert_int_equal(CPU_COUNT(&set), 7);
    assert_true(CPU_ISSET(3, &set) && CPU_ISSET(8, &set)
                && CPU_ISSET(11, &set));
    assert_false(CPU_ISSET(9, &set));
    assert_int_equal(util_cpulist_parse("5", &set), 0);
    assert_int_equal(CPU_COUNT(&set), 1);
    const char *bad[] = { "",  "-1",  "3-1",     "1,",   ",1", "1-",
                          "a", "1 2", "0-99999", "1,,2", NULL };
    for (int i = 0; bad[i]; i++)
        assert_int_equal(util_cpulist_parse(bad[i], &set), -1);
    assert_int_equal(util_cpulist_parse(NULL, &set), -1);
}

/* The start time is field 22 of /proc/PID/stat (it once read field 21,
 * always 0, and so told no process from another with its pid). */
static void starttime(void **state)
{
    char *text = util_read_file("/proc/self/stat", 4096, NULL);
    unsigned long long want = 0;
    char *p = strrchr(text, ')');

    assert_non_null(p);
    assert_int_equal(sscanf(p + 2,
                            "%*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s "
                            "%*s %*s %*s %*s %*s %*s %*s %llu",
                            &want),
                     1);
    free(text);
    assert_true(want > 0);
    assert_int_equal(util_proc_starttime(getpid()), want);
    assert_int_equal(util_proc_starttime(-1), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(utf8),
        cmocka_unit_test(starttime),
        cmocka_unit_test(cpulist),
        cmocka_unit_test(errprintf_cut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

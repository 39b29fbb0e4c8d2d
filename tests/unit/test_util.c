/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for lib/util: UTF-8 made valid before text goes into JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>

#include "lib/error.h"
#include "lib/log.h"
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

/* A message is one line, whatever it holds: a newline in a user's string
 * cannot start a line of its own in a daemon's log. */
static void log_one_line(void **state)
{
    FILE *f = tmpfile();
    char buf[8192], *nl;
    size_t n;
    char big[6000];

    (void)state;
    assert_non_null(f);
    log_init("test", LOG_INFO, f);
    log_msg(LOG_WARNING, "path %s",
            "/a\n2026-01-01T00:00:00.000Z server crit: x\r\x7f");
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    log_msg(LOG_INFO, "%s", big);
    rewind(f);
    n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    nl = strchr(buf, '\n');
    assert_non_null(nl);
    *nl = '\0';
    assert_non_null(strstr(
        buf,
        " test warning: path /a?2026-01-01T00:00:00.000Z server crit: x??"));
    /* The long one: cut, and ended by its newline. */
    assert_non_null(strstr(nl + 1, " test info: xxx"));
    assert_int_equal(buf[n - 1], '\n');
    assert_int_equal(strchr(nl + 1, '\n'), buf + n - 1);
    assert_true(n - (size_t)(nl + 1 - buf) <= 4096);
    log_init("test", LOG_INFO, NULL);
    fclose(f);
}

static void touch(const char *dir, const char *name)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    assert_int_equal(util_write_atomic(p, "x", 1, 0), 0);
}

/* A job's directory goes, its subdirectories too, and a link in it is
 * removed, never followed: what it points at stays. */
static void rm_rf(void **state)
{
    char top[] = "/tmp/kiln-test-rm.XXXXXX",
         outside[] = "/tmp/kiln-test-out.XXXXXX";
    char p[512];

    (void)state;
    assert_non_null(mkdtemp(top));
    assert_non_null(mkdtemp(outside));
    touch(outside, "keep");
    touch(top, "job.json");
    touch(top, "result.json");
    snprintf(p, sizeof(p), "%s/bundle", top);
    assert_int_equal(mkdir(p, 0700), 0);
    snprintf(p, sizeof(p), "%s/bundle/deep", top);
    assert_int_equal(mkdir(p, 0700), 0);
    touch(p, "f");
    snprintf(p, sizeof(p), "%s/link", top);
    assert_int_equal(symlink(outside, p), 0);
    snprintf(p, sizeof(p), "%s/bundle/link", top);
    assert_int_equal(symlink(outside, p), 0);

    assert_int_equal(util_rm_rf(top), 0);
    assert_int_equal(access(top, F_OK), -1);
    snprintf(p, sizeof(p), "%s/keep", outside);
    assert_int_equal(access(p, F_OK), 0);
    /* Gone already, or a link to a directory: neither follows anything. */
    assert_int_equal(util_rm_rf(top), -1);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(symlink(outside, top), 0);
    assert_int_equal(util_rm_rf(top), 0);
    assert_int_equal(access(p, F_OK), 0);
    assert_int_equal(util_rm_rf(outside), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(utf8),         cmocka_unit_test(starttime),
        cmocka_unit_test(cpulist),      cmocka_unit_test(errprintf_cut),
        cmocka_unit_test(log_one_line), cmocka_unit_test(rm_rf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

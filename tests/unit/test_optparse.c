/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for client/optparse: one table gives the parsing, the merge
 * of the command line over directives, and the plain job fields. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "client/optparse.h"

/* The common options are conn.c's; none is used here. */
bool client_common_opt(int c, const char *arg)
{
    return false;
}

struct o {
    const char *name, *mode;
    long count, level;
    int64_t mem, time;
    bool flag;
    struct opt_given given;
};

#define OFF(f) offsetof(struct o, f)
static const struct opt table[] = {
    { "name", 'J', OPT_STRING, OFF(name), "NAME", "a name", .json = "name" },
    { "count", 'n', OPT_COUNT, OFF(count), "N", "a count", .max = 10,
      .json = "count" },
    { "level", 0, OPT_INT, OFF(level), "N", "a level", .min = -5, .max = 5,
      .def = 3, .optional = true },
    { "mem", 0, OPT_MEM, OFF(mem), "SIZE", "memory", .json = "mem" },
    { "time", 't', OPT_TIME, OFF(time), "T", "time" },
    { "flag", 'F', OPT_FLAG, OFF(flag), NULL, "a flag", .json = "flag" },
    { "mode", 'm', OPT_CHOICE, OFF(mode), "a|b", "a mode", .choices = "a|bb" },
    OPT_END,
};

static const struct opt_cmd cmd = { "x [OPTIONS]", table, "the end" };

static void parse_and_merge(void **state)
{
    char *dir[] = { "x",          "-J", "fromdir", "--count=4",
                    "--level=-2", "-t", "1:00",    NULL };
    char *cli[] = { "x",  "-n", "7",  "--level", "--mem", "2G",
                    "-F", "-m", "bb", "script",  "arg",   NULL };
    struct o d = { 0 }, c = { 0 };

    assert_int_equal(optparse(7, dir, &cmd, &d, &d.given, " in a directive"),
                     7);
    assert_string_equal(d.name, "fromdir");
    assert_int_equal(d.count, 4);
    assert_int_equal(d.level, -2);
    assert_int_equal(d.time, 60);
    assert_int_equal(optparse(11, cli, &cmd, &c, &c.given, ""), 9);
    assert_int_equal(c.count, 7);
    assert_int_equal(c.level, 3); /* a bare --level */
    assert_int_equal(c.mem, 2048);
    assert_true(c.flag);
    assert_string_equal(c.mode, "bb");
    assert_true(optparse_given(table, &c.given, "level"));
    assert_false(optparse_given(table, &c.given, "name"));
    /* The command line wins where it says something, and only there. */
    optparse_merge(table, &d, &c, &c.given);
    assert_string_equal(d.name, "fromdir");
    assert_int_equal(d.count, 7);
    assert_int_equal(d.level, 3);
    assert_int_equal(d.time, 60);
    assert_int_equal(d.mem, 2048);
    json_t *job = json_object();
    optparse_json(table, &d, NULL, job);
    assert_string_equal(json_string_value(json_object_get(job, "name")),
                        "fromdir");
    assert_int_equal(json_integer_value(json_object_get(job, "count")), 7);
    assert_int_equal(json_integer_value(json_object_get(job, "mem")), 2048);
    assert_true(json_is_true(json_object_get(job, "flag")));
    assert_null(json_object_get(job, "time")); /* no json name */
    json_decref(job);
    /* With given: only what was given, a 0 integer included. */
    job = json_object();
    optparse_json(table, &c, &c.given, job);
    assert_null(json_object_get(job, "name"));
    assert_int_equal(json_integer_value(json_object_get(job, "count")), 7);
    json_decref(job);
}

static void usage_lines(void **state)
{
    char buf[4096] = "";
    FILE *f = fmemopen(buf, sizeof(buf), "w");

    optparse_usage(f, &cmd);
    fclose(f);
    assert_non_null(strstr(buf, "Usage: x [OPTIONS]\n"));
    assert_non_null(strstr(buf, "--server ENDPOINT"));
    assert_non_null(strstr(buf, "the end\n"));
    assert_non_null(strstr(buf, "-J, --name NAME"));
    assert_non_null(strstr(buf, "--level[=N]"));
    assert_non_null(strstr(buf, "-F, --flag"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_and_merge),
        cmocka_unit_test(usage_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

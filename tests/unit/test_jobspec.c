/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for lib/jobspec: job.submit bodies, field by field. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lib/jobspec.h"

static json_t *good(void)
{
    return json_pack(
        "{s:s, s:s, s:[s], s:i, s:i, s:i, s:i, s:s, s:s, s:s, s:[s], "
        "s:s, s:b, s:s, s:i, s:i}",
        "name", "j", "script", "#!/bin/sh\ntrue\n", "args", "a", "ntasks", 2,
        "cpus_per_task", 3, "mem", 100, "time_limit", 60, "output", "/tmp/o-%j",
        "cwd", "/tmp", "submit_dir", "/tmp", "env", "A=b", "queue", "default",
        "hold", 0, "user", "alice", "uid", 1000, "gid", 1000);
}

static void accepts_and_roundtrips(void **state)
{
    struct jobspec js, js2;
    struct kiln_error err;
    json_t *o = good(), *back;

    assert_int_equal(jobspec_from_json(o, &js, &err), 0);
    assert_int_equal(jobspec_cpus(&js), 6);
    assert_string_equal(js.user, "alice");
    assert_null(js.error);
    back = jobspec_to_json(&js);
    assert_int_equal(jobspec_from_json(back, &js2, &err), 0);
    assert_true(json_equal(back, o));
    jobspec_release(&js);
    jobspec_release(&js2);
    json_decref(back);
    json_decref(o);
}

/* Set key to value in a good body; expect refusal mentioning want. */
static void refused(const char *key, json_t *value, const char *want)
{
    struct jobspec js;
    struct kiln_error err;
    json_t *o = good();

    if (value)
        json_object_set_new(o, key, value);
    else
        json_object_del(o, key);
    errno = 0;
    if (jobspec_from_json(o, &js, &err) != -1)
        fail_msg("for '%s': accepted", key);
    if (errno != EINVAL)
        fail_msg("for '%s': errno %d, '%s'", key, errno, err.text);
    if (!strstr(err.text, want))
        fail_msg("for '%s': '%s' lacks '%s'", key, err.text, want);
    json_decref(o);
}

static void refuses_bad_fields(void **state)
{
    refused("ntasks", json_integer(0), "invalid ntasks");
    refused("ntasks", json_string("2"), "ntasks");
    refused("cpus_per_task", json_integer(-1), "invalid cpus_per_task");
    refused("mem", json_integer(-5), "invalid mem");
    refused("time_limit", json_integer(-1), "invalid time_limit");
    refused("cwd", json_string("relative"), "invalid cwd");
    refused("name", json_string("a/b"), "invalid job name");
    refused("name", json_string("line\nbreak"), "invalid job name");
    refused("queue", json_string("bad queue"), "invalid queue name");
    refused("env", json_pack("[s]", "NOEQUALS"), "invalid env");
    refused("env", json_pack("[i]", 3), "invalid env");
    refused("args", json_pack("[i]", 3), "invalid args");
    refused("script", json_string(""), "script is empty");
    refused("output", json_string("a\tb"), "invalid output");
    refused("uid", json_integer(-1), "invalid uid");
    refused("surprise", json_true(), "surprise");
    refused("name", NULL, "name");
    refused("dependencies",
            json_pack("[{s:s, s:i}]", "type", "afterwards", "id", 1),
            "dependencies[0].type");
    refused("dependencies", json_pack("[{s:s}]", "type", "afterok"),
            "dependencies[0].id");
    refused("dependencies", json_pack("[{s:s}]", "type", "sequential"),
            "needs an array job");
    refused("array", json_string("5-1"), "invalid array");
    refused("priority", json_integer(-1), "invalid priority");
}

/* The submitter's umask goes with the job; names cannot climb out of
 * output paths. */
static void umask_and_path_names(void **state)
{
    struct jobspec js;
    struct kiln_error err;
    json_t *o = good();

    assert_int_equal(jobspec_from_json(o, &js, &err), 0);
    assert_int_equal(js.umask, 022);
    jobspec_release(&js);
    json_object_set_new(o, "umask", json_integer(077));
    assert_int_equal(jobspec_from_json(o, &js, &err), 0);
    assert_int_equal(js.umask, 077);
    json_t *back = jobspec_to_json(&js);
    assert_int_equal(json_integer_value(json_object_get(back, "umask")), 077);
    json_decref(back);
    jobspec_release(&js);
    json_decref(o);
    refused("umask", json_integer(01000), "invalid umask");
    refused("umask", json_integer(-1), "invalid umask");
    refused("name", json_string(".."), "invalid job name");
    refused("name", json_string("."), "invalid job name");
    refused("name", json_string("a/b"), "invalid job name");
}

static void names(void **state)
{
    assert_true(jobspec_name_ok("node-01.cluster", 63));
    assert_false(jobspec_name_ok("", 63));
    assert_false(jobspec_name_ok("a b", 63));
    assert_false(jobspec_name_ok("a/b", 63));
    assert_false(jobspec_name_ok("aaaa", 3));
}

static void dependency_strings(void **state)
{
    struct kiln_error err;
    json_t *d = jobspec_parse_dependencies("afterok:1:2,singleton,aftercorr:9",
                                           "3,4:N_TO_N,SEQUENTIAL", &err);
    json_t *want = json_loads(
        "[{\"type\":\"afterok\",\"id\":1},{\"type\":\"afterok\",\"id\":2},"
        "{\"type\":\"singleton\"},{\"type\":\"aftercorr\",\"id\":9},"
        "{\"type\":\"afterok\",\"id\":3},{\"type\":\"aftercorr\",\"id\":4},"
        "{\"type\":\"sequential\"}]",
        0, NULL);
    static const struct {
        const char *slurm, *aws, *why;
    } bad[] = {
        { "soon:1", NULL, "unknown type 'soon'" },
        { "afterok", NULL, "needs a job id" },
        { "afterok:x", NULL, "invalid job id 'x' in --dependency" },
        { "singleton:3", NULL, "singleton takes no job id" },
        { ":", NULL, "has no type" },
        { "afterok:1,::", NULL, "has no type" },
        { NULL, "0", "invalid job id '0' in --depends-on" },
        { NULL, "5:ALL", "unknown type 'ALL'" },
    };

    assert_non_null(d);
    assert_true(json_equal(d, want));
    json_decref(d);
    json_decref(want);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_null(jobspec_parse_dependencies(bad[i].slurm, bad[i].aws, &err));
        if (!strstr(err.text, bad[i].why))
            fail_msg("'%s'/'%s': '%s' lacks '%s'", bad[i].slurm, bad[i].aws,
                     err.text, bad[i].why);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accepts_and_roundtrips),
        cmocka_unit_test(refuses_bad_fields),
        cmocka_unit_test(names),
        cmocka_unit_test(umask_and_path_names),
        cmocka_unit_test(dependency_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

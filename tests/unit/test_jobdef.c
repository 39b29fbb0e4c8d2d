/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for lib/jobdef: AWS-Batch-shaped job definitions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/jobdef.h"

static json_t *parse(const char *s)
{
    json_t *o = json_loads(s, 0, NULL);
    assert_non_null(o);
    return o;
}

static void checks(void **state)
{
    static const struct {
        const char *s, *why;
    } bad[] = {
        { "[]", "not a JSON object" },
        { "{\"type\":\"container\"}", "'jobDefinitionName' is missing" },
        { "{\"jobDefinitionName\":\"a b\",\"type\":\"container\"}",
          "jobDefinitionName" },
        { "{\"jobDefinitionName\":\"a\",\"type\":\"container\"}",
          "'containerProperties' is missing" },
        { "{\"jobDefinitionName\":\"a\",\"type\":\"container\",\"x\":1}",
          "unknown field 'x'" },
        { "{\"jobDefinitionName\":\"a\",\"type\":\"container\",\"parameters\":{\"p\":1},"
          "\"containerProperties\":{}}",
          "'parameters.p' must be a string" },
        { "{\"jobDefinitionName\":\"a\",\"type\":\"container\",\"timeout\":{\"x\":1},"
          "\"containerProperties\":{}}",
          "'timeout'" },
        { "{\"jobDefinitionName\":\"a\",\"type\":\"container\",\"containerProperties\":"
          "{\"environment\":[{\"name\":\"A\"}]}}",
          "environment[0]" },
        { "{\"jobDefinitionName\":\"a\",\"type\":\"container\",\"retryStrategy\":{\"attempts\":0},"
          "\"containerProperties\":{}}",
          "attempts" },
        { "{\"jobDefinitionName\":\"a\",\"type\":\"multinode\",\"nodeProperties\":{}}",
          "'nodeProperties.numNodes' is missing" },
        { "{\"jobDefinitionName\":\"a\",\"type\":\"multinode\",\"nodeProperties\":{\"numNodes\":2,"
          "\"mainNode\":0,\"nodeRangeProperties\":[{\"targetNodes\":\"0\",\"container\":{}}]}}",
          "node 1 is in no node range" },
        { "{\"jobDefinitionName\":\"a\",\"type\":\"multinode\",\"nodeProperties\":{\"numNodes\":2,"
          "\"mainNode\":0,\"nodeRangeProperties\":[{\"targetNodes\":\"0:1\",\"container\":{}},"
          "{\"targetNodes\":\"1\",\"container\":{}}]}}",
          "node 1 is in two node ranges" },
        { "{\"jobDefinitionName\":\"a\",\"type\":\"multinode\",\"nodeProperties\":{\"numNodes\":2,"
          "\"mainNode\":0,\"nodeRangeProperties\":[{\"targetNodes\":\"0:5\",\"container\":{}}]}}",
          "targetNodes" },
        { "{\"jobDefinitionName\":\"a\",\"type\":\"multinode\",\"nodeProperties\":{\"numNodes\":2,"
          "\"mainNode\":1,\"nodeRangeProperties\":[{\"targetNodes\":\"0:\",\"container\":{}}]}}",
          "mainNode" },
    };
    struct kiln_error err;
    json_t *ok = parse(
        "{\"jobDefinitionName\":\"a\",\"type\":\"multinode\",\"nodeProperties\":"
        "{\"numNodes\":3,\"mainNode\":0,\"nodeRangeProperties\":["
        "{\"targetNodes\":\"0\",\"container\":{\"command\":[\"a\"]}},"
        "{\"targetNodes\":\"1:\",\"container\":{\"command\":[\"b\"]}}]}}");

    if (jobdef_check(ok, &err) < 0)
        fail_msg("%s", err.text);
    json_decref(ok);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *o = parse(bad[i].s);
        assert_int_equal(jobdef_check(o, &err), -1);
        if (!strstr(err.text, bad[i].why))
            fail_msg("'%s': '%s' lacks '%s'", bad[i].s, err.text, bad[i].why);
        json_decref(o);
    }
}

static void script_and_resources(void **state)
{
    json_t *def = parse(
        "{\"jobDefinitionName\":\"a\",\"type\":\"container\","
        "\"parameters\":{\"p\":\"dflt\"},\"containerProperties\":{"
        "\"command\":[\"echo\",\"it's\",\"Ref::p\",\"Ref::q\"],"
        "\"resourceRequirements\":[{\"type\":\"VCPU\",\"value\":\"0.5\"},"
        "{\"type\":\"MEMORY\",\"value\":\"2048\"},{\"type\":\"GPU\",\"value\":\"1\"}]}}");
    json_t *params = parse("{\"q\":\"x y\"}");
    struct kiln_error err;
    long v, m, g;
    char *s;

    assert_int_equal(jobdef_check(def, &err), 0);
    s = jobdef_script(def, 0, params, &err);
    assert_non_null(s);
    assert_string_equal(s, "#!/bin/sh\nexec 'echo' 'it'\\''s' 'dflt' 'x y'\n");
    free(s);
    assert_null(jobdef_script(def, 0, NULL, &err));
    assert_non_null(strstr(err.text, "parameter 'q' has no value"));
    jobdef_resources(def, 0, &v, &m, &g);
    assert_int_equal(v, 1);
    assert_int_equal(m, 2048);
    assert_int_equal(g, 1);
    json_decref(def);
    json_decref(params);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(checks),
        cmocka_unit_test(script_and_resources),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

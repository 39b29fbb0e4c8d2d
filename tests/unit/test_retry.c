/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for lib/retry: AWS Batch retry strategies. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lib/retry.h"

static json_t *parse(const char *s)
{
    json_t *o = json_loads(s, 0, NULL);
    assert_non_null(o);
    return o;
}

static void checks(void **state)
{
    static const char *ok[] = {
        "{\"attempts\":1}",
        "{\"attempts\":10,\"evaluateOnExit\":[]}",
        "{\"attempts\":3,\"evaluateOnExit\":[{\"onExitCode\":\"1*\",\"action\":\"retry\"},"
        "{\"onStatusReason\":\"timed out\",\"action\":\"EXIT\"}]}",
    };
    static const struct {
        const char *s, *why;
    } bad[] = {
        { "{}", "attempts" },
        { "{\"attempts\":0}", "attempts: 0" },
        { "{\"attempts\":11}", "attempts: 11" },
        { "{\"attempts\":2,\"bogus\":1}", "invalid retryStrategy" },
        { "{\"attempts\":2,\"evaluateOnExit\":[{\"action\":\"RETRY\"}]}",
          "needs onExitCode" },
        { "{\"attempts\":2,\"evaluateOnExit\":[{\"onExitCode\":\"1\",\"action\":\"MAYBE\"}]}",
          "action" },
        { "{\"attempts\":2,\"evaluateOnExit\":[{\"onExitCode\":\"x\",\"action\":\"EXIT\"}]}",
          "bad pattern" },
        { "{\"attempts\":2,\"evaluateOnExit\":[{\"onExitCode\":\"1*2\",\"action\":\"EXIT\"}]}",
          "bad pattern" },
        { "{\"attempts\":2,\"evaluateOnExit\":[{\"onReason\":\"a;b\",\"action\":\"EXIT\"}]}",
          "bad pattern" },
        { "{\"attempts\":2,\"evaluateOnExit\":[1,2,3,4,5,6]}", "at most 5" },
    };
    struct kiln_error err;

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        json_t *o = parse(ok[i]);
        if (retry_check(o, &err) != 0)
            fail_msg("'%s' refused: %s", ok[i], err.text);
        json_decref(o);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *o = parse(bad[i].s);
        assert_int_equal(retry_check(o, &err), -1);
        if (!strstr(err.text, bad[i].why))
            fail_msg("'%s': '%s' lacks '%s'", bad[i].s, err.text, bad[i].why);
        json_decref(o);
    }
}

static void decisions(void **state)
{
    json_t *none = NULL, *three = parse("{\"attempts\":3}");
    json_t *rules = parse(
        "{\"attempts\":5,\"evaluateOnExit\":["
        "{\"onExitCode\":\"2\",\"action\":\"EXIT\"},"
        "{\"onStatusReason\":\"node failure*\",\"action\":\"RETRY\"},"
        "{\"onReason\":\"out of*\",\"onExitCode\":\"137\",\"action\":\"EXIT\"},"
        "{\"onExitCode\":\"*\",\"action\":\"RETRY\"}]}");

    assert_false(retry_decide(none, 1, 1, "exit code 1", "exit code 1"));
    assert_int_equal(retry_attempts(none), 1);
    assert_true(retry_decide(three, 1, 1, "exit code 1", "exit code 1"));
    assert_true(retry_decide(three, 2, 1, "exit code 1", "exit code 1"));
    assert_false(retry_decide(three, 3, 1, "exit code 1", "exit code 1"));
    /* first match wins */
    assert_false(retry_decide(rules, 1, 2, "exit code 2", "exit code 2"));
    assert_true(
        retry_decide(rules, 1, -1, "node failure", "node failure: lost"));
    assert_false(retry_decide(rules, 1, 137, "out of memory", "out of memory"));
    assert_true(retry_decide(rules, 1, 137, "killed by signal 9",
                             "killed by signal 9"));
    assert_true(retry_decide(rules, 4, 3, "exit code 3", "exit code 3"));
    assert_false(retry_decide(rules, 5, 3, "exit code 3", "exit code 3"));
    assert_true(retry_match("abc*", "abcdef"));
    assert_true(retry_match("*", ""));
    assert_false(retry_match("abc", "abcd"));
    json_decref(three);
    json_decref(rules);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(checks),
        cmocka_unit_test(decisions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

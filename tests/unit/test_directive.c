/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for lib/directive: #KILN / #SBATCH lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "lib/directive.h"

static void basic(void **state)
{
    const char *script = "#!/bin/bash\n"
                         "# a comment\n"
                         "\n"
                         "#KILN --job-name=x -n 2\n"
                         "#SBATCH --time 10   # trailing comment\n"
                         "  #KILN -o 'out file.%j'\n"
                         "#KILNX --not-a-directive\n"
                         "#SBATCH\t-c \"4\"\n"
                         "echo hi\n"
                         "#KILN --after-command\n";
    int argc;
    struct kiln_error err;
    char **argv = directive_parse(script, "prog", &argc, &err);

    assert_non_null(argv);
    assert_int_equal(argc, 10);
    assert_string_equal(argv[0], "prog");
    assert_string_equal(argv[1], "--job-name=x");
    assert_string_equal(argv[2], "-n");
    assert_string_equal(argv[3], "2");
    assert_string_equal(argv[4], "--time");
    assert_string_equal(argv[5], "10");
    assert_string_equal(argv[6], "-o");
    assert_string_equal(argv[7], "out file.%j");
    assert_string_equal(argv[8], "-c");
    assert_string_equal(argv[9], "4");
    assert_null(argv[10]);
    directive_free(argv);
}

static void empty_and_no_directives(void **state)
{
    int argc;
    struct kiln_error err;
    char **argv = directive_parse("", "p", &argc, &err);

    assert_non_null(argv);
    assert_int_equal(argc, 1);
    directive_free(argv);
    argv = directive_parse("echo hi\n#KILN -n 2\n", "p", &argc, &err);
    assert_int_equal(argc, 1);
    directive_free(argv);
    argv = directive_parse("#KILN -n 3", "p", &argc, &err); /* no newline */
    assert_int_equal(argc, 3);
    directive_free(argv);
}

static void unterminated_quote(void **state)
{
    int argc;
    struct kiln_error err;

    assert_null(
        directive_parse("#!/bin/sh\n#KILN -J 'oops\n", "p", &argc, &err));
    assert_string_equal(err.text, "line 2: unterminated quote in directive");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(basic),
        cmocka_unit_test(empty_and_no_directives),
        cmocka_unit_test(unterminated_quote),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

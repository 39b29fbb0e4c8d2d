/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for lib/outpath: output file patterns, and that no name,
 * however long, takes an expansion past PATH_MAX. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/outpath.h"

static const struct outpath_names names = {
    .cwd = "/home/ada",
    .name = "fit",
    .user = "ada",
    .node = "n1",
    .id = 42,
    .array_id = 0,
    .array_index = 0,
};

static void expand(const char *pat, const struct outpath_names *v,
                   const char *want)
{
    char *got = outpath_expand(pat, v);

    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void patterns(void **state)
{
    struct outpath_names a = names;

    (void)state;
    expand("kiln-%j.out", &names, "/home/ada/kiln-42.out");
    expand("/tmp/%x-%u-%N.log", &names, "/tmp/fit-ada-n1.log");
    expand("/tmp/%%j%q%", &names, "/tmp/%j%q%");
    expand("/tmp/%A_%a", &names, "/tmp/42_0");
    a.array_id = 40;
    a.array_index = 7;
    expand("/tmp/%A_%a", &a, "/tmp/40_7");
}

/* A 128-character name repeated by the pattern overran the root shell's
 * buffer before; now the expansion is refused. */
static void too_long(void **state)
{
    struct outpath_names v = names;
    char name[129], pat[400] = "";

    (void)state;
    memset(name, 'x', 128);
    name[128] = '\0';
    v.name = name;
    v.user = name;
    for (int i = 0; i < 60; i++)
        strcat(pat, i % 2 ? "%u" : "%x");
    errno = 0;
    assert_null(outpath_expand(pat, &v));
    assert_int_equal(errno, ENAMETOOLONG);
    /* Just under the limit works, just over does not. */
    char *fit = malloc(PATH_MAX);
    memset(fit, 'a', PATH_MAX - 1);
    fit[0] = '/';
    fit[PATH_MAX - 1] = '\0';
    char *got = outpath_expand(fit, &v);
    assert_non_null(got);
    assert_int_equal(strlen(got), PATH_MAX - 1);
    free(got);
    fit[PATH_MAX - 2] = '%';
    fit[PATH_MAX - 1] = 'j';
    fit = realloc(fit, PATH_MAX + 1);
    fit[PATH_MAX] = '\0';
    assert_null(outpath_expand(fit, &v));
    free(fit);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(patterns),
        cmocka_unit_test(too_long),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

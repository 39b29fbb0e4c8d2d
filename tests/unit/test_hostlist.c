/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for lib/hostlist. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <slurm/slurm.h>

#include "lib/hostlist.h"

static void parses(void **state)
{
    struct kiln_error err;
    struct hostlist *hl = hostlist_parse("node[1-3,7],gpu[01-02],login", &err);

    assert_non_null(hl);
    assert_int_equal(hostlist_count(hl), 7);
    assert_true(hostlist_has(hl, "gpu02"));
    assert_true(hostlist_has(hl, "node7"));
    assert_true(hostlist_has(hl, "login"));
    assert_false(hostlist_has(hl, "node4"));
    assert_false(hostlist_has(hl, "gpu2")); /* the width of 01 counts */
    hostlist_free(hl);
    /* 65,536 hosts stay a range, not 65,536 names. */
    hl = hostlist_parse("n[1-65536]", &err);
    assert_int_equal(hostlist_count(hl), 65536);
    assert_true(hostlist_has(hl, "n40000"));
    hostlist_free(hl);
}

static void compresses(void **state)
{
    const char *names[] = { "th3", "th1", "th2", "login", "th1" };
    char *c = hostlist_compress(names, 5);

    assert_string_equal(c, "login,th[1-3]");
    free(c);
}

/* Every name, in order, bounded. */
static void expands(void **state)
{
    struct kiln_error err;
    int n = 0;
    char **names = hostlist_expand("node[08-10],gpu1", 100, &n, &err);

    assert_non_null(names);
    assert_int_equal(n, 4);
    assert_string_equal(names[0], "node08");
    assert_string_equal(names[2], "node10");
    assert_string_equal(names[3], "gpu1");
    assert_null(names[4]);
    hostlist_names_free(names);
    assert_null(hostlist_expand("n[1-200]", 100, &n, &err));
    assert_non_null(strstr(err.text, "at most 100"));
    assert_null(hostlist_expand("n[1-", 100, &n, &err));
}

static void refuses_malformed(void **state)
{
    static const char *bad[] = {
        "",
        "a[1-",
        "a]",
        "a[x]",
        "a[3-1]",
        "a,,b",
        "a b",
        "a[1-100000]",
        "a;rm",
        ",a",
        "a[]",
        "a[1-2,]",
        "a[0-9223372036854775807]",
        "a[99999999999999999999]",
        "a[1-9223372036854775807,1-9223372036854775807]",
        "nO[6,-0]",
        "a[1- 2]",
        "a[+1]",
        "a[1--2]",
        "a[0-99][0-99]",
        "n[1-2]-ib", /* libslurm has no suffixes */
        "n[1]x,b",
        "a[1-40000],b[1-40000]",
        NULL
    };
    struct kiln_error err;

    for (int i = 0; bad[i]; i++) {
        struct hostlist *hl = hostlist_parse(bad[i], &err);
        if (hl)
            fail_msg("'%s' was accepted", bad[i]);
        assert_non_null(strstr(err.text, "invalid host list"));
    }
}

/* A random host name: a few prefixes, numbers with and without leading
 * zeros, and names without a number. */
static void random_name(char *buf, size_t len)
{
    static const char *prefixes[] = { "n", "gpu", "rack1-n", "a.b_", "x" };
    static const char *plain[] = { "login", "head", "n", "gpu-a" };
    int r = rand() % 10;

    if (r == 0) {
        snprintf(buf, len, "%s", plain[rand() % 4]);
        return;
    }
    const char *p = prefixes[rand() % 5];
    int num = rand() % 40 + (rand() % 4 == 0 ? 95 : 0);
    int width = rand() % 3 == 0 ? 2 + rand() % 2 : 0;
    snprintf(buf, len, "%s%0*d", p, width, num);
}

/* Lists as people write them expand as libslurm expands them. */
static void expands_as_libslurm(void **state)
{
    static const char *lists[] = { "n[1-3],gpu[08-11]", "a[9-11],a7",
                                   "b[098-101]",        "c[5-6,1,3],login",
                                   "n[0-2],n[00-02]",   NULL };

    for (int i = 0; lists[i]; i++) {
        struct kiln_error err;
        int n = 0;
        char **mine = hostlist_expand(lists[i], 1000, &n, &err);
        hostlist_t ref = slurm_hostlist_create(lists[i]);
        assert_non_null(mine);
        assert_int_equal(n, slurm_hostlist_count(ref));
        for (int k = 0; k < n; k++) {
            char *h = slurm_hostlist_shift(ref);
            if (strcmp(h, mine[k]))
                fail_msg("expand '%s': libslurm '%s', kiln '%s'", lists[i], h,
                         mine[k]);
            free(h);
        }
        hostlist_names_free(mine);
        slurm_hostlist_destroy(ref);
    }
}

/* libslurm is the reference for the syntax: the same names compress to
 * the same string, and every list expands to the same names in the same
 * order and holds the same names. */
static void agrees_with_libslurm(void **state)
{
    srand(15);
    for (int round = 0; round < 2000; round++) {
        char names[40][32];
        const char *ptrs[40];
        int n = 1 + rand() % 40;
        hostlist_t ref = slurm_hostlist_create(NULL);

        for (int i = 0; i < n; i++) {
            random_name(names[i], sizeof(names[i]));
            ptrs[i] = names[i];
            slurm_hostlist_push_host(ref, names[i]);
        }
        slurm_hostlist_uniq(ref);
        char *want = slurm_hostlist_ranged_string_malloc(ref);
        char *got = hostlist_compress(ptrs, n);
        if (strcmp(want, got))
            fail_msg("compress: libslurm '%s', kiln '%s'", want, got);

        struct kiln_error err;
        int count = 0;
        char **mine = hostlist_expand(want, 100000, &count, &err);
        hostlist_t again = slurm_hostlist_create(want);
        assert_non_null(mine);
        assert_int_equal(count, slurm_hostlist_count(again));
        for (int i = 0; i < count; i++) {
            char *h = slurm_hostlist_shift(again);
            if (strcmp(h, mine[i]))
                fail_msg("expand '%s': libslurm '%s', kiln '%s'", want, h,
                         mine[i]);
            free(h);
        }
        struct hostlist *hl = hostlist_parse(want, &err);
        for (int i = 0; i < 20; i++) {
            char probe[32];
            random_name(probe, sizeof(probe));
            if (hostlist_has(hl, probe)
                != (slurm_hostlist_find(ref, probe) >= 0))
                fail_msg("has '%s' in '%s': libslurm %d", probe, want,
                         slurm_hostlist_find(ref, probe) >= 0);
        }
        hostlist_free(hl);
        hostlist_names_free(mine);
        slurm_hostlist_destroy(again);
        slurm_hostlist_destroy(ref);
        free(want);
        free(got);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses),
        cmocka_unit_test(compresses),
        cmocka_unit_test(expands),
        cmocka_unit_test(refuses_malformed),
        cmocka_unit_test(expands_as_libslurm),
        cmocka_unit_test(agrees_with_libslurm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

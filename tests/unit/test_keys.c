/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for lib/keys: kiln keygen's files and the server's keyring. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <zmq.h>

#include "lib/keys.h"
#include "lib/util.h"

static char dir[64];

static int setup(void **state)
{
    snprintf(dir, sizeof(dir), "/tmp/kiln-test-keys.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    return util_rm_rf(dir);
}

static void key_of(const char *path, unsigned char bin[32])
{
    struct curve_key k;

    assert_int_equal(keys_read(path, false, &k, NULL), 0);
    assert_non_null(zmq_z85_decode(bin, k.public));
}

static void generate_and_read(void **state)
{
    char path[256], pub[256];
    struct kiln_error err;
    struct curve_key k, p;
    struct stat st;

    assert_int_equal(
        keys_generate(dir, "server", false, path, sizeof(path), &err), 0);
    assert_non_null(strstr(path, "/server.key"));
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(keys_read(path, true, &k, &err), 0);
    assert_int_equal(strlen(k.public), 40);
    assert_int_equal(strlen(k.secret), 40);
    snprintf(pub, sizeof(pub), "%s/server.pub", dir);
    assert_int_equal(keys_read(pub, false, &p, &err), 0);
    assert_string_equal(p.public, k.public);
    assert_string_equal(p.secret, "");
    /* A public file is not a pair; a pair others can read is refused. */
    assert_int_equal(keys_read(pub, true, &p, &err), -1);
    chmod(path, 0644);
    assert_int_equal(keys_read(path, true, &k, &err), -1);
    assert_non_null(strstr(err.text, "readable by others"));
    /* Kept unless forced. */
    assert_int_equal(
        keys_generate(dir, "server", false, path, sizeof(path), &err), -1);
    assert_non_null(strstr(err.text, "--force"));
    assert_int_equal(
        keys_generate(dir, "server", true, path, sizeof(path), &err), 0);
    assert_int_equal(keys_read(path, true, &p, &err), 0);
    assert_string_not_equal(p.public, k.public);
    /* Node pairs go in workers/; names are checked. */
    assert_int_equal(
        keys_generate(dir, "node7", false, path, sizeof(path), &err), 0);
    assert_non_null(strstr(path, "/workers/node7.key"));
    assert_int_equal(
        keys_generate(dir, "../evil", false, path, sizeof(path), &err), -1);
    assert_int_equal(
        keys_generate(dir, ".hidden", false, path, sizeof(path), &err), -1);
}

static void refuses_other_files(void **state)
{
    char path[256];
    struct curve_key k;
    struct kiln_error err;
    FILE *f;

    snprintf(path, sizeof(path), "%s/bad.key", dir);
    f = fopen(path, "w");
    fputs("public = tooshort\nsecret = x\n", f);
    fclose(f);
    chmod(path, 0600);
    assert_int_equal(keys_read(path, true, &k, &err), -1);
    assert_non_null(strstr(err.text, "not a Kiln key file"));
    snprintf(path, sizeof(path), "%s/missing.key", dir);
    assert_int_equal(keys_read(path, true, &k, &err), -1);
    assert_non_null(strstr(err.text, "cannot read"));
}

static void ring_names_and_refreshes(void **state)
{
    char path[256];
    unsigned char cluster[32], node[32], stranger[32];
    struct kiln_error err;
    struct keyring *r;

    assert_int_equal(
        keys_generate(dir, "cluster", false, path, sizeof(path), &err), 0);
    snprintf(path, sizeof(path), "%s/cluster.pub", dir);
    key_of(path, cluster);
    r = keys_ring_load(dir);
    assert_int_equal(keys_ring_count(r), 1);
    assert_string_equal(keys_ring_find(r, cluster), "cluster");
    /* A node key added later is found without a restart. */
    sleep(1); /* a new mtime for workers/, on coarse clocks too */
    assert_int_equal(keys_generate(dir, "n1", false, path, sizeof(path), &err),
                     0);
    snprintf(path, sizeof(path), "%s/workers/n1.pub", dir);
    key_of(path, node);
    r = keys_ring_refresh(r, dir);
    assert_int_equal(keys_ring_count(r), 2);
    assert_string_equal(keys_ring_find(r, node), "n1");
    memset(stranger, 7, sizeof(stranger));
    assert_null(keys_ring_find(r, stranger));
    keys_ring_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(generate_and_read, setup, teardown),
        cmocka_unit_test_setup_teardown(refuses_other_files, setup, teardown),
        cmocka_unit_test_setup_teardown(ring_names_and_refreshes, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

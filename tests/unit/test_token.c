/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for lib/token: the single-user mode's token and addresses. */
#include <errno.h>
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

#include "lib/token.h"

static void local_endpoints(void **state)
{
    static const char *local[] = { "tcp://127.0.0.1:7810", "tcp://127.8.9.10:*",
                                   "tcp://[::1]:7810",     "tcp://localhost:1",
                                   "ipc:///run/k",         "inproc://x" };
    static const char *remote[] = {
        "tcp://0.0.0.0:7810",  "tcp://*:7810",
        "tcp://10.0.0.1:7810", "tcp://127.0.0.1.evil.com:1",
        "tcp://[::]:1",        "tcp://eth0:1",
        "udp://127.0.0.1:1",   "tcp://127.0.0.1:1;10.0.0.1:2",
        "tcp://noport"
    };
    (void)state;
    for (size_t i = 0; i < sizeof(local) / sizeof(*local); i++)
        assert_true(token_endpoint_local(local[i]));
    for (size_t i = 0; i < sizeof(remote) / sizeof(*remote); i++)
        assert_false(token_endpoint_local(remote[i]));
}

static void made_once_private(void **state)
{
    char dir[] = "/tmp/kiln-token-XXXXXX", path[256], a[TOKEN_LEN + 1],
         b[TOKEN_LEN + 1];
    struct kiln_error err;
    struct stat st;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/sub/token", dir);
    setenv("KILN_TOKEN_FILE", path, 1);
    assert_int_equal(token_read(a, &err), 0);
    assert_int_equal(token_load_or_create(a, &err), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(token_load_or_create(b, &err), 0);
    assert_string_equal(a, b);
    assert_int_equal(token_read(b, &err), 1);
    assert_string_equal(a, b);
    /* One that others may read is not the server's. */
    chmod(path, 0644);
    assert_int_equal(token_load_or_create(b, &err), -1);
    assert_non_null(strstr(err.text, "chmod 600"));
    unlink(path);
    snprintf(path, sizeof(path), "%s/sub", dir);
    rmdir(path);
    rmdir(dir);
    unsetenv("KILN_TOKEN_FILE");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(local_endpoints),
        cmocka_unit_test(made_once_private),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

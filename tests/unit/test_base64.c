/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for lib/base64. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/base64.h"

static void round_trips(void **state)
{
    unsigned char bytes[256];
    for (int i = 0; i < 256; i++)
        bytes[i] = (unsigned char)i;
    for (size_t len = 0; len <= sizeof(bytes); len += len < 8 ? 1 : 37) {
        char *t = base64_encode(bytes, len);
        size_t got = 999;
        unsigned char *b = base64_decode(t, &got);
        assert_non_null(b);
        assert_int_equal(got, len);
        assert_memory_equal(b, bytes, len);
        free(t);
        free(b);
    }
    char *t = base64_encode("hi\n", 3);
    assert_string_equal(t, "aGkK");
    free(t);
}

static void refuses_garbage(void **state)
{
    size_t len;

    assert_null(base64_decode("abc", &len));
    assert_int_equal(errno, EINVAL);
    assert_null(base64_decode("ab!d", &len));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trips),
        cmocka_unit_test(refuses_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for lib/sigv4 with cases of AWS's published Signature
 * Version 4 test suite (credentials AKIDEXAMPLE, 2015-08-30 12:36:00,
 * us-east-1, service "service"); t2202 compares it with botocore on
 * random requests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/sigv4.h"

static const char *const base_headers[] = {
    "Host:example.amazonaws.com",
    "X-Amz-Date:20150830T123600Z",
};

static void suite_case(const char *method, const char *query,
                       const char *signature)
{
    struct sigv4_request r = {
        .method = method,
        .path = "/",
        .query = query,
        .headers = base_headers,
        .nheaders = 2,
        .region = "us-east-1",
        .service = "service",
        .amz_date = "20150830T123600Z",
    };
    char auth[512], want[512];

    assert_int_equal(
        sigv4_authorization(&r, "AKIDEXAMPLE",
                            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", auth,
                            sizeof(auth)),
        0);
    snprintf(want, sizeof(want),
             "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
             "service/aws4_request, SignedHeaders=host;x-amz-date, "
             "Signature=%s",
             signature);
    assert_string_equal(auth, want);
}

static void published_cases(void **state)
{
    suite_case(
        "GET", "",
        "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
    /* get-vanilla-query-order-key-case: sorted before signing */
    suite_case(
        "GET", "Param2=value2&Param1=value1",
        "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
    suite_case(
        "POST", "",
        "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
    /* post-vanilla-query */
    suite_case(
        "POST", "Param1=value1",
        "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11");
}

/* get-vanilla's canonical request, as the suite gives it. */
static void canonical_form(void **state)
{
    const char *headers[] = { "X-Amz-Date: 20150830T123600Z",
                              "host:  example.amazonaws.com  ",
                              "My-Header1: a   b  c", "my-header1:d" };
    struct sigv4_request r = {
        .method = "GET",
        .path = "/",
        .query = "b=%7e&a=x y",
        .headers = headers,
        .nheaders = 4,
        .region = "us-east-1",
        .service = "service",
        .amz_date = "20150830T123600Z",
    };
    char names[1024];
    char *c = sigv4_canonical_request(&r, names, sizeof(names));

    assert_non_null(c);
    assert_string_equal(names, "host;my-header1;x-amz-date");
    assert_string_equal(
        c, "GET\n/\na=x%20y&b=~\n"
           "host:example.amazonaws.com\nmy-header1:a b c,d\n"
           "x-amz-date:20150830T123600Z\n\n"
           "host;my-header1;x-amz-date\n"
           "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    free(c);
    const char *bad[] = { "no colon here" };
    r.headers = bad;
    r.nheaders = 1;
    assert_null(sigv4_canonical_request(&r, names, sizeof(names)));
}

static void encoding(void **state)
{
    char out[64] = "";

    assert_int_equal(sigv4_uri_encode("a b/c~d+é", out, sizeof(out)), 0);
    assert_string_equal(out, "a%20b%2Fc~d%2B%C3%A9");
    char small[3] = "";
    assert_int_equal(sigv4_uri_encode("/", small, sizeof(small)), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(published_cases),
        cmocka_unit_test(canonical_form),
        cmocka_unit_test(encoding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

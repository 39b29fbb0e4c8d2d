/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for lib/cespec: compute environment bodies, the options
 * that build them, and the merge of an update. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/cespec.h"

static json_t *parse(const char *s)
{
    json_t *o = json_loads(s, 0, NULL);
    assert_non_null(o);
    return o;
}

#define LOCAL "\"type\":\"MANAGED\",\"kiln\":{\"provider\":\"local\"},"

static void refusals(void **state)
{
    static const struct {
        const char *s, *why;
    } bad[] = {
        { "{\"type\":\"SOMETIMES\"}", "type 'SOMETIMES'" },
        { "{\"state\":\"ON\"}", "state" },
        { "{\"computeResources\":{\"maxvCpus\":4}}", "UNMANAGED" },
        { "{\"type\":\"MANAGED\"}", "missing computeResources" },
        { "{" LOCAL "\"computeResources\":{}}", "maxvCpus" },
        { "{" LOCAL "\"computeResources\":{\"maxvCpus\":2,\"minvCpus\":4}}",
          "minvCpus 4 is more" },
        { "{" LOCAL "\"computeResources\":{\"maxvCpus\":2,\"desiredvCpus\":3}}",
          "desiredvCpus 3" },
        { "{" LOCAL "\"computeResources\":{\"maxvCpus\":-1}}",
          "computeResources.maxvCpus" },
        { "{" LOCAL "\"computeResources\":{\"maxvCpus\":4,\"x\":1}}",
          "computeResources.x" },
        { "{" LOCAL "\"computeResources\":{\"maxvCpus\":4},\"kiln\":{"
          "\"provider\":\"local\",\"y\":1}}",
          "kiln.y" },
        { "{" LOCAL "\"computeResources\":{\"maxvCpus\":4,"
          "\"bidPercentage\":50}}",
          "only for type SPOT" },
        { "{\"type\":\"MANAGED\",\"computeResources\":{\"maxvCpus\":4}}",
          "imageId or launchTemplate" },
        { "{\"type\":\"MANAGED\",\"computeResources\":{\"maxvCpus\":4,"
          "\"imageId\":\"ami-1\",\"instanceTypes\":[\"c5.large;rm\"]}}",
          "instanceTypes[0]" },
        { "{\"type\":\"MANAGED\",\"computeResources\":{\"maxvCpus\":4,"
          "\"imageId\":\"ami-1\",\"tags\":{\"kiln:ce\":\"x\"}}}",
          "reserved" },
        { "{\"type\":\"MANAGED\",\"computeResources\":{\"maxvCpus\":4,"
          "\"imageId\":\"ami-1\",\"allocationStrategy\":"
          "\"SPOT_CAPACITY_OPTIMIZED\"}}",
          "only for type SPOT" },
        { "{\"type\":\"MANAGED\",\"computeResources\":{\"maxvCpus\":4,"
          "\"imageId\":\"ami-1\"},\"kiln\":{\"endpoint\":\"ftp://x\"}}",
          "kiln.endpoint" },
        { "{\"type\":\"MANAGED\",\"computeResources\":{\"maxvCpus\":4},"
          "\"kiln\":{\"provider\":\"exec\",\"hosts\":\"n[1-4]\"}}",
          "resumeProgram" },
        { "{\"type\":\"MANAGED\",\"computeResources\":{\"maxvCpus\":4},"
          "\"kiln\":{\"provider\":\"exec\",\"hosts\":\"n1;reboot\","
          "\"resumeProgram\":\"/r\",\"suspendProgram\":\"/s\"}}",
          "kiln.hosts" },
        { "{\"type\":\"MANAGED\",\"computeResources\":{\"maxvCpus\":4},"
          "\"kiln\":{\"provider\":\"exec\",\"hosts\":\"n1\","
          "\"resumeProgram\":\"r\",\"suspendProgram\":\"/s\"}}",
          "kiln.resumeProgram" },
        { "{" LOCAL "\"computeResources\":{\"maxvCpus\":4,"
          "\"instanceTypes\":[\"m5\"]}}",
          "for the ec2 provider" },
        { "{" LOCAL "\"computeResources\":{\"maxvCpus\":4},\"kiln\":{"
          "\"provider\":\"local\",\"resumeProgram\":\"/r\"}}",
          "for the exec provider" },
        { "{\"type\":\"MANAGED\",\"computeResources\":{\"maxvCpus\":4,"
          "\"imageId\":\"ami-1\"},\"kiln\":{\"hosts\":\"n1\"}}",
          "for the exec and local providers" },
    };
    struct cespec spec;
    struct kiln_error err;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *o = parse(bad[i].s);
        if (cespec_check(o, &spec, &err) == 0)
            fail_msg("accepted %s", bad[i].s);
        if (!strstr(err.text, bad[i].why))
            fail_msg("%s: '%s' does not say '%s'", bad[i].s, err.text,
                     bad[i].why);
        json_decref(o);
    }
}

static void accepted(void **state)
{
    struct cespec spec;
    struct kiln_error err;
    json_t *o = parse("{}");

    assert_int_equal(cespec_check(o, &spec, &err), 0);
    assert_false(spec.managed);
    assert_true(spec.enabled);
    assert_int_equal(spec.provider, CE_UNMANAGED);
    json_decref(o);
    o = parse("{\"computeEnvironmentName\":\"c\",\"type\":\"MANAGED\","
              "\"state\":\"DISABLED\",\"computeResources\":{\"type\":\"SPOT\","
              "\"minvCpus\":0,\"maxvCpus\":256,\"desiredvCpus\":4,"
              "\"instanceTypes\":[\"c5.large\",\"m5\",\"optimal\"],"
              "\"allocationStrategy\":\"SPOT_PRICE_CAPACITY_OPTIMIZED\","
              "\"bidPercentage\":60,\"imageId\":\"ami-0abc\","
              "\"subnets\":[\"subnet-1\"],\"securityGroupIds\":[\"sg-1\"],"
              "\"ec2KeyPair\":\"k\",\"instanceRole\":"
              "\"arn:aws:iam::1:instance-profile/ecs\",\"tags\":{\"team\":"
              "\"bio\"},\"launchTemplate\":{\"launchTemplateName\":\"lt\","
              "\"version\":\"$Latest\"}},\"serviceRole\":\"r\","
              "\"tags\":{\"a\":\"b\"},\"kiln\":{\"region\":\"eu-west-1\","
              "\"idleTimeoutSeconds\":60,\"bootTimeoutSeconds\":300}}");
    if (cespec_check(o, &spec, &err) < 0)
        fail_msg("%s", err.text);
    assert_true(spec.managed);
    assert_false(spec.enabled);
    assert_true(spec.spot);
    assert_int_equal(spec.provider, CE_EC2);
    assert_int_equal(spec.max_vcpus, 256);
    assert_int_equal(spec.desired_vcpus, 4);
    assert_int_equal(spec.bid_percentage, 60);
    assert_int_equal(spec.idle_timeout, 60);
    assert_int_equal(spec.boot_timeout, 300);
    json_decref(o);
    o = parse("{\"type\":\"MANAGED\",\"computeResources\":{\"maxvCpus\":8},"
              "\"kiln\":{\"provider\":\"exec\",\"hosts\":\"node[01-16]\","
              "\"resumeProgram\":\"/usr/sbin/resume\",\"suspendProgram\":"
              "\"/usr/sbin/suspend\",\"nodeVcpus\":4}}");
    if (cespec_check(o, &spec, &err) < 0)
        fail_msg("%s", err.text);
    assert_int_equal(spec.provider, CE_EXEC);
    assert_int_equal(spec.node_vcpus, 4);
    assert_int_equal(spec.idle_timeout, 300);
    assert_int_equal(spec.desired_vcpus, -1);
    json_decref(o);
}

static void options(void **state)
{
    json_t *body = json_object();
    struct kiln_error err;
    struct cespec spec;

    assert_int_equal(cespec_option(body, "provider", "ec2", &err), 1);
    assert_int_equal(cespec_option(body, "max-vcpus", "64", &err), 1);
    assert_int_equal(cespec_option(body, "image-id", "ami-1", &err), 1);
    assert_int_equal(cespec_option(body, "instance-types", "c5.large,m5", &err),
                     1);
    assert_int_equal(cespec_option(body, "spot-bid-percentage", "60", &err), 1);
    assert_int_equal(cespec_option(body, "tags", "team=bio,cost=7", &err), 1);
    assert_int_equal(cespec_option(body, "launch-template", "lt-0ab:3", &err),
                     1);
    assert_int_equal(cespec_option(body, "idle-timeout", "30", &err), 1);
    assert_int_equal(cespec_option(body, "colour", "red", &err), 0);
    assert_int_equal(cespec_option(body, "min-vcpus", "four", &err), -1);
    assert_non_null(strstr(err.text, "--min-vcpus"));
    assert_int_equal(cespec_option(body, "tags", "novalue", &err), -1);
    /* a provider makes it managed; a bid makes it spot */
    json_t *cr = json_object_get(body, "computeResources");
    assert_string_equal(json_string_value(json_object_get(body, "type")),
                        "MANAGED");
    assert_string_equal(json_string_value(json_object_get(cr, "type")), "SPOT");
    assert_int_equal(json_integer_value(json_object_get(cr, "maxvCpus")), 64);
    assert_int_equal(json_array_size(json_object_get(cr, "instanceTypes")), 2);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(cr, "tags"), "cost")),
        "7");
    json_t *lt = json_object_get(cr, "launchTemplate");
    assert_string_equal(
        json_string_value(json_object_get(lt, "launchTemplateId")), "lt-0ab");
    assert_string_equal(json_string_value(json_object_get(lt, "version")), "3");
    if (cespec_check(body, &spec, &err) < 0)
        fail_msg("%s", err.text);
    assert_int_equal(spec.bid_percentage, 60);
    assert_int_equal(spec.idle_timeout, 30);

    /* An update merges field by field. */
    json_t *up = parse("{\"version\":1,\"state\":\"DISABLED\","
                       "\"computeResources\":{\"maxvCpus\":8}}");
    json_t *m = cespec_merge(body, up);
    cr = json_object_get(m, "computeResources");
    assert_int_equal(json_integer_value(json_object_get(cr, "maxvCpus")), 8);
    assert_string_equal(json_string_value(json_object_get(cr, "imageId")),
                        "ami-1");
    assert_null(json_object_get(m, "version"));
    if (cespec_check(m, &spec, &err) < 0)
        fail_msg("%s", err.text);
    assert_false(spec.enabled);
    json_decref(m);
    json_decref(up);
    json_decref(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(refusals),
        cmocka_unit_test(accepted),
        cmocka_unit_test(options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

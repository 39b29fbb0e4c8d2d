/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Compute environments as AWS Batch's CreateComputeEnvironment has them,
 * with Kiln's own settings in a "kiln" object:
 *
 *   {"computeEnvironmentName", "type": MANAGED|UNMANAGED, "state",
 *    "computeResources": {"type": EC2|SPOT, "minvCpus", "maxvCpus",
 *        "desiredvCpus", "instanceTypes", "allocationStrategy",
 *        "bidPercentage", "imageId", "subnets", "securityGroupIds",
 *        "ec2KeyPair", "instanceRole", "tags", "launchTemplate"},
 *    "serviceRole", "tags",
 *    "kiln": {"provider": ec2|exec|local, "idleTimeoutSeconds",
 *        "bootTimeoutSeconds", "region", "endpoint", "resumeProgram",
 *        "suspendProgram", "programTimeoutSeconds", "hosts" (exec: the
 *        site's hosts; local: network namespaces), "nodeVcpus"}}
 *
 * Checking a body field by field (every refusal names the field), the
 * command-line options and configuration keys that build one, and the
 * merge of an update.  Pure, no I/O; tested by test_cespec. */
#ifndef KILN_CESPEC_H
#define KILN_CESPEC_H

#include <stdbool.h>
#include <jansson.h>

#include "lib/error.h"

enum ce_provider { CE_UNMANAGED, CE_EC2, CE_EXEC, CE_LOCAL };

/* What a checked body says, for the code that acts on it. */
struct cespec {
    bool managed, enabled, spot;
    enum ce_provider provider;
    long min_vcpus, max_vcpus;
    long desired_vcpus;   /* -1: not given */
    int bid_percentage;   /* of the on-demand price, spot only */
    long idle_timeout;    /* seconds an idle instance lives above min */
    long boot_timeout;    /* seconds an instance has to register */
    long program_timeout; /* seconds a resume/suspend program may take */
    long node_vcpus;      /* exec, local: the vCPUs one node has */
};

/* Check body (a whole environment, the name aside) and fill spec.  With
 * err set and -1 on the first thing wrong. */
int cespec_check(const json_t *body, struct cespec *spec,
                 struct kiln_error *err);

/* Set the field that the option or configuration key key (e.g.
 * "min-vcpus", "instance-types", "spot-bid-percentage") names in body,
 * from its text value.  1 when set, 0 when key is not one of them, -1
 * with err set when value is not valid for it. */
int cespec_option(json_t *body, const char *key, const char *value,
                  struct kiln_error *err);

/* The options cespec_option knows, for usage texts: "--min-vcpus N ...". */
extern const char cespec_usage[];

/* old with update's fields over it (computeResources and kiln merged
 * field by field); a new reference, or NULL when out of memory. */
json_t *cespec_merge(const json_t *old, const json_t *update);

const char *cespec_provider_name(enum ce_provider p);

#endif

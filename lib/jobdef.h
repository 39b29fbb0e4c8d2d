/* SPDX-License-Identifier: GPL-2.0-or-later */
/* AWS-Batch-shaped job definitions: checking them field by field, and
 * turning one into the parts of a job.  Pure, no I/O. */
#ifndef KILN_JOBDEF_H
#define KILN_JOBDEF_H

#include <jansson.h>

#include "lib/error.h"

/* Check a definition as kiln jobdef register takes it: jobDefinitionName,
 * type (container or multinode), parameters, containerProperties (command,
 * image, environment, resourceRequirements VCPU/MEMORY/GPU, vcpus, memory,
 * mountPoints, volumes, user), retryStrategy, timeout
 * (attemptDurationSeconds), nodeProperties, tags, propagateTags,
 * platformCapabilities.  Unknown fields and wrong types are refused with
 * the field's path.  Returns 0 or -1 with err set. */
int jobdef_check(const json_t *def, struct kiln_error *err);

/* Node node's command with every "Ref::NAME" replaced by the value of
 * NAME in params (submit-time) or else in the definition's parameters, as
 * a shell script ("#!/bin/sh\nexec 'word' ..."), or NULL with err set when
 * the definition has no command or a reference has no value.  Caller frees. */
char *jobdef_script(const json_t *def, long node, const json_t *params,
                    struct kiln_error *err);

/* vCPUs, memory (MiB) and GPUs from resourceRequirements (or the legacy
 * vcpus/memory fields); 0 when not given. */
void jobdef_resources(const json_t *def, long node, long *vcpus, long *mem_mib,
                      long *gpus);

/* Nodes of the job (nodeProperties.numNodes; 1 for a container job), and
 * the container properties node i runs: containerProperties, or those of
 * the node range that holds i (multinode: node 0 is the main node; the
 * script of a node range exports the range's environment first). */
long jobdef_num_nodes(const json_t *def);
const json_t *jobdef_container(const json_t *def, long i);

#endif

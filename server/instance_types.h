/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The EC2 instance types the elastic manager knows: what one instance of
 * each has.  The table is made at build time from
 * server/instance-types.tsv, the one place they are written. */
#ifndef KILN_INSTANCE_TYPES_H
#define KILN_INSTANCE_TYPES_H

#include <stddef.h>
#include <stdint.h>

struct instance_type {
    const char *name; /* "c5.large" */
    int vcpus;
    int64_t mem_mib; /* as sold; the OS keeps some */
    int gpus;
    double price; /* on-demand USD per hour: an order, and spot's ceiling */
};

extern const struct instance_type instance_types[];
extern const size_t ninstance_types;

#endif

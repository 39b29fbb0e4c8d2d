/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Checking a JSON object against a table of its fields, naming the first
 * unknown, mistyped or missing one.  Pure, no I/O; tested through
 * test_jobspec and test_jobdef. */
#ifndef KILN_JSONFIELDS_H
#define KILN_JSONFIELDS_H

#include <stdbool.h>
#include <jansson.h>

#include "lib/error.h"

struct json_field {
    const char *name;
    json_type type;  /* JSON_TRUE stands for any boolean */
    bool required;
};

/* Check o against fields (ended by a NULL name).  Messages read "invalid
 * WHAT: unknown field 'PATH.NAME'" and the like; path is "" at the top.
 * Returns 0, or -1 with err set. */
int json_fields_check(const json_t *o, const struct json_field *fields, const char *what,
                      const char *path, struct kiln_error *err);

#endif

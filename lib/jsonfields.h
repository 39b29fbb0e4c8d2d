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
    json_type type; /* JSON_TRUE stands for any boolean, and the two
                      * below for the other pairs a field may take */
    bool required;
};

#define JSON_FIELD_NUMBER JSON_REAL /* an integer or a real */
#define JSON_FIELD_ID JSON_NULL     /* an integer or a string (a job id) */

/* Check o against fields (ended by a NULL name).  Messages read "invalid
 * WHAT: unknown field 'PATH.NAME'" and the like; path is "" at the top.
 * Returns 0, or -1 with err set. */
int json_fields_check(const json_t *o, const struct json_field *fields,
                      const char *what, const char *path,
                      struct kiln_error *err);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Checking a JSON object against a table of its fields. */
#include <string.h>

#include "lib/jsonfields.h"

static const char *type_name(json_type t)
{
    switch (t) {
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_ARRAY: return "an array";
    case JSON_OBJECT: return "an object";
    case JSON_FIELD_NUMBER: return "a number";
    case JSON_FIELD_ID: return "an integer or a string";
    default: return "a boolean";
    }
}

int json_fields_check(const json_t *o, const struct json_field *fields,
                      const char *what, const char *path,
                      struct kiln_error *err)
{
    const char *dot = *path ? "." : "", *key;
    json_t *v;

    json_object_foreach ((json_t *)o, key, v) {
        const struct json_field *f;
        for (f = fields; f->name && strcmp(f->name, key); f++)
            ;
        if (!f->name)
            return errprintf(err, "invalid %s: unknown field '%s%s%.64s'", what,
                             path, dot, key);
        bool ok = f->type == JSON_TRUE           ? json_is_boolean(v)
                  : f->type == JSON_FIELD_NUMBER ? json_is_number(v)
                  : f->type == JSON_FIELD_ID
                      ? json_is_integer(v) || json_is_string(v)
                      : json_typeof(v) == f->type;
        if (!ok)
            return errprintf(err, "invalid %s: field '%s%s%s' must be %s", what,
                             path, dot, key, type_name(f->type));
    }
    for (const struct json_field *f = fields; f->name; f++)
        if (f->required && !json_object_get(o, f->name))
            return errprintf(err, "invalid %s: field '%s%s%s' is missing", what,
                             path, dot, f->name);
    return 0;
}

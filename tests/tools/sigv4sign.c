/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sigv4sign: for each JSON line on stdin, {method, path, query, headers
 * (array of "Name: value"), body, region, service, date, key, secret},
 * print lib/sigv4's canonical request (JSON string) and Authorization
 * header, one JSON line each, so that t2203 can compare them with
 * botocore's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "lib/sigv4.h"

static const char *s(const json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "";
}

int main(void)
{
    char line[1 << 16];

    while (fgets(line, sizeof(line), stdin)) {
        json_t *o = json_loads(line, 0, NULL), *h, *v;
        const char *hs[64];
        size_t i, n = 0;
        char names[1024], auth[2048];

        if (!o)
            return 1;
        h = json_object_get(o, "headers");
        json_array_foreach (h, i, v)
            if (n < 64)
                hs[n++] = json_string_value(v);
        struct sigv4_request r = {
            .method = s(o, "method"),
            .path = s(o, "path"),
            .query = s(o, "query"),
            .headers = hs,
            .nheaders = n,
            .payload = s(o, "body"),
            .payload_len = strlen(s(o, "body")),
            .region = s(o, "region"),
            .service = s(o, "service"),
            .amz_date = s(o, "date"),
        };
        char *c = sigv4_canonical_request(&r, names, sizeof(names));
        if (!c
            || sigv4_authorization(&r, s(o, "key"), s(o, "secret"), auth,
                                   sizeof(auth))
                   < 0)
            return 1;
        json_t *out =
            json_pack("{s:s, s:s}", "canonical", c, "authorization", auth);
        char *text = json_dumps(out, JSON_COMPACT);
        printf("%s\n", text);
        free(text);
        free(c);
        json_decref(out);
        json_decref(o);
    }
    return 0;
}

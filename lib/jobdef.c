/* SPDX-License-Identifier: GPL-2.0-or-later */
/* AWS-Batch-shaped job definitions. */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/jobdef.h"
#include "lib/jobspec.h"
#include "lib/jsonfields.h"
#include "lib/retry.h"

static const struct json_field top_fields[] = {
    { "jobDefinitionName", JSON_STRING, true },
    { "type", JSON_STRING, true },
    { "parameters", JSON_OBJECT, false },
    { "containerProperties", JSON_OBJECT, false },
    { "retryStrategy", JSON_OBJECT, false },
    { "timeout", JSON_OBJECT, false },
    { "nodeProperties", JSON_OBJECT, false },
    { "tags", JSON_OBJECT, false },
    { "propagateTags", JSON_TRUE, false },
    { "platformCapabilities", JSON_ARRAY, false },
    { NULL, 0, false },
};

static const struct json_field container_fields[] = {
    { "command", JSON_ARRAY, false },
    { "image", JSON_STRING, false },
    { "environment", JSON_ARRAY, false },
    { "resourceRequirements", JSON_ARRAY, false },
    { "vcpus", JSON_INTEGER, false },
    { "memory", JSON_INTEGER, false },
    { "mountPoints", JSON_ARRAY, false },
    { "volumes", JSON_ARRAY, false },
    { "user", JSON_STRING, false },
    { "jobRoleArn", JSON_STRING, false },
    { "executionRoleArn", JSON_STRING, false },
    { NULL, 0, false },
};

static int strings_only(const json_t *o, const char *path,
                        struct kiln_error *err)
{
    const char *key;
    json_t *v;

    json_object_foreach ((json_t *)o, key, v)
        if (!json_is_string(v) || strlen(json_string_value(v)) > 4096)
            return errprintf(
                err, "invalid job definition: '%s.%.64s' must be a string",
                path, key);
    return 0;
}

/* Container properties at path ("containerProperties", or a node range's
 * "container"). */
static int check_container(const json_t *cp, const char *path,
                           struct kiln_error *err)
{
    json_t *v, *e;
    size_t i;

    errno = EINVAL;
    if (json_fields_check(cp, container_fields, "job definition", path, err)
        < 0)
        return -1;
    json_array_foreach (json_object_get(cp, "command"), i, v)
        if (!json_is_string(v))
            return errprintf(
                err,
                "invalid job definition: '%s.command[%zu]' must be a "
                "string",
                path, i);
    json_array_foreach (json_object_get(cp, "environment"), i, e) {
        const char *n = NULL, *val = NULL;
        if (json_unpack(e, "{s:s, s:s!}", "name", &n, "value", &val) < 0 || !*n
            || strchr(n, '='))
            return errprintf(
                err,
                "invalid job definition: '%s.environment[%zu]' must be "
                "{\"name\": N, \"value\": V}",
                path, i);
    }
    json_array_foreach (json_object_get(cp, "resourceRequirements"), i, e) {
        const char *t = NULL, *val = NULL;
        char *end;
        if (json_unpack(e, "{s:s, s:s!}", "type", &t, "value", &val) < 0
            || (strcmp(t, "VCPU") && strcmp(t, "MEMORY") && strcmp(t, "GPU"))
            || !(strtod(val, &end) > 0 && strtod(val, NULL) <= 1e9) || *end)
            return errprintf(
                err,
                "invalid job definition: '%s.resourceRequirements[%zu]' "
                "must be {\"type\": VCPU|MEMORY|GPU, \"value\": \"N\"} "
                "with 0 < N <= 1e9",
                path, i);
    }
    if ((v = json_object_get(cp, "vcpus")) && json_integer_value(v) < 1)
        return errprintf(
            err, "invalid job definition: '%s.vcpus' must be positive", path);
    if ((v = json_object_get(cp, "memory")) && json_integer_value(v) < 1)
        return errprintf(
            err, "invalid job definition: '%s.memory' must be positive", path);
    errno = 0;
    return 0;
}

/* AWS's targetNodes: "N", "N:", ":M" or "N:M", inclusive, within n nodes. */
static int parse_range(const char *s, long n, long *lo, long *hi)
{
    char *end;
    const char *colon = strchr(s, ':');

    *lo = 0;
    *hi = n - 1;
    if (!colon) {
        *lo = *hi = strtol(s, &end, 10);
        return *s && !*end && *lo >= 0 && *lo < n ? 0 : -1;
    }
    if (colon != s && ((*lo = strtol(s, &end, 10)) < 0 || end != colon))
        return -1;
    if (colon[1] && ((*hi = strtol(colon + 1, &end, 10)) < 0 || *end))
        return -1;
    return *lo <= *hi && *hi < n ? 0 : -1;
}

static const struct json_field node_fields[] = {
    { "numNodes", JSON_INTEGER, true },
    { "mainNode", JSON_INTEGER, true },
    { "nodeRangeProperties", JSON_ARRAY, true },
    { NULL, 0, false },
};

static const struct json_field range_fields[] = {
    { "targetNodes", JSON_STRING, true },
    { "container", JSON_OBJECT, true },
    { NULL, 0, false },
};

/* nodeProperties: every node in exactly one range, each with a container. */
static int check_nodes(const json_t *def, struct kiln_error *err)
{
    json_t *np = json_object_get(def, "nodeProperties"), *r;
    long n, covered[JOBSPEC_MAX_NODES] = { 0 };
    size_t i;
    char path[64];

    errno = EINVAL;
    if (!np)
        return errprintf(err, "invalid job definition: a multinode one needs "
                              "'nodeProperties'");
    if (json_fields_check(np, node_fields, "job definition", "nodeProperties",
                          err)
        < 0)
        return -1;
    n = (long)json_integer_value(json_object_get(np, "numNodes"));
    if (n < 1 || n > JOBSPEC_MAX_NODES)
        return errprintf(
            err,
            "invalid job definition: 'nodeProperties.numNodes' must be "
            "1 to %d",
            JOBSPEC_MAX_NODES);
    if (json_integer_value(json_object_get(np, "mainNode")) != 0)
        return errprintf(
            err, "invalid job definition: 'nodeProperties.mainNode' must be 0 "
                 "(Kiln's main node is the first)");
    json_array_foreach (json_object_get(np, "nodeRangeProperties"), i, r) {
        long lo, hi;
        snprintf(path, sizeof(path), "nodeProperties.nodeRangeProperties[%zu]",
                 i);
        if (json_fields_check(r, range_fields, "job definition", path, err) < 0)
            return -1;
        if (parse_range(json_string_value(json_object_get(r, "targetNodes")), n,
                        &lo, &hi))
            return errprintf(
                err,
                "invalid job definition: '%s.targetNodes' must be N, N:, "
                ":M or N:M within the %ld nodes",
                path, n);
        for (long k = lo; k <= hi; k++)
            if (covered[k]++)
                return errprintf(
                    err,
                    "invalid job definition: node %ld is in two node "
                    "ranges",
                    k);
        snprintf(path, sizeof(path),
                 "nodeProperties.nodeRangeProperties[%zu].container", i);
        if (check_container(json_object_get(r, "container"), path, err) < 0)
            return -1;
    }
    for (long k = 0; k < n; k++)
        if (!covered[k])
            return errprintf(
                err, "invalid job definition: node %ld is in no node range", k);
    errno = 0;
    return 0;
}

long jobdef_num_nodes(const json_t *def)
{
    json_t *np = json_object_get(def, "nodeProperties");
    return np ? (long)json_integer_value(json_object_get(np, "numNodes")) : 1;
}

const json_t *jobdef_container(const json_t *def, long i)
{
    json_t *np = json_object_get(def, "nodeProperties"), *r;
    size_t k;

    if (!np)
        return json_object_get(def, "containerProperties");
    json_array_foreach (json_object_get(np, "nodeRangeProperties"), k, r) {
        long lo, hi;
        if (parse_range(json_string_value(json_object_get(r, "targetNodes")),
                        jobdef_num_nodes(def), &lo, &hi)
                == 0
            && lo <= i && i <= hi)
            return json_object_get(r, "container");
    }
    return NULL;
}

int jobdef_check(const json_t *def, struct kiln_error *err)
{
    json_t *cp, *v;
    const char *name, *type;

    errno = EINVAL;
    if (!json_is_object(def))
        return errprintf(err, "invalid job definition: not a JSON object");
    if (json_fields_check(def, top_fields, "job definition", "", err) < 0)
        return -1;
    name = json_string_value(json_object_get(def, "jobDefinitionName"));
    type = json_string_value(json_object_get(def, "type"));
    if (!jobspec_name_ok(name, 128) || strchr(name, ':') || strchr(name, ','))
        return errprintf(
            err, "invalid job definition: 'jobDefinitionName' must be 1-128 "
                 "letters, digits and ._-+@");
    if (strcmp(type, "container") && strcmp(type, "multinode"))
        return errprintf(err,
                         "invalid job definition: 'type' must be container or "
                         "multinode");
    if ((v = json_object_get(def, "parameters"))
        && strings_only(v, "parameters", err) < 0)
        return -1;
    if ((v = json_object_get(def, "tags")) && strings_only(v, "tags", err) < 0)
        return -1;
    if ((v = json_object_get(def, "retryStrategy")) && retry_check(v, err) < 0)
        return -1;
    if ((v = json_object_get(def, "timeout"))) {
        json_t *s = json_object_get(v, "attemptDurationSeconds");
        if (json_object_size(v) != 1 || !json_is_integer(s)
            || json_integer_value(s) < 1
            || json_integer_value(s) > 100LL * 365 * 86400)
            return errprintf(err, "invalid job definition: 'timeout' must be "
                                  "{\"attemptDurationSeconds\": N}");
    }
    if (!strcmp(type, "multinode"))
        return check_nodes(def, err);
    if (!(cp = json_object_get(def, "containerProperties")))
        return errprintf(
            err, "invalid job definition: 'containerProperties' is missing");
    return check_container(cp, "containerProperties", err);
}

void jobdef_resources(const json_t *def, long node, long *vcpus, long *mem_mib,
                      long *gpus)
{
    const json_t *cp = jobdef_container(def, node);
    json_t *e;
    size_t i;

    *vcpus = (long)json_integer_value(json_object_get(cp, "vcpus"));
    *mem_mib = (long)json_integer_value(json_object_get(cp, "memory"));
    *gpus = 0;
    json_array_foreach (json_object_get(cp, "resourceRequirements"), i, e) {
        const char *t = json_string_value(json_object_get(e, "type"));
        double val =
            strtod(json_string_value(json_object_get(e, "value")), NULL);
        long n = (long)(val + 0.999); /* fractional vCPUs round up */
        if (!strcmp(t, "VCPU"))
            *vcpus = n;
        else if (!strcmp(t, "MEMORY"))
            *mem_mib = n;
        else
            *gpus = n;
    }
}

/* Append s to *buf as it is. */
static int append_raw(char **buf, size_t *len, size_t *cap, const char *s)
{
    size_t need = *len + strlen(s) + 1;

    if (need > *cap) {
        char *nb = realloc(*buf, need * 2);
        if (!nb)
            return -1;
        *buf = nb;
        *cap = need * 2;
    }
    memcpy(*buf + *len, s, strlen(s) + 1);
    *len += strlen(s);
    return 0;
}

/* Append s to *buf as a single-quoted shell word. */
static int append_word(char **buf, size_t *len, size_t *cap, const char *s)
{
    size_t need = *len + 4 * strlen(s) + 4;

    if (need > *cap) {
        size_t ncap = need * 2;
        char *nb = realloc(*buf, ncap);
        if (!nb)
            return -1;
        *buf = nb;
        *cap = ncap;
    }
    (*buf)[(*len)++] = '\'';
    for (; *s; s++) {
        if (*s == '\'') {
            memcpy(*buf + *len, "'\\''", 4);
            *len += 4;
        } else {
            (*buf)[(*len)++] = *s;
        }
    }
    (*buf)[(*len)++] = '\'';
    (*buf)[*len] = '\0';
    return 0;
}

char *jobdef_script(const json_t *def, long node, const json_t *params,
                    struct kiln_error *err)
{
    const json_t *cp = jobdef_container(def, node);
    json_t *cmd = json_object_get(cp, "command");
    json_t *defaults = json_object_get(def, "parameters"), *w;
    size_t i, len, cap = 256;
    char *buf = malloc(cap);

    if (!buf) {
        errprintf(err, "out of memory");
        return NULL;
    }
    if (!json_array_size(cmd)) {
        free(buf);
        errprintf(err, "job definition '%s' has no command: give one",
                  json_string_value(json_object_get(def, "jobDefinitionName")));
        return NULL;
    }
    len = (size_t)snprintf(buf, cap, "#!/bin/sh\n");
    /* A node range's own environment: exported before its command. */
    if (json_object_get(def, "nodeProperties")) {
        json_array_foreach (json_object_get(cp, "environment"), i, w) {
            const char *name = json_string_value(json_object_get(w, "name"));
            bool ok = name && (isalpha((unsigned char)*name) || *name == '_');
            for (const char *c = name; ok && *c; c++)
                ok = isalnum((unsigned char)*c) || *c == '_';
            if (!ok)
                continue; /* not a shell name: it cannot be exported */
            const char *value = json_string_value(json_object_get(w, "value"));
            if (append_raw(&buf, &len, &cap, "export ") < 0
                || append_raw(&buf, &len, &cap, name) < 0
                || append_raw(&buf, &len, &cap, "=") < 0
                || append_word(&buf, &len, &cap, value) < 0
                || append_raw(&buf, &len, &cap, "\n") < 0) {
                free(buf);
                errprintf(err, "out of memory");
                return NULL;
            }
        }
    }
    if (append_raw(&buf, &len, &cap, "exec") < 0) {
        free(buf);
        errprintf(err, "out of memory");
        return NULL;
    }
    json_array_foreach (cmd, i, w) {
        const char *word = json_string_value(w);
        /* AWS: a whole argument "Ref::name" takes the parameter's value. */
        if (strncmp(word, "Ref::", 5) == 0) {
            const char *key = word + 5;
            json_t *v = json_object_get(params, key);
            if (!v)
                v = json_object_get(defaults, key);
            if (!json_is_string(v)) {
                free(buf);
                errprintf(
                    err,
                    "parameter '%s' has no value: give --parameters %s=VALUE",
                    key, key);
                return NULL;
            }
            word = json_string_value(v);
        }
        if (append_raw(&buf, &len, &cap, " ") < 0
            || append_word(&buf, &len, &cap, word) < 0) {
            free(buf);
            errprintf(err, "out of memory");
            return NULL;
        }
    }
    if (len + 2 > cap && !(buf = realloc(buf, len + 2)))
        return NULL;
    buf[len++] = '\n';
    buf[len] = '\0';
    return buf;
}

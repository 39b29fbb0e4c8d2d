/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Compute environment bodies: see cespec.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cespec.h"
#include "lib/jsonfields.h"
#include "lib/util.h"

static const struct json_field top_fields[] = {
    { "version", JSON_INTEGER, false },
    { "name", JSON_STRING, false },
    { "computeEnvironmentName", JSON_STRING, false },
    { "type", JSON_STRING, false },
    { "state", JSON_STRING, false },
    { "computeResources", JSON_OBJECT, false },
    { "serviceRole", JSON_STRING, false },
    { "tags", JSON_OBJECT, false },
    { "kiln", JSON_OBJECT, false },
    { NULL },
};

static const struct json_field resource_fields[] = {
    { "type", JSON_STRING, false },
    { "minvCpus", JSON_INTEGER, false },
    { "maxvCpus", JSON_INTEGER, false },
    { "desiredvCpus", JSON_INTEGER, false },
    { "instanceTypes", JSON_ARRAY, false },
    { "allocationStrategy", JSON_STRING, false },
    { "bidPercentage", JSON_INTEGER, false },
    { "imageId", JSON_STRING, false },
    { "subnets", JSON_ARRAY, false },
    { "securityGroupIds", JSON_ARRAY, false },
    { "ec2KeyPair", JSON_STRING, false },
    { "instanceRole", JSON_STRING, false },
    { "tags", JSON_OBJECT, false },
    { "launchTemplate", JSON_OBJECT, false },
    { NULL },
};

static const struct json_field template_fields[] = {
    { "launchTemplateId", JSON_STRING, false },
    { "launchTemplateName", JSON_STRING, false },
    { "version", JSON_STRING, false },
    { NULL },
};

static const struct json_field kiln_fields[] = {
    { "provider", JSON_STRING, false },
    { "idleTimeoutSeconds", JSON_INTEGER, false },
    { "bootTimeoutSeconds", JSON_INTEGER, false },
    { "region", JSON_STRING, false },
    { "endpoint", JSON_STRING, false },
    { "resumeProgram", JSON_STRING, false },
    { "suspendProgram", JSON_STRING, false },
    { "programTimeoutSeconds", JSON_INTEGER, false },
    { "hosts", JSON_STRING, false },
    { "nodeVcpus", JSON_INTEGER, false },
    { NULL },
};

static const char *const strategies[] = { "BEST_FIT", "BEST_FIT_PROGRESSIVE",
                                          "SPOT_CAPACITY_OPTIMIZED",
                                          "SPOT_PRICE_CAPACITY_OPTIMIZED",
                                          NULL };

const char cespec_usage[] =
    "  --type MANAGED|UNMANAGED     launches and retires nodes, or not\n"
    "  --provider ec2|exec|local    how a managed one gets nodes\n"
    "  --min-vcpus N --desired-vcpus N --max-vcpus N\n"
    "  --idle-timeout SECONDS       an idle node above min lives this long (300)\n"
    "  --boot-timeout SECONDS       time a node has to register (600)\n"
    "  ec2: --instance-types LIST (c5.large, m5, optimal) --image-id AMI\n"
    "       --allocation-strategy BEST_FIT|BEST_FIT_PROGRESSIVE|\n"
    "                SPOT_CAPACITY_OPTIMIZED|SPOT_PRICE_CAPACITY_OPTIMIZED\n"
    "       --spot-bid-percentage P --subnets LIST --security-groups LIST\n"
    "       --key-pair NAME --instance-profile NAME --launch-template NAME[:VERSION]\n"
    "       --tags K=V,... --region REGION --endpoint URL\n"
    "  exec: --hosts HOSTLIST --resume-program PATH --suspend-program PATH\n"
    "        --program-timeout SECONDS --node-vcpus N\n"
    "  local: --node-vcpus N (cpus of this machine per node, default 1)\n"
    "         --hosts NETNS-LIST (one instance in each network namespace)\n";

const char *cespec_provider_name(enum ce_provider p)
{
    static const char *const names[] = { "none", "ec2", "exec", "local" };
    return names[p];
}

/* Letters, digits and the few characters cloud identifiers use; no
 * space, quote, slash or control character (they reach query strings,
 * argv and user data). */
static bool ident_ok(const char *s, size_t max)
{
    size_t n = strlen(s);

    if (n == 0 || n > max)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')
              || (*s >= '0' && *s <= '9') || strchr("._-:+@", *s)))
            return false;
    return true;
}

static int want_ident(const json_t *o, const char *key, const char *where,
                      struct kiln_error *err)
{
    const char *v = json_string_value(json_object_get(o, key));

    if (v && !ident_ok(v, 255))
        return errprintf(err,
                         "invalid %s%s: want 1-255 letters, digits and ._-:+@",
                         where, key);
    return 0;
}

static int want_idents(const json_t *o, const char *key, const char *where,
                       size_t max, struct kiln_error *err)
{
    json_t *a = json_object_get(o, key), *v;
    size_t i;

    if (!a)
        return 0;
    if (json_array_size(a) == 0 || json_array_size(a) > max)
        return errprintf(err, "invalid %s%s: want 1-%zu names", where, key,
                         max);
    json_array_foreach (a, i, v)
        if (!json_is_string(v) || !ident_ok(json_string_value(v), 255))
            return errprintf(err,
                             "invalid %s%s[%zu]: want letters, digits and "
                             "._-:+@",
                             where, key, i);
    return 0;
}

static int want_tags(const json_t *o, const char *where, struct kiln_error *err)
{
    json_t *tags = json_object_get(o, "tags"), *v;
    const char *k;

    if (json_object_size(tags) > 40)
        return errprintf(err, "invalid %stags: at most 40", where);
    json_object_foreach ((json_t *)tags, k, v) {
        const char *s = json_string_value(v);
        if (!*k || strlen(k) > 128 || !util_printable(k) || !s
            || strlen(s) > 256 || !util_printable(s))
            return errprintf(err,
                             "invalid %stags.%.32s: want a key of 1-128 and a "
                             "value of 0-256 printable characters",
                             where, k);
        if (!strncmp(k, "kiln:", 5) || !strncmp(k, "aws:", 4))
            return errprintf(err,
                             "invalid %stags.%.32s: keys starting kiln: and "
                             "aws: are reserved",
                             where, k);
    }
    return 0;
}

static int want_range(const json_t *o, const char *key, const char *where,
                      long lo, long hi, long dflt, long *out,
                      struct kiln_error *err)
{
    json_t *v = json_object_get(o, key);

    *out = dflt;
    if (!v)
        return 0;
    if (json_integer_value(v) < lo || json_integer_value(v) > hi)
        return errprintf(err, "invalid %s%s: want %ld-%ld", where, key, lo, hi);
    *out = (long)json_integer_value(v);
    return 0;
}

static int want_path(const json_t *o, const char *key, struct kiln_error *err)
{
    const char *v = json_string_value(json_object_get(o, key));

    if (v
        && (v[0] != '/' || strlen(v) > 1023 || !util_printable(v)
            || strstr(v, "/../")))
        return errprintf(err,
                         "invalid kiln.%s: want an absolute path of printable "
                         "characters",
                         key);
    return 0;
}

static int check_resources(const json_t *cr, struct cespec *spec,
                           struct kiln_error *err)
{
    const char *type = json_string_value(json_object_get(cr, "type"));
    const char *strategy =
        json_string_value(json_object_get(cr, "allocationStrategy"));
    const char *w = "computeResources.";
    json_t *lt = json_object_get(cr, "launchTemplate"), *v;
    long bid;
    size_t i;

    if (json_fields_check(cr, resource_fields, "compute environment",
                          "computeResources", err)
        < 0)
        return -1;
    if (type && strcmp(type, "EC2") && strcmp(type, "SPOT"))
        return errprintf(err,
                         "invalid computeResources.type '%.16s': want EC2 or "
                         "SPOT (Fargate is not for Kiln)",
                         type);
    spec->spot = type && !strcmp(type, "SPOT");
    if (want_range(cr, "minvCpus", w, 0, 1000000, 0, &spec->min_vcpus, err) < 0
        || want_range(cr, "maxvCpus", w, 0, 1000000, -1, &spec->max_vcpus, err)
               < 0
        || want_range(cr, "desiredvCpus", w, 0, 1000000, -1,
                      &spec->desired_vcpus, err)
               < 0
        || want_range(cr, "bidPercentage", w, 1, 100, 100, &bid, err) < 0)
        return -1;
    spec->bid_percentage = (int)bid;
    if (spec->max_vcpus < 0)
        return errprintf(err, "missing computeResources.maxvCpus: a managed "
                              "compute environment needs its maximum");
    if (spec->min_vcpus > spec->max_vcpus)
        return errprintf(err,
                         "invalid computeResources: minvCpus %ld is more "
                         "than maxvCpus %ld",
                         spec->min_vcpus, spec->max_vcpus);
    if (spec->desired_vcpus >= 0
        && (spec->desired_vcpus < spec->min_vcpus
            || spec->desired_vcpus > spec->max_vcpus))
        return errprintf(err,
                         "invalid computeResources.desiredvCpus %ld: want "
                         "minvCpus-maxvCpus (%ld-%ld)",
                         spec->desired_vcpus, spec->min_vcpus, spec->max_vcpus);
    if (json_object_get(cr, "bidPercentage") && !spec->spot)
        return errprintf(err,
                         "invalid computeResources.bidPercentage: only for "
                         "type SPOT");
    if (strategy) {
        bool known = false;
        for (const char *const *s = strategies; *s; s++)
            known = known || !strcmp(*s, strategy);
        if (!known)
            return errprintf(err,
                             "invalid computeResources.allocationStrategy "
                             "'%.40s': want BEST_FIT, BEST_FIT_PROGRESSIVE, "
                             "SPOT_CAPACITY_OPTIMIZED or "
                             "SPOT_PRICE_CAPACITY_OPTIMIZED",
                             strategy);
        if (!strncmp(strategy, "SPOT_", 5) && !spec->spot)
            return errprintf(err,
                             "invalid computeResources.allocationStrategy "
                             "%s: only for type SPOT",
                             strategy);
    }
    if (want_idents(cr, "instanceTypes", w, 64, err) < 0
        || want_idents(cr, "subnets", w, 16, err) < 0
        || want_idents(cr, "securityGroupIds", w, 5, err) < 0
        || want_ident(cr, "imageId", w, err) < 0
        || want_ident(cr, "ec2KeyPair", w, err) < 0
        || want_tags(cr, w, err) < 0)
        return -1;
    /* An instance profile may be an ARN: arn:aws:iam::1:instance-profile/x */
    v = json_object_get(cr, "instanceRole");
    if (v
        && (!json_string_length(v) || json_string_length(v) > 512
            || strpbrk(json_string_value(v), " \"'\\\n\t")
            || !util_printable(json_string_value(v))))
        return errprintf(err, "invalid computeResources.instanceRole");
    json_array_foreach (json_object_get(cr, "instanceTypes"), i, v)
        if (strlen(json_string_value(v)) > 40)
            return errprintf(err,
                             "invalid computeResources.instanceTypes[%zu]: "
                             "too long",
                             i);
    if (lt) {
        if (json_fields_check(lt, template_fields, "compute environment",
                              "computeResources.launchTemplate", err)
            < 0)
            return -1;
        const char *lw = "computeResources.launchTemplate.";
        if (!json_object_get(lt, "launchTemplateId")
            == !json_object_get(lt, "launchTemplateName"))
            return errprintf(err,
                             "invalid computeResources.launchTemplate: give "
                             "launchTemplateId or launchTemplateName");
        const char *ver = json_string_value(json_object_get(lt, "version"));
        if (want_ident(lt, "launchTemplateId", lw, err) < 0
            || want_ident(lt, "launchTemplateName", lw, err) < 0)
            return -1;
        if (ver && *ver && strcmp(ver, "$Latest") && strcmp(ver, "$Default")
            && strspn(ver, "0123456789") != strlen(ver))
            return errprintf(err,
                             "invalid computeResources.launchTemplate.version "
                             "'%.16s': want a number, $Latest or $Default",
                             ver);
    }
    return 0;
}

static int check_kiln(const json_t *k, struct cespec *spec,
                      struct kiln_error *err)
{
    const char *prov = json_string_value(json_object_get(k, "provider"));
    const char *endpoint = json_string_value(json_object_get(k, "endpoint"));
    const char *hosts = json_string_value(json_object_get(k, "hosts"));
    const char *w = "kiln.";

    if (json_fields_check(k, kiln_fields, "compute environment", "kiln", err)
        < 0)
        return -1;
    spec->provider = CE_EC2;
    if (prov) {
        if (!strcmp(prov, "ec2"))
            spec->provider = CE_EC2;
        else if (!strcmp(prov, "exec"))
            spec->provider = CE_EXEC;
        else if (!strcmp(prov, "local"))
            spec->provider = CE_LOCAL;
        else
            return errprintf(err,
                             "invalid kiln.provider '%.16s': want ec2, exec "
                             "or local",
                             prov);
    }
    if (want_range(k, "idleTimeoutSeconds", w, 0, 7 * 86400, 300,
                   &spec->idle_timeout, err)
            < 0
        || want_range(k, "bootTimeoutSeconds", w, 5, 86400, 600,
                      &spec->boot_timeout, err)
               < 0
        || want_range(k, "programTimeoutSeconds", w, 1, 3600, 60,
                      &spec->program_timeout, err)
               < 0
        || want_range(k, "nodeVcpus", w, 1, 4096, 1, &spec->node_vcpus, err) < 0
        || want_ident(k, "region", w, err) < 0
        || want_path(k, "resumeProgram", err) < 0
        || want_path(k, "suspendProgram", err) < 0)
        return -1;
    if (endpoint
        && ((strncmp(endpoint, "https://", 8)
             && strncmp(endpoint, "http://", 7))
            || strlen(endpoint) > 255 || strpbrk(endpoint, " \"'\\<>")
            || !util_printable(endpoint)))
        return errprintf(err, "invalid kiln.endpoint: want an http:// or "
                              "https:// URL");
    if (hosts
        && (!*hosts || strlen(hosts) > 1023 || !util_printable(hosts)
            || strpbrk(hosts, " \"'\\;&|$`<>")))
        return errprintf(err, "invalid kiln.hosts: want a host list like "
                              "node[01-16]");
    if (spec->provider == CE_EXEC
        && (!hosts || !json_object_get(k, "resumeProgram")
            || !json_object_get(k, "suspendProgram")))
        return errprintf(err, "an exec compute environment needs kiln.hosts, "
                              "kiln.resumeProgram and kiln.suspendProgram");
    if (spec->provider != CE_EXEC
        && (json_object_get(k, "resumeProgram")
            || json_object_get(k, "suspendProgram")))
        return errprintf(err, "kiln.resumeProgram and kiln.suspendProgram "
                              "are for the exec provider");
    if (spec->provider == CE_EC2 && hosts)
        return errprintf(err, "kiln.hosts is for the exec and local "
                              "providers");
    return 0;
}

int cespec_check(const json_t *body, struct cespec *spec,
                 struct kiln_error *err)
{
    const char *type = json_string_value(json_object_get(body, "type"));
    const char *state = json_string_value(json_object_get(body, "state"));
    const json_t *cr = json_object_get(body, "computeResources");
    const json_t *k = json_object_get(body, "kiln");
    static const json_t *none;

    memset(spec, 0, sizeof(*spec));
    spec->desired_vcpus = -1;
    if (json_fields_check(body, top_fields, "compute environment", "", err) < 0)
        return -1;
    if (type && strcmp(type, "MANAGED") && strcmp(type, "UNMANAGED"))
        return errprintf(err,
                         "invalid compute environment type '%.16s': want "
                         "MANAGED or UNMANAGED",
                         type);
    if (state && strcmp(state, "ENABLED") && strcmp(state, "DISABLED"))
        return errprintf(err, "invalid compute environment state: want "
                              "ENABLED or DISABLED");
    spec->enabled = !state || !strcmp(state, "ENABLED");
    spec->managed = type && !strcmp(type, "MANAGED");
    if (want_tags(body, "", err) < 0)
        return -1;
    if (json_object_get(body, "serviceRole")
        && !util_printable(
            json_string_value(json_object_get(body, "serviceRole"))))
        return errprintf(err, "invalid serviceRole");
    if (!spec->managed) {
        if (cr || k)
            return errprintf(err, "an UNMANAGED compute environment takes no "
                                  "computeResources or kiln settings: give "
                                  "--type MANAGED");
        spec->provider = CE_UNMANAGED;
        return 0;
    }
    if (!cr)
        return errprintf(err, "missing computeResources: a managed compute "
                              "environment needs at least maxvCpus");
    if (check_resources(cr, spec, err) < 0
        || check_kiln(k ? k : (none ? none : (none = json_object())), spec, err)
               < 0)
        return -1;
    if (spec->provider == CE_EC2 && !json_object_get(cr, "imageId")
        && !json_object_get(cr, "launchTemplate"))
        return errprintf(err, "an ec2 compute environment needs "
                              "computeResources.imageId or launchTemplate");
    if (spec->provider != CE_EC2
        && (json_object_get(cr, "instanceTypes")
            || json_object_get(cr, "imageId") || json_object_get(cr, "subnets")
            || spec->spot))
        return errprintf(err,
                         "instance types, images, subnets and spot are for "
                         "the ec2 provider; %s nodes have kiln.nodeVcpus",
                         cespec_provider_name(spec->provider));
    return 0;
}

/* The option-to-field table: where each option's value goes. */
enum opt_kind { O_STR, O_INT, O_LIST, O_TAGS, O_BID, O_TEMPLATE };
static const struct {
    const char *key;
    const char *where; /* NULL: top level; else the object */
    const char *field;
    enum opt_kind kind;
} options[] = {
    { "type", NULL, "type", O_STR },
    { "state", NULL, "state", O_STR },
    { "provider", "kiln", "provider", O_STR },
    { "min-vcpus", "computeResources", "minvCpus", O_INT },
    { "desired-vcpus", "computeResources", "desiredvCpus", O_INT },
    { "max-vcpus", "computeResources", "maxvCpus", O_INT },
    { "instance-types", "computeResources", "instanceTypes", O_LIST },
    { "allocation-strategy", "computeResources", "allocationStrategy", O_STR },
    { "spot-bid-percentage", "computeResources", "bidPercentage", O_BID },
    { "image-id", "computeResources", "imageId", O_STR },
    { "subnets", "computeResources", "subnets", O_LIST },
    { "security-groups", "computeResources", "securityGroupIds", O_LIST },
    { "key-pair", "computeResources", "ec2KeyPair", O_STR },
    { "instance-profile", "computeResources", "instanceRole", O_STR },
    { "launch-template", "computeResources", "launchTemplate", O_TEMPLATE },
    { "tags", "computeResources", "tags", O_TAGS },
    { "region", "kiln", "region", O_STR },
    { "endpoint", "kiln", "endpoint", O_STR },
    { "idle-timeout", "kiln", "idleTimeoutSeconds", O_INT },
    { "boot-timeout", "kiln", "bootTimeoutSeconds", O_INT },
    { "program-timeout", "kiln", "programTimeoutSeconds", O_INT },
    { "resume-program", "kiln", "resumeProgram", O_STR },
    { "suspend-program", "kiln", "suspendProgram", O_STR },
    { "hosts", "kiln", "hosts", O_STR },
    { "node-vcpus", "kiln", "nodeVcpus", O_INT },
};

static json_t *split_list(const char *value)
{
    json_t *a = json_array();
    char *copy = strdup(value), *save = NULL;

    for (char *t = copy ? strtok_r(copy, ",", &save) : NULL; t;
         t = strtok_r(NULL, ",", &save))
        json_array_append_new(a, json_string(t));
    free(copy);
    return a;
}

static json_t *split_tags(const char *value, struct kiln_error *err)
{
    json_t *o = json_object();
    char *copy = strdup(value), *save = NULL;

    for (char *t = copy ? strtok_r(copy, ",", &save) : NULL; t;
         t = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(t, '=');
        if (!eq || eq == t) {
            errprintf(err, "invalid tag '%.64s': want KEY=VALUE", t);
            json_decref(o);
            free(copy);
            return NULL;
        }
        *eq = '\0';
        json_object_set_new(o, t, json_string(eq + 1));
    }
    free(copy);
    return o;
}

int cespec_option(json_t *body, const char *key, const char *value,
                  struct kiln_error *err)
{
    json_t *v = NULL, *obj = body;
    char *end;
    long n;

    for (size_t i = 0; i < sizeof(options) / sizeof(*options); i++) {
        if (strcmp(options[i].key, key))
            continue;
        switch (options[i].kind) {
        case O_STR: v = json_string(value); break;
        case O_LIST: v = split_list(value); break;
        case O_TAGS:
            if (!(v = split_tags(value, err)))
                return -1;
            break;
        case O_INT:
        case O_BID:
            errno = 0;
            n = strtol(value, &end, 10);
            if (!*value || *end || errno || n < 0 || n > 100000000)
                return errprintf(err,
                                 "invalid --%s '%.32s': want a whole "
                                 "number",
                                 key, value);
            v = json_integer(n);
            break;
        case O_TEMPLATE: {
            const char *colon = strchr(value, ':');
            char name[256];
            snprintf(name, sizeof(name), "%.*s",
                     colon ? (int)(colon - value) : (int)strlen(value), value);
            v = json_pack("{s:s}",
                          strncmp(name, "lt-", 3) ? "launchTemplateName"
                                                  : "launchTemplateId",
                          name);
            if (colon)
                json_object_set_new(v, "version", json_string(colon + 1));
            break;
        }
        }
        if (!v)
            return errprintf(err, "out of memory");
        if (options[i].where
            && !(obj = json_object_get(body, options[i].where)))
            json_object_set_new(body, options[i].where, obj = json_object());
        json_object_set_new(obj, options[i].field, v);
        if (options[i].kind == O_BID) /* a bid means spot */
            json_object_set_new(obj, "type", json_string("SPOT"));
        if (!strcmp(key, "provider") && !json_object_get(body, "type"))
            json_object_set_new(body, "type", json_string("MANAGED"));
        return 1;
    }
    return 0;
}

json_t *cespec_merge(const json_t *old, const json_t *update)
{
    json_t *out = json_deep_copy(old), *v;
    const char *key;

    if (!out)
        return NULL;
    json_object_foreach ((json_t *)update, key, v) {
        json_t *have = json_object_get(out, key);
        if ((!strcmp(key, "computeResources") || !strcmp(key, "kiln"))
            && json_is_object(have) && json_is_object(v))
            json_object_update(have, v);
        else
            json_object_set(out, key, v);
    }
    json_object_del(out, "version");
    return out;
}

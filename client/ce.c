/* SPDX-License-Identifier: GPL-2.0-or-later */
/* kiln ce: compute environments, unmanaged or managed (elastic), made
 * from options or from an AWS CreateComputeEnvironment body. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/client.h"
#include "client/optparse.h"
#include "lib/cespec.h"
#include "lib/log.h"
#include "lib/util.h"

static const char usage[] =
    "kiln ce create NAME [--type MANAGED --provider ec2|exec|local] [OPTIONS]\n"
    "       kiln ce create [NAME] --json FILE (a CreateComputeEnvironment body)\n"
    "       kiln ce update NAME [--state ENABLED|DISABLED] [--min-vcpus N]\n"
    "                           [--desired-vcpus N] [--max-vcpus N] [OPTIONS]\n"
    "       kiln ce delete NAME\n"
    "       kiln ce show NAME [--json]\n"
    "       kiln ce list [--json]";

/* The options of create and update: each one's text, by its place in
 * the table; lib/cespec turns them into the body. */
struct ce_opts {
    const char *val[32];
    const char *file;
    bool json;
    struct opt_given given;
};

#define V(i) offsetof(struct ce_opts, val) + (i) * sizeof(const char *)
#define S(i, name, arg)                      \
    {                                        \
        name, 0, OPT_STRING, V(i), arg, NULL \
    }
static const struct opt set_table[] = {
    S(0, "type", "MANAGED|UNMANAGED"),
    S(1, "state", "ENABLED|DISABLED"),
    S(2, "provider", "ec2|exec|local"),
    S(3, "min-vcpus", "N"),
    S(4, "desired-vcpus", "N"),
    S(5, "max-vcpus", "N"),
    S(6, "instance-types", "LIST"),
    S(7, "allocation-strategy", "STRATEGY"),
    S(8, "spot-bid-percentage", "P"),
    S(9, "image-id", "AMI"),
    S(10, "subnets", "LIST"),
    S(11, "security-groups", "LIST"),
    S(12, "key-pair", "NAME"),
    S(13, "instance-profile", "NAME"),
    S(14, "launch-template", "NAME[:VERSION]"),
    S(15, "tags", "K=V,..."),
    S(16, "region", "REGION"),
    S(17, "endpoint", "URL"),
    S(18, "idle-timeout", "SECONDS"),
    S(19, "boot-timeout", "SECONDS"),
    S(20, "program-timeout", "SECONDS"),
    S(21, "resume-program", "PATH"),
    S(22, "suspend-program", "PATH"),
    S(23, "hosts", "HOSTLIST"),
    S(24, "node-vcpus", "N"),
    { "json", 0, OPT_STRING, offsetof(struct ce_opts, file), "FILE",
      "the body as AWS's CreateComputeEnvironment (or an update's fields)" },
    OPT_END,
};
enum { NSET = 25 };

static const struct opt show_table[] = {
    { "json", 0, OPT_FLAG, offsetof(struct ce_opts, json), NULL, "print JSON" },
    OPT_END,
};

static json_t *body_from(const struct ce_opts *o, const char *name)
{
    json_t *body;
    struct kiln_error err;

    if (o->file) {
        json_error_t jerr;
        body = !strcmp(o->file, "-")
                   ? json_loadf(stdin, JSON_REJECT_DUPLICATES, &jerr)
                   : json_load_file(o->file, JSON_REJECT_DUPLICATES, &jerr);
        if (!body || !json_is_object(body))
            die("cannot read compute environment '%s': %s (line %d)", o->file,
                body ? "not a JSON object" : jerr.text, jerr.line);
    } else {
        body = json_object();
    }
    for (int i = 0; i < NSET; i++)
        if (optparse_given(set_table, &o->given, set_table[i].name)
            && cespec_option(body, set_table[i].name, o->val[i], &err) < 0)
            die("%s", err.text);
    const char *aws =
        json_string_value(json_object_get(body, "computeEnvironmentName"));
    if (aws && name && strcmp(aws, name))
        die("the name '%s' differs from the body's computeEnvironmentName "
            "'%s'",
            name, aws);
    return body;
}

static void when(double t, char *out, size_t len)
{
    time_t s = (time_t)t;
    struct tm tm;

    localtime_r(&s, &tm);
    strftime(out, len, "%Y-%m-%d %H:%M:%S", &tm);
}

static void show_text(const json_t *c)
{
    const json_t *cr = json_object_get(c, "computeResources");
    const json_t *k = json_object_get(c, "kiln");
    const json_t *v;
    size_t i;
    char t[32];

    printf("Compute environment %s: %s, %s, %s",
           jstr(c, "computeEnvironmentName"), jstr(c, "type"), jstr(c, "state"),
           jstr(c, "status"));
    if (*jstr(c, "statusReason"))
        printf(" (%s)", jstr(c, "statusReason"));
    printf("\n");
    if (cr)
        printf(
            "Provider %s: vCPUs min %lld, desired %lld, max %lld; idle "
            "timeout %lld s, boot timeout %lld s\n",
            jstr(k, "provider"),
            (long long)json_integer_value(json_object_get(cr, "minvCpus")),
            (long long)json_integer_value(json_object_get(cr, "desiredvCpus")),
            (long long)json_integer_value(json_object_get(cr, "maxvCpus")),
            (long long)json_integer_value(
                json_object_get(k, "idleTimeoutSeconds")),
            (long long)json_integer_value(
                json_object_get(k, "bootTimeoutSeconds")));
    if (json_array_size(json_object_get(k, "instances"))) {
        static const char *head[] = { "INSTANCE", "TYPE",  "VCPUS",
                                      "MARKET",   "STATE", "LAUNCHED" };
        struct table *tb = table_create(6, head);
        json_array_foreach (json_object_get(k, "instances"), i, v) {
            char vc[16];
            snprintf(
                vc, sizeof(vc), "%lld",
                (long long)json_integer_value(json_object_get(v, "vcpus")));
            when(jnum(v, "launched"), t, sizeof(t));
            table_add(tb, jstr(v, "id"), jstr(v, "type"), vc, jstr(v, "market"),
                      jstr(v, "state"), t);
        }
        table_print(tb, stdout);
        table_destroy(tb);
    } else if (cr) {
        printf("No instances.\n");
    }
    if (json_array_size(json_object_get(k, "events"))) {
        printf("Events:\n");
        json_array_foreach (json_object_get(k, "events"), i, v) {
            when(jnum(v, "time"), t, sizeof(t));
            printf("  %s  %-14s %s\n", t, jstr(v, "kind"), jstr(v, "text"));
        }
    }
}

/* NAME TYPE STATE NODES, and for managed ones their provider, status
 * and vCPUs. */
static void list_text(const json_t *r)
{
    static const char *head[] = { "COMPUTE ENVIRONMENT",
                                  "TYPE",
                                  "STATE",
                                  "NODES",
                                  "PROVIDER",
                                  "STATUS",
                                  "VCPUS (MIN/DESIRED/MAX)" };
    const json_t *c;
    size_t i;
    bool managed = false;

    json_array_foreach (json_object_get(r, "ces"), i, c)
        managed = managed || *jstr(c, "provider");
    struct table *tb = table_create(managed ? 7 : 4, head);
    json_array_foreach (json_object_get(r, "ces"), i, c) {
        char vcpus[64] = "";
        char *nodes = util_json_join(json_object_get(c, "nodes"), NULL, ",");
        if (json_object_get(c, "maxvCpus"))
            snprintf(
                vcpus, sizeof(vcpus), "%lld/%lld/%lld",
                (long long)json_integer_value(json_object_get(c, "minvCpus")),
                (long long)json_integer_value(
                    json_object_get(c, "desiredvCpus")),
                (long long)json_integer_value(json_object_get(c, "maxvCpus")));
        const char *cells[] = { jstr(c, "name"),
                                jstr(c, "type"),
                                jstr(c, "state"),
                                nodes ? nodes : "",
                                jstr(c, "provider"),
                                jstr(c, "status"),
                                vcpus };
        table_add_row(tb, cells);
        free(nodes);
    }
    table_print(tb, stdout);
    table_destroy(tb);
}

int cmd_ce(int argc, char **argv)
{
    struct ce_opts o = { 0 };
    const char *verb = argc > 1 ? argv[1] : NULL;
    bool set = verb && (!strcmp(verb, "create") || !strcmp(verb, "update"));
    const struct opt_cmd cmd = { usage, set ? set_table : show_table,
                                 set ? cespec_usage : NULL, .anywhere = true };
    json_t *r;

    if (!verb
        || (!set && strcmp(verb, "delete") && strcmp(verb, "show")
            && strcmp(verb, "list")))
        die("%s verb '%s'\nUsage: %s", verb ? "unknown" : "missing",
            verb ? verb : "", usage);
    int first = optparse(argc - 1, argv + 1, &cmd, &o, &o.given, "") + 1;
    const char *name = first < argc ? argv[first++] : NULL;
    if (first < argc)
        die("unexpected argument '%s'", argv[first]);
    json_t *body = set ? body_from(&o, name) : NULL;
    /* An AWS body names itself. */
    if (!name && body)
        name =
            json_string_value(json_object_get(body, "computeEnvironmentName"));
    if (!name && strcmp(verb, "list"))
        die("missing name\nUsage: %s", usage);
    if (!strcmp(verb, "list")) {
        r = client_request("ce.list", json_object());
        if (o.json)
            client_print_json(json_object_get(r, "ces"));
        else
            list_text(r);
    } else if (!strcmp(verb, "show")) {
        r = client_request("ce.show", json_pack("{s:s}", "name", name));
        if (o.json)
            client_print_json(r);
        else
            show_text(
                json_array_get(json_object_get(r, "computeEnvironments"), 0));
    } else if (!strcmp(verb, "delete")) {
        r = client_request("ce.delete", json_pack("{s:s}", "name", name));
    } else {
        char type[16];
        json_object_set_new(body, "name", json_string(name));
        snprintf(type, sizeof(type), "ce.%s", verb);
        r = client_request(type, body);
        const json_t *c = json_object_get(r, "ce");
        printf("compute environment %s: %s, %s%s%s\n", jstr(c, "name"),
               jstr(c, "type"), jstr(c, "state"),
               *jstr(c, "statusReason") ? "; " : "", jstr(c, "statusReason"));
    }
    json_decref(r);
    return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* kiln jobdef: register, list, show, deregister job definitions. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"
#include "client/optparse.h"
#include "lib/jobdef.h"
#include "lib/log.h"

int cmd_jobdef(int argc, char **argv)
{
    static const char *usage =
        "kiln jobdef register FILE.json|-\n"
        "       kiln jobdef list [--all] [--json] [NAME]\n"
        "       kiln jobdef show [--json] NAME[:REVISION]\n"
        "       kiln jobdef deregister NAME:REVISION";
    static struct {
        bool json, all;
    } o;
    static const struct opt table[] = {
        { "json", 0, OPT_FLAG, offsetof(typeof(o), json), NULL, "print JSON" },
        { "all", 0, OPT_FLAG, offsetof(typeof(o), all), NULL,
          "INACTIVE revisions too" },
        OPT_END,
    };
    const struct opt_cmd cmd = { usage, table, .anywhere = true };
    struct kiln_error err;
    json_error_t jerr;
    json_t *r, *v;
    size_t i;

    optind = optparse(argc, argv, &cmd, &o, NULL, "");
    bool json = o.json, all = o.all;
    if (optind >= argc)
        die("missing verb\nUsage: %s", usage);
    const char *verb = argv[optind++];
    const char *arg = optind < argc ? argv[optind++] : NULL;
    if (optind < argc)
        die("unexpected argument '%s'", argv[optind]);

    if (!strcmp(verb, "register")) {
        if (!arg)
            die("missing file\nUsage: %s", usage);
        json_t *def = !strcmp(arg, "-")
                          ? json_loadf(stdin, JSON_REJECT_DUPLICATES, &jerr)
                          : json_load_file(arg, JSON_REJECT_DUPLICATES, &jerr);
        if (!def)
            die("cannot read job definition '%s': %s (line %d)", arg, jerr.text,
                jerr.line);
        /* Checked here too, so that the message is local and immediate. */
        if (jobdef_check(def, &err) < 0)
            die("%s: %s", arg, err.text);
        r = client_request("jobdef.register",
                           json_pack("{s:o}", "definition", def));
        if (json)
            client_print_json(r);
        else
            printf(
                "Registered job definition %s:%lld\n",
                json_string_value(json_object_get(r, "jobDefinitionName")),
                (long long)json_integer_value(json_object_get(r, "revision")));
    } else if (!strcmp(verb, "list")) {
        json_t *body = json_pack("{s:b}", "all", all);
        if (arg)
            json_object_set_new(body, "name", json_string(arg));
        r = client_request("jobdef.list", body);
        if (json) {
            client_print_json(json_object_get(r, "jobdefs"));
        } else {
            static const char *head[] = { "JOB DEFINITION", "REVISION", "TYPE",
                                          "STATUS" };
            struct table *t = table_create(4, head);
            json_array_foreach (json_object_get(r, "jobdefs"), i, v) {
                char rev[16];
                snprintf(rev, sizeof(rev), "%lld",
                         (long long)json_integer_value(
                             json_object_get(v, "revision")));
                table_add(
                    t,
                    json_string_value(json_object_get(v, "jobDefinitionName")),
                    rev, json_string_value(json_object_get(v, "type")),
                    json_string_value(json_object_get(v, "status")));
            }
            table_print(t, stdout);
            table_destroy(t);
        }
    } else if (!strcmp(verb, "show")) {
        if (!arg)
            die("missing NAME[:REVISION]");
        r = client_request("jobdef.show", json_pack("{s:s}", "name", arg));
        json_t *jd = json_object_get(r, "jobdef");
        if (json) {
            client_print_json(jd);
        } else {
            printf(
                "%s:%lld %s\n", json_string_value(json_object_get(jd, "name")),
                (long long)json_integer_value(json_object_get(jd, "revision")),
                json_string_value(json_object_get(jd, "status")));
            client_print_json(json_object_get(jd, "definition"));
        }
    } else if (!strcmp(verb, "deregister")) {
        if (!arg)
            die("missing NAME:REVISION");
        r = client_request("jobdef.deregister",
                           json_pack("{s:s}", "name", arg));
    } else {
        die("unknown verb '%s'\nUsage: %s", verb, usage);
    }
    json_decref(r);
    return 0;
}

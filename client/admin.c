/* SPDX-License-Identifier: GPL-2.0-or-later */
/* kiln jobqueue, kiln ce, kiln node: the AWS-Batch-style objects. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"
#include "lib/log.h"
#include "lib/units.h"

enum { O_PRIORITY = 3000, O_CE, O_STATE, O_POLICY, O_DECAY, O_SHARE, O_STUCK, O_FEATURES,
       O_REASON };

static const struct option admin_options[] = {
    { "priority", required_argument, NULL, O_PRIORITY },
    { "ce", required_argument, NULL, O_CE },
    { "state", required_argument, NULL, O_STATE },
    { "policy", required_argument, NULL, O_POLICY },
    { "cancel-stuck", required_argument, NULL, O_STUCK },
    { "share-decay", required_argument, NULL, O_DECAY },
    { "share", required_argument, NULL, O_SHARE },
    { "features", required_argument, NULL, O_FEATURES },
    { "reason", required_argument, NULL, O_REASON },
    { "json", no_argument, NULL, OPT_JSON },
    { "help", no_argument, NULL, 'h' },
    CLIENT_COMMON_OPTIONS,
    { 0 },
};

/* Parse VERB [NAME] and the options (anywhere) into a request body;
 * returns the verb.  The name is required unless the verb is "list". */
static const char *parse(int argc, char **argv, const char *usage, json_t *body,
                         bool *json)
{
    int c;
    long v;

    optind = 0;
    while ((c = getopt_long(argc, argv, "h", admin_options, NULL)) != -1) {
        switch (c) {
        case O_PRIORITY:
            if (strcmp(optarg, "0") != 0 && units_parse_count(optarg, 1000000, &v) < 0)
                die("invalid value for --priority: '%s' (0-1000000)", optarg);
            json_object_set_new(body, "priority", json_integer(strcmp(optarg, "0") ? v : 0));
            break;
        case O_CE: {
            json_t *ces = json_array();
            char *copy = strdup(optarg), *save = NULL;
            for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
                json_array_append_new(ces, json_string(t));
            free(copy);
            json_object_set_new(body, "ces", ces);
            break;
        }
        case O_STATE:
            if (strcmp(optarg, "ENABLED") && strcmp(optarg, "DISABLED"))
                die("invalid value for --state: '%s' (ENABLED or DISABLED)", optarg);
            json_object_set_new(body, "state", json_string(optarg));
            break;
        case O_POLICY:
            json_object_set_new(body, "policy", json_string(optarg));
            break;
        case O_FEATURES:
            json_object_set_new(body, "features", json_string(optarg));
            break;
        case O_REASON:
            json_object_set_new(body, "reason", json_string(optarg));
            break;
        case O_STUCK: {
            /* REASON:SECONDS[,...]: AWS's jobStateTimeLimitActions, CANCEL */
            json_t *acts = json_array();
            char *copy = strdup(optarg), *save = NULL;
            for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                char *colon = strrchr(t, ':'), *end;
                long secs = colon ? strtol(colon + 1, &end, 10) : 0;
                if (!colon || colon == t || !colon[1] || *end || secs < 1)
                    die("invalid value for --cancel-stuck: '%s' (want REASON:SECONDS)", t);
                *colon = '\0';
                json_array_append_new(acts, json_pack("{s:s, s:s, s:I, s:s}", "reason", t,
                                      "state", "RUNNABLE", "maxTimeSeconds",
                                      (json_int_t)secs, "action", "CANCEL"));
            }
            free(copy);
            json_object_set_new(body, "jobStateTimeLimitActions", acts);
            break;
        }
        case O_DECAY: {
            char *end;
            long d = strtol(optarg, &end, 10);
            if (!*optarg || *end || d < 0 || d > 604800)
                die("invalid value for --share-decay: '%s' (seconds, 0-604800)", optarg);
            json_object_set_new(body, "shareDecaySeconds", json_integer(d));
            break;
        }
        case O_SHARE: {
            /* ID=WEIGHT[,ID=WEIGHT...], repeatable */
            json_t *dist = json_object_get(body, "shareDistribution");
            char *copy = strdup(optarg), *save = NULL;
            if (!dist)
                json_object_set_new(body, "shareDistribution", dist = json_array());
            for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                char *eq = strchr(t, '='), *end;
                double w = 1;
                if (eq) {
                    *eq = '\0';
                    w = strtod(eq + 1, &end);
                    if (!eq[1] || *end)
                        die("invalid value for --share: '%s=%s' (want ID=WEIGHT)", t, eq + 1);
                }
                json_array_append_new(dist, json_pack("{s:s, s:f}", "shareIdentifier", t,
                                                      "weightFactor", w));
            }
            free(copy);
            break;
        }
        case OPT_JSON:
            *json = true;
            break;
        case 'h':
            printf("Usage: %s\n", usage);
            exit(0);
        default:
            if (!client_common_opt(c, optarg)) {
                fprintf(stderr, "Usage: %s\n", usage);
                exit(1);
            }
        }
    }
    if (optind >= argc)
        die("missing verb\nUsage: %s", usage);
    const char *verb = argv[optind++];
    if (strcmp(verb, "list") != 0) {
        if (optind >= argc)
            die("missing name\nUsage: %s", usage);
        json_object_set_new(body, "name", json_string(argv[optind++]));
    }
    if (optind < argc)
        die("unexpected argument '%s'", argv[optind]);
    return verb;
}

static const char *ce_list_text(const json_t *ces)
{
    static char buf[512];
    size_t i, n = 0;
    json_t *v;

    buf[0] = '\0';
    json_array_foreach(ces, i, v)
        n += (size_t)snprintf(buf + n, n < sizeof(buf) ? sizeof(buf) - n : 0, "%s%s",
                              i ? "," : "", json_string_value(v));
    return buf;
}

/* One kind of named object (job queue, compute environment, policy): its
 * request prefix, verbs, usage, checks and how a listed one is shown.
 * run_kind() does what every such command does with them. */
struct object_kind {
    const char *kind;          /* requests are KIND.VERB */
    const char *list_key;      /* the array in the list answer */
    const char *const *verbs;  /* NULL-terminated */
    const char *usage;
    void (*check)(const char *verb, json_t *body); /* may die */
    const char *const *head;   /* list table header */
    int ncols;
    void (*row)(struct table *t, const json_t *item);
};

static int run_kind(const struct object_kind *k, int argc, char **argv)
{
    json_t *body = json_object(), *r, *item;
    bool json = false, known = false;
    const char *verb = parse(argc, argv, k->usage, body, &json);
    char type[32];
    size_t i;

    for (const char *const *v = k->verbs; *v; v++)
        known = known || !strcmp(*v, verb);
    if (!known)
        die("unknown verb '%s'\nUsage: %s", verb, k->usage);
    if (json_object_get(body, "features"))
        die("--features is for nodes: kiln node update NODE --features LIST");
    if (k->check)
        k->check(verb, body);
    snprintf(type, sizeof(type), "%s.%s", k->kind, verb);
    r = client_request(type, body);
    if (!strcmp(verb, "list") && json) {
        client_print_json(json_object_get(r, k->list_key));
    } else if (!strcmp(verb, "list")) {
        struct table *t = table_create(k->ncols, k->head);
        json_array_foreach(json_object_get(r, k->list_key), i, item)
            k->row(t, item);
        table_print(t, stdout);
        table_destroy(t);
    } else if (json) {
        client_print_json(r);
    }
    json_decref(r);
    return 0;
}

static const char *str_of(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static const char *const crud_verbs[] = { "create", "update", "delete", "list", NULL };

static void queue_row(struct table *t, const json_t *q)
{
    char prio[16], jobs[16];

    snprintf(prio, sizeof(prio), "%lld",
             (long long)json_integer_value(json_object_get(q, "priority")));
    snprintf(jobs, sizeof(jobs), "%lld", (long long)json_integer_value(json_object_get(q, "jobs")));
    table_add(t, str_of(q, "name"), prio, str_of(q, "state"), jobs,
              ce_list_text(json_object_get(q, "ces")));
}

int cmd_jobqueue(int argc, char **argv)
{
    static const char *head[] = { "QUEUE", "PRIORITY", "STATE", "JOBS", "COMPUTE ENVIRONMENTS" };
    static const struct object_kind k = {
        "queue", "queues", crud_verbs,
        "kiln jobqueue create NAME [--priority N] [--ce CE1,CE2] [--state ENABLED|DISABLED]\n"
        "                              [--policy FAIRSHARE-POLICY]\n"
        "       kiln jobqueue update NAME [--priority N] [--ce ...] [--state ...] [--policy ...]\n"
        "         --cancel-stuck REASON:SECONDS[,...]  cancel jobs RUNNABLE that long for that\n"
        "                                             reason (a kiln why code, or *)\n"
        "       kiln jobqueue delete NAME\n"
        "       kiln jobqueue list [--json]",
        NULL, head, 5, queue_row,
    };
    return run_kind(&k, argc, argv);
}

static void ce_check(const char *verb, json_t *body)
{
    if (json_object_get(body, "priority") || json_object_get(body, "ces")
        || json_object_get(body, "policy") || json_object_get(body, "shareDistribution"))
        die("--priority, --ce, --policy and --share are not for compute environments");
}

static void ce_row(struct table *t, const json_t *c)
{
    table_add(t, str_of(c, "name"), str_of(c, "type"), str_of(c, "state"),
              ce_list_text(json_object_get(c, "nodes")));
}

int cmd_ce(int argc, char **argv)
{
    static const char *head[] = { "COMPUTE ENVIRONMENT", "TYPE", "STATE", "NODES" };
    static const struct object_kind k = {
        "ce", "ces", crud_verbs,
        "kiln ce create NAME [--state ENABLED|DISABLED]\n"
        "       kiln ce update NAME --state ENABLED|DISABLED\n"
        "       kiln ce delete NAME\n"
        "       kiln ce list [--json]",
        ce_check, head, 4, ce_row,
    };
    return run_kind(&k, argc, argv);
}

static void policy_check(const char *verb, json_t *body)
{
    if (!strcmp(verb, "create") && !json_object_get(body, "shareDistribution"))
        die("kiln policy create needs --share ID=WEIGHT");
}

static void policy_row(struct table *t, const json_t *p)
{
    char decay[32], shares[512];
    size_t k, n = 0;
    json_t *d;

    shares[0] = '\0';
    snprintf(decay, sizeof(decay), "%lld",
             (long long)json_integer_value(json_object_get(p, "shareDecaySeconds")));
    json_array_foreach(json_object_get(p, "shareDistribution"), k, d)
        n += (size_t)snprintf(shares + n, n < sizeof(shares) ? sizeof(shares) - n : 0,
                              "%s%s=%g", k ? "," : "", str_of(d, "shareIdentifier"),
                              json_number_value(json_object_get(d, "weightFactor")));
    table_add(t, str_of(p, "name"), decay, shares);
}

int cmd_policy(int argc, char **argv)
{
    static const char *head[] = { "POLICY", "SHARE DECAY (s)", "SHARES (ID=WEIGHT)" };
    static const char *const verbs[] = { "create", "delete", "list", NULL };
    static const struct object_kind k = {
        "policy", "policies", verbs,
        "kiln policy create NAME --share ID=WEIGHT[,ID=WEIGHT...] [--share-decay SECONDS]\n"
        "       kiln policy delete NAME\n"
        "       kiln policy list [--json]",
        policy_check, head, 3, policy_row,
    };
    return run_kind(&k, argc, argv);
}

int cmd_node(int argc, char **argv)
{
    static const char *usage = "kiln node show NODE [--json]\n"
                               "       kiln node update NODE [--ce NAME] [--features LIST]\n"
                               "       kiln node drain|down NODE [--reason TEXT]\n"
                               "       kiln node resume NODE";
    json_t *body = json_object(), *r, *ces;
    bool json = false;
    const char *verb;

    if (argc > 1 && strcmp(argv[1], "show") == 0) {
        json_decref(body);
        return node_show(argc, argv);
    }
    verb = parse(argc, argv, usage, body, &json);
    if (!strcmp(verb, "drain") || !strcmp(verb, "down") || !strcmp(verb, "resume")) {
        if (json_object_get(body, "ces") || json_object_get(body, "features"))
            die("kiln node %s takes no --ce or --features: use kiln node update", verb);
        if (!strcmp(verb, "resume") && json_object_get(body, "reason"))
            die("kiln node resume takes no --reason");
        json_object_set_new(body, "state", json_string(verb));
        r = client_request("node.update", body);
        if (json)
            client_print_json(r);
        else
            printf("node %s: %s\n", json_string_value(json_object_get(r, "name")),
                   json_string_value(json_object_get(r, "state")));
        json_decref(r);
        return 0;
    }
    if (json_object_get(body, "reason"))
        die("--reason is for kiln node drain and kiln node down");
    if (strcmp(verb, "update") != 0)
        die("unknown verb '%s'\nUsage: %s", verb, usage);
    if ((ces = json_object_get(body, "ces")) && json_array_size(ces) != 1)
        die("kiln node update takes one --ce NAME");
    if (!ces && !json_object_get(body, "features"))
        die("kiln node update needs --ce NAME or --features LIST (\"\" for none)");
    if (ces) {
        json_object_set(body, "ce", json_array_get(ces, 0));
        json_object_del(body, "ces");
    }
    r = client_request("node.update", body);
    if (json)
        client_print_json(r);
    json_decref(r);
    return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* kiln jobqueue, kiln ce, kiln node: the AWS-Batch-style objects. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"
#include "client/optparse.h"
#include "lib/log.h"
#include "lib/units.h"

/* What the options of kiln jobqueue, ce, policy and node say. */
struct admin_opts {
    long priority, decay;
    json_t *ces, *actions, *shares; /* made by the options that build them */
    const char *state, *policy, *features, *reason;
    bool json;
    struct opt_given given;
};

/* CE1,CE2: a queue's compute environments, in order. */
static void opt_ces(void *opts, const char *arg, const char *where)
{
    struct admin_opts *o = opts;
    char *copy = strdup(arg), *save = NULL;

    json_decref(o->ces);
    o->ces = json_array();
    for (char *t = strtok_r(copy, ",", &save); t;
         t = strtok_r(NULL, ",", &save))
        json_array_append_new(o->ces, json_string(t));
    free(copy);
}

/* REASON:SECONDS[,...]: AWS's jobStateTimeLimitActions, CANCEL. */
static void opt_stuck(void *opts, const char *arg, const char *where)
{
    struct admin_opts *o = opts;
    char *copy = strdup(arg), *save = NULL;

    json_decref(o->actions);
    o->actions = json_array();
    for (char *t = strtok_r(copy, ",", &save); t;
         t = strtok_r(NULL, ",", &save)) {
        char *colon = strrchr(t, ':'), *end;
        long secs = colon ? strtol(colon + 1, &end, 10) : 0;
        if (!colon || colon == t || !colon[1] || *end || secs < 1)
            die("invalid value for --cancel-stuck: '%s' (want REASON:SECONDS)",
                t);
        *colon = '\0';
        json_array_append_new(o->actions,
                              json_pack("{s:s, s:s, s:I, s:s}", "reason", t,
                                        "state", "RUNNABLE", "maxTimeSeconds",
                                        (json_int_t)secs, "action", "CANCEL"));
    }
    free(copy);
}

/* ID=WEIGHT[,ID=WEIGHT...], repeatable: a policy's shares. */
static void opt_share(void *opts, const char *arg, const char *where)
{
    struct admin_opts *o = opts;
    char *copy = strdup(arg), *save = NULL;

    if (!o->shares)
        o->shares = json_array();
    for (char *t = strtok_r(copy, ",", &save); t;
         t = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(t, '='), *end;
        double w = 1;
        if (eq) {
            *eq = '\0';
            w = strtod(eq + 1, &end);
            if (!eq[1] || *end)
                die("invalid value for --share: '%s=%s' (want ID=WEIGHT)", t,
                    eq + 1);
        }
        json_array_append_new(
            o->shares,
            json_pack("{s:s, s:f}", "shareIdentifier", t, "weightFactor", w));
    }
    free(copy);
}

#define A(f) offsetof(struct admin_opts, f)
static const struct opt admin_table[] = {
    { "priority", 0, OPT_INT, A(priority), "N",
      "a queue's priority, higher first", .min = 0, .max = 1000000,
      .json = "priority" },
    { "ce", 0, OPT_FN, A(ces), "CE1,CE2",
      "a queue's compute environments, in order", .fn = opt_ces },
    { "state", 0, OPT_CHOICE, A(state), "ENABLED|DISABLED",
      "whether it takes new jobs", .choices = "ENABLED|DISABLED",
      .json = "state" },
    { "policy", 0, OPT_STRING, A(policy), "POLICY",
      "a queue's fair-share policy", .json = "policy" },
    { "cancel-stuck", 0, OPT_FN, A(actions), "REASON:SECONDS[,...]",
      "cancel jobs RUNNABLE that long for that reason", .fn = opt_stuck },
    { "share-decay", 0, OPT_INT, A(decay), "SECONDS",
      "a policy's usage half-life", .min = 0, .max = 604800,
      .json = "shareDecaySeconds" },
    { "share", 0, OPT_FN, A(shares), "ID=WEIGHT[,...]", "a policy's shares",
      .fn = opt_share },
    { "features", 0, OPT_STRING, A(features), "LIST", "a node's features",
      .json = "features" },
    { "reason", 0, OPT_STRING, A(reason), "TEXT",
      "why a node is drained or down", .json = "reason" },
    { "json", 0, OPT_FLAG, A(json), NULL, "print JSON" },
    OPT_END,
};

/* Parse VERB [NAME] and the options (anywhere) into a request body;
 * returns the verb.  The name is required unless the verb is "list". */
static const char *parse(int argc, char **argv, const char *usage, json_t *body,
                         bool *json)
{
    const struct opt_cmd cmd = { usage, admin_table, .anywhere = true };
    struct admin_opts o = { 0 };
    int first = optparse(argc, argv, &cmd, &o, &o.given, "");

    optparse_json(admin_table, &o, &o.given, body);
    if (o.ces)
        json_object_set_new(body, "ces", o.ces);
    if (o.actions)
        json_object_set_new(body, "jobStateTimeLimitActions", o.actions);
    if (o.shares)
        json_object_set_new(body, "shareDistribution", o.shares);
    *json = o.json;
    if (first >= argc)
        die("missing verb\nUsage: %s", usage);
    const char *verb = argv[first++];
    if (strcmp(verb, "list") != 0) {
        if (first >= argc)
            die("missing name\nUsage: %s", usage);
        json_object_set_new(body, "name", json_string(argv[first++]));
    }
    if (first < argc)
        die("unexpected argument '%s'", argv[first]);
    return verb;
}

static const char *ce_list_text(const json_t *ces)
{
    static char buf[512];
    size_t i, n = 0;
    json_t *v;

    buf[0] = '\0';
    json_array_foreach (ces, i, v)
        n += (size_t)snprintf(buf + n, n < sizeof(buf) ? sizeof(buf) - n : 0,
                              "%s%s", i ? "," : "", json_string_value(v));
    return buf;
}

/* One kind of named object (job queue, compute environment, policy): its
 * request prefix, verbs, usage, checks and how a listed one is shown.
 * run_kind() does what every such command does with them. */
struct object_kind {
    const char *kind;         /* requests are KIND.VERB */
    const char *list_key;     /* the array in the list answer */
    const char *const *verbs; /* NULL-terminated */
    const char *usage;
    void (*check)(const char *verb, json_t *body); /* may die */
    const char *const *head;                       /* list table header */
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
        json_array_foreach (json_object_get(r, k->list_key), i, item)
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

static const char *const crud_verbs[] = { "create", "update", "delete", "list",
                                          NULL };

static void queue_row(struct table *t, const json_t *q)
{
    char prio[16], jobs[16];

    snprintf(prio, sizeof(prio), "%lld",
             (long long)json_integer_value(json_object_get(q, "priority")));
    snprintf(jobs, sizeof(jobs), "%lld",
             (long long)json_integer_value(json_object_get(q, "jobs")));
    table_add(t, str_of(q, "name"), prio, str_of(q, "state"), jobs,
              ce_list_text(json_object_get(q, "ces")));
}

int cmd_jobqueue(int argc, char **argv)
{
    static const char *head[] = { "QUEUE", "PRIORITY", "STATE", "JOBS",
                                  "COMPUTE ENVIRONMENTS" };
    static const struct object_kind k = {
        "queue",
        "queues",
        crud_verbs,
        "kiln jobqueue create NAME [--priority N] [--ce CE1,CE2] [--state ENABLED|DISABLED]\n"
        "                              [--policy FAIRSHARE-POLICY]\n"
        "       kiln jobqueue update NAME [--priority N] [--ce ...] [--state ...] [--policy ...]\n"
        "         --cancel-stuck REASON:SECONDS[,...]  cancel jobs RUNNABLE that long for that\n"
        "                                             reason (a kiln why code, or *)\n"
        "       kiln jobqueue delete NAME\n"
        "       kiln jobqueue list [--json]",
        NULL,
        head,
        5,
        queue_row,
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
    snprintf(
        decay, sizeof(decay), "%lld",
        (long long)json_integer_value(json_object_get(p, "shareDecaySeconds")));
    json_array_foreach (json_object_get(p, "shareDistribution"), k, d)
        n += (size_t)snprintf(
            shares + n, n < sizeof(shares) ? sizeof(shares) - n : 0, "%s%s=%g",
            k ? "," : "", str_of(d, "shareIdentifier"),
            json_number_value(json_object_get(d, "weightFactor")));
    table_add(t, str_of(p, "name"), decay, shares);
}

int cmd_policy(int argc, char **argv)
{
    static const char *head[] = { "POLICY", "SHARE DECAY (s)",
                                  "SHARES (ID=WEIGHT)" };
    static const char *const verbs[] = { "create", "delete", "list", NULL };
    static const struct object_kind k = {
        "policy",
        "policies",
        verbs,
        "kiln policy create NAME --share ID=WEIGHT[,ID=WEIGHT...] [--share-decay SECONDS]\n"
        "       kiln policy delete NAME\n"
        "       kiln policy list [--json]",
        policy_check,
        head,
        3,
        policy_row,
    };
    return run_kind(&k, argc, argv);
}

int cmd_node(int argc, char **argv)
{
    static const char *usage =
        "kiln node show NODE [--json]\n"
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
    if (!strcmp(verb, "drain") || !strcmp(verb, "down")
        || !strcmp(verb, "resume")) {
        if (json_object_get(body, "ces") || json_object_get(body, "features"))
            die("kiln node %s takes no --ce or --features: use kiln node update",
                verb);
        if (!strcmp(verb, "resume") && json_object_get(body, "reason"))
            die("kiln node resume takes no --reason");
        json_object_set_new(body, "state", json_string(verb));
        r = client_request("node.update", body);
        if (json)
            client_print_json(r);
        else
            printf("node %s: %s\n",
                   json_string_value(json_object_get(r, "name")),
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

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* kiln queue, show, cancel, release, history. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "client/client.h"
#include "client/optparse.h"
#include "lib/jobstate.h"
#include "lib/log.h"
#include "lib/units.h"
#include "lib/util.h"

static const struct opt json_table[] = {
    { "json", 0, OPT_FLAG, 0, NULL, "print JSON" },
    OPT_END,
};

int parse_simple(int argc, char **argv, bool *json, const char *usage)
{
    const struct opt_cmd cmd = { usage, json_table };
    bool j = false;
    int first = optparse(argc, argv, &cmd, &j, NULL, "");

    if (json)
        *json = j;
    else if (j)
        die("unknown option '--json'");
    return first;
}

/* A job id as the server takes it: an integer, or "ARRAY_INDEX" for a
 * child of an array. */
static json_t *parse_id(const char *s)
{
    int64_t id;
    long index;

    if (job_id_parse(s, &id, &index) < 0)
        die("invalid job id '%s': a positive integer, or ARRAY_INDEX for a child of an "
            "array",
            s);
    return index < 0 ? json_integer(id) : json_string(s);
}

/* The id to show: ARRAY_INDEX for array children. */
static void display_id(const json_t *job, char *buf, size_t len)
{
    const char *d = json_string_value(json_object_get(job, "display_id"));
    if (d)
        snprintf(buf, len, "%s", d);
    else
        snprintf(buf, len, "%lld",
                 (long long)json_integer_value(json_object_get(job, "id")));
}

/* "n1" for one node; the cpu list per node joined for --long views. */
static void nodes_of(const json_t *job, char *buf, size_t len)
{
    json_t *nodes = json_object_get(job, "nodes"), *v;
    size_t i, n = 0;

    buf[0] = '\0';
    json_array_foreach (nodes, i, v)
        n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s",
                              i ? "," : "", json_string_value(v));
}

static long cpus_of(const json_t *job)
{
    return (long)(jnum(job, "ntasks") * jnum(job, "cpus_per_task"));
}

int cmd_queue(int argc, char **argv)
{
    static const char *head[] = { "JOBID",           "NAME", "USER",
                                  "STATE",           "TIME", "CPUS",
                                  "NODELIST(REASON)" };
    bool json = false;
    json_t *r, *jobs, *job;
    size_t i;

    if (parse_simple(argc, argv, &json, "kiln queue [--json]") < argc)
        die("unexpected argument '%s'", argv[optind]);
    /* The table needs a few fields of each job: the short form. */
    r = client_request("job.list",
                       json ? json_object() : json_pack("{s:b}", "brief", 1));
    jobs = json_object_get(r, "jobs");
    if (json) {
        client_print_json(jobs);
        json_decref(r);
        return 0;
    }
    struct table *t = table_create(7, head);
    double now = util_now();
    json_array_foreach (jobs, i, job) {
        char id[48], elapsed[32], cpus[32], where[512];
        const char *state = jstr(job, "state");
        json_t *array = json_object_get(job, "array");
        display_id(job, id, sizeof(id));
        double start = jnum(job, "start_time");
        units_format_elapsed(start > 0 ? (int64_t)(now - start) : 0, elapsed,
                             sizeof(elapsed));
        snprintf(cpus, sizeof(cpus), "%ld", cpus_of(job));
        if (array)
            snprintf(where, sizeof(where), "(array %lld/%lld started)",
                     (long long)jnum(array, "created"),
                     (long long)jnum(array, "size"));
        else if (!strcmp(state, "RUNNING") || !strcmp(state, "STARTING"))
            nodes_of(job, where, sizeof(where));
        else
            snprintf(where, sizeof(where), "(%s)",
                     *jstr(job, "status_reason") ? jstr(job, "status_reason")
                                                 : "waiting");
        table_add(t, id, jstr(job, "name"), jstr(job, "user"), state, elapsed,
                  cpus, where);
    }
    table_print(t, stdout);
    table_destroy(t);
    json_decref(r);
    return 0;
}

/* What the job asked of its node beyond cpus, and what it got: each
 * task's cores and the GPUs. */
static void show_placement(const json_t *job, const json_t *spec)
{
    const json_t *a = json_object_get(job, "allocation"), *v;
    size_t i;
    int any = 0;

#define OPT(...) (printf("%s", any++ ? " " : "   "), printf(__VA_ARGS__))
    if (json_integer_value(json_object_get(spec, "threads_per_core")))
        OPT("ThreadsPerCore=%lld", (long long)jnum(spec, "threads_per_core"));
    if (json_is_true(json_object_get(spec, "exclusive")))
        OPT("Exclusive=yes");
    if (*jstr(spec, "distribution"))
        OPT("Distribution=%s", jstr(spec, "distribution"));
    if (json_integer_value(json_object_get(spec, "gpus")))
        OPT("Gpus=%lld", (long long)jnum(spec, "gpus"));
    if (*jstr(spec, "constraint"))
        OPT("Features=%s", jstr(spec, "constraint"));
    if (*jstr(spec, "nodelist"))
        OPT("ReqNodeList=%s", jstr(spec, "nodelist"));
    if (*jstr(spec, "exclude"))
        OPT("ExcNodeList=%s", jstr(spec, "exclude"));
    if (json_object_get(spec, "mem_per_cpu"))
        OPT("MemPerCpu=%lldM", (long long)jnum(spec, "mem_per_cpu"));
#undef OPT
    if (any)
        printf("\n");
    json_t *part;
    size_t k;
    json_array_foreach (json_object_get(a, "nodes"), k, part) {
        printf("   Node=%s TaskCpus=", jstr(part, "name"));
        json_array_foreach (json_object_get(part, "tasks"), i, v)
            printf("%s%s", i ? ";" : "", json_string_value(v));
        if (json_array_size(json_object_get(part, "gpus"))) {
            printf(" GpuIndices=");
            json_array_foreach (json_object_get(part, "gpus"), i, v)
                printf("%s%lld", i ? "," : "",
                       (long long)json_integer_value(v));
        }
        printf(" HeldCpus=%s FirstTask=%lld\n", jstr(part, "held"),
               (long long)jnum(part, "first_task"));
    }
}

static void show_text(const json_t *job)
{
    char sub[32], start[32], end[32], limit[32], nodes[512], elapsed[32];
    json_t *spec = json_object_get(job, "spec"), *ev, *cpus, *v;
    const char *k;
    size_t i;

    units_format_time(jnum(job, "submit_time"), sub, sizeof(sub));
    units_format_time(jnum(job, "start_time"), start, sizeof(start));
    units_format_time(jnum(job, "end_time"), end, sizeof(end));
    if (jnum(job, "time_limit") > 0)
        units_format_elapsed((int64_t)jnum(job, "time_limit"), limit,
                             sizeof(limit));
    else
        snprintf(limit, sizeof(limit), "UNLIMITED");
    double s = jnum(job, "start_time"), e = jnum(job, "end_time");
    units_format_elapsed(s > 0 ? (int64_t)((e > 0 ? e : util_now()) - s) : 0,
                         elapsed, sizeof(elapsed));
    nodes_of(job, nodes, sizeof(nodes));
    char id[48];
    display_id(job, id, sizeof(id));
    printf("JobId=%s JobName=%s\n", id, jstr(job, "name"));
    json_t *array = json_object_get(job, "array");
    if (array) {
        json_t *counts = json_object_get(array, "counts");
        printf("   Array=%s Size=%lld Created=%lld", jstr(array, "spec"),
               (long long)jnum(array, "size"),
               (long long)jnum(array, "created"));
        json_object_foreach (counts, k, v)
            if (json_integer_value(v))
                printf(" %s=%lld", k, (long long)json_integer_value(v));
        printf("\n");
    }
    printf("   UserId=%s(%lld) Queue=%s\n", jstr(job, "user"),
           (long long)jnum(job, "uid"), jstr(job, "queue"));
    printf("   JobState=%s Reason=%s ExitCode=%lld Attempts=%lld\n",
           jstr(job, "state"),
           *jstr(job, "status_reason") ? jstr(job, "status_reason") : "None",
           (long long)jnum(job, "exit_code"), (long long)jnum(job, "attempts"));
    if (json_object_get(job, "why"))
        printf("   Why=%s\n", jstr(json_object_get(job, "why"), "text"));
    printf("   NumTasks=%lld CpusPerTask=%lld Mem=%lldM TimeLimit=%s\n",
           (long long)jnum(job, "ntasks"),
           (long long)jnum(job, "cpus_per_task"), (long long)jnum(job, "mem"),
           limit);
    printf("   SubmitTime=%s StartTime=%s EndTime=%s Elapsed=%s\n", sub, start,
           end, elapsed);
    printf("   NodeList=%s", *nodes ? nodes : "(null)");
    cpus = json_object_get(job, "cpus");
    json_object_foreach (cpus, k, v)
        printf(" Cpus[%s]=%s", k, json_string_value(v));
    printf("\n");
    show_placement(job, spec);
    if (spec) {
        json_t *deps = json_object_get(spec, "dependencies"), *d;
        if (json_array_size(deps)) {
            printf("   Dependency=");
            json_array_foreach (deps, i, d) {
                printf("%s%s", i ? "," : "", jstr(d, "type"));
                if (json_object_get(d, "id"))
                    printf(":%lld", (long long)jnum(d, "id"));
            }
            printf("\n");
        }
        printf("   WorkDir=%s\n", jstr(spec, "cwd"));
        printf("   StdOut=%s\n", jstr(spec, "output"));
        if (*jstr(spec, "error"))
            printf("   StdErr=%s\n", jstr(spec, "error"));
    }
    printf("   Attempts:\n");
    json_array_foreach (json_object_get(job, "attempt_list"), i, ev) {
        units_format_time(jnum(ev, "start_time"), start, sizeof(start));
        units_format_time(jnum(ev, "end_time"), end, sizeof(end));
        printf("     #%lld node=%s cpus=%s start=%s end=%s exit=%lld reason=%s"
               " cpu=%.2fs(user)+%.2fs(sys) maxrss=%lldK oom_kills=%lld\n",
               (long long)jnum(ev, "attempt"), jstr(ev, "node"),
               jstr(ev, "cpus"), start, end, (long long)jnum(ev, "exit_code"),
               *jstr(ev, "reason") ? jstr(ev, "reason") : "-",
               jnum(ev, "user_cpu"), jnum(ev, "sys_cpu"),
               (long long)jnum(ev, "max_rss_kib"),
               (long long)jnum(ev, "oom_kills"));
    }
    printf("   Events:\n");
    json_array_foreach (json_object_get(job, "events"), i, ev) {
        char t[32];
        units_format_time(jnum(ev, "time"), t, sizeof(t));
        printf("     %s.%03d %-9s%s%s\n", t,
               (int)((jnum(ev, "time") - (int64_t)jnum(ev, "time")) * 1000),
               jstr(ev, "state"), *jstr(ev, "node") ? " node=" : "",
               jstr(ev, "node"));
        if (*jstr(ev, "reason"))
            printf("         reason: %s\n", jstr(ev, "reason"));
    }
}

int cmd_show(int argc, char **argv)
{
    bool json = false;
    int first = parse_simple(argc, argv, &json, "kiln show [--json] JOBID...");
    int rc = 0;

    if (first >= argc)
        die("missing job id");
    json_t *all = json_array();
    for (int i = first; i < argc; i++) {
        char err[256], id[64];
        /* ID#N: node N of a job on several nodes, as AWS Batch names it. */
        const char *hash = strchr(argv[i], '#');
        long node = -1;
        snprintf(id, sizeof(id), "%.*s", hash ? (int)(hash - argv[i]) : 63,
                 argv[i]);
        if (hash) {
            char *end;
            node = strtol(hash + 1, &end, 10);
            if (!hash[1] || *end || node < 0)
                die("invalid job id '%s': want ID#NODE", argv[i]);
        }
        json_t *r = client_request_ex("job.show",
                                      json_pack("{s:o}", "id", parse_id(id)),
                                      -1, err, sizeof(err));
        if (!r) {
            fprintf(stderr, "%s: %s\n", client_prog, err);
            rc = 1;
            continue;
        }
        json_t *job = json_object_get(r, "job");
        if (node >= 0) {
            json_t *part = json_array_get(
                json_object_get(json_object_get(job, "allocation"), "nodes"),
                (size_t)node);
            if (!part) {
                fprintf(stderr, "%s: job %s has no node %ld\n", client_prog, id,
                        node);
                json_decref(r);
                rc = 1;
                continue;
            }
            json_object_set_new(part, "id", json_string(argv[i]));
            json_object_set(part, "state", json_object_get(job, "state"));
            if (json)
                json_array_append(all, part);
            else
                printf(
                    "JobId=%s JobState=%s Node=%s Cpus=%s FirstTask=%lld Tasks=%zu\n",
                    argv[i], jstr(job, "state"), jstr(part, "name"),
                    jstr(part, "cpus"), (long long)jnum(part, "first_task"),
                    json_array_size(json_object_get(part, "tasks")));
        } else if (json)
            json_array_append(all, job);
        else
            show_text(job);
        json_decref(r);
    }
    if (json)
        client_print_json(argc - first == 1 && json_array_size(all) == 1
                              ? json_array_get(all, 0)
                              : all);
    json_decref(all);
    return rc;
}

static int for_ids(int argc, char **argv, const char *type, const char *verb,
                   const char *usage, bool with_reason)
{
    static const struct opt table[] = {
        { "reason", 0, OPT_STRING, 0, "TEXT", "why, in the job's status reason",
          .json = "reason" },
        OPT_END,
    };
    const struct opt_cmd cmd = { usage, with_reason ? table : table + 1,
                                 .anywhere = true };
    const char *reason = NULL;
    json_t *ids = json_array(), *r, *v;
    size_t i;
    int rc = 0, first = optparse(argc, argv, &cmd, &reason, NULL, "");

    if (first >= argc)
        die("missing job id");
    for (int k = first; k < argc; k++)
        json_array_append_new(ids, parse_id(argv[k]));
    json_t *body = json_pack("{s:o}", "ids", ids);
    optparse_json(cmd.table, &reason, NULL, body);
    r = client_request(type, body);
    json_array_foreach (json_object_get(r, "results"), i, v) {
        const char *e = json_string_value(json_object_get(v, "error"));
        if (e) {
            json_t *idv = json_object_get(v, "id");
            char idbuf[48];
            if (json_is_string(idv))
                snprintf(idbuf, sizeof(idbuf), "%s", json_string_value(idv));
            else
                snprintf(idbuf, sizeof(idbuf), "%lld",
                         (long long)json_integer_value(idv));
            fprintf(stderr, "%s: cannot %s job %s: %s\n", client_prog, verb,
                    idbuf, e);
            rc = 1;
        }
    }
    json_decref(r);
    return rc;
}

int cmd_why(int argc, char **argv)
{
    bool json = false;
    int first = parse_simple(argc, argv, &json, "kiln why [--json] JOBID");
    char id[48];

    if (first != argc - 1)
        die("give one job id");
    json_t *r = client_request("job.show",
                               json_pack("{s:o}", "id", parse_id(argv[first])));
    json_t *job = json_object_get(r, "job"), *why = json_object_get(job, "why");
    display_id(job, id, sizeof(id));
    if (json) {
        client_print_json(why ? why : json_null());
    } else if (why) {
        printf("job %s is %s: %s\n", id, jstr(job, "state"), jstr(why, "text"));
    } else {
        printf("job %s is %s%s%s\n", id, jstr(job, "state"),
               *jstr(job, "status_reason") ? ": " : "",
               jstr(job, "status_reason"));
    }
    json_decref(r);
    return 0;
}

int cmd_cancel(int argc, char **argv)
{
    return for_ids(argc, argv, "job.cancel", "cancel",
                   "kiln cancel [--reason TEXT] JOBID...", true);
}

int cmd_terminate(int argc, char **argv)
{
    return for_ids(argc, argv, "job.terminate", "terminate",
                   "kiln terminate [--reason TEXT] JOBID...", true);
}

int cmd_hold(int argc, char **argv)
{
    return for_ids(argc, argv, "job.hold", "hold", "kiln hold JOBID...", false);
}

int cmd_release(int argc, char **argv)
{
    return for_ids(argc, argv, "job.release", "release",
                   "kiln release JOBID...", false);
}

/* The columns kiln history can show (sacct --format names). */
static void field_text(const json_t *job, const char *field, char *buf,
                       size_t len)
{
    double s = jnum(job, "start_time"), e = jnum(job, "end_time");
    bool usage = json_object_get(job, "user_cpu") != NULL;

    buf[0] = '\0';
    if (!strcasecmp(field, "JobID"))
        display_id(job, buf, len);
    else if (!strcasecmp(field, "JobName"))
        snprintf(buf, len, "%s", jstr(job, "name"));
    else if (!strcasecmp(field, "User"))
        snprintf(buf, len, "%s", jstr(job, "user"));
    else if (!strcasecmp(field, "Partition") || !strcasecmp(field, "Queue"))
        snprintf(buf, len, "%s", jstr(job, "queue"));
    else if (!strcasecmp(field, "State"))
        snprintf(buf, len, "%s", jstr(job, "state"));
    else if (!strcasecmp(field, "ExitCode"))
        snprintf(buf, len, "%lld", (long long)jnum(job, "exit_code"));
    else if (!strcasecmp(field, "Submit"))
        units_format_time(jnum(job, "submit_time"), buf, len);
    else if (!strcasecmp(field, "Start"))
        units_format_time(s, buf, len);
    else if (!strcasecmp(field, "End"))
        units_format_time(e, buf, len);
    else if (!strcasecmp(field, "Elapsed"))
        units_format_elapsed(s > 0 ? (int64_t)(e - s) : 0, buf, len);
    else if (!strcasecmp(field, "Timelimit")) {
        if (jnum(job, "time_limit") > 0)
            units_format_elapsed((int64_t)jnum(job, "time_limit"), buf, len);
        else
            snprintf(buf, len, "UNLIMITED");
    } else if (!strcasecmp(field, "NodeList"))
        nodes_of(job, buf, len);
    else if (!strcasecmp(field, "NCPUS") || !strcasecmp(field, "AllocCPUS"))
        snprintf(buf, len, "%lld",
                 (long long)(jnum(job, "ntasks") * jnum(job, "cpus_per_task")));
    else if (!strcasecmp(field, "NTasks"))
        snprintf(buf, len, "%lld", (long long)jnum(job, "ntasks"));
    else if (!strcasecmp(field, "ReqMem"))
        snprintf(buf, len, "%lldM", (long long)jnum(job, "mem"));
    else if (!strcasecmp(field, "Attempts"))
        snprintf(buf, len, "%lld", (long long)jnum(job, "attempts"));
    else if (!strcasecmp(field, "Reason"))
        snprintf(buf, len, "%s", jstr(job, "status_reason"));
    else if (!usage
             && (!strcasecmp(field, "TotalCPU") || !strcasecmp(field, "UserCPU")
                 || !strcasecmp(field, "SystemCPU")
                 || !strcasecmp(field, "MaxRSS")
                 || !strcasecmp(field, "OOMKills")))
        ;
    else if (!strcasecmp(field, "TotalCPU"))
        snprintf(buf, len, "%.3f",
                 jnum(job, "user_cpu") + jnum(job, "sys_cpu"));
    else if (!strcasecmp(field, "UserCPU"))
        snprintf(buf, len, "%.3f", jnum(job, "user_cpu"));
    else if (!strcasecmp(field, "SystemCPU"))
        snprintf(buf, len, "%.3f", jnum(job, "sys_cpu"));
    else if (!strcasecmp(field, "MaxRSS"))
        snprintf(buf, len, "%lldK", (long long)jnum(job, "max_rss_kib"));
    else if (!strcasecmp(field, "OOMKills")) {
        if (jnum(job, "oom_kills") >= 0)
            snprintf(buf, len, "%lld", (long long)jnum(job, "oom_kills"));
    }
    if (!buf[0])
        snprintf(buf, len, "-");
}

static const char *const history_fields[] = {
    "JobID",     "JobName", "User",     "Partition", "State",     "ExitCode",
    "Submit",    "Start",   "End",      "Elapsed",   "Timelimit", "NodeList",
    "NCPUS",     "NTasks",  "ReqMem",   "Attempts",  "TotalCPU",  "UserCPU",
    "SystemCPU", "MaxRSS",  "OOMKills", "Reason",    NULL,
};

struct history_opts {
    bool json;
    int64_t since; /* seconds back from now */
    const char *user, *format;
    long limit;
};

int cmd_history(int argc, char **argv)
{
#define H(f) offsetof(struct history_opts, f)
    static const struct opt table[] = {
        { "json", 0, OPT_FLAG, H(json), NULL, "print JSON" },
        { "since", 'S', OPT_TIME, H(since), "MINUTES-AGO|H:M:S",
          "jobs that ended since then (a duration back from now)" },
        { "user", 'u', OPT_STRING, H(user), "USER", "only that user's jobs" },
        { "limit", 'l', OPT_COUNT, H(limit), "N", "the last N jobs",
          .max = 10000000 },
        { "format", 'o', OPT_STRING, H(format), "FIELD,...",
          "the columns (below)" },
        OPT_END,
    };
#undef H
    static char footer[1024];
    size_t n = (size_t)snprintf(footer, sizeof(footer), "Fields:");
    for (int k = 0; history_fields[k] && n < sizeof(footer); k++)
        n += (size_t)snprintf(footer + n, sizeof(footer) - n, " %s",
                              history_fields[k]);
    const struct opt_cmd cmd = {
        "kiln history [--json] [--since MINUTES-AGO|H:M:S] [--user U] [--limit N] "
        "[--format FIELD,...]",
        table,
        footer,
        .anywhere = true,
    };
    struct history_opts o = {
        .format =
            "JobID,JobName,User,State,ExitCode,Start,End,Elapsed,NodeList,Reason",
    };
    struct opt_given given = { 0 };
    int first = optparse(argc, argv, &cmd, &o, &given, "");
    bool json = o.json;
    /* --since 0 is "from now", as it was: given, not a zero value, says it
     * came. */
    double since = optparse_given(table, &given, "since")
                       ? util_now() - (double)o.since
                       : 0;
    long limit = o.limit;
    const char *user = o.user, *format = o.format;

    if (first < argc)
        die("unexpected argument '%s'", argv[first]);
    /* The columns, checked before asking the server anything. */
    const char *cols[32];
    char *copy = strdup(format), *save = NULL;
    int ncols = 0;
    for (char *f = strtok_r(copy, ",", &save); f;
         f = strtok_r(NULL, ",", &save)) {
        int k = 0;
        while (history_fields[k] && strcasecmp(history_fields[k], f) != 0)
            k++;
        if (!history_fields[k] && strcasecmp(f, "Queue") != 0
            && strcasecmp(f, "AllocCPUS"))
            die("unknown field '%s' for --format; the fields are JobID, JobName, User, "
                "Partition, State, ExitCode, Submit, Start, End, Elapsed, Timelimit, "
                "NodeList, NCPUS, NTasks, ReqMem, Attempts, TotalCPU, UserCPU, SystemCPU, "
                "MaxRSS, OOMKills, Reason",
                f);
        if (ncols == 32)
            die("--format: at most 32 fields");
        cols[ncols++] = history_fields[k] ? history_fields[k] : f;
    }
    if (!ncols)
        die("--format needs at least one field");
    struct table *t = NULL;
    char *head[32];
    json_t *all = json ? json_array() : NULL, *r = NULL;
    if (!json) {
        t = table_create(ncols, NULL);
        for (int k = 0; k < ncols; k++) {
            head[k] = strdup(cols[k]);
            for (char *p = head[k]; *p; p++)
                *p = (char)toupper((unsigned char)*p);
        }
        table_add_row(t, (const char *const *)head);
    }
    /* Page after page, as the server hands them (next_token). */
    const char *next = NULL;
    do {
        json_t *body = json_pack("{s:f, s:I}", "since", since, "limit",
                                 (json_int_t)limit),
               *job;
        size_t i;
        if (user)
            json_object_set_new(body, "user", json_string(user));
        if (next)
            json_object_set_new(body, "next_token", json_string(next));
        json_decref(r);
        r = client_request("job.history", body);
        next = json_string_value(json_object_get(r, "next_token"));
        json_t *jobs = json_object_get(r, "jobs");
        if (json) {
            json_array_extend(all, jobs);
            continue;
        }
        json_array_foreach (jobs, i, job) {
            char cells[32][512];
            const char *row[32];
            for (int k = 0; k < ncols; k++) {
                field_text(job, cols[k], cells[k], sizeof(cells[k]));
                row[k] = cells[k];
            }
            table_add_row(t, row);
        }
    } while (next);
    json_decref(r);
    free(copy);
    if (json) {
        client_print_json(all);
        json_decref(all);
        return 0;
    }
    table_print(t, stdout);
    table_destroy(t);
    for (int k = 0; k < ncols; k++)
        free(head[k]);
    return 0;
}

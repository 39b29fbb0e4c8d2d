/* SPDX-License-Identifier: GPL-2.0-or-later */
/* kiln submit (sbatch): options, #KILN/#SBATCH directives, submission. */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/client.h"
#include "client/optparse.h"
#include "lib/arrayspec.h"
#include "lib/container.h"
#include "lib/directive.h"
#include "lib/jobdef.h"
#include "lib/jobspec.h"
#include "lib/log.h"
#include "lib/units.h"
#include "lib/util.h"

extern char **environ;

/* What the options say; NULL or 0 means "not given" (given says for the
 * options where 0 is a value). */
struct submit_opts {
    const char *name, *output, *error, *chdir, *export, *queue, *wrap,
        *retry_strategy;
    long retry_attempts;
    const char *dependency, *depends_on, *array, *jobdef;
    json_t *parameters; /* --parameters K=V: an object, or NULL */
    long priority, nice;
    const char *share_id;
    long ntasks, cpus_per_task, ntasks_per_node, threads_per_core, gpus, nodes;
    int64_t mem, mem_per_cpu, time_limit;
    bool exclusive;
    const char *constraint, *distribution, *nodelist, *exclude;
    const char *container, *container_mounts;
    bool hold, parsable, wait;
    struct opt_given given;
};

static void opt_array(void *opts, const char *arg, const char *where)
{
    struct kiln_error err;

    if (arrayspec_check(arg, &err) < 0)
        die("invalid value for --array%s: '%s' (indices like 0-99, 1-100:3, 1,5,9, "
            "optionally %%N)",
            where, arg);
    ((struct submit_opts *)opts)->array = arg;
}

/* K=V[,K=V...]; the option may be repeated. */
static void opt_parameters(void *opts, const char *arg, const char *where)
{
    struct submit_opts *o = opts;
    char *copy = strdup(arg), *save = NULL;

    if (!copy || (!o->parameters && !(o->parameters = json_object())))
        die("out of memory");
    for (char *kv = strtok_r(copy, ",", &save); kv;
         kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq || eq == kv)
            die("invalid value for --parameters%s: '%s' (want NAME=VALUE)",
                where, kv);
        *eq = '\0';
        json_object_set_new(o->parameters, kv, json_string(eq + 1));
    }
    free(copy);
}

static void opt_hint(void *opts, const char *arg, const char *where)
{
    struct submit_opts *o = opts;

    if (!strcmp(arg, "nomultithread"))
        o->threads_per_core = 1;
    else if (!strcmp(arg, "multithread"))
        o->threads_per_core = 0;
    else
        die("invalid value for --hint%s: '%s' (nomultithread or multithread)",
            where, arg);
}

#define OFF(field) offsetof(struct submit_opts, field)
/* Every option of kiln submit, on the command line and on #KILN/#SBATCH
 * lines: the usage, the parsing, the merge and the plain job fields come
 * from here. */
static const struct opt submit_table[] = {
    { "job-name", 'J', OPT_STRING, OFF(name), "NAME", "the job's name" },
    { "ntasks", 'n', OPT_COUNT, OFF(ntasks), "N", "tasks (default 1)",
      .max = JOBSPEC_MAX_TASKS },
    { "cpus-per-task", 'c', OPT_COUNT, OFF(cpus_per_task), "N",
      "cores per task (default 1)", .max = 65536 },
    { "mem", 0, OPT_MEM, OFF(mem), "SIZE", "memory per node, SIZE[K|M|G|T]" },
    { "time", 't', OPT_TIME, OFF(time_limit), "LIMIT",
      "minutes, M:S, H:M:S or D-H:M:S" },
    { "output", 'o', OPT_STRING, OFF(output), "PATTERN",
      "standard output file" },
    { "error", 'e', OPT_STRING, OFF(error), "PATTERN", "standard error file",
      .json = "error" },
    { "chdir", 'D', OPT_STRING, OFF(chdir), "DIR",
      "the job's working directory" },
    { "export", 0, OPT_STRING, OFF(export), "ALL|NONE|VARS",
      "the environment it gets" },
    { "queue", 0, OPT_STRING, OFF(queue), "Q",
      "the job queue (default: default)" },
    { "partition", 'p', OPT_STRING, OFF(queue), "Q",
      "the same, as Slurm says it" },
    { "hold", 'H', OPT_FLAG, OFF(hold), NULL, "held until kiln release" },
    { "parsable", 0, OPT_FLAG, OFF(parsable), NULL, "print the job id alone" },
    { "wait", 'W', OPT_FLAG, OFF(wait), NULL,
      "wait for its end; exit with its status" },
    { "wrap", 0, OPT_STRING, OFF(wrap), "COMMAND",
      "a job of this shell command" },
    { "retry-attempts", 0, OPT_COUNT, OFF(retry_attempts), "N",
      "attempts in all (1-10)", .max = 10 },
    { "retry-strategy", 0, OPT_STRING, OFF(retry_strategy), "JSON|@FILE",
      "AWS retryStrategy" },
    { "dependency", 'd', OPT_STRING, OFF(dependency), "TYPE:ID[:ID...][,...]",
      "after, afterany, afterok, afternotok, aftercorr, singleton" },
    { "depends-on", 0, OPT_STRING, OFF(depends_on),
      "ID[:N_TO_N][,...]|SEQUENTIAL", "AWS dependsOn" },
    { "array", 'a', OPT_FN, OFF(array), "INDICES",
      "0-99, 1-100:3, 1,5,9; %N: N at once", .fn = opt_array,
      .size = sizeof(const char *) },
    { "priority", 0, OPT_INT, OFF(priority), "N",
      "within the queue, higher first", .min = 0, .max = 1000000 },
    { "nice", 0, OPT_INT, OFF(nice), "N",
      "lower the priority by N (default 100)", .min = -10000, .max = 10000,
      .def = 100, .optional = true },
    { "share-identifier", 0, OPT_STRING, OFF(share_id), "ID",
      "the fair share to charge (queues with a policy)",
      .json = "share_identifier" },
    { "nodes", 'N', OPT_COUNT, OFF(nodes), "N",
      "nodes (MPI: mpirun needs no host options)", .max = JOBSPEC_MAX_NODES },
    { "ntasks-per-node", 0, OPT_COUNT, OFF(ntasks_per_node), "N",
      "tasks on each node", .max = JOBSPEC_MAX_TASKS,
      .json = "ntasks_per_node" },
    { "threads-per-core", 0, OPT_COUNT, OFF(threads_per_core), "N",
      "hardware threads of a core to use", .max = 64,
      .json = "threads_per_core" },
    { "hint", 0, OPT_FN, OFF(threads_per_core), "nomultithread|multithread",
      "one thread per core, or all", .fn = opt_hint, .size = sizeof(long) },
    { "mem-per-cpu", 0, OPT_MEM, OFF(mem_per_cpu), "SIZE", "memory per core",
      .json = "mem_per_cpu" },
    { "gpus", 'G', OPT_COUNT, OFF(gpus), "N", "GPUs (1-256)", .max = 256,
      .json = "gpus" },
    { "exclusive", 0, OPT_FLAG, OFF(exclusive), NULL, "the whole node",
      .json = "exclusive" },
    { "constraint", 'C', OPT_STRING, OFF(constraint), "FEATURES",
      "e.g. avx512&ib or a|b", .json = "constraint" },
    { "distribution", 'm', OPT_CHOICE, OFF(distribution), "block|cyclic",
      "tasks on neighbouring cores, or round robin over the sockets",
      .choices = "block|cyclic", .json = "distribution" },
    { "nodelist", 'w', OPT_STRING, OFF(nodelist), "HOSTS",
      "on these nodes (node[1-4,7])", .json = "nodelist" },
    { "exclude", 'x', OPT_STRING, OFF(exclude), "HOSTS", "not on these nodes",
      .json = "exclude" },
    { "container", 0, OPT_STRING, OFF(container), "DIR",
      "in a container: an OCI bundle or a root file system" },
    { "container-mounts", 0, OPT_STRING, OFF(container_mounts),
      "SRC:DST[:ro][,...]", "bind mounts into it" },
    { "jobdef", 0, OPT_STRING, OFF(jobdef), "NAME[:REV]",
      "from a job definition" },
    { "parameters", 0, OPT_FN, OFF(parameters), "K=V[,K=V...]",
      "the job definition's parameters", .fn = opt_parameters },
    OPT_END,
};

static const struct opt_cmd submit_cmd = {
    "kiln submit [OPTIONS] SCRIPT [ARGS...]\n"
    "       kiln submit [OPTIONS] --wrap \"COMMAND\"\n"
    "Options may also be given in the script on '#KILN' or '#SBATCH' lines.",
    submit_table,
    "Output patterns: %j job id, %x job name, %u user, %N node, %A array id,\n"
    "%a array index, %% a %.  An array's default is kiln-%A_%a.out.",
};

static void usage(FILE *f)
{
    optparse_usage(f, &submit_cmd);
}

/* Parse argv into o, given noting which options came.  Returns the index
 * of the first non-option (the script), dying with a clear message on a
 * bad value.  where names the source for messages ("" for the command
 * line). */
static int parse(int argc, char **argv, struct submit_opts *o,
                 const char *where)
{
    return optparse(argc, argv, &submit_cmd, o, &o->given, where);
}

/* The command line (cli) over the script's directives (o): its given
 * options win, and its --parameters are added to theirs. */
static void merge(struct submit_opts *o, const struct submit_opts *cli)
{
    json_t *params = o->parameters;

    optparse_merge(submit_table, o, cli, &cli->given);
    o->parameters = params;
    if (cli->parameters) {
        if (!o->parameters)
            o->parameters = json_object();
        json_object_update(o->parameters, cli->parameters);
    }
    for (int i = 0; i < OPT_MAX; i++)
        o->given.on[i] = o->given.on[i] || cli->given.on[i];
}

static bool listed(const char *list, const char *name, size_t nlen)
{
    char *copy = strdup(list), *save = NULL;
    bool found = false;

    for (char *tok = strtok_r(copy, ",", &save); tok && !found;
         tok = strtok_r(NULL, ",", &save))
        found = strlen(tok) == nlen && strncmp(tok, name, nlen) == 0;
    free(copy);
    return found;
}

/* --export: ALL (default), NONE, or a list of NAME and NAME=value, which
 * may include ALL. */
/* The mode mask the job's files are made with: the submitter's. */
static mode_t current_umask(void)
{
    mode_t m = umask(022);

    umask(m);
    return m;
}

static json_t *environment(const char *export)
{
    json_t *env = json_array();
    bool all = !export || !strcmp(export, "ALL") || listed(export, "ALL", 3);

    if (all)
        for (char **e = environ; *e; e++)
            json_array_append_new(env, json_string(*e));
    if (!export || !strcmp(export, "ALL") || !strcmp(export, "NONE"))
        return env;
    char *copy = strdup(export), *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        if (!strcmp(tok, "ALL"))
            continue;
        if (strchr(tok, '=')) {
            if (tok[0] == '=')
                die("invalid --export entry '%s'", tok);
            json_array_append_new(env, json_string(tok));
        } else if (!all) {
            const char *v = getenv(tok);
            if (v) {
                char *kv;
                if (asprintf(&kv, "%s=%s", tok, v) < 0)
                    die("out of memory");
                json_array_append_new(env, json_string(kv));
                free(kv);
            }
        }
    }
    free(copy);
    return env;
}

static char *absolute(const char *base, const char *path)
{
    char *out;
    if (path[0] == '/')
        return strdup(path);
    if (asprintf(&out, "%s/%s", base, path) < 0)
        die("out of memory");
    return out;
}

/* What the job definition gives, where the options did not say. */
static json_t *jobdef_env, *jobdef_retry, *jobdef_node_scripts, *jobdef_mounts;

static void apply_jobdef(struct submit_opts *o, char **script, char *ref,
                         size_t len)
{
    json_t *r =
        client_request("jobdef.show", json_pack("{s:s}", "name", o->jobdef));
    json_t *jd = json_object_get(r, "jobdef"),
           *def = json_object_get(jd, "definition"), *e;
    const json_t *cp = jobdef_container(def, 0);
    const char *name =
        json_string_value(json_object_get(def, "jobDefinitionName"));
    struct kiln_error err;
    long vcpus = 0, mem = 0, gpus = 0, nodes = jobdef_num_nodes(def);
    size_t i;

    snprintf(ref, len, "%s:%lld", name,
             (long long)json_integer_value(json_object_get(jd, "revision")));
    /* Each node's shape may differ: the job takes the largest on every
     * node, and each node its own command. */
    for (long k = 0; k < nodes; k++) {
        long v, m, g;
        const char *image = json_string_value(
            json_object_get(jobdef_container(def, k), "image"));
        /* An image that is a directory is a bundle or root file system. */
        static char image_buf[PATH_MAX]; /* the definition goes at the end */
        if (image && !o->container) {
            snprintf(image_buf, sizeof(image_buf), "%s", image);
            o->container = image_buf;
        }
        jobdef_resources(def, k, &v, &m, &g);
        vcpus = v > vcpus ? v : vcpus;
        mem = m > mem ? m : mem;
        gpus = g > gpus ? g : gpus;
    }
    /* volumes (name, host.sourcePath) and mountPoints (sourceVolume,
     * containerPath, readOnly) become bind mounts. */
    json_t *mp;
    json_array_foreach (json_object_get(cp, "mountPoints"), i, mp) {
        const char *vol =
            json_string_value(json_object_get(mp, "sourceVolume"));
        const char *dst =
            json_string_value(json_object_get(mp, "containerPath"));
        const char *src = NULL;
        size_t k;
        json_t *v;
        json_array_foreach (json_object_get(cp, "volumes"), k, v)
            if (vol
                && !strcmp(vol, util_str_or(json_string_value(
                                                json_object_get(v, "name")),
                                            "")))
                src = json_string_value(
                    json_object_get(json_object_get(v, "host"), "sourcePath"));
        if (!src || !dst || src[0] != '/' || dst[0] != '/')
            die("job definition '%s': mountPoints[%zu] needs a volume with host.sourcePath "
                "and an absolute containerPath",
                ref, i);
        if (!jobdef_mounts)
            jobdef_mounts = json_array();
        json_array_append_new(
            jobdef_mounts,
            json_pack("{s:s, s:s, s:b}", "source", src, "destination", dst,
                      "readonly",
                      json_is_true(json_object_get(mp, "readOnly"))));
    }
    if (!o->gpus && gpus)
        o->gpus = gpus;
    if (nodes > 1 && !o->nodes)
        o->nodes = nodes;
    if (json_object_get(def, "nodeProperties")) {
        jobdef_node_scripts = json_array();
        for (long k = 0; k < nodes; k++) {
            char *s = jobdef_script(def, k, o->parameters, &err);
            if (!s)
                die("job definition '%s', node %ld: %s", ref, k, err.text);
            json_array_append_new(jobdef_node_scripts, json_string(s));
            if (k == 0 && !*script)
                *script = s;
            else
                free(s);
        }
    }
    if (!*script && !(*script = jobdef_script(def, 0, o->parameters, &err)))
        die("job definition '%s': %s", ref, err.text);
    static char def_name[160];
    snprintf(def_name, sizeof(def_name), "%s", name);
    if (!o->name)
        o->name = def_name;
    if (!o->cpus_per_task && vcpus)
        o->cpus_per_task = vcpus;
    if (!o->mem && !o->mem_per_cpu && mem)
        o->mem = mem;
    if (!optparse_given(submit_table, &o->given, "time")
        && (e = json_object_get(json_object_get(def, "timeout"),
                                "attemptDurationSeconds")))
        o->time_limit = json_integer_value(e);
    jobdef_retry = json_incref(json_object_get(def, "retryStrategy"));
    /* The definition's environment, then what --export adds. */
    jobdef_env = json_array();
    json_array_foreach (json_object_get(cp, "environment"), i, e) {
        char *kv;
        if (asprintf(&kv, "%s=%s",
                     json_string_value(json_object_get(e, "name")),
                     json_string_value(json_object_get(e, "value")))
            < 0)
            die("out of memory");
        json_array_append_new(jobdef_env, json_string(kv));
        free(kv);
    }
    if (o->export) {
        json_t *exported = environment(o->export);
        json_array_extend(jobdef_env, exported);
        json_decref(exported);
    }
    json_decref(r);
}

/* --retry-strategy takes AWS's retryStrategy JSON, inline or @FILE;
 * --retry-attempts sets or overrides its attempts. */
static json_t *retry_strategy(const struct submit_opts *o)
{
    json_t *rs;
    json_error_t jerr;

    if (!o->retry_strategy)
        rs = json_object();
    else if (o->retry_strategy[0] == '@')
        rs = json_load_file(o->retry_strategy + 1, JSON_REJECT_DUPLICATES,
                            &jerr);
    else
        rs = json_loads(o->retry_strategy, JSON_REJECT_DUPLICATES, &jerr);
    if (!rs || !json_is_object(rs))
        die("invalid value for --retry-strategy: %s",
            rs ? "not a JSON object" : jerr.text);
    if (o->retry_attempts)
        json_object_set_new(rs, "attempts", json_integer(o->retry_attempts));
    return rs;
}

/* The placement options, as job fields (lib/jobspec checks them). */
/* --container: a directory, made absolute, for an OCI runtime; or an image
 * name, for a node with Podman or Docker. */
static void add_container(json_t *job, const struct submit_opts *o,
                          const char *cwd)
{
    char real[PATH_MAX];
    struct stat st;

    if (!o->container) {
        if (o->container_mounts)
            die("--container-mounts is for a job in a --container");
        return;
    }
    if (!realpath(o->container, real) || stat(real, &st) < 0
        || !S_ISDIR(st.st_mode)) {
        if (o->container[0] == '/' || o->container[0] == '.'
            || !container_image_ok(o->container))
            die("container '%s' not found: give an OCI bundle or a root file system "
                "directory, or an image name",
                o->container);
        snprintf(real, sizeof(real), "%s", o->container); /* an image */
    }
    json_object_set_new(job, "container", json_string(real));
    json_t *mounts = jobdef_mounts ? jobdef_mounts : json_array();
    json_object_set_new(job, "mounts", mounts);
    if (!o->container_mounts)
        return;
    char *copy = strdup(o->container_mounts), *save = NULL;
    for (char *m = strtok_r(copy, ",", &save); m;
         m = strtok_r(NULL, ",", &save)) {
        char *dst = strchr(m, ':'), *mode = dst ? strchr(dst + 1, ':') : NULL;
        if (!dst || dst == m || !dst[1]
            || (mode && strcmp(mode, ":ro") && strcmp(mode, ":rw")))
            die("invalid --container-mounts entry '%s' (want SRC:DST[:ro])", m);
        *dst++ = '\0';
        if (mode)
            *mode++ = '\0';
        char src[PATH_MAX];
        if (!realpath(m, src))
            die("--container-mounts: '%s': %s", m, strerror(errno));
        if (dst[0] != '/')
            die("--container-mounts: '%s' must be an absolute path in the container",
                dst);
        json_array_append_new(
            mounts, json_pack("{s:s, s:s, s:b}", "source", src, "destination",
                              dst, "readonly", mode && !strcmp(mode, "ro")));
    }
    free(copy);
    (void)cwd;
}

/* The placement fields that are not plain copies of an option (those come
 * from the table, optparse_json). */
static void add_placement(json_t *job, const struct submit_opts *o)
{
    if (o->nodes > 1) {
        json_object_set_new(job, "nodes", json_integer(o->nodes));
        if (!o->ntasks)
            json_object_del(job,
                            "ntasks"); /* one per node, or --ntasks-per-node */
    }
    if (o->ntasks_per_node && !o->ntasks)
        json_object_del(job, "ntasks"); /* derived from it */
    if (o->mem_per_cpu && o->mem)
        die("--mem and --mem-per-cpu are mutually exclusive");
}

static int wait_for(json_int_t id)
{
    for (;;) {
        char err[256];
        /* A wait is answered when the job ends; ask again every minute in
         * case the server restarted in between. */
        json_t *r = client_request_ex("job.wait", json_pack("{s:I}", "id", id),
                                      60000, err, sizeof(err));
        if (!r)
            die("%s", err);
        int rc = client_job_status(json_object_get(r, "job"), id);
        json_decref(r);
        if (rc >= 0)
            return rc;
    }
}

json_int_t submit_main(int argc, char **argv, bool quiet, bool *wait)
{
    struct submit_opts cli = { 0 }, o = { 0 };
    char cwd[PATH_MAX], *script = NULL, *name_buf = NULL;
    const char *script_path = NULL;
    int first, dargc;
    char **dargv = NULL;
    struct kiln_error err;
    struct passwd *pw;

    /* The command line, once, to find the script; then the script's
     * directives, over which the command line wins. */
    first = parse(argc, argv, &cli, "");
    if (cli.wrap) {
        if (first < argc)
            die("--wrap takes the command; unexpected argument '%s'",
                argv[first]);
        if (asprintf(&script, "#!/bin/sh\n%s\n", cli.wrap) < 0)
            die("out of memory");
    } else if (first < argc || !cli.jobdef) {
        if (first >= argc) {
            usage(stderr);
            die("missing script: give a SCRIPT file or --wrap \"COMMAND\"");
        }
        script_path = argv[first];
        if (!(script = util_read_file(script_path, JOBSPEC_MAX_SCRIPT, NULL)))
            die("cannot read script '%s': %s", script_path,
                errno == EFBIG ? "larger than 512 KiB" : strerror(errno));
        if (!*script)
            die("script '%s' is empty", script_path);
        if (!(dargv = directive_parse(script, "directive", &dargc, &err)))
            die("script '%s': %s", script_path, err.text);
        char where[PATH_MAX + 32];
        snprintf(where, sizeof(where), " in a directive of '%s'", script_path);
        if (parse(dargc, dargv, &o, where) < dargc)
            die("unexpected argument '%s'%s", dargv[optind], where);
        /* o points into dargv until the job is sent. */
    }
    merge(&o, &cli);
    char jobdef_ref[200] = "";
    if (o.jobdef)
        apply_jobdef(&o, &script, jobdef_ref, sizeof(jobdef_ref));

    if (!getcwd(cwd, sizeof(cwd)))
        die("cannot read the current directory: %s", strerror(errno));
    if (!(pw = getpwuid(getuid())))
        die("cannot find the name of user %d", (int)getuid());
    if (!o.name) {
        if (script_path) {
            name_buf = strdup(script_path);
            o.name = basename(name_buf);
        } else {
            o.name = "wrap";
        }
    }
    char *workdir = o.chdir ? absolute(cwd, o.chdir) : strdup(cwd);
    char *output =
        o.output ? strdup(o.output)
                 : absolute(cwd, o.array ? "kiln-%A_%a.out" : "kiln-%j.out");
    json_t *args = json_array();
    for (int i = first + 1; script_path && i < argc; i++)
        json_array_append_new(args, json_string(argv[i]));
    /* Static: a die() while it is being checked (a bad --retry-strategy,
     * --dependency, placement) leaves it reachable, not a leak report. */
    static json_t *job;
    job = json_pack("{s:s, s:s, s:o, s:I, s:I, s:I, s:I, s:s, s:s, s:s, s:o, "
                    "s:s, s:b, s:s, s:I, s:I, s:I}",
                    "name", o.name, "script", script, "args", args, "ntasks",
                    (json_int_t)(o.ntasks ? o.ntasks : 1), "cpus_per_task",
                    (json_int_t)(o.cpus_per_task ? o.cpus_per_task : 1), "mem",
                    (json_int_t)o.mem, "time_limit", (json_int_t)o.time_limit,
                    "output", output, "cwd", workdir, "submit_dir", cwd, "env",
                    o.jobdef ? jobdef_env : environment(o.export), "queue",
                    o.queue ? o.queue : "default", "hold", o.hold, "user",
                    pw->pw_name, "uid", (json_int_t)getuid(), "gid",
                    (json_int_t)getgid(), "umask", (json_int_t)current_umask());
    if (!job)
        die("invalid job: a value is not valid text");
    if (jobdef_ref[0])
        json_object_set_new(job, "job_definition", json_string(jobdef_ref));
    optparse_json(submit_table, &o, NULL, job);
    if (optparse_given(submit_table, &o.given, "priority"))
        json_object_set_new(job, "priority", json_integer(o.priority));
    if (o.nice)
        json_object_set_new(job, "nice", json_integer(o.nice));
    if (o.array)
        json_object_set_new(job, "array", json_string(o.array));
    if (o.dependency || o.depends_on) {
        json_t *deps =
            jobspec_parse_dependencies(o.dependency, o.depends_on, &err);
        if (!deps)
            die("%s", err.text);
        json_object_set_new(job, "dependencies", deps);
    }
    add_placement(job, &o);
    add_container(job, &o, cwd);
    if (jobdef_node_scripts) {
        if ((size_t)o.nodes != json_array_size(jobdef_node_scripts))
            die("job definition '%s' has %zu nodes; --nodes cannot change that",
                jobdef_ref, json_array_size(jobdef_node_scripts));
        json_object_set_new(job, "node_scripts", jobdef_node_scripts);
    }
    if (o.retry_strategy || o.retry_attempts)
        json_object_set_new(job, "retry_strategy", retry_strategy(&o));
    else if (jobdef_retry)
        json_object_set(job, "retry_strategy", jobdef_retry);
    /* Check here what the server would refuse, so the message is local. */
    struct jobspec check;
    if (jobspec_from_json(job, &check, &err) < 0)
        die("%s", err.text);
    jobspec_release(&check);

    json_t *r = client_request("job.submit", json_pack("{s:o}", "job", job));
    json_int_t id = json_integer_value(json_object_get(r, "id"));
    if (quiet)
        ;
    else if (o.parsable)
        printf("%lld\n", (long long)id);
    else if (!strcmp(client_prog, "sbatch"))
        printf("Submitted batch job %lld\n",
               (long long)id); /* as Slurm says it */
    else
        printf("Submitted job %lld\n", (long long)id);
    fflush(stdout);
    json_decref(r);
    directive_free(dargv);
    json_decref(o.parameters);
    json_decref(cli.parameters);
    free(script);
    free(name_buf);
    free(workdir);
    free(output);
    *wait = o.wait;
    return id;
}

int cmd_submit(int argc, char **argv)
{
    bool wait;
    json_int_t id = submit_main(argc, argv, false, &wait);

    return wait ? wait_for(id) : 0;
}

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
#include "lib/arrayspec.h"
#include "lib/container.h"
#include "lib/directive.h"
#include "lib/jobdef.h"
#include "lib/jobstate.h"
#include "lib/jobspec.h"
#include "lib/log.h"
#include "lib/units.h"
#include "lib/util.h"

extern char **environ;

/* What the options say; NULL or 0 means "not given". */
struct submit_opts {
    const char *name, *output, *error, *chdir, *export, *queue, *wrap, *retry_strategy;
    long retry_attempts;
    const char *dependency, *depends_on, *array, *jobdef;
    json_t *parameters;  /* --parameters K=V: an object, or NULL */
    long priority, nice;
    const char *share_id;
    bool priority_set, nice_set;
    long ntasks, cpus_per_task, ntasks_per_node, threads_per_core, gpus, nodes;
    int64_t mem, mem_per_cpu, time_limit;
    bool exclusive, tpc_set;
    const char *constraint, *distribution, *nodelist, *exclude;
    const char *container, *container_mounts;
    bool time_set, hold, parsable, wait;
};

enum { O_MEM = 2000, O_EXPORT, O_WRAP, O_PARSABLE, O_QUEUE, O_RETRY, O_RETRY_STRATEGY,
       O_DEPENDS_ON, O_JOBDEF, O_PARAMETERS, O_PRIORITY, O_NICE, O_SHARE_ID,
       O_TASKS_PER_NODE, O_THREADS_PER_CORE, O_HINT, O_MEM_PER_CPU, O_EXCLUSIVE,
       O_CONTAINER, O_CONTAINER_MOUNTS };

static const struct option submit_options[] = {
    { "job-name", required_argument, NULL, 'J' },
    { "ntasks", required_argument, NULL, 'n' },
    { "cpus-per-task", required_argument, NULL, 'c' },
    { "mem", required_argument, NULL, O_MEM },
    { "time", required_argument, NULL, 't' },
    { "output", required_argument, NULL, 'o' },
    { "error", required_argument, NULL, 'e' },
    { "chdir", required_argument, NULL, 'D' },
    { "export", required_argument, NULL, O_EXPORT },
    { "queue", required_argument, NULL, O_QUEUE },
    { "partition", required_argument, NULL, 'p' },
    { "hold", no_argument, NULL, 'H' },
    { "parsable", no_argument, NULL, O_PARSABLE },
    { "wait", no_argument, NULL, 'W' },
    { "wrap", required_argument, NULL, O_WRAP },
    { "retry-attempts", required_argument, NULL, O_RETRY },
    { "retry-strategy", required_argument, NULL, O_RETRY_STRATEGY },
    { "dependency", required_argument, NULL, 'd' },
    { "array", required_argument, NULL, 'a' },
    { "jobdef", required_argument, NULL, O_JOBDEF },
    { "parameters", required_argument, NULL, O_PARAMETERS },
    { "priority", required_argument, NULL, O_PRIORITY },
    { "nice", optional_argument, NULL, O_NICE },
    { "share-identifier", required_argument, NULL, O_SHARE_ID },
    { "depends-on", required_argument, NULL, O_DEPENDS_ON },
    { "nodes", required_argument, NULL, 'N' },
    { "container", required_argument, NULL, O_CONTAINER },
    { "container-mounts", required_argument, NULL, O_CONTAINER_MOUNTS },
    { "ntasks-per-node", required_argument, NULL, O_TASKS_PER_NODE },
    { "threads-per-core", required_argument, NULL, O_THREADS_PER_CORE },
    { "hint", required_argument, NULL, O_HINT },
    { "mem-per-cpu", required_argument, NULL, O_MEM_PER_CPU },
    { "gpus", required_argument, NULL, 'G' },
    { "exclusive", no_argument, NULL, O_EXCLUSIVE },
    { "constraint", required_argument, NULL, 'C' },
    { "distribution", required_argument, NULL, 'm' },
    { "nodelist", required_argument, NULL, 'w' },
    { "exclude", required_argument, NULL, 'x' },
    { "help", no_argument, NULL, 'h' },
    CLIENT_COMMON_OPTIONS,
    { 0 },
};

static void usage(FILE *f)
{
    fprintf(f,
        "Usage: kiln submit [OPTIONS] SCRIPT [ARGS...]\n"
        "       kiln submit [OPTIONS] --wrap \"COMMAND\"\n"
        "Options may also be given in the script on '#KILN' or '#SBATCH' lines.\n"
        "  -J, --job-name NAME       -n, --ntasks N        -c, --cpus-per-task N\n"
        "      --mem SIZE[K|M|G|T]   -t, --time LIMIT      -o, --output PATTERN\n"
        "  -e, --error PATTERN       -D, --chdir DIR           --export ALL|NONE|VARS\n"
        "  -p, --queue, --partition Q                      -H, --hold\n"
        "      --parsable            -W, --wait                --wrap COMMAND\n"
        "      --retry-attempts N        --retry-strategy JSON|@FILE (AWS retryStrategy)\n"
        "  -d, --dependency TYPE:ID[:ID...][,...]  (after, afterany, afterok, afternotok,\n"
        "                            aftercorr, singleton)\n"
        "      --depends-on ID[:N_TO_N][,...]|SEQUENTIAL  (AWS dependsOn)\n"
        "  -a, --array INDICES       0-99, 1-100:3, 1,5,9; %%N runs at most N at once\n"
        "      --priority N          within the queue, higher first (0-1000000)\n"
        "      --nice[=N]            lower the priority by N (default 100)\n"
        "      --share-identifier ID the fair share to charge (queues with a policy)\n"
        "Placement:\n"
        "  -N, --nodes N             nodes for the job (MPI: mpirun needs no host options)\n"
        "      --ntasks-per-node N   --threads-per-core N  --hint=nomultithread\n"
        "      --mem-per-cpu SIZE    -G, --gpus N          --exclusive (the whole node)\n"
        "  -C, --constraint FEATURES  e.g. avx512&ib or a|b\n"
        "  -m, --distribution block|cyclic  (tasks on neighbouring cores, or round\n"
        "                            robin over the sockets)\n"
        "  -w, --nodelist HOSTS      -x, --exclude HOSTS   (host lists: node[1-4,7])\n"
        "      --container DIR       run in a container: an OCI bundle or a root file\n"
        "                            system, with the node's runc or crun\n"
        "      --container-mounts SRC:DST[:ro][,...]  bind mounts into it\n"
        "      --jobdef NAME[:REV]   from a job definition (its command unless a SCRIPT\n"
        "                            or --wrap is given)   --parameters K=V[,K=V...]\n"
        "      --server ENDPOINT         --config FILE\n"
        "Output patterns: %%j job id, %%x job name, %%u user, %%N node, %%A array id,\n"
        "%%a array index, %%%% a %%.  An array's default is kiln-%%A_%%a.out.\n");
}

/* Parse argv into o.  Returns the index of the first non-option (the
 * script), dying with a clear message on a bad value.  where names the
 * source for messages ("" for the command line). */
static int parse(int argc, char **argv, struct submit_opts *o, const char *where)
{
    int c;
    long v;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+J:n:N:c:t:o:e:D:p:d:a:G:C:m:w:x:HWh", submit_options, NULL)) != -1) {
        switch (c) {
        case 'J':
            o->name = optarg;
            break;
        case 'n':
            if (units_parse_count(optarg, JOBSPEC_MAX_TASKS, &v) < 0)
                die("invalid value for --ntasks%s: '%s'", where, optarg);
            o->ntasks = v;
            break;
        case 'c':
            if (units_parse_count(optarg, 65536, &v) < 0)
                die("invalid value for --cpus-per-task%s: '%s'", where, optarg);
            o->cpus_per_task = v;
            break;
        case O_MEM:
            if (units_parse_mem(optarg, &o->mem) < 0)
                die("invalid value for --mem%s: '%s' (want a positive size such "
                    "as 512M or 4G)", where, optarg);
            break;
        case 't':
            if (units_parse_time(optarg, &o->time_limit) < 0)
                die("invalid value for --time%s: '%s' (want minutes, M:S, H:M:S "
                    "or D-H:M:S)", where, optarg);
            o->time_set = true;
            break;
        case 'o': o->output = optarg; break;
        case 'e': o->error = optarg; break;
        case 'D': o->chdir = optarg; break;
        case O_EXPORT: o->export = optarg; break;
        case O_QUEUE:
        case 'p': o->queue = optarg; break;
        case 'H': o->hold = true; break;
        case O_PARSABLE: o->parsable = true; break;
        case 'W': o->wait = true; break;
        case O_WRAP: o->wrap = optarg; break;
        case O_RETRY:
            if (units_parse_count(optarg, 10, &v) < 0)
                die("invalid value for --retry-attempts%s: '%s' (1-10)", where, optarg);
            o->retry_attempts = v;
            break;
        case O_RETRY_STRATEGY: o->retry_strategy = optarg; break;
        case 'd': o->dependency = optarg; break;
        case 'a': {
            struct kiln_error aerr;
            if (arrayspec_check(optarg, &aerr) < 0)
                die("invalid value for --array%s: '%s' (indices like 0-99, 1-100:3, "
                    "1,5,9, optionally %%N)", where, optarg);
            o->array = optarg;
            break;
        }
        case O_DEPENDS_ON: o->depends_on = optarg; break;
        case O_JOBDEF: o->jobdef = optarg; break;
        case O_SHARE_ID: o->share_id = optarg; break;
        case O_PRIORITY: {
            char *end;
            long p = strtol(optarg, &end, 10);
            if (!*optarg || *end || p < 0 || p > 1000000)
                die("invalid value for --priority%s: '%s' (0-1000000)", where, optarg);
            o->priority = p;
            o->priority_set = true;
            break;
        }
        case O_NICE: {
            char *end;
            long n = optarg ? strtol(optarg, &end, 10) : 100; /* Slurm's default */
            if (optarg && (!*optarg || *end || n < -10000 || n > 10000))
                die("invalid value for --nice%s: '%s' (-10000 to 10000)", where, optarg);
            o->nice = n;
            o->nice_set = true;
            break;
        }
        case O_PARAMETERS: {
            /* K=V[,K=V...], and the option may be repeated. */
            char *copy = strdup(optarg), *save = NULL;
            if (!o->parameters)
                o->parameters = json_object();
            for (char *kv = strtok_r(copy, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
                char *eq = strchr(kv, '=');
                if (!eq || eq == kv)
                    die("invalid value for --parameters%s: '%s' (want NAME=VALUE)", where, kv);
                *eq = '\0';
                json_object_set_new(o->parameters, kv, json_string(eq + 1));
            }
            free(copy);
            break;
        }
        case 'N':
            if (units_parse_count(optarg, JOBSPEC_MAX_NODES, &v) < 0)
                die("invalid value for --nodes%s: '%s' (1-%d)", where, optarg,
                    JOBSPEC_MAX_NODES);
            o->nodes = v;
            break;
        case O_TASKS_PER_NODE:
            if (units_parse_count(optarg, JOBSPEC_MAX_TASKS, &v) < 0)
                die("invalid value for --ntasks-per-node%s: '%s'", where, optarg);
            o->ntasks_per_node = v;
            break;
        case O_THREADS_PER_CORE:
            if (units_parse_count(optarg, 64, &v) < 0)
                die("invalid value for --threads-per-core%s: '%s' (1-64)", where, optarg);
            o->threads_per_core = v;
            o->tpc_set = true;
            break;
        case O_HINT:
            if (!strcmp(optarg, "nomultithread"))
                o->threads_per_core = 1;
            else if (!strcmp(optarg, "multithread"))
                o->threads_per_core = 0;
            else
                die("invalid value for --hint%s: '%s' (nomultithread or multithread)",
                    where, optarg);
            o->tpc_set = true;
            break;
        case O_MEM_PER_CPU:
            if (units_parse_mem(optarg, &o->mem_per_cpu) < 0)
                die("invalid value for --mem-per-cpu%s: '%s' (want a positive size such "
                    "as 512M or 4G)", where, optarg);
            break;
        case 'G':
            if (units_parse_count(optarg, 256, &v) < 0)
                die("invalid value for --gpus%s: '%s' (a count, 1-256)", where, optarg);
            o->gpus = v;
            break;
        case O_EXCLUSIVE: o->exclusive = true; break;
        case 'C': o->constraint = optarg; break;
        case 'm':
            if (strcmp(optarg, "block") != 0 && strcmp(optarg, "cyclic") != 0)
                die("invalid value for --distribution%s: '%s' (block or cyclic)", where,
                    optarg);
            o->distribution = optarg;
            break;
        case 'w': o->nodelist = optarg; break;
        case O_CONTAINER: o->container = optarg; break;
        case O_CONTAINER_MOUNTS: o->container_mounts = optarg; break;
        case 'x': o->exclude = optarg; break;
        case 'h': usage(stdout); exit(0);
        case '?':
            if (optopt)
                die("unknown or incomplete option '-%c'%s", optopt, where);
            die("unknown or incomplete option '%s'%s", argv[optind - 1], where);
        default:
            if (!client_common_opt(c, optarg))
                die("unexpected option%s", where);
        }
    }
    return optind;
}

static bool listed(const char *list, const char *name, size_t nlen)
{
    char *copy = strdup(list), *save = NULL;
    bool found = false;

    for (char *tok = strtok_r(copy, ",", &save); tok && !found; tok = strtok_r(NULL, ",", &save))
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
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
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

static void apply_jobdef(struct submit_opts *o, char **script, char *ref, size_t len)
{
    json_t *r = client_request("jobdef.show", json_pack("{s:s}", "name", o->jobdef));
    json_t *jd = json_object_get(r, "jobdef"), *def = json_object_get(jd, "definition"), *e;
    const json_t *cp = jobdef_container(def, 0);
    const char *name = json_string_value(json_object_get(def, "jobDefinitionName"));
    struct kiln_error err;
    long vcpus = 0, mem = 0, gpus = 0, nodes = jobdef_num_nodes(def);
    size_t i;

    snprintf(ref, len, "%s:%lld", name,
             (long long)json_integer_value(json_object_get(jd, "revision")));
    /* Each node's shape may differ: the job takes the largest on every
     * node, and each node its own command. */
    for (long k = 0; k < nodes; k++) {
        long v, m, g;
        const char *image = json_string_value(json_object_get(jobdef_container(def, k),
                                                              "image"));
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
    json_array_foreach(json_object_get(cp, "mountPoints"), i, mp) {
        const char *vol = json_string_value(json_object_get(mp, "sourceVolume"));
        const char *dst = json_string_value(json_object_get(mp, "containerPath"));
        const char *src = NULL;
        size_t k;
        json_t *v;
        json_array_foreach(json_object_get(cp, "volumes"), k, v)
            if (vol && !strcmp(vol, util_str_or(json_string_value(json_object_get(v, "name")), "")))
                src = json_string_value(json_object_get(json_object_get(v, "host"),
                                                        "sourcePath"));
        if (!src || !dst || src[0] != '/' || dst[0] != '/')
            die("job definition '%s': mountPoints[%zu] needs a volume with host.sourcePath "
                "and an absolute containerPath", ref, i);
        if (!jobdef_mounts)
            jobdef_mounts = json_array();
        json_array_append_new(jobdef_mounts,
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
    if (!o->time_set && (e = json_object_get(json_object_get(def, "timeout"),
                                             "attemptDurationSeconds")))
        o->time_limit = json_integer_value(e);
    jobdef_retry = json_incref(json_object_get(def, "retryStrategy"));
    /* The definition's environment, then what --export adds. */
    jobdef_env = json_array();
    json_array_foreach(json_object_get(cp, "environment"), i, e) {
        char *kv;
        if (asprintf(&kv, "%s=%s", json_string_value(json_object_get(e, "name")),
                     json_string_value(json_object_get(e, "value"))) < 0)
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
        rs = json_load_file(o->retry_strategy + 1, JSON_REJECT_DUPLICATES, &jerr);
    else
        rs = json_loads(o->retry_strategy, JSON_REJECT_DUPLICATES, &jerr);
    if (!rs || !json_is_object(rs))
        die("invalid value for --retry-strategy: %s", rs ? "not a JSON object" : jerr.text);
    if (o->retry_attempts)
        json_object_set_new(rs, "attempts", json_integer(o->retry_attempts));
    return rs;
}

/* The placement options, as job fields (lib/jobspec checks them). */
/* --container: a directory, made absolute, for an OCI runtime; or an image
 * name, for a node with Podman or Docker. */
static void add_container(json_t *job, const struct submit_opts *o, const char *cwd)
{
    char real[PATH_MAX];
    struct stat st;

    if (!o->container) {
        if (o->container_mounts)
            die("--container-mounts is for a job in a --container");
        return;
    }
    if (!realpath(o->container, real) || stat(real, &st) < 0 || !S_ISDIR(st.st_mode)) {
        if (o->container[0] == '/' || o->container[0] == '.'
            || !container_image_ok(o->container))
            die("container '%s' not found: give an OCI bundle or a root file system "
                "directory, or an image name", o->container);
        snprintf(real, sizeof(real), "%s", o->container); /* an image */
    }
    json_object_set_new(job, "container", json_string(real));
    json_t *mounts = jobdef_mounts ? jobdef_mounts : json_array();
    json_object_set_new(job, "mounts", mounts);
    if (!o->container_mounts)
        return;
    char *copy = strdup(o->container_mounts), *save = NULL;
    for (char *m = strtok_r(copy, ",", &save); m; m = strtok_r(NULL, ",", &save)) {
        char *dst = strchr(m, ':'), *mode = dst ? strchr(dst + 1, ':') : NULL;
        if (!dst || dst == m || !dst[1] || (mode && strcmp(mode, ":ro") && strcmp(mode, ":rw")))
            die("invalid --container-mounts entry '%s' (want SRC:DST[:ro])", m);
        *dst++ = '\0';
        if (mode)
            *mode++ = '\0';
        char src[PATH_MAX];
        if (!realpath(m, src))
            die("--container-mounts: '%s': %s", m, strerror(errno));
        if (dst[0] != '/')
            die("--container-mounts: '%s' must be an absolute path in the container", dst);
        json_array_append_new(mounts, json_pack("{s:s, s:s, s:b}", "source", src,
                                                "destination", dst, "readonly",
                                                mode && !strcmp(mode, "ro")));
    }
    free(copy);
    (void)cwd;
}

static void add_placement(json_t *job, const struct submit_opts *o)
{
    if (o->nodes > 1) {
        json_object_set_new(job, "nodes", json_integer(o->nodes));
        if (!o->ntasks)
            json_object_del(job, "ntasks"); /* one per node, or --ntasks-per-node */
    }
    if (o->ntasks_per_node) {
        json_object_set_new(job, "ntasks_per_node", json_integer(o->ntasks_per_node));
        if (!o->ntasks)
            json_object_del(job, "ntasks"); /* derived from it */
    }
    if (o->threads_per_core)
        json_object_set_new(job, "threads_per_core", json_integer(o->threads_per_core));
    if (o->mem_per_cpu) {
        if (o->mem)
            die("--mem and --mem-per-cpu are mutually exclusive");
        json_object_set_new(job, "mem_per_cpu", json_integer(o->mem_per_cpu));
    }
    if (o->gpus)
        json_object_set_new(job, "gpus", json_integer(o->gpus));
    if (o->exclusive)
        json_object_set_new(job, "exclusive", json_true());
    if (o->constraint)
        json_object_set_new(job, "constraint", json_string(o->constraint));
    if (o->distribution)
        json_object_set_new(job, "distribution", json_string(o->distribution));
    if (o->nodelist)
        json_object_set_new(job, "nodelist", json_string(o->nodelist));
    if (o->exclude)
        json_object_set_new(job, "exclude", json_string(o->exclude));
}

static int wait_for(json_int_t id)
{
    for (;;) {
        char err[256];
        /* A wait is answered when the job ends; ask again every minute in
         * case the server restarted in between. */
        json_t *r = client_request_ex("job.wait", json_pack("{s:I}", "id", id), 60000,
                                      err, sizeof(err));
        if (!r)
            die("%s", err);
        json_t *job = json_object_get(r, "job");
        const char *state = json_string_value(json_object_get(job, "state"));
        int st = job_state_parse(state);
        if (st >= 0 && job_state_final(st)) {
            int code = (int)json_integer_value(json_object_get(job, "exit_code"));
            const char *reason = json_string_value(json_object_get(job, "status_reason"));
            int rc = job_exit_status(st, code);
            if (st != JOB_SUCCEEDED)
                fprintf(stderr, "%s: job %lld failed: %s\n", client_prog, (long long)id,
                        reason ? reason : "failed");
            json_decref(r);
            return rc;
        }
        json_decref(r);
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

    /* The command line first, to find the script; then the script's
     * directives; then the command line again, which wins. */
    first = parse(argc, argv, &cli, "");
    if (cli.wrap) {
        if (first < argc)
            die("--wrap takes the command; unexpected argument '%s'", argv[first]);
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
    json_decref(o.parameters); /* the command line's, gathered again below */
    o.parameters = NULL;
    parse(argc, argv, &o, "");
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
    char *output = o.output ? strdup(o.output)
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
                            o.jobdef ? jobdef_env : environment(o.export),
                            "queue", o.queue ? o.queue : "default",
                            "hold", o.hold, "user", pw->pw_name, "uid",
                            (json_int_t)getuid(), "gid", (json_int_t)getgid(), "umask",
                            (json_int_t)current_umask());
    if (!job)
        die("invalid job: a value is not valid text");
    if (o.error)
        json_object_set_new(job, "error", json_string(o.error));
    if (jobdef_ref[0])
        json_object_set_new(job, "job_definition", json_string(jobdef_ref));
    if (o.priority_set)
        json_object_set_new(job, "priority", json_integer(o.priority));
    if (o.share_id)
        json_object_set_new(job, "share_identifier", json_string(o.share_id));
    if (o.nice_set && o.nice)
        json_object_set_new(job, "nice", json_integer(o.nice));
    if (o.array)
        json_object_set_new(job, "array", json_string(o.array));
    if (o.dependency || o.depends_on) {
        json_t *deps = jobspec_parse_dependencies(o.dependency, o.depends_on, &err);
        if (!deps)
            die("%s", err.text);
        json_object_set_new(job, "dependencies", deps);
    }
    add_placement(job, &o);
    add_container(job, &o, cwd);
    if (jobdef_node_scripts) {
        if ((size_t)o.nodes != json_array_size(jobdef_node_scripts))
            die("job definition '%s' has %zu nodes; --nodes cannot change that", jobdef_ref,
                json_array_size(jobdef_node_scripts));
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
        printf("Submitted batch job %lld\n", (long long)id); /* as Slurm says it */
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

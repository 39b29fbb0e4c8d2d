/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What a job asks for: decoding and validation of job.submit bodies. */
#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/jobspec.h"
#include "lib/jsonfields.h"
#include "lib/retry.h"
#include "lib/arrayspec.h"
#include "lib/container.h"
#include "lib/features.h"
#include "lib/hostlist.h"

int jobspec_name_ok(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;

    if (n == 0 || n > max)
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("._-+@:,", *s))
            return 0;
    return 1;
}

/* A path or pattern: no control characters, bounded length. */
static int text_ok(const char *s, size_t max)
{
    size_t n = strlen(s);

    if (n == 0 || n > max)
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

static int strings_ok(const json_t *a, size_t maxn, int need_eq)
{
    size_t i;
    json_t *v;

    if (!json_is_array(a) || json_array_size(a) > maxn)
        return 0;
    json_array_foreach (a, i, v) {
        const char *s = json_string_value(v);
        if (!s || strlen(s) > 128 * 1024
            || (need_eq && (!strchr(s, '=') || s[0] == '=')))
            return 0;
    }
    return 1;
}

/* The fields of a job object and their JSON types. */
static const struct json_field fields[] = {
    { "name", JSON_STRING, true },
    { "script", JSON_STRING, true },
    { "args", JSON_ARRAY, false },
    { "ntasks", JSON_INTEGER, false },
    { "cpus_per_task", JSON_INTEGER, false },
    { "mem", JSON_INTEGER, false },
    { "time_limit", JSON_INTEGER, false },
    { "output", JSON_STRING, true },
    { "error", JSON_STRING, false },
    { "cwd", JSON_STRING, true },
    { "submit_dir", JSON_STRING, true },
    { "env", JSON_ARRAY, false },
    { "queue", JSON_STRING, false },
    { "hold", JSON_TRUE, false },
    { "user", JSON_STRING, true },
    { "uid", JSON_INTEGER, true },
    { "gid", JSON_INTEGER, true },
    { "retry_strategy", JSON_OBJECT, false },
    { "dependencies", JSON_ARRAY, false },
    { "array", JSON_STRING, false },
    { "job_definition", JSON_STRING, false },
    { "priority", JSON_INTEGER, false },
    { "nice", JSON_INTEGER, false },
    { "share_identifier", JSON_STRING, false },
    { "umask", JSON_INTEGER, false },
    { "nodes", JSON_INTEGER, false },
    { "ntasks_per_node", JSON_INTEGER, false },
    { "threads_per_core", JSON_INTEGER, false },
    { "mem_per_cpu", JSON_INTEGER, false },
    { "gpus", JSON_INTEGER, false },
    { "exclusive", JSON_TRUE, false },
    { "distribution", JSON_STRING, false },
    { "constraint", JSON_STRING, false },
    { "nodelist", JSON_STRING, false },
    { "exclude", JSON_STRING, false },
    { "node_scripts", JSON_ARRAY, false },
    { "container", JSON_STRING, false },
    { "mounts", JSON_ARRAY, false },
    { NULL, 0, false },
};

static const char *dep_types[] = { "after",      "afterany",  "afterok",
                                   "afternotok", "singleton", "aftercorr",
                                   "sequential", NULL };

/* Types whose dependency is not on a job id. */
static bool dep_without_id(const char *type)
{
    return strcmp(type, "singleton") == 0 || strcmp(type, "sequential") == 0;
}

/* Types that only an array can have: they relate its children. */
static bool dep_for_arrays(const char *type)
{
    return strcmp(type, "aftercorr") == 0 || strcmp(type, "sequential") == 0;
}

/* [{"type": T, "id": N}...], singleton without an id, at most 100. */
static int deps_check(const json_t *deps, struct kiln_error *err)
{
    size_t i;
    json_t *d;

    if (json_array_size(deps) > JOBSPEC_MAX_DEPS)
        return errprintf(err, "invalid dependencies: at most %d",
                         JOBSPEC_MAX_DEPS);
    json_array_foreach (deps, i, d) {
        const char *type = NULL;
        json_int_t id = 0;
        json_error_t jerr;
        int k;
        if (json_unpack_ex(d, &jerr, JSON_STRICT, "{s:s, s?I}", "type", &type,
                           "id", &id)
            < 0)
            return errprintf(err, "invalid dependencies[%zu]: %s", i,
                             jerr.text);
        for (k = 0; dep_types[k] && strcmp(dep_types[k], type) != 0; k++)
            ;
        if (!dep_types[k])
            return errprintf(err, "invalid dependencies[%zu].type: '%.32s'", i,
                             type);
        if (dep_without_id(type) ? id != 0 : id <= 0)
            return errprintf(err, "invalid dependencies[%zu].id", i);
    }
    return 0;
}

/* The placement fields (see struct jobspec), checked; ntasks and mem may
 * be derived from them. */
static int placement_from_json(const json_t *o, struct jobspec *js,
                               struct kiln_error *err)
{
    json_int_t tpn = 0, tpc = 0, mpc = 0, gpus = 0, nodes = 1;
    const char *dist = "block", *constraint = NULL, *nodelist = NULL,
               *exclude = NULL;
    int exclusive = 0;
    json_error_t jerr;

    if (json_unpack_ex((json_t *)o, &jerr, 0,
                       "{s?I, s?I, s?I, s?I, s?I, s?b, s?s, s?s, s?s, "
                       "s?s}",
                       "nodes", &nodes, "ntasks_per_node", &tpn,
                       "threads_per_core", &tpc, "mem_per_cpu", &mpc, "gpus",
                       &gpus, "exclusive", &exclusive, "distribution", &dist,
                       "constraint", &constraint, "nodelist", &nodelist,
                       "exclude", &exclude)
        < 0)
        return errprintf(err, "invalid job: %s", jerr.text);
    if (nodes < 1 || nodes > JOBSPEC_MAX_NODES)
        return errprintf(err, "invalid nodes: %lld (1-%d)", (long long)nodes,
                         JOBSPEC_MAX_NODES);
    if (tpn < 0 || tpn > JOBSPEC_MAX_TASKS)
        return errprintf(err, "invalid ntasks_per_node: %lld", (long long)tpn);
    /* Without ntasks: ntasks_per_node on each node, or one task per node. */
    if (!json_object_get(o, "ntasks"))
        js->ntasks = (long)(nodes * (tpn ? tpn : 1));
    if (js->ntasks > JOBSPEC_MAX_TASKS)
        return errprintf(err, "invalid ntasks: more than %d",
                         JOBSPEC_MAX_TASKS);
    if (js->ntasks < nodes)
        return errprintf(
            err,
            "the job asks for %ld tasks on %lld nodes: each node needs "
            "at least one",
            js->ntasks, (long long)nodes);
    if (tpn && js->ntasks > tpn * nodes)
        return errprintf(
            err,
            "the job asks for %ld tasks but at most %lld per node on %lld "
            "node%s",
            js->ntasks, (long long)tpn, (long long)nodes, nodes > 1 ? "s" : "");
    if (tpc < 0 || tpc > 64)
        return errprintf(err, "invalid threads_per_core: %lld (1-64)",
                         (long long)tpc);
    if (mpc < 0 || mpc > ((json_int_t)1 << 30))
        return errprintf(err, "invalid mem_per_cpu: %lld", (long long)mpc);
    if (mpc && js->mem)
        return errprintf(err, "mem and mem_per_cpu are mutually exclusive");
    if (gpus < 0 || gpus > 256)
        return errprintf(err, "invalid gpus: %lld (0-256)", (long long)gpus);
    if (strcmp(dist, "block") != 0 && strcmp(dist, "cyclic") != 0)
        return errprintf(err, "invalid distribution: '%.32s' (block or cyclic)",
                         dist);
    if (constraint && !features_expr_ok(constraint))
        return errprintf(
            err,
            "invalid constraint '%.64s': feature names (letters, digits, "
            "._-) joined by & or , (all) and | (any)",
            constraint);
    if (nodelist
        && (!(js->nodelist_hl = hostlist_parse(nodelist, err))
            || !(js->nodelist = strdup(nodelist))))
        return -1;
    if (exclude
        && (!(js->exclude_hl = hostlist_parse(exclude, err))
            || !(js->exclude = strdup(exclude))))
        return -1;
    json_t *ns = json_object_get(o, "node_scripts"), *v;
    size_t i, total = 0;
    if (ns && (long)json_array_size(ns) != nodes)
        return errprintf(
            err, "invalid node_scripts: one script for each of the %lld nodes",
            (long long)nodes);
    json_array_foreach (ns, i, v) {
        if (!json_is_string(v) || !json_string_length(v))
            return errprintf(err, "invalid node_scripts[%zu]: not a script", i);
        total += json_string_length(v);
    }
    if (total > JOBSPEC_MAX_SCRIPT)
        return errprintf(err, "node_scripts are larger than %d bytes",
                         JOBSPEC_MAX_SCRIPT);
    js->node_scripts = ns ? json_incref(ns) : NULL;
    const char *container = json_string_value(json_object_get(o, "container"));
    json_t *mounts = json_object_get(o, "mounts"), *m;
    if (container
        && (container[0] == '/' ? !text_ok(container, JOBSPEC_MAX_PATH)
                                : !container_image_ok(container)))
        return errprintf(
            err, "invalid container: an absolute path to an OCI bundle or a "
                 "root file system, or an image name");
    if (mounts && !container)
        return errprintf(err, "invalid mounts: only for a job in a container");
    if (json_array_size(mounts) > 64)
        return errprintf(err, "invalid mounts: at most 64");
    json_array_foreach (mounts, i, m) {
        const char *src = NULL, *dst = NULL;
        int ro = 0;
        if (json_unpack(m, "{s:s, s:s, s?b !}", "source", &src, "destination",
                        &dst, "readonly", &ro)
            < 0)
            return errprintf(
                err,
                "invalid mounts[%zu]: {source, destination} absolute "
                "paths, readonly optional",
                i);
        if (!container_path_ok(src) || !container_path_ok(dst))
            return errprintf(
                err,
                "invalid mounts[%zu]: '%.100s:%.100s': source and "
                "destination must be absolute paths without '..' and "
                "without any of : , = \" ' \\",
                i, src, dst);
    }
    /* The working and submit directories are mounted into the container
     * too, so they obey the same rule. */
    const char *dirs[] = { "cwd", "submit_dir" };
    for (size_t d = 0; container && d < 2; d++) {
        const char *path = json_string_value(json_object_get(o, dirs[d]));
        if (path && !container_path_ok(path))
            return errprintf(
                err,
                "a job in a container cannot have %s '%.200s': it "
                "must be absolute, without '..' and without any of : , = "
                "\" ' \\",
                dirs[d], path);
    }
    if (container && !(js->container = strdup(container)))
        return errprintf(err, "out of memory");
    js->mounts = mounts ? json_incref(mounts) : NULL;
    js->nodes = (long)nodes;
    js->ntasks_per_node = (long)tpn;
    js->threads_per_core = (int)tpc;
    js->mem_per_cpu = mpc;
    if (mpc) /* per node, as --mem is: the busiest node's share */
        js->mem = mpc * jobspec_node_cpus(js, 0);
    js->gpus = (int)gpus;
    js->exclusive = exclusive;
    js->distribution = strcmp(dist, "cyclic") == 0 ? ALLOC_CYCLIC : ALLOC_BLOCK;
    if (constraint && !(js->constraint = strdup(constraint)))
        return errprintf(err, "out of memory");
    return 0;
}

int jobspec_from_json(const json_t *o, struct jobspec *js,
                      struct kiln_error *err)
{
    const char *name, *script, *output,
        *error = NULL, *cwd, *submit_dir, *queue = "default", *user,
        *array = NULL, *jobdef = NULL, *share = NULL;
    json_t *args = NULL, *env = NULL, *retry = NULL, *deps = NULL;
    json_int_t ntasks = 1, cpt = 1, mem = 0, tl = 0, uid, gid, prio = 0,
               nice = 0;
    int hold = 0;
    json_error_t jerr;

    memset(js, 0, sizeof(*js));
    if (!json_is_object(o)) {
        errno = EINVAL;
        return errprintf(err, "invalid job: not an object");
    }
    if (json_fields_check(o, fields, "job", "", err) < 0) {
        errno = EINVAL;
        return -1;
    }
    /* Not JSON_STRICT: json_fields_check refused unknown fields, and the
     * placement fields are read below. */
    if (json_unpack_ex(
            (json_t *)o, &jerr, 0,
            "{s:s, s:s, s?o, s?I, s?I, s?I, s?I, s:s, s?s, s:s, "
            "s:s, s?o, s?s, s?b, s:s, s:I, s:I, s?o, s?o, s?s, s?s, s?I, s?I, "
            "s?s}",
            "name", &name, "script", &script, "args", &args, "ntasks", &ntasks,
            "cpus_per_task", &cpt, "mem", &mem, "time_limit", &tl, "output",
            &output, "error", &error, "cwd", &cwd, "submit_dir", &submit_dir,
            "env", &env, "queue", &queue, "hold", &hold, "user", &user, "uid",
            &uid, "gid", &gid, "retry_strategy", &retry, "dependencies", &deps,
            "array", &array, "job_definition", &jobdef, "priority", &prio,
            "nice", &nice, "share_identifier", &share)
        < 0) {
        errno = EINVAL;
        return errprintf(err, "invalid job: %s", jerr.text);
    }
    errno = EINVAL;
    /* A name goes into output paths (%x): it cannot lead out of them. */
    if (!text_ok(name, JOBSPEC_MAX_NAME) || strchr(name, '/')
        || !strcmp(name, ".") || !strcmp(name, ".."))
        return errprintf(err, "invalid job name: '%.64s'", name);
    if (strlen(script) > JOBSPEC_MAX_SCRIPT)
        return errprintf(err, "script is larger than %d bytes",
                         JOBSPEC_MAX_SCRIPT);
    if (strlen(script) == 0)
        return errprintf(err, "script is empty");
    if (args && !strings_ok(args, 4096, 0))
        return errprintf(err, "invalid args: must be an array of strings");
    if (ntasks < 1 || ntasks > JOBSPEC_MAX_TASKS)
        return errprintf(err, "invalid ntasks: %lld", (long long)ntasks);
    if (cpt < 1 || cpt > 65536)
        return errprintf(err, "invalid cpus_per_task: %lld", (long long)cpt);
    if (mem < 0 || mem > ((json_int_t)1 << 40))
        return errprintf(err, "invalid mem: %lld", (long long)mem);
    if (tl < 0 || tl > 100LL * 365 * 86400)
        return errprintf(err, "invalid time_limit: %lld", (long long)tl);
    if (!text_ok(output, JOBSPEC_MAX_PATH))
        return errprintf(err, "invalid output path");
    if (error && !text_ok(error, JOBSPEC_MAX_PATH))
        return errprintf(err, "invalid error path");
    if (!text_ok(cwd, JOBSPEC_MAX_PATH) || cwd[0] != '/')
        return errprintf(err, "invalid cwd: must be an absolute path");
    if (!text_ok(submit_dir, JOBSPEC_MAX_PATH) || submit_dir[0] != '/')
        return errprintf(err, "invalid submit_dir: must be an absolute path");
    if (env && !strings_ok(env, JOBSPEC_MAX_ENV, 1))
        return errprintf(err, "invalid env: must be an array of NAME=value");
    if (!jobspec_name_ok(queue, 64))
        return errprintf(err, "invalid queue name: '%.64s'", queue);
    if (!jobspec_name_ok(user, 64))
        return errprintf(err, "invalid user name");
    if (uid < 0 || uid > 0xfffffffe || gid < 0 || gid > 0xfffffffe)
        return errprintf(err, "invalid uid or gid");
    json_t *um = json_object_get(o, "umask");
    if (um && (json_integer_value(um) < 0 || json_integer_value(um) > 0777))
        return errprintf(err, "invalid umask: 0 to 0777");
    if (retry && retry_check(retry, err) < 0)
        return -1;
    if (deps && deps_check(deps, err) < 0)
        return -1;
    if (prio < 0 || prio > 1000000)
        return errprintf(err, "invalid priority: %lld (0-1000000)",
                         (long long)prio);
    if (nice < -10000 || nice > 10000)
        return errprintf(err, "invalid nice: %lld (-10000 to 10000)",
                         (long long)nice);
    if (share && (!jobspec_name_ok(share, 255)))
        return errprintf(
            err, "invalid share_identifier: 1-255 letters, digits and ._-+@:,");
    if (jobdef && (strlen(jobdef) > 160 || !*jobdef))
        return errprintf(err, "invalid job_definition");
    if (deps && !array) {
        size_t i;
        json_t *d;
        json_array_foreach (deps, i, d) {
            const char *type = json_string_value(json_object_get(d, "type"));
            if (dep_for_arrays(type))
                return errprintf(
                    err, "invalid dependencies[%zu]: %s needs an array job", i,
                    type);
        }
    }
    if (array) {
        /* Checked, not built: this runs for every child an array makes. */
        if (strlen(array) > 4096)
            return errprintf(err, "invalid array: longer than 4096 characters");
        if (arrayspec_check(array, err) < 0)
            return -1;
    }

    js->name = strdup(name);
    js->script = strdup(script);
    js->args = args ? json_deep_copy(args) : json_array();
    js->ntasks = ntasks;
    js->cpus_per_task = cpt;
    js->mem = mem;
    js->time_limit = tl;
    js->output = strdup(output);
    js->error = error ? strdup(error) : NULL;
    js->cwd = strdup(cwd);
    js->submit_dir = strdup(submit_dir);
    js->env = env ? json_deep_copy(env) : json_array();
    js->queue = strdup(queue);
    js->hold = hold;
    js->user = strdup(user);
    js->uid = uid;
    js->gid = gid;
    js->retry = retry ? json_deep_copy(retry) : NULL;
    js->deps = deps && json_array_size(deps) ? json_deep_copy(deps) : NULL;
    js->array = array ? strdup(array) : NULL;
    js->job_definition = jobdef ? strdup(jobdef) : NULL;
    js->priority = (long)prio;
    js->share_id = share ? strdup(share) : NULL;
    js->nice = (long)nice;
    js->umask = um ? (int)json_integer_value(um) : 022;
    if (!js->name || !js->script || !js->args || !js->output
        || (error && !js->error) || !js->cwd || !js->submit_dir || !js->env
        || !js->queue || !js->user || (retry && !js->retry)
        || (deps && json_array_size(deps) && !js->deps) || (array && !js->array)
        || (jobdef && !js->job_definition) || (share && !js->share_id)) {
        jobspec_release(js);
        errno = ENOMEM;
        return errprintf(err, "out of memory");
    }
    if (placement_from_json(o, js, err) < 0) {
        jobspec_release(js);
        errno = EINVAL;
        return -1;
    }
    errno = 0;
    return 0;
}

/* The placement fields, as given. */
static int placement_to_json(const struct jobspec *js, json_t *o)
{
    int rc = 0;

    if (js->nodes > 1)
        rc |= json_object_set_new(o, "nodes", json_integer(js->nodes));
    if (js->node_scripts)
        rc |= json_object_set(o, "node_scripts", js->node_scripts);
    if (js->container)
        rc |= json_object_set_new(o, "container", json_string(js->container));
    if (js->mounts)
        rc |= json_object_set(o, "mounts", js->mounts);
    if (js->ntasks_per_node)
        rc |= json_object_set_new(o, "ntasks_per_node",
                                  json_integer(js->ntasks_per_node));
    if (js->threads_per_core)
        rc |= json_object_set_new(o, "threads_per_core",
                                  json_integer(js->threads_per_core));
    if (js->mem_per_cpu) {
        rc |= json_object_set_new(o, "mem_per_cpu",
                                  json_integer(js->mem_per_cpu));
        rc |= json_object_del(o, "mem");
    }
    if (js->gpus)
        rc |= json_object_set_new(o, "gpus", json_integer(js->gpus));
    if (js->exclusive)
        rc |= json_object_set_new(o, "exclusive", json_true());
    if (js->distribution == ALLOC_CYCLIC)
        rc |= json_object_set_new(o, "distribution", json_string("cyclic"));
    if (js->constraint)
        rc |= json_object_set_new(o, "constraint", json_string(js->constraint));
    if (js->nodelist)
        rc |= json_object_set_new(o, "nodelist", json_string(js->nodelist));
    if (js->exclude)
        rc |= json_object_set_new(o, "exclude", json_string(js->exclude));
    return rc ? -1 : 0;
}

json_t *jobspec_to_json(const struct jobspec *js)
{
    json_t *o = json_pack(
        "{s:s, s:s, s:O, s:I, s:I, s:I, s:I, s:s, s:s, "
        "s:s, s:O, s:s, s:b, s:s, s:I, s:I}",
        "name", js->name, "script", js->script, "args", js->args, "ntasks",
        (json_int_t)js->ntasks, "cpus_per_task", (json_int_t)js->cpus_per_task,
        "mem", (json_int_t)js->mem, "time_limit", (json_int_t)js->time_limit,
        "output", js->output, "cwd", js->cwd, "submit_dir", js->submit_dir,
        "env", js->env, "queue", js->queue, "hold", js->hold, "user", js->user,
        "uid", (json_int_t)js->uid, "gid", (json_int_t)js->gid);
    if (o
        && ((js->error
             && json_object_set_new(o, "error", json_string(js->error)) < 0)
            || (js->retry
                && json_object_set(o, "retry_strategy", js->retry) < 0)
            || (js->deps && json_object_set(o, "dependencies", js->deps) < 0)
            || (js->array
                && json_object_set_new(o, "array", json_string(js->array)) < 0)
            || (js->job_definition
                && json_object_set_new(o, "job_definition",
                                       json_string(js->job_definition))
                       < 0)
            || (js->priority
                && json_object_set_new(o, "priority",
                                       json_integer(js->priority))
                       < 0)
            || (js->nice
                && json_object_set_new(o, "nice", json_integer(js->nice)) < 0)
            || (js->umask != 022
                && json_object_set_new(o, "umask", json_integer(js->umask)) < 0)
            || (js->share_id
                && json_object_set_new(o, "share_identifier",
                                       json_string(js->share_id))
                       < 0)
            || placement_to_json(js, o) < 0)) {
        json_decref(o);
        return NULL;
    }
    return o;
}

void jobspec_release(struct jobspec *js)
{
    free(js->name);
    free(js->script);
    json_decref(js->args);
    free(js->output);
    free(js->error);
    free(js->cwd);
    free(js->submit_dir);
    json_decref(js->env);
    free(js->queue);
    free(js->user);
    json_decref(js->retry);
    json_decref(js->deps);
    free(js->array);
    free(js->job_definition);
    free(js->share_id);
    free(js->constraint);
    free(js->nodelist);
    free(js->exclude);
    json_decref(js->node_scripts);
    free(js->container);
    json_decref(js->mounts);
    hostlist_free(js->nodelist_hl);
    hostlist_free(js->exclude_hl);
    memset(js, 0, sizeof(*js));
}

static int dep_id(const char *s, const char *opt, json_int_t *out,
                  struct kiln_error *err)
{
    char *end;
    long long v = strtoll(s, &end, 10);

    if (!*s || *end || v <= 0)
        return errprintf(err, "invalid job id '%s' in %s", s, opt);
    *out = v;
    return 0;
}

json_t *jobspec_parse_dependencies(const char *slurm, const char *aws,
                                   struct kiln_error *err)
{
    json_t *deps = json_array();
    char *copy = NULL, *save = NULL;
    json_int_t id = 0;

    if (!deps) {
        errprintf(err, "out of memory");
        return NULL;
    }
    if (slurm) {
        copy = strdup(slurm);
        for (char *item = strtok_r(copy, ",", &save); item;
             item = strtok_r(NULL, ",", &save)) {
            char *isave = NULL, *type = strtok_r(item, ":", &isave), *idtext;
            if (!type) { /* only colons: ":" */
                errprintf(err,
                          "invalid value for --dependency: '%s' has no type",
                          item);
                goto error;
            }
            if (!strcmp(type, "singleton")) {
                if (strtok_r(NULL, ":", &isave)) {
                    errprintf(
                        err,
                        "invalid value for --dependency: singleton takes no job id");
                    goto error;
                }
                json_array_append_new(deps,
                                      json_pack("{s:s}", "type", "singleton"));
                continue;
            }
            if (strcmp(type, "after") && strcmp(type, "afterany")
                && strcmp(type, "afterok") && strcmp(type, "afternotok")
                && strcmp(type, "aftercorr")) {
                errprintf(
                    err,
                    "invalid value for --dependency: unknown type '%s' (after, "
                    "afterany, afterok, afternotok, aftercorr or singleton)",
                    type);
                goto error;
            }
            if (!(idtext = strtok_r(NULL, ":", &isave))) {
                errprintf(err,
                          "invalid value for --dependency: '%s' needs a job id",
                          type);
                goto error;
            }
            for (; idtext; idtext = strtok_r(NULL, ":", &isave)) {
                if (dep_id(idtext, "--dependency", &id, err) < 0)
                    goto error;
                json_array_append_new(
                    deps, json_pack("{s:s, s:I}", "type", type, "id", id));
            }
        }
        free(copy);
        copy = NULL;
    }
    if (aws) {
        /* AWS dependsOn: ID (after it succeeds), ID:N_TO_N (each child after
         * its twin), SEQUENTIAL (each child after the one before). */
        copy = strdup(aws);
        save = NULL;
        for (char *t = strtok_r(copy, ",", &save); t;
             t = strtok_r(NULL, ",", &save)) {
            char *type = strchr(t, ':');
            if (!strcmp(t, "SEQUENTIAL")) {
                json_array_append_new(deps,
                                      json_pack("{s:s}", "type", "sequential"));
                continue;
            }
            if (type)
                *type++ = '\0';
            if (type && strcmp(type, "N_TO_N")) {
                errprintf(
                    err,
                    "invalid value for --depends-on: unknown type '%s' (N_TO_N)",
                    type);
                goto error;
            }
            if (dep_id(t, "--depends-on", &id, err) < 0)
                goto error;
            json_array_append_new(
                deps, json_pack("{s:s, s:I}", "type",
                                type ? "aftercorr" : "afterok", "id", id));
        }
        free(copy);
    }
    return deps;
error:
    free(copy);
    json_decref(deps);
    return NULL;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Container engines on a node (engine_*): the OCI runtimes (runc, crun)
 * and engines (podman, docker) it has, and how a job's container is
 * started by one of them: the bundle Kiln writes, or the engine's
 * command line. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/container.h"
#include "lib/util.h"
#include "worker/worker.h"

extern char **environ;

static const char *const known[] = { "crun", "runc", "podman", "docker" };

/* Run argv quietly; its exit status, or -1. */
static int run_quiet(char *const argv[])
{
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int st = -1;

    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) == 0
        && waitpid(pid, &st, 0) == pid)
        st = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    else
        st = -1;
    posix_spawn_file_actions_destroy(&fa);
    return st;
}

json_t *engine_runtimes(const char *order)
{
    json_t *found = json_array();
    char *copy = order ? strdup(order) : NULL, *save = NULL;
    const char *names[16];
    int n = 0;

    /* The site's order (worker config "runtimes"), else crun before runc,
     * podman before docker. */
    if (copy)
        for (char *t = strtok_r(copy, ",", &save); t && n < 16;
             t = strtok_r(NULL, ",", &save))
            names[n++] = t;
    else
        for (size_t i = 0; i < sizeof(known) / sizeof(*known); i++)
            names[n++] = known[i];
    for (int i = 0; i < n; i++) {
        /* "list" needs an OCI runtime's state directory and, for crun, the
         * cgroup setup it expects: one that cannot list cannot run.  An
         * engine must answer "info": its daemon or storage works. */
        char *const argv[] = { (char *)names[i],
                               container_is_engine(names[i]) ? "info" : "list",
                               NULL };
        if (run_quiet(argv) == 0)
            json_array_append_new(found, json_string(names[i]));
    }
    free(copy);
    return found;
}

/* The standard mounts of an OCI container, and /sys/fs/cgroup read-only. */
static json_t *base_mounts(void)
{
    return json_pack(
        "[{s:s, s:s, s:s},"
        " {s:s, s:s, s:s, s:[s,s,s,s]},"
        " {s:s, s:s, s:s, s:[s,s,s,s,s,s]},"
        " {s:s, s:s, s:s, s:[s,s,s,s,s]},"
        " {s:s, s:s, s:s, s:[s,s,s]},"
        " {s:s, s:s, s:s, s:[s,s,s,s]},"
        " {s:s, s:s, s:s, s:[s,s,s,s,s]}]",
        "destination", "/proc", "type", "proc", "source", "proc", "destination",
        "/dev", "type", "tmpfs", "source", "tmpfs", "options", "nosuid",
        "strictatime", "mode=755", "size=65536k", "destination", "/dev/pts",
        "type", "devpts", "source", "devpts", "options", "nosuid", "noexec",
        "newinstance", "ptmxmode=0666", "mode=0620", "gid=5", "destination",
        "/dev/shm", "type", "tmpfs", "source", "shm", "options", "nosuid",
        "noexec", "nodev", "mode=1777", "size=65536k", "destination",
        "/dev/mqueue", "type", "mqueue", "source", "mqueue", "options",
        "nosuid", "noexec", "nodev", "destination", "/sys", "type", "sysfs",
        "source", "sysfs", "options", "nosuid", "noexec", "nodev", "ro",
        "destination", "/sys/fs/cgroup", "type", "cgroup", "source", "cgroup",
        "options", "nosuid", "noexec", "nodev", "relatime", "ro");
}

static json_t *bind(const char *src, const char *dst, bool ro)
{
    return json_pack("{s:s, s:s, s:s, s:[s,s]}", "destination", dst, "type",
                     "bind", "source", src, "options", "rbind",
                     ro ? "ro" : "rw");
}

/* The job's environment as a file only root and the job's user read
 * (one NAME=value a line: values with a newline cannot be passed so and
 * are left out).  0 or -1 with err. */
static int write_env_file(const struct engine_job *c, const char *path,
                          struct kiln_error *err)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    int rc;

    if (!f)
        return errprintf(err, "out of memory");
    for (char **e = c->env; e && *e; e++)
        if (!strchr(*e, '\n') && strncmp(*e, "PATH=", 5) != 0)
            fprintf(f, "%s\n", *e);
    rc = fclose(f);
    /* It holds the job's environment and its exec token: mode 0600. */
    if (rc != 0 || util_write_atomic(path, buf, len, 0) < 0
        || chmod(path, 0600) < 0)
        rc = errprintf(err, "cannot write the container's environment: %s",
                       strerror(errno));
    free(buf);
    return rc;
}

/* Podman or Docker: the job's limits, user and mounts as options, each
 * value one argument that the engine cannot split into others: mounts as
 * --mount with paths that container_path_ok allows. */
static int podman_prepare(const struct engine_job *c, json_t *binds,
                          char **argv, struct kiln_error *err)
{
    static char envfile[PATH_MAX], user[64], cpus[256], mems[256], memory[64];
    static char vol_kiln[PATH_MAX + 64];
    static char vols[ENGINE_MAX_MOUNTS][2 * PATH_MAX + 64];
    int k = 0;
    size_t i;
    json_t *v;

    if (!container_path_ok(c->dir))
        return errprintf(err,
                         "the worker's spool '%.200s' cannot be mounted into a "
                         "container: rename it without : , = \" ' \\",
                         c->dir);
    snprintf(envfile, sizeof(envfile), "%s/container.env", c->dir);
    if (write_env_file(c, envfile, err) < 0)
        return -1;
    snprintf(user, sizeof(user), "%ld:%ld", c->uid, c->gid);
    snprintf(vol_kiln, sizeof(vol_kiln),
             "type=bind,source=%s,target=/.kiln,readonly", c->dir);
    argv[k++] = (char *)c->runtime;
    argv[k++] = "run";
    argv[k++] = "--rm";
    argv[k++] = "--name";
    argv[k++] = (char *)c->name;
    argv[k++] = "--network=host";
    argv[k++] = "--security-opt=no-new-privileges";
    argv[k++] = "--user";
    argv[k++] = user;
    argv[k++] = "--env-file";
    argv[k++] = envfile;
    argv[k++] = "--mount";
    argv[k++] = vol_kiln;
    json_array_foreach (binds, i, v) {
        const char *src = json_string_value(json_object_get(v, "source"));
        const char *dst = json_string_value(json_object_get(v, "destination"));
        if (i >= ENGINE_MAX_MOUNTS)
            return errprintf(err, "too many mounts (at most %d)",
                             ENGINE_MAX_MOUNTS);
        if (!container_path_ok(src) || !container_path_ok(dst))
            return errprintf(
                err,
                "cannot mount '%.200s' at '%.200s': a path with : , = \" "
                "' \\ or a '..' cannot be given to %s",
                src ? src : "", dst ? dst : "", c->runtime);
        snprintf(vols[i], sizeof(vols[i]), "type=bind,source=%s,target=%s%s",
                 src, dst,
                 json_is_true(json_object_get(v, "ro")) ? ",readonly" : "");
        argv[k++] = "--mount";
        argv[k++] = vols[i];
    }
    if (!c->simulate) {
        snprintf(cpus, sizeof(cpus), "--cpuset-cpus=%s", c->cpus);
        argv[k++] = cpus;
        if (c->mems) {
            snprintf(mems, sizeof(mems), "--cpuset-mems=%s", c->mems);
            argv[k++] = mems;
        }
    }
    if (c->mem_mib > 0) {
        snprintf(memory, sizeof(memory), "--memory=%lldm",
                 (long long)c->mem_mib);
        argv[k++] = memory;
    }
    argv[k++] = "-w";
    argv[k++] = (char *)c->cwd;
    /* The image, then the command: "--" would be taken for the image. */
    argv[k++] = (char *)c->source;
    if (!c->shebang)
        argv[k++] = "/bin/sh";
    argv[k++] = "/.kiln/script";
    json_array_foreach (c->args, i, v)
        if (k < ENGINE_MAX_ARGV - 1)
            argv[k++] = (char *)json_string_value(v);
    argv[k] = NULL;
    return 0;
}

int engine_prepare(const struct engine_job *c, char *argv_out[ENGINE_MAX_ARGV],
                   struct kiln_error *err)
{
    char bundle[PATH_MAX], cfgpath[PATH_MAX];
    json_t *cfg = NULL, *binds, *mounts, *args, *env, *v;
    size_t i;

    if (container_is_engine(c->runtime) && !container_image_ok(c->source))
        return errprintf(err, "invalid image name '%.200s'", c->source);
    snprintf(bundle, sizeof(bundle), "%s/bundle", c->dir);
    if (mkdir(bundle, 0700) < 0 && errno != EEXIST)
        return errprintf(err, "cannot make the container's bundle: %s",
                         strerror(errno));
    /* What the user reaches as themselves, and nothing else: the root
     * file system and the sources of the binds, staged under the bundle
     * (for an engine, only checked). */
    if (!(binds = bundle_stage(c, bundle, err)))
        return -1;
    if (container_is_engine(c->runtime)) {
        int rc = podman_prepare(c, binds, argv_out, err);
        json_decref(binds);
        return rc;
    }
    /* The job's script is mounted at /.kiln/script and run as it would be
     * on the node: by its #! line, else by /bin/sh. */
    args = json_array();
    json_array_append_new(
        args, json_string(c->shebang ? "/.kiln/script" : "/bin/sh"));
    if (!c->shebang)
        json_array_append_new(args, json_string("/.kiln/script"));
    json_array_foreach (c->args, i, v)
        json_array_append(args, v);
    env = json_array();
    for (char **e = c->env; e && *e; e++)
        if (strncmp(*e, "PATH=", 5) != 0)
            json_array_append_new(env, json_string(*e));
    json_array_append_new(
        env, json_string("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:"
                         "/usr/bin:/sbin:/bin"));
    mounts = base_mounts();
    json_array_append_new(mounts, bind(c->script_dir, "/.kiln", true));
    json_array_foreach (binds, i, v)
        json_array_append_new(
            mounts, bind(json_string_value(json_object_get(v, "source")),
                         json_string_value(json_object_get(v, "destination")),
                         json_is_true(json_object_get(v, "ro"))));
    json_decref(binds);
    json_t *resources = json_object();
    if (!c->simulate)
        json_object_set_new(
            resources, "cpu",
            json_pack("{s:s, s:s*}", "cpus", c->cpus, "mems", c->mems));
    if (c->mem_mib > 0)
        json_object_set_new(resources, "memory",
                            json_pack("{s:I, s:I}", "limit",
                                      (json_int_t)c->mem_mib << 20, "swap",
                                      (json_int_t)c->mem_mib << 20));
    cfg = json_pack("{s:s, s:{s:s, s:b},"
                    " s:{s:b, s:{s:I, s:I}, s:o, s:o, s:s, s:b},"
                    " s:s, s:o,"
                    " s:{s:o, s:s*, s:[{s:s},{s:s},{s:s},{s:s}],"
                    "    s:[s,s,s,s,s,s,s,s], s:[s,s,s,s,s,s]}}",
                    "ociVersion", "1.0.2", "root", "path", "rootfs", "readonly",
                    0, "process", "terminal", 0, "user", "uid",
                    (json_int_t)c->uid, "gid", (json_int_t)c->gid, "args", args,
                    "env", env, "cwd", c->cwd, "noNewPrivileges", 1, "hostname",
                    c->name, "mounts", mounts, "linux", "resources", resources,
                    "cgroupsPath", c->cgroup_path, "namespaces", "type", "pid",
                    "type", "ipc", "type", "uts", "type", "mount",
                    "maskedPaths", "/proc/acpi", "/proc/kcore", "/proc/keys",
                    "/proc/latency_stats", "/proc/timer_list",
                    "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
                    "readonlyPaths", "/proc/bus", "/proc/fs", "/proc/irq",
                    "/proc/sys", "/proc/sysrq-trigger", "/proc/asound");
    if (!cfg)
        return errprintf(err,
                         "container '%.200s': cannot build its configuration",
                         c->source);
    snprintf(cfgpath, sizeof(cfgpath), "%s/config.json", bundle);
    char *text = json_dumps(cfg, JSON_INDENT(1));
    json_decref(cfg);
    /* config.json has the job's environment and exec token: mode 0600. */
    if (!text || util_write_atomic(cfgpath, text, strlen(text), 0) < 0
        || chmod(cfgpath, 0600) < 0) {
        free(text);
        return errprintf(err, "cannot write the container's bundle: %s",
                         strerror(errno));
    }
    free(text);
    static char bundle_arg[PATH_MAX];
    snprintf(bundle_arg, sizeof(bundle_arg), "%s", bundle);
    /* --keep: its cgroup stays until engine_remove, for the counts. */
    argv_out[0] = (char *)c->runtime;
    argv_out[1] = "run";
    argv_out[2] = "--keep";
    argv_out[3] = "--bundle";
    argv_out[4] = bundle_arg;
    argv_out[5] = (char *)c->name;
    argv_out[6] = NULL;
    return 0;
}

void engine_remove(const char *runtime, const char *name)
{
    char *const oci[] = { (char *)runtime, "delete", "--force", (char *)name,
                          NULL };
    char *const engine[] = { (char *)runtime, "rm", "-f", (char *)name, NULL };

    run_quiet(container_is_engine(runtime) ? engine : oci);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* kiln container-exec DIR CMD: run CMD with DIR (an OCI bundle or a root
 * file system) as its root, in place: same process, same pid, same cgroup
 * and cores, same network.  This is the hybrid model for MPI in
 * containers: mpirun and its daemons on the host, each rank in the image
 * ("mpirun kiln container-exec IMAGE ./prog").  As a user it needs user
 * namespaces (Debian enables them); the user stays who they are. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>

#include "client/client.h"
#include "lib/log.h"

static void usage(FILE *f)
{
    fprintf(
        f,
        "Usage: kiln container-exec [--bind SRC[:DST][:ro]]... DIR COMMAND [ARGS...]\n"
        "Run COMMAND with DIR (an OCI bundle or a root file system) as its root, in\n"
        "place: for MPI ranks in a container while mpirun runs on the host.  /proc,\n"
        "/dev, /sys, /tmp and the current directory come along.\n");
}

static void write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);

    if (fd < 0 || write(fd, text, strlen(text)) < 0)
        die("cannot write %s: %s", path, strerror(errno));
    close(fd);
}

/* Bind src at root/dst, making dst if it is missing (an image may lack it). */
static void bind_into(const char *root, const char *src, const char *dst,
                      bool ro)
{
    char target[PATH_MAX];
    struct stat st;

    snprintf(target, sizeof(target), "%s%s", root, dst);
    if (stat(src, &st) < 0)
        die("--bind: '%s': %s", src, strerror(errno));
    if (S_ISDIR(st.st_mode)) {
        /* mkdir -p, quietly: a read-only image fails at mount instead */
        for (char *p = target + strlen(root) + 1; (p = strchr(p, '/')); p++) {
            *p = '\0';
            mkdir(target, 0755);
            *p = '/';
        }
        mkdir(target, 0755);
    } else if (access(target, F_OK) < 0) {
        int fd = open(target, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd >= 0)
            close(fd);
    }
    if (mount(src, target, NULL, MS_BIND | MS_REC, NULL) < 0)
        die("cannot mount %s at %s in the container: %s", src, dst,
            strerror(errno));
    if (ro
        && mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC,
                 NULL)
               < 0)
        die("cannot make %s read-only: %s", dst, strerror(errno));
}

int cmd_container_exec(int argc, char **argv)
{
    char real[PATH_MAX], root[PATH_MAX], cwd[PATH_MAX], cfg[PATH_MAX];
    const char *binds[64];
    int nbinds = 0, i;
    uid_t uid = getuid();
    gid_t gid = getgid();

    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--bind") && i + 1 < argc && nbinds < 64)
            binds[nbinds++] = argv[++i];
        else if (!strcmp(argv[i], "--"))
            break;
        else
            die("unknown option '%s'", argv[i]);
    }
    if (i < argc && !strcmp(argv[i], "--"))
        i++;
    if (argc - i < 2) {
        usage(stderr);
        exit(2);
    }
    if (!realpath(argv[i], real))
        die("container '%s' not found: %s", argv[i], strerror(errno));
    /* A bundle's root, or the directory itself. */
    snprintf(cfg, sizeof(cfg), "%s/config.json", real);
    json_t *c = json_load_file(cfg, 0, NULL);
    const char *rp =
        json_string_value(json_object_get(json_object_get(c, "root"), "path"));
    if (rp && rp[0] == '/')
        snprintf(root, sizeof(root), "%s", rp);
    else if (rp)
        snprintf(root, sizeof(root), "%s/%s", real, rp);
    else
        snprintf(root, sizeof(root), "%s", real);
    json_decref(c);
    if (!getcwd(cwd, sizeof(cwd)))
        snprintf(cwd, sizeof(cwd), "/");
    /* A user gets a user namespace that maps them to themselves, and with
     * it the right to a mount namespace of their own. */
    if (geteuid() != 0) {
        char map[64];
        if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
            die("cannot make a user namespace: %s (is kernel.unprivileged_userns_clone on?)",
                strerror(errno));
        write_file("/proc/self/setgroups", "deny");
        snprintf(map, sizeof(map), "%u %u 1", (unsigned)uid, (unsigned)uid);
        write_file("/proc/self/uid_map", map);
        snprintf(map, sizeof(map), "%u %u 1", (unsigned)gid, (unsigned)gid);
        write_file("/proc/self/gid_map", map);
    } else if (unshare(CLONE_NEWNS) < 0) {
        die("cannot make a mount namespace: %s", strerror(errno));
    }
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        die("cannot make the mounts private: %s", strerror(errno));
    if (mount(root, root, NULL, MS_BIND | MS_REC, NULL) < 0)
        die("cannot mount the container's root '%s': %s", root,
            strerror(errno));
    static const char *const always[] = { "/proc", "/dev", "/sys", "/tmp" };
    for (size_t k = 0; k < sizeof(always) / sizeof(*always); k++)
        bind_into(root, always[k], always[k], false);
    bind_into(root, cwd, cwd, false);
    for (int k = 0; k < nbinds; k++) {
        char spec[PATH_MAX], *dst, *mode;
        snprintf(spec, sizeof(spec), "%s", binds[k]);
        dst = strchr(spec, ':');
        mode = dst ? strchr(dst + 1, ':') : NULL;
        if (dst)
            *dst++ = '\0';
        if (mode)
            *mode++ = '\0';
        bind_into(root, spec, dst && *dst ? dst : spec,
                  mode && !strcmp(mode, "ro"));
    }
    if (chdir(root) < 0 || chroot(".") < 0)
        die("cannot enter the container's root: %s", strerror(errno));
    if (chdir(cwd) < 0 && chdir("/") < 0)
        die("cannot enter a directory in the container: %s", strerror(errno));
    execvp(argv[i + 1], argv + i + 1);
    die("cannot run '%s' in the container: %s", argv[i + 1], strerror(errno));
    return 127;
}

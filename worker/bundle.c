/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What root takes from a user's container: only what the user reaches as
 * themselves.  A child process becomes the job's user, reads the bundle's
 * config.json, opens its root file system and every bind mount's source,
 * and hands the open descriptors back over a socket.  The job shell, as
 * root and in a mount namespace of its own, binds those very descriptors
 * under DIR/bundle, the root file system as the lower layer of an overlay
 * on a tmpfs: the runtime sees exactly what the user opened, no path is
 * resolved by root, no symlink followed for it, and nothing of the user's
 * is read or written by root. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/container.h"
#include "lib/util.h"
#include "worker/worker.h"

/* The root file system and the sources of the binds. */
enum { MAX_FDS = ENGINE_MAX_MOUNTS + 1, MAX_CONFIG = 1 << 20 };

struct gather {
    json_t *mounts;   /* [{dst, ro, file}] in the order of fds[1..] */
    int fds[MAX_FDS]; /* fds[0]: the root file system */
    int nfds;
    char why[600];
};

/* As the user: open a bind mount's source. */
static int gather_bind(struct gather *g, const char *src, const char *dst,
                       bool ro)
{
    struct stat st;
    size_t i;
    json_t *m;
    int fd;

    json_array_foreach (g->mounts, i, m)
        if (!strcmp(json_string_value(json_object_get(m, "dst")), dst))
            return 0; /* the first mount of a destination wins */
    if (g->nfds >= MAX_FDS) {
        snprintf(g->why, sizeof(g->why), "too many mounts (at most %d)",
                 MAX_FDS - 1);
        return -1;
    }
    if (dst[0] != '/' || strstr(dst, "/../") || strlen(dst) >= PATH_MAX - 1) {
        snprintf(g->why, sizeof(g->why), "invalid mount destination '%.200s'",
                 dst);
        return -1;
    }
    if ((fd = open(src, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)) < 0
        || fstat(fd, &st) < 0
        || !(S_ISDIR(st.st_mode) || S_ISREG(st.st_mode))) {
        snprintf(g->why, sizeof(g->why),
                 "cannot mount '%.200s' into the container: %s", src,
                 fd < 0 ? strerror(errno) : "neither a directory nor a file");
        if (fd >= 0)
            close(fd);
        return -1;
    }
    bool file = S_ISREG(st.st_mode);
    g->fds[g->nfds++] = fd;
    json_array_append_new(g->mounts,
                          json_pack("{s:s, s:s, s:b, s:b}", "src", src, "dst",
                                    dst, "ro", ro, "file", file));
    return 0;
}

/* Is an OCI mount a bind mount, and read-only? */
static bool oci_bind(json_t *m, bool *ro)
{
    const char *type = json_string_value(json_object_get(m, "type"));
    bool bind = type && !strcmp(type, "bind");
    size_t i;
    json_t *o;

    *ro = false;
    json_array_foreach (json_object_get(m, "options"), i, o) {
        const char *s = json_string_value(o);
        bind = bind || (s && (!strcmp(s, "bind") || !strcmp(s, "rbind")));
        *ro = *ro || (s && !strcmp(s, "ro"));
    }
    return bind;
}

/* As the user: everything the container takes from the host. */
static int gather(const struct engine_job *c, struct gather *g)
{
    char real[PATH_MAX], rootfs[PATH_MAX], cfgpath[PATH_MAX];
    json_t *given = NULL, *m;
    struct stat st, top;
    size_t i;
    int rfd;

    if (container_is_engine(c->runtime)) {
        /* An image: no root file system here, only the sources to reach. */
        g->fds[g->nfds++] = open("/", O_PATH | O_CLOEXEC);
        goto binds;
    }
    if (!realpath(c->source, real) || stat(real, &st) < 0
        || !S_ISDIR(st.st_mode)) {
        snprintf(g->why, sizeof(g->why),
                 "container '%.200s' not found: no such directory "
                 "(an OCI bundle or a root file system) that you can reach",
                 c->source);
        return -1;
    }
    snprintf(cfgpath, sizeof(cfgpath), "%s/config.json", real);
    snprintf(rootfs, sizeof(rootfs), "%s", real);
    if (access(cfgpath, F_OK) == 0) {
        json_error_t jerr;
        const char *root = NULL;
        size_t len;
        char *text = util_read_file(cfgpath, MAX_CONFIG, &len);
        if (!text || !(given = json_loadb(text, len, 0, &jerr))
            || json_unpack(given, "{s:{s:s}}", "root", "path", &root) < 0) {
            snprintf(g->why, sizeof(g->why),
                     "container bundle '%.200s': its config.json "
                     "%s",
                     real,
                     !text    ? strerror(errno)
                     : !given ? "is not valid JSON"
                              : "has no root.path");
            free(text);
            json_decref(given);
            return -1;
        }
        free(text);
        if (root[0] == '/')
            snprintf(rootfs, sizeof(rootfs), "%s", root);
        else
            snprintf(rootfs, sizeof(rootfs), "%s/%s", real, root);
    }
    if ((rfd = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0
        || fstat(rfd, &st) < 0 || stat("/", &top) < 0
        || (st.st_dev == top.st_dev && st.st_ino == top.st_ino)) {
        snprintf(
            g->why, sizeof(g->why), "%s: %.300s",
            rfd < 0
                ? "the container's root file system is not a directory you can read"
                : "the container's root file system is the host's own root",
            rootfs);
        if (rfd >= 0)
            close(rfd);
        json_decref(given);
        return -1;
    }
    g->fds[g->nfds++] = rfd;
binds:;
    int rc = gather_bind(g, c->submit_dir, c->submit_dir, false);
    if (rc == 0 && strcmp(c->cwd, c->submit_dir) != 0)
        rc = gather_bind(g, c->cwd, c->cwd, false);
    json_array_foreach (c->mounts, i, m)
        if (rc == 0)
            rc = gather_bind(
                g, json_string_value(json_object_get(m, "source")),
                json_string_value(json_object_get(m, "destination")),
                json_is_true(json_object_get(m, "readonly")));
    /* The bundle's own bind mounts, as the user reaches them; its other
     * mounts (its own /proc, /dev ...) are Kiln's to make. */
    json_array_foreach (json_object_get(given, "mounts"), i, m) {
        const char *src = json_string_value(json_object_get(m, "source"));
        const char *dst = json_string_value(json_object_get(m, "destination"));
        bool ro;
        if (rc == 0 && src && dst && oci_bind(m, &ro)
            && strcmp(dst, "/.kiln") != 0)
            rc = gather_bind(g, src, dst, ro);
    }
    json_decref(given);
    return rc;
}

/* Send the gathered descriptors and their description over sock. */
static int send_gather(int sock, struct gather *g, int ok)
{
    util_utf8_fix(g->why, 0); /* a user's path in it: JSON wants UTF-8 */
    json_t *o = ok ? json_pack("{s:O}", "mounts", g->mounts)
                   : json_pack("{s:s}", "error", g->why);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    size_t len = text ? strlen(text) : 0;
    uint32_t n = (uint32_t)len;
    union {
        char buf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
        struct cmsghdr align;
    } u;
    struct iovec iov = { &n, sizeof(n) };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
    int rc = -1;

    json_decref(o);
    if (!text)
        return -1;
    if (ok && g->nfds) {
        mh.msg_control = u.buf;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)g->nfds);
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)g->nfds);
        memcpy(CMSG_DATA(cm), g->fds, sizeof(int) * (size_t)g->nfds);
    }
    if (sendmsg(sock, &mh, 0) == (ssize_t)sizeof(n)) {
        size_t off = 0;
        ssize_t w = 0;
        while (off < len && (w = write(sock, text + off, len - off)) > 0)
            off += (size_t)w;
        rc = off == len ? 0 : -1;
    }
    free(text);
    return rc;
}

/* Receive what send_gather sent: its JSON, its fds into fds[]. */
static json_t *recv_gather(int sock, int *fds, int *nfds)
{
    uint32_t n = 0;
    union {
        char buf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
        struct cmsghdr align;
    } u;
    struct iovec iov = { &n, sizeof(n) };
    struct msghdr mh = { .msg_iov = &iov,
                         .msg_iovlen = 1,
                         .msg_control = u.buf,
                         .msg_controllen = sizeof(u.buf) };
    json_t *o = NULL;

    *nfds = 0;
    if (recvmsg(sock, &mh, MSG_CMSG_CLOEXEC) != (ssize_t)sizeof(n))
        return NULL;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
            int k = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
            memcpy(fds + *nfds, CMSG_DATA(cm), sizeof(int) * (size_t)k);
            *nfds += k;
        }
    if (n > 4 * MAX_CONFIG)
        return NULL;
    char *text = malloc(n + 1);
    size_t off = 0;
    ssize_t r = 0;
    while (text && off < n && (r = read(sock, text + off, n - off)) > 0)
        off += (size_t)r;
    if (text && off == n)
        o = json_loadb(text, n, 0, NULL);
    free(text);
    return o;
}

/* In the child: become the user (when the shell is root and the job is
 * another user's), gather, send, leave. */
static void gather_child(const struct engine_job *c, int sock)
{
    struct gather g = { .mounts = json_array() };

    if (c->as_user
        && util_become_user(c->user, (unsigned)c->uid, (unsigned)c->gid) < 0) {
        snprintf(g.why, sizeof(g.why), "cannot become user '%s': %s", c->user,
                 strerror(errno));
        _exit(send_gather(sock, &g, 0) < 0 ? 2 : 1);
    }
    umask(022);
    int ok = gather(c, &g) == 0;
    _exit(send_gather(sock, &g, ok) < 0 ? 2 : ok ? 0 : 1);
}

/* Bind /proc/self/fd/FD onto path (made as a directory or a file). */
static int bind_fd(int fd, const char *path, bool file)
{
    char src[64];

    if (file) {
        int f = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (f < 0)
            return -1;
        close(f);
    } else if (mkdir(path, 0700) < 0 && errno != EEXIST) {
        return -1;
    }
    snprintf(src, sizeof(src), "/proc/self/fd/%d", fd);
    return mount(src, path, NULL, MS_BIND | MS_REC, NULL);
}

/* The container's root: the user's root file system (the open fd) as the
 * lower layer of an overlay whose upper layer is a tmpfs of the job's, at
 * BUNDLE/rootfs.  What the runtime makes (mount points) and what the job
 * writes there go to the tmpfs and go with the job; the user's tree is
 * never written by root.  0, or -1 with err. */
static int overlay_root(int fd, const char *bundle, int64_t mem_mib,
                        struct kiln_error *err)
{
    char opts[64];
    int here = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC), rc = -1;

    /* Relative names in the overlay's options: the spool's path may hold
     * the characters that separate them. */
    if (here < 0 || chdir(bundle) < 0)
        goto out;
    snprintf(opts, sizeof(opts), "mode=0700,size=%lldm",
             (long long)(mem_mib > 0 ? mem_mib : 1024));
    if (bind_fd(fd, "lower", false) < 0
        || (mkdir("rw", 0700) < 0 && errno != EEXIST)
        || mount("tmpfs", "rw", "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0
        || mkdir("rw/upper", 0755) < 0 || mkdir("rw/work", 0700) < 0
        || (mkdir("rootfs", 0755) < 0 && errno != EEXIST)
        || mount("overlay", "rootfs", "overlay", 0,
                 "lowerdir=lower,upperdir=rw/upper,workdir=rw/work")
               < 0)
        goto out;
    rc = 0;
out:
    if (rc < 0)
        errprintf(err, "cannot mount the container's root file system: %s",
                  strerror(errno));
    if (here >= 0) {
        if (fchdir(here) < 0)
            rc = errprintf(err, "cannot return to the job's directory: %s",
                           strerror(errno));
        close(here);
    }
    return rc;
}

json_t *bundle_stage(const struct engine_job *c, const char *bundle,
                     struct kiln_error *err)
{
    int sv[2], fds[MAX_FDS], nfds = 0, st = 0;
    json_t *got, *mounts = NULL, *m;
    pid_t pid;
    size_t i;

    /* A mount namespace of the shell's own, so that the binds below are
     * seen by the runtime it starts and by nothing else.  Made first: a
     * descriptor opened in another namespace cannot be bound here. */
    if (!container_is_engine(c->runtime)
        && (unshare(CLONE_NEWNS) < 0
            || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0))
        return errprintf(err,
                         "cannot make a mount namespace for the container: %s",
                         strerror(errno)),
               NULL;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return errprintf(err, "cannot make a socket pair: %s", strerror(errno)),
               NULL;
    if ((pid = fork()) < 0) {
        close(sv[0]);
        close(sv[1]);
        return errprintf(err, "cannot fork: %s", strerror(errno)), NULL;
    }
    if (pid == 0) {
        close(sv[0]);
        gather_child(c, sv[1]);
    }
    close(sv[1]);
    got = recv_gather(sv[0], fds, &nfds);
    close(sv[0]);
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    const char *why = json_string_value(json_object_get(got, "error"));
    json_t *list = json_object_get(got, "mounts");
    if (!got || why || !json_is_array(list)
        || (size_t)nfds != json_array_size(list) + 1) {
        errprintf(err, "%s",
                  why ? why : "cannot look at the container as its user");
        goto done;
    }
    char path[PATH_MAX];
    if (container_is_engine(c->runtime)) {
        /* The engine is given the paths the user reached (checked by
         * container_path_ok, so they stay one option each). */
        mounts = json_array();
        json_array_foreach (list, i, m)
            json_array_append_new(
                mounts, json_pack("{s:O, s:O, s:O}", "source",
                                  json_object_get(m, "src"), "destination",
                                  json_object_get(m, "dst"), "ro",
                                  json_object_get(m, "ro")));
        goto done;
    }
    if (overlay_root(fds[0], bundle, c->mem_mib, err) < 0)
        goto done;
    snprintf(path, sizeof(path), "%s/m", bundle);
    if (mkdir(path, 0700) < 0 && errno != EEXIST) {
        errprintf(err, "cannot make %s: %s", path, strerror(errno));
        goto done;
    }
    mounts = json_array();
    json_array_foreach (list, i, m) {
        const char *dst = json_string_value(json_object_get(m, "dst"));
        snprintf(path, sizeof(path), "%s/m/%zu", bundle, i);
        if (!dst
            || bind_fd(fds[i + 1], path,
                       json_is_true(json_object_get(m, "file")))
                   < 0) {
            errprintf(err, "cannot bind the source of %.200s: %s",
                      dst ? dst : "a mount", strerror(errno));
            json_decref(mounts);
            mounts = NULL;
            goto done;
        }
        json_array_append_new(mounts, json_pack("{s:s, s:s, s:O}", "source",
                                                path, "destination", dst, "ro",
                                                json_object_get(m, "ro")));
    }
done:
    for (int k = 0; k < nfds; k++)
        close(fds[k]);
    json_decref(got);
    return mounts;
}

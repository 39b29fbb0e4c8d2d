/* SPDX-License-Identifier: GPL-2.0-or-later */
/* CURVE key files (see keys.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <ini.h>
#include <sodium.h>

#include "lib/jobspec.h"
#include "lib/keys.h"
#include "lib/z85.h"

static int keypath(char *out, size_t len, const char *dir, const char *name,
                   const char *ext)
{
    bool own = strcmp(name, "server") != 0 && strcmp(name, "cluster") != 0;

    return snprintf(out, len, "%s%s/%s.%s", dir, own ? "/workers" : "", name,
                    ext)
                   >= (int)len
               ? -1
               : 0;
}

static int write_file(const char *path, mode_t mode, bool force,
                      const char *text, struct kiln_error *err)
{
    char tmp[4200];
    int fd;

    if (!force && access(path, F_OK) == 0)
        return errprintf(err, "%s exists: give --force to replace it", path);
    snprintf(tmp, sizeof(tmp), "%s.new", path);
    unlink(tmp);
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, mode)) < 0)
        return errprintf(err, "cannot create %s: %s", tmp, strerror(errno));
    size_t n = strlen(text);
    if (fchmod(fd, mode) < 0 || write(fd, text, n) != (ssize_t)n
        || fsync(fd) < 0) {
        errprintf(err, "cannot write %s: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        return -1;
    }
    close(fd);
    if (rename(tmp, path) < 0) {
        errprintf(err, "cannot rename %s: %s", tmp, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

int keys_pair(struct curve_key *k)
{
    unsigned char pub[32], sec[32];

    if (sodium_init() < 0 || crypto_box_keypair(pub, sec) != 0)
        return -1;
    z85_encode_key(k->public, pub);
    z85_encode_key(k->secret, sec);
    sodium_memzero(sec, sizeof(sec));
    return 0;
}

int keys_generate(const char *dir, const char *name, bool force, char *out,
                  size_t len, struct kiln_error *err)
{
    char pub[41], sec[41], path[4096], sub[4096], text[512], when[64];
    time_t now = time(NULL);

    if (!jobspec_name_ok(name, 63) || strchr(name, ':') || strchr(name, ',')
        || name[0] == '.')
        return errprintf(
            err, "invalid key name '%.64s': letters, digits and ._-+@", name);
    struct curve_key k;
    if (keys_pair(&k) < 0)
        return errprintf(err, "cannot make a CURVE key pair (libsodium)");
    memcpy(pub, k.public, sizeof(pub));
    memcpy(sec, k.secret, sizeof(sec));
    sodium_memzero(&k, sizeof(k));
    if (mkdir(dir, 0755) < 0 && errno != EEXIST)
        return errprintf(err, "cannot create %s: %s", dir, strerror(errno));
    snprintf(sub, sizeof(sub), "%s/workers", dir);
    if (mkdir(sub, 0755) < 0 && errno != EEXIST)
        return errprintf(err, "cannot create %s: %s", sub, strerror(errno));
    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", gmtime(&now));
    if (keypath(path, sizeof(path), dir, name, "key") < 0)
        return errprintf(err, "key folder path too long");
    snprintf(text, sizeof(text),
             "# Kiln CURVE key pair '%s', made by kiln keygen at %s.\n"
             "# Secret: keep it on the machine that uses it, mode 0600.\n"
             "public = %s\nsecret = %s\n",
             name, when, pub, sec);
    if (write_file(path, 0600, force, text, err) < 0)
        return -1;
    snprintf(out, len, "%s", path);
    keypath(path, sizeof(path), dir, name, "pub");
    snprintf(text, sizeof(text),
             "# Kiln CURVE public key '%s', made by kiln keygen at %s.\n"
             "public = %s\n",
             name, when, pub);
    return write_file(path, 0644, true, text, err);
}

struct readstate {
    struct curve_key *k;
    int bad;
};

static int on_key(void *arg, const char *section, const char *name,
                  const char *value)
{
    struct readstate *rs = arg;
    char *dst = !strcmp(name, "public")   ? rs->k->public
                : !strcmp(name, "secret") ? rs->k->secret
                                          : NULL;
    unsigned char bin[32];

    if (section[0] || !dst || !z85_decode_key(bin, value)) {
        rs->bad = 1;
        return 0;
    }
    memcpy(dst, value, 41);
    return 1;
}

int keys_read(const char *path, bool need_secret, struct curve_key *k,
              struct kiln_error *err)
{
    struct readstate rs = { k, 0 };
    struct stat st;
    int rc;

    memset(k, 0, sizeof(*k));
    if (stat(path, &st) < 0)
        return errprintf(err, "cannot read the CURVE key %s: %s", path,
                         strerror(errno));
    if (need_secret && (st.st_mode & 077))
        return errprintf(err,
                         "%s is readable by others (mode %03o): chmod 600 it",
                         path, (unsigned)(st.st_mode & 0777));
    if ((rc = ini_parse(path, on_key, &rs)) != 0 || rs.bad)
        return errprintf(err, "%s is not a Kiln key file%s", path,
                         rc < 0 ? ": cannot open it"
                                : " (kiln keygen makes them)");
    if (!k->public[0] || (need_secret && !k->secret[0]))
        return errprintf(err, "%s holds no %s key", path,
                         k->public[0] ? "secret" : "public");
    return 0;
}

struct ringkey {
    char name[64];
    unsigned char key[32];
};

struct keyring {
    struct ringkey *keys;
    int n;
    struct timespec cluster_mtime, workers_mtime;
};

static void add_key(struct keyring *r, const char *path, const char *name)
{
    struct curve_key k;
    struct ringkey *n;

    if (keys_read(path, false, &k, NULL) < 0
        || !(n = realloc(r->keys, (r->n + 1) * sizeof(*n))))
        return;
    r->keys = n;
    snprintf(n[r->n].name, sizeof(n[r->n].name), "%s", name);
    z85_decode_key(n[r->n].key, k.public);
    r->n++;
}

static struct timespec mtime_of(const char *path)
{
    struct stat st;

    if (stat(path, &st) < 0)
        return (struct timespec){ 0, 0 };
    return st.st_mtim;
}

struct keyring *keys_ring_load(const char *dir)
{
    struct keyring *r = calloc(1, sizeof(*r));
    char path[4096];
    struct dirent *e;
    DIR *d;

    if (!r)
        return NULL;
    snprintf(path, sizeof(path), "%s/cluster.pub", dir);
    r->cluster_mtime = mtime_of(path);
    add_key(r, path, "cluster");
    snprintf(path, sizeof(path), "%s/workers", dir);
    r->workers_mtime = mtime_of(path);
    if ((d = opendir(path))) {
        while ((e = readdir(d))) {
            size_t n = strlen(e->d_name);
            char name[64];
            if (e->d_name[0] == '.' || n < 5 || n - 4 >= sizeof(name)
                || strcmp(e->d_name + n - 4, ".pub") != 0)
                continue;
            snprintf(name, sizeof(name), "%.*s", (int)(n - 4), e->d_name);
            snprintf(path, sizeof(path), "%s/workers/%s", dir, e->d_name);
            add_key(r, path, name);
        }
        closedir(d);
    }
    return r;
}

const char *keys_ring_find(struct keyring *r, const unsigned char key[32])
{
    for (int i = 0; r && i < r->n; i++)
        if (memcmp(r->keys[i].key, key, 32) == 0)
            return r->keys[i].name;
    return NULL;
}

int keys_ring_count(const struct keyring *r)
{
    return r ? r->n : 0;
}

static bool same_time(struct timespec a, struct timespec b)
{
    return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

struct keyring *keys_ring_refresh(struct keyring *r, const char *dir)
{
    char c[4096], w[4096];
    struct keyring *n;

    snprintf(c, sizeof(c), "%s/cluster.pub", dir);
    snprintf(w, sizeof(w), "%s/workers", dir);
    if (r && same_time(r->cluster_mtime, mtime_of(c))
        && same_time(r->workers_mtime, mtime_of(w)))
        return r;
    if (!(n = keys_ring_load(dir)))
        return r;
    keys_ring_free(r);
    return n;
}

void keys_ring_free(struct keyring *r)
{
    if (r)
        free(r->keys);
    free(r);
}

int keys_put_public(const char *dir, const char *name, const char *public,
                    struct kiln_error *err)
{
    char path[4096], text[256], sub[4096];
    unsigned char bin[32];

    if (!jobspec_name_ok(name, 63) || strchr(name, ':') || strchr(name, ',')
        || name[0] == '.' || !strcmp(name, "server")
        || !strcmp(name, "cluster"))
        return errprintf(err, "invalid key name '%.64s'", name);
    if (!z85_decode_key(bin, public))
        return errprintf(err, "invalid public key: want 40 characters of Z85");
    snprintf(sub, sizeof(sub), "%s/workers", dir);
    if (mkdir(sub, 0755) < 0 && errno != EEXIST)
        return errprintf(err, "cannot create %s: %s", sub, strerror(errno));
    if (keypath(path, sizeof(path), dir, name, "pub") < 0)
        return errprintf(err, "key folder path too long");
    snprintf(text, sizeof(text),
             "# Kiln CURVE public key '%s', taken when it joined.\n"
             "public = %s\n",
             name, public);
    return write_file(path, 0644, true, text, err);
}

void keys_remove_public(const char *dir, const char *name)
{
    char path[4096];

    if (jobspec_name_ok(name, 63) && name[0] != '.'
        && keypath(path, sizeof(path), dir, name, "pub") == 0)
        unlink(path);
}

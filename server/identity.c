/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Who sent a client request, and what they may do: the MUNGE credential's
 * uid and gid, the user's name, and whether they are an admin (root, or a
 * member of the admin group of the config).  Names and groups are looked up
 * once a minute per user, not per request. */
#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/util.h"
#include "server/server.h"

enum { CACHE_SIZE = 64, CACHE_SECONDS = 60, VERIFIERS = 4 };

/* A credential checked ahead, on the verifier threads. */
struct verdict {
    bool done;
    int rc;
    uid_t uid;
    gid_t gid;
    struct kiln_error err;
};

struct cached {
    struct requester r;
    double expires;
};

/* The verifier threads: munged answers several decodes at once, so a batch
 * of requests is checked in about the time of its slowest.  And the
 * requesters looked up lately. */
struct identity {
    pthread_t th[VERIFIERS];
    int nthreads;
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    struct proto_msg *msgs;
    struct verdict verdicts[SERVER_BATCH];
    int n, next, busy;
    unsigned round;
    bool stop;
    struct cached cache[CACHE_SIZE];
};

/* Take the next unchecked credential of the batch and check it, until
 * none is left.  Called with pool->mu held; returns with it held. */
static void verify_some(struct identity *pool)
{
    while (pool->next < pool->n) {
        int i = pool->next++;
        struct proto_msg *m = &pool->msgs[i];
        struct verdict *v = &pool->verdicts[i];
        if (!m->cred)
            continue;
        pool->busy++;
        pthread_mutex_unlock(&pool->mu);
        v->rc = auth_verify(m->cred, m->digest, &v->uid, &v->gid, &v->err);
        pthread_mutex_lock(&pool->mu);
        v->done = true;
        if (--pool->busy == 0 && pool->next >= pool->n)
            pthread_cond_broadcast(&pool->done);
    }
}

static void *verifier(void *arg)
{
    struct identity *pool = arg;
    unsigned seen = 0;

    pthread_mutex_lock(&pool->mu);
    for (;;) {
        while (!pool->stop && pool->round == seen)
            pthread_cond_wait(&pool->go, &pool->mu);
        if (pool->stop)
            break;
        seen = pool->round;
        verify_some(pool);
    }
    pthread_mutex_unlock(&pool->mu);
    return NULL;
}

int identity_start(struct server *s)
{
    struct identity *pool = calloc(1, sizeof(*pool));

    if (!pool)
        return -1;
    pthread_mutex_init(&pool->mu, NULL);
    pthread_cond_init(&pool->go, NULL);
    pthread_cond_init(&pool->done, NULL);
    s->identity = pool;
    if (s->auth != AUTH_MUNGE)
        return 0;
    for (int i = 0; i < VERIFIERS - 1; i++)
        if (pthread_create(&pool->th[pool->nthreads], NULL, verifier, pool)
            == 0)
            pool->nthreads++;
    return 0;
}

void identity_stop(struct server *s)
{
    struct identity *pool = s->identity;

    if (!pool)
        return;
    pthread_mutex_lock(&pool->mu);
    pool->stop = true;
    pthread_cond_broadcast(&pool->go);
    pthread_mutex_unlock(&pool->mu);
    for (int i = 0; i < pool->nthreads; i++)
        pthread_join(pool->th[i], NULL);
    pthread_mutex_destroy(&pool->mu);
    pthread_cond_destroy(&pool->go);
    pthread_cond_destroy(&pool->done);
    free(pool);
    s->identity = NULL;
}

void identity_verify_batch(struct server *s, struct proto_msg *msgs, int n)
{
    struct identity *pool = s->identity;
    int creds = 0;

    for (int i = 0; i < n; i++)
        creds += msgs[i].cred != NULL;
    pthread_mutex_lock(&pool->mu);
    memset(pool->verdicts, 0, sizeof(pool->verdicts[0]) * (size_t)n);
    /* One is checked where it is handled: no threads to wake for it. */
    if (s->auth == AUTH_MUNGE && creds > 1 && pool->nthreads > 0) {
        pool->msgs = msgs;
        pool->n = n;
        pool->next = 0;
        pool->round++;
        pthread_cond_broadcast(&pool->go);
        verify_some(pool);
        while (pool->busy > 0)
            pthread_cond_wait(&pool->done, &pool->mu);
        pool->msgs = NULL;
        pool->n = 0;
    }
    pthread_mutex_unlock(&pool->mu);
}

/* Is the user (uid, gid, name) in the admin group? */
static bool in_admin_group(const struct server *s, const struct requester *r)
{
    struct group *g;
    gid_t groups[256];
    int n = 256;

    if (!s->admin_group[0] || !r->user[0] || !(g = getgrnam(s->admin_group)))
        return false;
    if (r->gid == g->gr_gid)
        return true;
    if (getgrouplist(r->user, r->gid, groups, &n) < 0)
        n = 256; /* more than fit: those that did are checked */
    for (int i = 0; i < n; i++)
        if (groups[i] == g->gr_gid)
            return true;
    return false;
}

static void look_up(const struct server *s, struct requester *r)
{
    struct passwd *pw = getpwuid(r->uid);

    snprintf(r->user, sizeof(r->user), "%s", pw ? pw->pw_name : "");
    r->admin = r->uid == 0 || in_admin_group(s, r);
}

static void requester_of(const struct server *s, uid_t uid, gid_t gid,
                         struct requester *out)
{
    double now = util_monotonic();
    struct cached *c = &s->identity->cache[uid % CACHE_SIZE];

    if (c->expires > now && c->r.uid == uid && c->r.gid == gid) {
        *out = c->r;
        return;
    }
    c->r = (struct requester){ .uid = uid, .gid = gid };
    look_up(s, &c->r);
    c->expires = now + CACHE_SECONDS;
    *out = c->r;
}

/* The number that ends s[0..*end), and *end moved to the colon before
 * it; -1 when there is none. */
static long long field_before(const char *s, size_t *end)
{
    size_t e = *end, b = e;
    long long v = 0;

    while (b > 0 && s[b - 1] >= '0' && s[b - 1] <= '9' && e - b < 10)
        b--;
    if (b == e || b == 0 || s[b - 1] != ':')
        return -1;
    for (size_t i = b; i < e; i++)
        v = v * 10 + (s[i] - '0');
    *end = b - 1;
    return v;
}

int identity_local_name(const char *addr, char *name, size_t len)
{
    size_t end = strlen(addr);
    long long pid = field_before(addr, &end);
    long long gid = field_before(addr, &end);
    long long uid = field_before(addr, &end);

    if (pid < 0 || gid < 0 || uid < 0 || uid > UINT32_MAX || gid > UINT32_MAX)
        return -1;
    snprintf(name, len, "local:%lld:%lld", uid, gid);
    return 0;
}

/* The uid and gid the local socket's ZAP handler gave as the peer. */
static bool local_peer(const struct proto_msg *m, uid_t *uid, gid_t *gid)
{
    unsigned u, g;
    char end;

    if (strncmp(m->peer, "local:", 6)
        || sscanf(m->peer + 6, "%u:%u%c", &u, &g, &end) != 2)
        return false;
    *uid = u;
    *gid = g;
    return true;
}

int identity_check(struct server *s, struct proto_msg *m, int index,
                   bool anyone, struct requester *who)
{
    uid_t uid;
    gid_t gid;

    *who = (struct requester){ .uid = (uint32_t)-1, .gid = (uint32_t)-1 };
    /* On the local socket the kernel said who it is (any credential
     * that came too is not needed). */
    if (s->auth == AUTH_MUNGE && local_peer(m, &uid, &gid)) {
        requester_of(s, uid, gid, who);
        return 0;
    }
    if (s->auth == AUTH_NONE) {
        requester_of(s, getuid(), getgid(), who);
        who->admin = true; /* one user: they run everything */
        return 0;
    }
    /* Where workers connect is no secret: they ask before they have any
     * credential to give. */
    if (!m->cred && anyone)
        return 0;
    if (!m->cred) {
        CLIENT_FAIL(s, m, EACCES,
                    "authentication required: the request carried no "
                    "MUNGE credential");
        return -1;
    }
    /* Checked with its batch, or now. */
    struct verdict now, *v = index >= 0 ? &s->identity->verdicts[index] : NULL;
    if (!v || !v->done) {
        v = &now;
        v->rc = auth_verify(m->cred, m->digest, &v->uid, &v->gid, &v->err);
    }
    if (v->rc < 0) {
        CLIENT_FAIL(s, m, EACCES, "%s", v->err.text);
        return -1;
    }
    requester_of(s, v->uid, v->gid, who);
    return 0;
}

bool identity_owns(const struct requester *who, uint32_t uid)
{
    return who->admin || who->uid == uid;
}

bool identity_sees(const struct server *s, const struct requester *who,
                   uint32_t uid)
{
    return !s->private_jobs || identity_owns(who, uid);
}

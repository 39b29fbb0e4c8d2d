/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Who sent a client request, and what they may do: the MUNGE credential's
 * uid and gid, the user's name, and whether they are an admin (root, or a
 * member of the admin group of the config).  Names and groups are looked up
 * once a minute per user, not per request. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/util.h"
#include "server/server.h"

enum { CACHE_SIZE = 64, CACHE_SECONDS = 60 };

struct cached {
    struct requester r;
    double expires;
};

static struct cached cache[CACHE_SIZE];

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

static void requester_of(const struct server *s, uid_t uid, gid_t gid, struct requester *out)
{
    double now = util_monotonic();
    struct cached *c = &cache[uid % CACHE_SIZE];

    if (c->expires > now && c->r.uid == uid && c->r.gid == gid) {
        *out = c->r;
        return;
    }
    c->r = (struct requester){ .uid = uid, .gid = gid };
    look_up(s, &c->r);
    c->expires = now + CACHE_SECONDS;
    *out = c->r;
}

int identity_check(struct server *s, struct proto_msg *m)
{
    struct kiln_error err;
    uid_t uid;
    gid_t gid;

    if (s->auth == AUTH_NONE) {
        requester_of(s, getuid(), getgid(), &s->who);
        s->who.admin = true; /* one user: they run everything */
        return 0;
    }
    /* Where workers connect is no secret: they ask before they have any
     * credential to give. */
    if (!m->cred && strcmp(m->type, "server.info") == 0) {
        s->who = (struct requester){ .uid = (uint32_t)-1, .gid = (uint32_t)-1 };
        return 0;
    }
    if (!m->cred) {
        log_msg(LOG_WARNING, "refused %s: no MUNGE credential", m->type);
        CLIENT_FAIL(s, m, EACCES, "authentication required: the request carried no "
                    "MUNGE credential");
        return -1;
    }
    if (auth_verify(m->cred, m->digest, &uid, &gid, &err) < 0) {
        log_msg(LOG_WARNING, "refused %s: %s", m->type, err.text);
        CLIENT_FAIL(s, m, EACCES, "%s", err.text);
        return -1;
    }
    requester_of(s, uid, gid, &s->who);
    return 0;
}

bool identity_owns(const struct server *s, uint32_t uid)
{
    return s->who.admin || s->who.uid == uid;
}

bool identity_sees(const struct server *s, uint32_t uid)
{
    return !s->private_jobs || identity_owns(s, uid);
}

bool identity_admin(struct server *s, struct proto_msg *m)
{
    if (s->who.admin)
        return true;
    log_msg(LOG_WARNING, "refused %s from user %s (uid %u): not an admin", m->type,
            s->who.user[0] ? s->who.user : "?", (unsigned)s->who.uid);
    CLIENT_FAIL(s, m, EPERM, "permission denied: %s is for root and the admin group%s%s",
                m->type, s->admin_group[0] ? " " : "", s->admin_group);
    return false;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The elastic manager: managed compute environments grow when jobs wait
 * for them and shrink when their nodes idle.
 *
 * Each pass (after a scheduling pass, and once a second) packs the
 * RUNNABLE jobs of the queues that list a managed environment, by queue
 * priority and queue order, first into the room its instances have (free
 * cores of those up, all of those still booting), then into new
 * instances of the first environment in the queue's order that may still
 * grow: so a site's own nodes are used first, and each environment fills
 * before the next one launches (burst).  What does not fit under maxvCpus
 * waits.  Instances idle longer than the idle timeout go, down to
 * minvCpus; one that does not register within the boot timeout, or whose
 * node goes down, is terminated and replaced.
 *
 * Every launch is stored (with its one-time join secret) in the turn that
 * decides it, and handed to the provider only after that turn's commit;
 * its instances are stored when the provider answers.  After a restart,
 * each environment is compared with what its provider says runs: an
 * instance of a known launch is adopted, any other is terminated, and a
 * stored one that is gone is forgotten.  Every decision is an event of
 * its environment (kiln ce show). */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "lib/keys.h"
#include "lib/log.h"
#include "lib/util.h"
#include "server/instance_types.h"
#include "server/provider.h"
#include "server/server.h"

enum inst_state { INST_LAUNCHING, INST_UP, INST_IDLE, INST_TERMINATING };
static const char *const inst_names[] = { "LAUNCHING", "UP", "IDLE",
                                          "TERMINATING" };

/* An instance type: what one node of it has. */
struct itype {
    char name[32];
    long vcpus;
    int64_t mem_mib; /* 0: not known before it registers */
    int gpus;
};

struct instance {
    char id[64]; /* the provider's id, and its node's name */
    struct ce *ce;
    char launch[40];
    struct itype type;
    bool spot;
    enum inst_state state;
    double launched;  /* UTC */
    double since;     /* monotonic: in its state since then */
    double retry_at;  /* monotonic: a failed terminate is tried again */
    bool joined;      /* its join token was used */
    bool term_due;    /* to be asked of the provider: terminate it */
    char address[64]; /* its private address, as the provider says, or "":
                       * its join must come from there */
    bool planned;     /* scratch: jobs of this pass go there */
    struct instance *next;
};

/* One provider call that launches instances: its join secret lets each of
 * its instances join once. */
struct launch {
    char id[40];
    char secret[65];
    struct ce *ce;
    struct itype type;
    long count;
    bool spot;
    bool pending; /* the provider has not answered yet */
    double when;  /* UTC */
    struct launch *next;
};

/* Room for jobs, as a pass sees it: an instance's, or a new one's. */
struct bin {
    struct ce *ce;
    struct instance *in; /* NULL: a new one of this pass, of type */
    struct itype type;
    long cpus;
    int64_t mem; /* INT64_MAX when not known */
    int gpus;
    bool empty; /* nothing runs there (an exclusive job may go) */
};

struct elastic {
    struct provider_pool *pool;
    struct instance *instances;
    struct launch *launches;
    struct op *outbox;    /* for the providers, after this turn's commit */
    char dir[PATH_MAX];   /* the local provider's instances */
    char kiln[PATH_MAX];  /* this program, for the local provider */
    char server_id[128];  /* tags this server's instances: HOST-HASH */
    double next_tick;     /* monotonic: the next once-a-second check */
    double next_describe; /* monotonic: the next look at the providers */
    struct bin *bins;
    size_t nbins, capbins;
};

static void event(struct server *s, const struct ce *c, const char *kind,
                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void event(struct server *s, const struct ce *c, const char *kind,
                  const char *fmt, ...)
{
    char text[600];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    util_utf8_fix(text, 0);
    log_msg(LOG_INFO, "ce %s: %s: %s", c->name, kind, text);
    store_ce_event(s->st, c->name, util_now(), kind, text);
}

/* ---- instances and launches: memory and store together ---- */

static struct instance *inst_find(struct elastic *e, const char *id)
{
    for (struct instance *in = e->instances; in; in = in->next)
        if (!strcmp(in->id, id))
            return in;
    return NULL;
}

static struct launch *launch_find(struct elastic *e, const char *id)
{
    for (struct launch *l = e->launches; l; l = l->next)
        if (!strcmp(l->id, id))
            return l;
    return NULL;
}

static json_t *type_json(const struct itype *t)
{
    return json_pack("{s:s, s:I, s:I, s:i}", "name", t->name, "vcpus",
                     (json_int_t)t->vcpus, "memory_mib", (json_int_t)t->mem_mib,
                     "gpus", t->gpus);
}

static void type_from_json(const json_t *o, struct itype *t)
{
    snprintf(t->name, sizeof(t->name), "%s",
             util_str_or(json_string_value(json_object_get(o, "name")), "?"));
    t->vcpus = (long)json_integer_value(json_object_get(o, "vcpus"));
    t->mem_mib = json_integer_value(json_object_get(o, "memory_mib"));
    t->gpus = (int)json_integer_value(json_object_get(o, "gpus"));
}

static void inst_save(struct server *s, const struct instance *in)
{
    json_t *o = json_pack("{s:s, s:s, s:o, s:b, s:s, s:f, s:b, s:s}", "ce",
                          in->ce->name, "launch", in->launch, "type",
                          type_json(&in->type), "spot", in->spot, "state",
                          inst_names[in->state], "launched", in->launched,
                          "joined", in->joined, "address", in->address);
    store_object_put(s->st, "instance", in->id, o);
    json_decref(o);
}

static void launch_save(struct server *s, const struct launch *l)
{
    json_t *o =
        json_pack("{s:s, s:s, s:o, s:I, s:b, s:f}", "ce", l->ce->name, "secret",
                  l->secret, "type", type_json(&l->type), "count",
                  (json_int_t)l->count, "spot", l->spot, "when", l->when);
    store_object_put(s->st, "launch", l->id, o);
    json_decref(o);
}

static struct instance *inst_add(struct server *s, struct ce *c, const char *id,
                                 const char *launch, const struct itype *type,
                                 bool spot)
{
    struct elastic *e = s->elastic;
    struct instance *in = calloc(1, sizeof(*in));

    if (!in)
        return NULL;
    snprintf(in->id, sizeof(in->id), "%s", id);
    snprintf(in->launch, sizeof(in->launch), "%s", launch);
    in->ce = c;
    in->type = *type;
    in->spot = spot;
    in->state = INST_LAUNCHING;
    in->launched = util_now();
    in->since = util_monotonic();
    in->next = e->instances;
    e->instances = in;
    inst_save(s, in);
    return in;
}

static void set_state(struct server *s, struct instance *in, enum inst_state st)
{
    if (in->state == st)
        return;
    in->state = st;
    in->since = util_monotonic();
    inst_save(s, in);
}

/* Drop a launch none of whose instances is left (its token is dead). */
static void launch_gc(struct server *s, const char *id)
{
    struct elastic *e = s->elastic;

    for (struct instance *in = e->instances; in; in = in->next)
        if (!strcmp(in->launch, id))
            return;
    for (struct launch **pp = &e->launches; *pp; pp = &(*pp)->next)
        if (!strcmp((*pp)->id, id) && !(*pp)->pending) {
            struct launch *l = *pp;
            *pp = l->next;
            store_object_delete(s->st, "launch", l->id);
            free(l);
            return;
        }
}

/* The instance is gone: out of memory, store, keys and nodes. */
static void inst_forget(struct server *s, struct instance *in, const char *why)
{
    struct elastic *e = s->elastic;
    char launch[40];

    for (struct instance **pp = &e->instances; *pp; pp = &(*pp)->next)
        if (*pp == in) {
            *pp = in->next;
            break;
        }
    store_object_delete(s->st, "instance", in->id);
    if (s->auth == AUTH_MUNGE)
        keys_remove_public(s->keys_dir, in->id);
    nodes_forget(s, in->id, why);
    snprintf(launch, sizeof(launch), "%s", in->launch);
    free(in);
    launch_gc(s, launch);
}

/* ---- provider operations: made in a turn, sent after its commit ---- */

static struct op *op_new(struct server *s, const struct ce *c,
                         enum op_kind kind)
{
    struct op *op = calloc(1, sizeof(*op));

    if (!op)
        return NULL;
    op->kind = kind;
    snprintf(op->ce, sizeof(op->ce), "%s", c->name);
    op->spec = c->spec;
    op->conf = json_deep_copy(c->body);
    op->args = json_pack("{s:s, s:s}", "dir", s->elastic->dir, "server_id",
                         s->elastic->server_id);
    return op;
}

static void op_queue(struct server *s, struct op *op)
{
    struct op **pp = &s->elastic->outbox;

    if (!op || !op->args) {
        op_free(op);
        return;
    }
    while (*pp)
        pp = &(*pp)->next;
    *pp = op;
}

/* Terminate in: said now, asked of the provider at the end of the pass,
 * with the others of its environment (send_terminations). */
static void terminate(struct server *s, struct instance *in, const char *kind,
                      const char *why)
{
    event(s, in->ce, kind, "terminating %s (%s): %s", in->id, in->type.name,
          why);
    set_state(s, in, INST_TERMINATING);
    in->term_due = true;
}

/* One call per environment for the instances to terminate. */
static void send_terminations(struct server *s)
{
    struct elastic *e = s->elastic;

    for (struct ce *c = s->ces; c; c = c->next) {
        struct op *op = NULL;
        for (struct instance *in = e->instances; in; in = in->next) {
            if (in->ce != c || !in->term_due)
                continue;
            if (!op && !(op = op_new(s, c, OP_TERMINATE)))
                return;
            if (!json_object_get(op->args, "ids"))
                json_object_set_new(op->args, "ids", json_array());
            json_array_append_new(json_object_get(op->args, "ids"),
                                  json_string(in->id));
            in->term_due = false;
            in->retry_at = util_monotonic() + 30;
        }
        op_queue(s, op);
    }
}

/* The command line an instance runs, as data the provider turns into a
 * process (local) or user data (ec2). */
static json_t *worker_args(struct server *s, const struct ce *c,
                           const struct launch *l)
{
    char join[120];

    snprintf(join, sizeof(join), "%s.%s", l->id, l->secret);
    json_t *w =
        json_pack("{s:s, s:s, s:s, s:s, s:s}", "server",
                  s->advertise[0] ? s->advertise : s->client_ep, "ce", c->name,
                  "join", join, "auth", s->auth == AUTH_NONE ? "none" : "munge",
                  "kiln", s->elastic->kiln);
    if (w && s->auth == AUTH_MUNGE)
        json_object_set_new(w, "server_key", json_string(s->key.public));
    if (w && log_level_current >= LOG_DEBUG)
        json_object_set_new(w, "debug", json_true());
    return w;
}

static void random_hex(char *out, size_t bytes)
{
    unsigned char r[64];

    if (bytes > sizeof(r) || getrandom(r, bytes, 0) != (ssize_t)bytes) {
        /* No randomness: no launch can be trusted.  Never happens on a
         * Linux that booted; make the token unusable. */
        out[0] = '\0';
        return;
    }
    for (size_t i = 0; i < bytes; i++)
        sprintf(out + 2 * i, "%02x", r[i]);
}

static int types_of(const struct ce *c, struct itype *out, int max);
static const struct instance_type *table_type(const char *name);
static bool is_short(const struct ce *c, const char *type);

/* The types the provider may launch instead of type (its spot price
 * strategy picks among them): c's that have as much, of the same size. */
static json_t *candidates(const struct ce *c, const struct itype *type)
{
    struct itype types[64];
    int n = types_of(c, types, 64);
    json_t *a = json_array();

    /* types_of puts those short of capacity last: they are candidates
     * only when no other is. */
    bool others = false;
    for (int i = 0; i < n; i++)
        others =
            others
            || (types[i].vcpus == type->vcpus && !is_short(c, types[i].name)
                && types[i].mem_mib >= type->mem_mib
                && types[i].gpus >= type->gpus);
    for (int i = 0; i < n && json_array_size(a) < 8; i++) {
        const struct instance_type *t = table_type(types[i].name);
        if (types[i].vcpus == type->vcpus && types[i].mem_mib >= type->mem_mib
            && types[i].gpus >= type->gpus
            && !(others && is_short(c, types[i].name)))
            json_array_append_new(
                a, json_pack("{s:s, s:i, s:f}", "name", types[i].name, "vcpus",
                             (int)types[i].vcpus, "price", t ? t->price : 0.0));
    }
    if (!json_array_size(a)) /* local and exec have no table */
        json_array_append_new(a, json_pack("{s:s, s:i, s:f}", "name",
                                           type->name, "vcpus",
                                           (int)type->vcpus, "price", 0.0));
    return a;
}

/* Store a launch of count instances of type in c, and queue the call. */
static int launch(struct server *s, struct ce *c, const struct itype *type,
                  long count, const char *why)
{
    struct elastic *e = s->elastic;
    struct launch *l = calloc(1, sizeof(*l));
    struct op *op;

    if (!l)
        return -1;
    l->id[0] = 'L';
    random_hex(l->id + 1, 8);
    random_hex(l->secret, 32);
    if (!l->id[1] || !l->secret[0]) {
        free(l);
        return -1;
    }
    l->ce = c;
    l->type = *type;
    l->count = count;
    l->spot = c->spec.spot;
    l->pending = true;
    l->when = util_now();
    l->next = e->launches;
    e->launches = l;
    launch_save(s, l);
    event(s, c, "launch", "launching %ld instance%s of %s (%ld vCPUs each) %s",
          count, count == 1 ? "" : "s", type->name, type->vcpus, why);
    if (!(op = op_new(s, c, OP_LAUNCH)))
        return -1;
    json_object_set_new(op->args, "launch", json_string(l->id));
    json_object_set_new(op->args, "type", json_string(type->name));
    json_object_set_new(op->args, "count", json_integer(count));
    json_object_set_new(op->args, "spot", json_boolean(l->spot));
    json_object_set_new(op->args, "vcpus", json_integer(type->vcpus));
    json_object_set_new(op->args, "worker", worker_args(s, c, l));
    json_object_set_new(op->args, "server_id", json_string(e->server_id));
    json_object_set_new(op->args, "bid", json_integer(c->spec.bid_percentage));
    json_object_set_new(op->args, "candidates", candidates(c, type));
    json_t *in_use = json_array();
    for (struct instance *in = e->instances; in; in = in->next)
        if (in->ce == c)
            json_array_append_new(in_use, json_string(in->id));
    json_object_set_new(op->args, "in_use", in_use);
    op_queue(s, op);
    return 0;
}

/* ---- planning ---- */

static const struct instance_type *table_type(const char *name)
{
    for (size_t i = 0; i < ninstance_types; i++)
        if (!strcmp(instance_types[i].name, name))
            return &instance_types[i];
    return NULL;
}

static void itype_of(const struct instance_type *t, struct itype *out)
{
    snprintf(out->name, sizeof(out->name), "%s", t->name);
    out->vcpus = t->vcpus;
    /* what the OS leaves of what is sold: what jobs may ask for */
    out->mem_mib = t->mem_mib * 9 / 10;
    out->gpus = t->gpus;
}

static bool is_short(const struct ce *c, const char *type)
{
    for (int i = 0; i < CE_SHORT_TYPES; i++)
        if (c->short_until[i] > util_monotonic()
            && !strcmp(c->short_type[i], type))
            return true;
    return false;
}

static void mark_short(struct ce *c, const char *type)
{
    int oldest = 0;

    for (int i = 1; i < CE_SHORT_TYPES; i++)
        if (c->short_until[i] < c->short_until[oldest])
            oldest = i;
    snprintf(c->short_type[oldest], sizeof(c->short_type[oldest]), "%s", type);
    c->short_until[oldest] = util_monotonic() + 300;
}

static int by_price(const void *a, const void *b)
{
    const struct instance_type *x = *(const struct instance_type *const *)a,
                               *y = *(const struct instance_type *const *)b;
    return x->price < y->price ? -1 : x->price > y->price;
}

/* Does the instanceTypes entry want (a name, a family like m5, or
 * optimal: the c5, m5 and r5 families) take type t? */
static bool type_wanted(const char *want, const char *t)
{
    size_t n = strlen(want);

    if (!strcmp(want, "optimal"))
        return !strncmp(t, "c5.", 3) || !strncmp(t, "m5.", 3)
               || !strncmp(t, "r5.", 3);
    return !strcmp(want, t)
           || (!strchr(want, '.') && !strncmp(t, want, n) && t[n] == '.');
}

/* The instance types c may launch, in its order of preference: the
 * cheapest first (BEST_FIT), those short of capacity now last. */
static int types_of(const struct ce *c, struct itype *out, int max)
{
    const struct instance_type *pick[128];
    const json_t *want = json_object_get(
        json_object_get(c->body, "computeResources"), "instanceTypes");
    int n = 0;

    if (max < 1)
        return 0;
    switch (c->spec.provider) {
    case CE_LOCAL:
    case CE_EXEC:
        snprintf(out[0].name, sizeof(out[0].name), "%s",
                 c->spec.provider == CE_LOCAL ? "local" : "node");
        out[0].vcpus = c->spec.node_vcpus;
        out[0].mem_mib = 0;
        out[0].gpus = 0;
        return 1;
    case CE_EC2:
        for (size_t i = 0; i < ninstance_types && n < 128; i++) {
            const char *t = instance_types[i].name;
            bool ok = !want;
            size_t k;
            json_t *w;
            json_array_foreach (want, k, w)
                ok = ok || type_wanted(json_string_value(w), t);
            if (!want)
                ok = type_wanted("optimal", t);
            if (ok)
                pick[n++] = &instance_types[i];
        }
        qsort(pick, (size_t)n, sizeof(pick[0]), by_price);
        /* Those short of capacity go last: tried again only when no other
         * type fits. */
        for (int i = 0, k = 0; i < n && k < n; k++)
            if (is_short(c, pick[i]->name)) {
                const struct instance_type *t = pick[i];
                memmove(&pick[i], &pick[i + 1],
                        (size_t)(n - i - 1) * sizeof(pick[0]));
                pick[n - 1] = t;
            } else {
                i++;
            }
        for (int i = 0; i < n && i < max; i++)
            itype_of(pick[i], &out[i]);
        return n < max ? n : max;
    default: return 0;
    }
}

/* What one node of the job needs. */
struct need {
    long nodes, cpus;
    int64_t mem;
    int gpus;
    bool exclusive;
};

static struct need need_of(const struct jobspec *spec)
{
    struct need n = { spec->nodes > 0 ? spec->nodes : 1,
                      jobspec_node_cpus(spec, 0), spec->mem, spec->gpus,
                      spec->exclusive != 0 };
    return n;
}

static bool type_fits(const struct itype *t, const struct need *n)
{
    return t->vcpus >= n->cpus && (!t->mem_mib || t->mem_mib >= n->mem)
           && t->gpus >= n->gpus;
}

static bool bin_fits(const struct bin *b, const struct need *n)
{
    return n->exclusive
               ? b->empty && b->cpus >= n->cpus
               : b->cpus >= n->cpus && b->mem >= n->mem && b->gpus >= n->gpus;
}

static void bin_take(struct bin *b, const struct need *n)
{
    if (n->exclusive)
        b->cpus = 0;
    b->cpus -= n->exclusive ? 0 : n->cpus;
    if (b->mem != INT64_MAX)
        b->mem -= n->mem;
    b->gpus -= n->gpus;
    b->empty = false;
    if (b->in)
        b->in->planned = true;
}

static struct bin *bin_add(struct elastic *e)
{
    if (e->nbins == e->capbins) {
        size_t cap = e->capbins ? e->capbins * 2 : 64;
        struct bin *b = realloc(e->bins, cap * sizeof(*b));
        if (!b)
            return NULL;
        e->bins = b;
        e->capbins = cap;
    }
    memset(&e->bins[e->nbins], 0, sizeof(e->bins[0]));
    return &e->bins[e->nbins++];
}

/* Can c launch now (managed, enabled, valid, its instances known)? */
static bool may_launch(const struct ce *c)
{
    return c->spec.managed && c->enabled && !strcmp(c->status, "VALID")
           && c->reconciled && util_monotonic() >= c->backoff_until;
}

/* Instances of a launch the provider has not answered for yet that have
 * not joined either (an instance may join before the answer comes). */
static long launch_unseen(struct elastic *e, const struct launch *l)
{
    long seen = 0;

    for (struct instance *in = e->instances; in; in = in->next)
        seen += !strcmp(in->launch, l->id);
    return l->count > seen ? l->count - seen : 0;
}

/* vCPUs c has: its instances that are not going, and those launching. */
static long have_vcpus(struct elastic *e, const struct ce *c)
{
    long v = 0;

    for (struct instance *in = e->instances; in; in = in->next)
        if (in->ce == c && in->state != INST_TERMINATING)
            v += in->type.vcpus;
    for (struct launch *l = e->launches; l; l = l->next)
        if (l->ce == c && l->pending)
            v += launch_unseen(e, l) * l->type.vcpus;
    return v;
}

/* What one pass knows of a managed environment: the vCPUs it has and
 * its types (both worked out once per pass, not per waiting job), and
 * the vCPUs the pass adds. */
struct pass_ce {
    struct ce *c;
    long have, add;
    struct itype types[64];
    int nt;
};

/* Put the job with need n (nodes of it) in bins of p's environment:
 * existing room first, else new instances while it stays under its max
 * (p->add: the vCPUs it gains this pass).  Whether it found room. */
static bool place_in(struct elastic *e, struct pass_ce *p, const struct need *n)
{
    struct ce *c = p->c;
    struct itype *types = p->types;
    int ntypes = p->nt;
    long *add = &p->add;
    size_t found = 0, picked[64];

    if (n->nodes > 64)
        return false;
    for (size_t i = 0; i < e->nbins && found < (size_t)n->nodes; i++)
        if (e->bins[i].ce == c && bin_fits(&e->bins[i], n))
            picked[found++] = i;
    if (found == (size_t)n->nodes) {
        for (size_t i = 0; i < found; i++)
            bin_take(&e->bins[picked[i]], n);
        return true;
    }
    /* New instances for the nodes that found no room: the first type
     * that fits (the types are in c's order of preference). */
    long more = n->nodes - (long)found;
    const struct itype *t = NULL;
    for (int i = 0; i < ntypes && !t; i++)
        if (type_fits(&types[i], n))
            t = &types[i];
    if (!t || !may_launch(c)
        || p->have + *add + more * t->vcpus > c->spec.max_vcpus)
        return false;
    for (size_t i = 0; i < found; i++)
        bin_take(&e->bins[picked[i]], n);
    for (long i = 0; i < more; i++) {
        struct bin *b = bin_add(e);
        if (!b)
            return false;
        *b = (struct bin){
            c,       NULL, *t, t->vcpus, t->mem_mib ? t->mem_mib : INT64_MAX,
            t->gpus, true
        };
        bin_take(b, n);
    }
    *add += more * t->vcpus;
    return true;
}

static void room_of(struct server *s, struct ce *c)
{
    struct elastic *e = s->elastic;

    for (struct launch *l = e->launches; l; l = l->next)
        for (long k = l->ce == c && l->pending ? launch_unseen(e, l) : 0; k > 0;
             k--) {
            struct bin *b = bin_add(e);
            if (!b)
                return;
            *b = (struct bin){ c,
                               NULL,
                               l->type,
                               l->type.vcpus,
                               l->type.mem_mib ? l->type.mem_mib : INT64_MAX,
                               l->type.gpus,
                               true };
            b->type.vcpus = 0; /* not to be launched again */
        }

    for (struct instance *in = e->instances; in; in = in->next) {
        struct node *n;
        struct bin *b;
        in->planned = false;
        if (in->ce != c || in->state == INST_TERMINATING || !(b = bin_add(e)))
            continue;
        b->ce = c;
        b->in = in;
        n = nodes_find(s, in->id);
        if (in->state == INST_LAUNCHING || !n || !n->topo) {
            b->cpus = in->type.vcpus;
            b->mem = in->type.mem_mib ? in->type.mem_mib : INT64_MAX;
            b->gpus = in->type.gpus;
            b->empty = true;
        } else if (nodes_usable(n)) {
            b->cpus = place_free_cpus(n);
            b->mem = n->topo->mem_mib - n->mem_used;
            b->gpus = n->topo->ngpu - n->ngpu_busy;
            b->empty = n->njobs == 0;
        }
    }
}

/* A job the instances of an environment cannot serve by their nature. */
static bool job_for_instances(const struct job *job)
{
    return !job->spec.nodelist && !job->spec.constraint;
}

/* How many of this queue entry wait: 1, or an array's uncreated children
 * (as its throttle allows). */
static long entries_of(const struct job *job)
{
    const struct array *a = job->array;
    long left;

    if (!a)
        return 1;
    left = (long)(a->n - a->next);
    if (a->throttle && a->throttle - a->active < left)
        left = a->throttle - a->active > 0 ? a->throttle - a->active : 0;
    return left;
}

static void plan(struct server *s)
{
    struct elastic *e = s->elastic;
    struct itype types[64];
    struct pass_ce *pc;
    int nces = 0;

    e->nbins = 0;
    for (struct ce *c = s->ces; c; c = c->next)
        nces += c->spec.managed;
    if (!nces || !(pc = calloc((size_t)nces, sizeof(*pc))))
        return;
    nces = 0;
    for (struct ce *c = s->ces; c; c = c->next) {
        c->plan_index = -1;
        if (!c->spec.managed)
            continue;
        c->plan_index = nces;
        pc[nces].c = c;
        pc[nces].nt = types_of(c, pc[nces].types, 64);
        pc[nces].have = have_vcpus(e, c);
        nces++;
        room_of(s, c);
    }
    for (struct queue *q = s->queues; q; q = q->next) {
        bool managed = false;
        for (int i = 0; i < q->nces; i++)
            managed = managed || q->ces[i]->spec.managed;
        if (!managed)
            continue;
        /* Enough to know what to launch; a queue deeper than this waits
         * for the next passes. */
        long looked = 0;
        for (struct job *job = q->qhead; job && looked < 100000;
             job = job->qnext) {
            struct need n = need_of(&job->spec);
            if (!job_for_instances(job))
                continue;
            for (long k = entries_of(job); k > 0 && looked < 100000;
                 k--, looked++) {
                bool placed = false;
                for (int i = 0; i < q->nces && !placed; i++) {
                    struct ce *c = q->ces[i];
                    if (!c->spec.managed || c->plan_index < 0)
                        continue;
                    struct pass_ce *p = &pc[c->plan_index];
                    placed = place_in(e, p, &n);
                }
                if (!placed)
                    break; /* the rest of this array is the same */
            }
        }
    }
    for (int i = 0; i < nces; i++) {
        struct ce *c = pc[i].c;
        long have = pc[i].have;
        int nt = pc[i].nt;
        long want = have + pc[i].add;
        memcpy(types, pc[i].types, sizeof(types));
        /* minvCpus, and an admin's desiredvCpus until reached */
        long floor = c->spec.min_vcpus > c->launch_floor ? c->spec.min_vcpus
                                                         : c->launch_floor;
        if (nt && want < floor && may_launch(c)) {
            long extra = (floor - want + types[0].vcpus - 1) / types[0].vcpus;
            while (extra > 0
                   && want + extra * types[0].vcpus > c->spec.max_vcpus)
                extra--;
            if (extra > 0
                && launch(s, c, &types[0], extra,
                          "to reach the environment's floor")
                       == 0)
                want += extra * types[0].vcpus;
        }
        if (have + pc[i].add >= c->launch_floor)
            c->launch_floor = 0;
        /* The new bins of c, in one launch per type. */
        for (size_t b = 0; b < e->nbins; b++) {
            struct bin *first = &e->bins[b];
            long count = 0;
            if (first->ce != c || first->in || !first->type.vcpus)
                continue;
            for (size_t k = b; k < e->nbins; k++)
                if (e->bins[k].ce == c && !e->bins[k].in
                    && !strcmp(e->bins[k].type.name, first->type.name)) {
                    count++;
                    if (k > b)
                        e->bins[k].type.vcpus = 0; /* counted */
                }
            char why[200];
            snprintf(why, sizeof(why),
                     "for waiting jobs (%ld of at most %ld vCPUs wanted)",
                     have + pc[i].add, c->spec.max_vcpus);
            launch(s, c, &first->type, count, why);
        }
        c->desired = want > c->spec.max_vcpus ? c->spec.max_vcpus : want;
        if (c->desired < c->spec.min_vcpus)
            c->desired = c->spec.min_vcpus;
    }
    free(pc);
}

/* ---- keeping instances honest: registration, idling, boot, down ---- */

static void maintain(struct server *s)
{
    struct elastic *e = s->elastic;
    double now = util_monotonic();
    struct instance *in, *next;

    for (in = e->instances; in; in = next) {
        struct ce *c = in->ce;
        struct node *n = nodes_find(s, in->id);
        next = in->next;
        switch (in->state) {
        case INST_LAUNCHING:
            if (n && n->state == NODE_UP)
                elastic_node_up(s, n);
            else if (now - in->since > (double)c->spec.boot_timeout)
                terminate(s, in, "boot-timeout",
                          "it did not register within the boot timeout");
            break;
        case INST_UP:
        case INST_IDLE:
            if (!n || n->state != NODE_UP) {
                /* After a server start, its worker has the node timeout
                 * to say hello again. */
                if ((n && n->state == NODE_DOWN)
                    || now - in->since > s->node_timeout + 5)
                    terminate(s, in, "node-down",
                              "its worker is silent (node down)");
            } else if (n->njobs > 0 || in->planned) {
                set_state(s, in, INST_UP);
            } else if (in->state == INST_UP) {
                set_state(s, in, INST_IDLE);
            } else if (now - in->since >= (double)c->spec.idle_timeout
                       && have_vcpus(e, c) - in->type.vcpus
                              >= c->spec.min_vcpus) {
                char why[120];
                snprintf(why, sizeof(why), "idle for %.0f s", now - in->since);
                terminate(s, in, "idle", why);
            }
            break;
        case INST_TERMINATING:
            /* The provider did not confirm: ask again. */
            if (now >= in->retry_at)
                in->term_due = true;
            break;
        }
    }
    send_terminations(s);
}

void elastic_node_up(struct server *s, struct node *n)
{
    struct elastic *e = s->elastic;
    struct instance *in = e ? inst_find(e, n->name) : NULL;

    if (!in || in->state != INST_LAUNCHING)
        return;
    event(s, in->ce, "registered", "%s (%s) registered %.1f s after its launch",
          in->id, in->type.name, util_now() - in->launched);
    if (strcmp(n->ce, in->ce->name))
        nodes_set(s, n, in->ce->name, NULL);
    set_state(s, in, n->njobs ? INST_UP : INST_IDLE);
}

bool elastic_is_spot(struct server *s, const struct node *n)
{
    struct instance *in = s->elastic ? inst_find(s->elastic, n->name) : NULL;
    return in && in->spot;
}

void elastic_interrupted(struct server *s, struct node *n)
{
    struct instance *in = s->elastic ? inst_find(s->elastic, n->name) : NULL;

    if (!in || in->state == INST_TERMINATING)
        return;
    /* Its type is short where it runs: replacements try others first. */
    mark_short(in->ce, in->type.name);
    terminate(s, in, "spot-interruption",
              "the provider reclaims it (spot interruption notice); its jobs "
              "are requeued");
    send_terminations(s);
}

/* ---- what the providers answer ---- */

static void backoff(struct ce *c, double base)
{
    unsigned r = 0;

    if (getrandom(&r, sizeof(r), 0) != sizeof(r))
        r = (unsigned)util_monotonic();
    if (c->backoff_step < 8)
        c->backoff_step++;
    double wait = base * (1 << (c->backoff_step - 1));
    if (wait > 300)
        wait = 300;
    /* full jitter, as AWS advises for its APIs */
    c->backoff_until =
        util_monotonic() + wait / 2 + (r % 1000) / 1000.0 * wait / 2;
}

/* A provider error: the environment goes INVALID on one it cannot get
 * past by waiting (credentials, permissions), else it backs off. */
static void provider_failed(struct server *s, struct ce *c, struct op *op,
                            const char *what)
{
    event(s, c, "provider-error", "%s failed: %s: %s", what, op->code,
          op->message);
    if (!strcmp(op->code, "AuthFailure")
        || !strcmp(op->code, "UnauthorizedOperation")
        || !strcmp(op->code, "InvalidClientTokenId")
        || !strcmp(op->code, "SignatureDoesNotMatch")
        || !strcmp(op->code, "NoCredentials")
        || !strcmp(op->code, "NoProvider")) {
        snprintf(c->status, sizeof(c->status), "INVALID");
        snprintf(c->status_reason, sizeof(c->status_reason), "%s: %s", op->code,
                 op->message);
        util_utf8_fix(c->status_reason, 0);
        return;
    }
    backoff(c, !strcmp(op->code, "RequestLimitExceeded") ? 2 : 5);
}

static int count_of(struct elastic *e, const struct ce *c)
{
    int n = 0;

    for (struct instance *in = e->instances; in; in = in->next)
        n += in->ce == c;
    return n;
}

/* A site program's words, as an event. */
static void program_output(struct server *s, struct ce *c, struct op *op)
{
    const char *out = json_string_value(json_object_get(op->result, "output"));

    if (out && *out)
        event(s, c, "program-output", "%s", out);
}

static bool capacity_code(const char *code)
{
    return !strcmp(code, "InsufficientInstanceCapacity")
           || !strcmp(code, "InsufficientCapacity")
           || !strcmp(code, "Unsupported")
           || !strcmp(code, "InsufficientFreeAddressesInSubnet")
           || !strcmp(code, "SpotMaxPriceTooLow");
}

static void on_launch(struct server *s, struct ce *c, struct op *op)
{
    struct elastic *e = s->elastic;
    const char *lid = json_string_value(json_object_get(op->args, "launch"));
    struct launch *l = lid ? launch_find(e, lid) : NULL;
    json_t *v;
    size_t i;

    if (!l)
        return;
    l->pending = false;
    json_array_foreach (json_object_get(op->result, "instances"), i, v) {
        const char *id = json_string_value(json_object_get(v, "id"));
        const char *tname = json_string_value(json_object_get(v, "type"));
        struct itype t = l->type;
        if (!id || !jobspec_name_ok(id, 63) || inst_find(e, id))
            continue;
        if (tname && table_type(tname))
            itype_of(table_type(tname), &t);
        else if (tname)
            snprintf(t.name, sizeof(t.name), "%s", tname);
        struct instance *in = inst_add(
            s, c, id, l->id, &t, json_is_true(json_object_get(v, "spot")));
        const char *ip = json_string_value(json_object_get(v, "address"));
        if (in && ip && strlen(ip) < sizeof(in->address)) {
            snprintf(in->address, sizeof(in->address), "%s", ip);
            inst_save(s, in);
        }
        event(s, c, "launched", "%s (%s%s) launched", id, t.name,
              json_is_true(json_object_get(v, "spot")) ? ", spot" : "");
    }
    program_output(s, c, op);
    if (op->status < 0 && capacity_code(op->code)) {
        /* Another type, at once: this one is short for a while. */
        event(s, c, "provider-error",
              "launch of %s failed: %s: %s; trying "
              "other types",
              l->type.name, op->code, op->message);
        mark_short(c, l->type.name);
        backoff(c, 1);
    } else if (op->status < 0) {
        provider_failed(s, c, op, "launch");
    } else {
        c->backoff_step = 0;
    }
    launch_gc(s, l->id);
}

static void on_terminate(struct server *s, struct ce *c, struct op *op)
{
    struct elastic *e = s->elastic;
    json_t *v;
    size_t i;

    if (op->status < 0) {
        provider_failed(s, c, op, "terminate");
        return;
    }
    program_output(s, c, op);
    json_array_foreach (json_object_get(op->args, "ids"), i, v) {
        struct instance *in = inst_find(e, json_string_value(v));
        if (!in)
            continue;
        event(s, c, "terminated", "%s (%s) terminated", in->id, in->type.name);
        inst_forget(s, in, "node failure: its instance was terminated");
    }
}

static bool listed(const json_t *list, const char *id)
{
    json_t *v;
    size_t i;

    json_array_foreach (list, i, v)
        if (!strcmp(
                util_str_or(json_string_value(json_object_get(v, "id")), ""),
                id))
            return true;
    return false;
}

static void reconciled(struct ce *c)
{
    c->reconciled = true;
    if (!strcmp(c->status, "CREATING"))
        snprintf(c->status, sizeof(c->status), "VALID");
}

/* What the provider says runs, against what the store says. */
static void on_describe(struct server *s, struct ce *c, struct op *op)
{
    struct elastic *e = s->elastic;
    json_t *live = json_object_get(op->result, "instances"), *v;
    struct instance *in, *next;
    size_t i;

    if (op->status < 0) {
        provider_failed(s, c, op, "listing instances");
        return;
    }
    if (json_is_null(live)) {
        /* The provider cannot list (exec): what is stored stands. */
        if (!c->reconciled)
            event(s, c, "reconciled",
                  "the %s provider cannot list its instances: the %d stored "
                  "stand",
                  cespec_provider_name(c->spec.provider), count_of(e, c));
        reconciled(c);
        return;
    }
    json_array_foreach (live, i, v) {
        const char *id = json_string_value(json_object_get(v, "id"));
        const char *lid = json_string_value(json_object_get(v, "launch"));
        struct launch *l = lid ? launch_find(e, lid) : NULL;
        if (!id || inst_find(e, id))
            continue;
        if (l && l->ce == c && jobspec_name_ok(id, 63)) {
            /* Launched, then the server stopped before it heard back. */
            inst_add(s, c, id, l->id, &l->type,
                     json_is_true(json_object_get(v, "spot")));
            event(s, c, "adopted", "%s of launch %s adopted", id, l->id);
            continue;
        }
        struct op *t = op_new(s, c, OP_TERMINATE);
        event(s, c, "unknown",
              "%s is not one of this server's instances: "
              "terminating it",
              id);
        if (t)
            json_object_set_new(t->args, "ids", json_pack("[s]", id));
        op_queue(s, t);
    }
    for (in = e->instances; in; in = next) {
        next = in->next;
        if (in->ce != c || listed(live, in->id))
            continue;
        if (in->state == INST_TERMINATING)
            event(s, c, "terminated", "%s (%s) is gone", in->id, in->type.name);
        else
            event(s, c, "vanished",
                  "%s (%s%s) is no longer running (the provider lists it no "
                  "more)",
                  in->id, in->type.name, in->spot ? ", spot" : "");
        if (in->spot && in->state != INST_TERMINATING)
            mark_short(c, in->type.name);
        inst_forget(s, in,
                    in->spot ? "spot interruption"
                             : "node failure: its instance is gone");
    }
    /* Launches that never answered and made nothing that runs: gone. */
    for (struct launch *l = e->launches, *ln; l; l = ln) {
        ln = l->next;
        if (l->ce == c && l->pending && !c->reconciled) {
            l->pending = false;
            launch_gc(s, l->id);
        }
    }
    if (!c->reconciled)
        event(s, c, "reconciled", "the provider lists %zu instances",
              json_array_size(live));
    reconciled(c);
}

static void take_results(struct server *s)
{
    struct elastic *e = s->elastic;
    struct op *op;

    while ((op = provider_pool_take(e->pool))) {
        struct ce *c = ce_find(s, op->ce);
        if (c) {
            switch (op->kind) {
            case OP_LAUNCH: on_launch(s, c, op); break;
            case OP_TERMINATE: on_terminate(s, c, op); break;
            case OP_DESCRIBE: on_describe(s, c, op); break;
            }
        }
        op_free(op);
        s->sched_needed = true;
    }
}

static void describe_all(struct server *s)
{
    for (struct ce *c = s->ces; c; c = c->next)
        if (c->spec.managed && strcmp(c->status, "INVALID"))
            op_queue(s, op_new(s, c, OP_DESCRIBE));
}

/* ---- the server's hooks ---- */

void elastic_turn(struct server *s, bool sched_ran)
{
    struct elastic *e = s->elastic;
    double now = util_monotonic();

    if (!e)
        return;
    take_results(s);
    bool tick = now >= e->next_tick;
    if (tick || sched_ran) {
        plan(s);
        maintain(s);
    }
    if (tick) {
        /* The providers are asked what runs every 15 s: a machine that
         * vanished (a spot reclaim, a crash) is noticed without its
         * node's heartbeat timeout. */
        if (now >= e->next_describe) {
            describe_all(s);
            e->next_describe = now + 15;
        }
        e->next_tick = now + 1;
    }
}

void elastic_flush(struct server *s)
{
    struct elastic *e = s->elastic;

    while (e && e->outbox) {
        struct op *op = e->outbox;
        e->outbox = op->next;
        provider_pool_submit(e->pool, op);
    }
}

int elastic_fd(const struct server *s)
{
    return s->elastic ? provider_pool_fd(s->elastic->pool) : -1;
}

void elastic_ce_changed(struct server *s, struct ce *c)
{
    c->launch_floor = c->spec.desired_vcpus > 0 ? c->spec.desired_vcpus : 0;
    c->backoff_until = 0;
    c->backoff_step = 0;
    c->status_reason[0] = '\0';
    snprintf(c->status, sizeof(c->status), "VALID");
    /* Made while the server runs: it has no instances to look for. */
    if (s->elastic)
        c->reconciled = true;
    if (!c->spec.managed)
        c->desired = 0;
    s->sched_needed = true;
}

bool elastic_ce_busy(struct server *s, const struct ce *c, char *why,
                     size_t len)
{
    struct elastic *e = s->elastic;
    int n = 0;

    for (struct instance *in = e ? e->instances : NULL; in; in = in->next)
        n += in->ce == c;
    for (struct launch *l = e ? e->launches : NULL; l; l = l->next)
        n += l->ce == c && l->pending;
    if (n)
        snprintf(why, len,
                 "still has %d instance%s: update it with --max-vcpus 0 and "
                 "wait until they are terminated",
                 n, n == 1 ? "" : "s");
    return n > 0;
}

void elastic_ce_deleted(struct server *s, const struct ce *c)
{
    struct elastic *e = s->elastic;

    for (struct launch **pp = e ? &e->launches : NULL; pp && *pp;) {
        struct launch *l = *pp;
        if (l->ce == c) {
            *pp = l->next;
            store_object_delete(s->st, "launch", l->id);
            free(l);
        } else {
            pp = &l->next;
        }
    }
}

static json_t *inst_json(const struct instance *in)
{
    return json_pack("{s:s, s:s, s:I, s:s, s:s, s:f}", "id", in->id, "type",
                     in->type.name, "vcpus", (json_int_t)in->type.vcpus,
                     "market", in->spot ? "spot" : "on-demand", "state",
                     inst_names[in->state], "launched", in->launched);
}

json_t *elastic_describe(struct server *s, const struct ce *c)
{
    struct elastic *e = s->elastic;
    json_t *list = json_array();

    for (struct instance *in = e ? e->instances : NULL; in; in = in->next)
        if (in->ce == c)
            json_array_append_new(list, inst_json(in));
    return json_pack("{s:o, s:o}", "instances", list, "events",
                     store_ce_events(s->st, c->name, 50));
}

void elastic_node_json(struct server *s, const struct node *n, json_t *o)
{
    struct instance *in = s->elastic ? inst_find(s->elastic, n->name) : NULL;

    if (in)
        json_object_set_new(o, "instance", inst_json(in));
}

void elastic_launching_nodes(struct server *s, json_t *nodes, const char *only)
{
    for (struct instance *in = s->elastic ? s->elastic->instances : NULL; in;
         in = in->next)
        if (!nodes_find(s, in->id) && (!only || !strcmp(only, in->id)))
            json_array_append_new(nodes,
                                  json_pack("{s:s, s:s, s:s, s:I, s:o}", "name",
                                            in->id, "ce", in->ce->name, "state",
                                            inst_names[in->state], "cpus_total",
                                            (json_int_t)in->type.vcpus,
                                            "instance", inst_json(in)));
}

bool elastic_why(struct server *s, const struct job *job, char *text,
                 size_t len)
{
    struct elastic *e = s->elastic;
    const struct queue *q = job->queue;

    if (!e || !q || !job_for_instances(job))
        return false;
    for (int i = 0; i < q->nces; i++) {
        struct ce *c = q->ces[i];
        int booting = 0;
        double oldest = 0;
        const char *tname = "";
        if (!c->spec.managed)
            continue;
        for (struct instance *in = e->instances; in; in = in->next)
            if (in->ce == c && in->state == INST_LAUNCHING) {
                booting++;
                tname = in->type.name;
                if (!oldest || in->launched < oldest)
                    oldest = in->launched;
            }
        for (struct launch *l = e->launches; l; l = l->next)
            if (l->ce == c && l->pending) {
                booting += (int)l->count;
                tname = l->type.name;
                if (!oldest || l->when < oldest)
                    oldest = l->when;
            }
        if (booting) {
            snprintf(text, len,
                     "waiting for %d instance%s of %s launching in ce %s, "
                     "up %.0f s",
                     booting, booting == 1 ? "" : "s", tname, c->name,
                     util_now() - oldest);
            return true;
        }
        if (strcmp(c->status, "VALID")) {
            snprintf(text, len, "compute environment %s is %s%s%s", c->name,
                     c->status, c->status_reason[0] ? ": " : "",
                     c->status_reason);
            return true;
        }
        if (!c->enabled)
            continue;
        if (have_vcpus(e, c) >= c->spec.max_vcpus) {
            snprintf(text, len,
                     "compute environment %s is at its maximum of %ld vCPUs",
                     c->name, c->spec.max_vcpus);
            return true;
        }
    }
    return false;
}

bool elastic_could_fit(struct server *s, const struct queue *q,
                       const struct jobspec *spec)
{
    struct itype types[64];
    struct need n = need_of(spec);

    (void)s;
    for (int i = 0; i < q->nces; i++) {
        int nt = types_of(q->ces[i], types, 64);
        for (int t = 0; t < nt; t++)
            if (type_fits(&types[t], &n)
                && n.nodes * types[t].vcpus <= q->ces[i]->spec.max_vcpus)
                return true;
    }
    return false;
}

/* ---- joining ---- */

/* node.join: an instance's worker presents its launch's token, once. */
int elastic_join(struct server *s, struct proto_msg *m,
                 const struct requester *who)
{
    struct elastic *e = s->elastic;
    const char *name = json_string_value(json_object_get(m->body, "name"));
    const char *token = json_string_value(json_object_get(m->body, "token"));
    const char *key = json_string_value(json_object_get(m->body, "key"));
    const char *dot = token ? strchr(token, '.') : NULL;
    char lid[40];
    struct launch *l = NULL;
    struct instance *in;
    struct kiln_error err;

    (void)who;
    if (dot && dot - token < (long)sizeof(lid)) {
        snprintf(lid, sizeof(lid), "%.*s", (int)(dot - token), token);
        l = e ? launch_find(e, lid) : NULL;
    }
    /* Compared in constant time: the secret is what lets a machine in. */
    unsigned char diff = 1;
    if (l && strlen(dot + 1) == strlen(l->secret)) {
        diff = 0;
        for (size_t i = 0; l->secret[i]; i++)
            diff |= (unsigned char)(dot[1 + i] ^ l->secret[i]);
    }
    if (!name || !jobspec_name_ok(name, 63) || diff)
        return CLIENT_FAIL(s, m, EACCES, "unknown or invalid join token");
    in = inst_find(e, name);
    /* It booted before its launch's answer came back: until the provider
     * has said which instances the launch made, no name is taken (a
     * token shared by a launch's instances must not let one of them, or
     * a job on it, pick another's or a site node's name). */
    if (!in && l->pending)
        return CLIENT_FAIL(s, m, EAGAIN,
                           "launch %s is not answered yet: try again", l->id);
    if (!in || strcmp(in->launch, l->id) || in->joined
        || in->state != INST_LAUNCHING)
        return CLIENT_FAIL(s, m, EACCES,
                           "join token already used, or not for '%.64s'", name);
    /* The token is shared by the launch's instances: where the provider
     * says an instance is, from there alone may it join. */
    if (in->address[0] && strcmp(in->address, m->peer_address))
        return CLIENT_FAIL(s, m, EACCES,
                           "join of %s from %.40s: the instance's address is "
                           "%s",
                           name, m->peer_address[0] ? m->peer_address : "?",
                           in->address);
    if (s->auth == AUTH_MUNGE) {
        if (!key || keys_put_public(s->keys_dir, name, key, &err) < 0)
            return CLIENT_FAIL(s, m, EINVAL, "cannot take the key of %s: %s",
                               name, key ? err.text : "no key given");
        struct keyring *ring = keys_ring_load(s->keys_dir);
        if (ring) {
            keys_ring_free(s->ring);
            s->ring = ring;
        }
    }
    in->joined = true;
    inst_save(s, in);
    event(s, in->ce, "joined", "%s presented its join token", in->id);
    return CLIENT_REPLY(s, m, json_pack("{s:s}", "ce", in->ce->name));
}

/* ---- start and stop ---- */

static int load_launch(const char *id, json_t *o, void *arg)
{
    struct server *s = arg;
    struct ce *c = ce_find(
        s, util_str_or(json_string_value(json_object_get(o, "ce")), ""));
    struct launch *l;

    if (!c || !(l = calloc(1, sizeof(*l))))
        return 0;
    snprintf(l->id, sizeof(l->id), "%s", id);
    snprintf(l->secret, sizeof(l->secret), "%s",
             util_str_or(json_string_value(json_object_get(o, "secret")), ""));
    l->ce = c;
    type_from_json(json_object_get(o, "type"), &l->type);
    l->count = (long)json_integer_value(json_object_get(o, "count"));
    l->spot = json_is_true(json_object_get(o, "spot"));
    l->when = json_number_value(json_object_get(o, "when"));
    /* Its answer may have been lost with the last server: the provider's
     * list will tell. */
    l->pending = true;
    l->next = s->elastic->launches;
    s->elastic->launches = l;
    return 0;
}

static int load_instance(const char *id, json_t *o, void *arg)
{
    struct server *s = arg;
    struct ce *c = ce_find(
        s, util_str_or(json_string_value(json_object_get(o, "ce")), ""));
    const char *st = json_string_value(json_object_get(o, "state"));
    struct instance *in;

    if (!c || !(in = calloc(1, sizeof(*in))))
        return 0;
    snprintf(in->id, sizeof(in->id), "%s", id);
    snprintf(in->launch, sizeof(in->launch), "%s",
             util_str_or(json_string_value(json_object_get(o, "launch")), ""));
    in->ce = c;
    type_from_json(json_object_get(o, "type"), &in->type);
    in->spot = json_is_true(json_object_get(o, "spot"));
    in->launched = json_number_value(json_object_get(o, "launched"));
    in->joined = json_is_true(json_object_get(o, "joined"));
    snprintf(in->address, sizeof(in->address), "%s",
             util_str_or(json_string_value(json_object_get(o, "address")), ""));
    in->state = INST_LAUNCHING;
    for (int i = 0; i < 4; i++)
        if (st && !strcmp(st, inst_names[i]))
            in->state = (enum inst_state)i;
    /* Its clocks start again: a booting one gets its whole boot time, an
     * idle one its whole idle time. */
    in->since = util_monotonic();
    in->term_due = in->state == INST_TERMINATING;
    in->next = s->elastic->instances;
    s->elastic->instances = in;
    return 0;
}

int elastic_start(struct server *s, const char *state, struct kiln_error *err)
{
    struct elastic *e = calloc(1, sizeof(*e));

    if (!e)
        return errprintf(err, "out of memory");
    s->elastic = e;
    snprintf(e->dir, sizeof(e->dir), "%s/instances", state);
    if (util_mkdir_p(e->dir, 0700) < 0)
        return errprintf(err, "cannot create %s: %s", e->dir, strerror(errno));
    if (util_kiln_path(e->kiln, sizeof(e->kiln)) < 0)
        return errprintf(err, "cannot find the kiln program at %s: %s", e->kiln,
                         strerror(errno));
    /* The tag kiln:server of this server's instances: its host and its
     * state folder, stable across restarts. */
    char host[64] = "kiln", real[PATH_MAX];
    uint32_t h = 2166136261u;
    gethostname(host, sizeof(host) - 1);
    host[strcspn(host, ".")] = '\0';
    if (!realpath(state, real))
        snprintf(real, sizeof(real), "%s", state);
    for (const char *p = real; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    snprintf(e->server_id, sizeof(e->server_id), "%s-%08x", host, h);
    if (store_foreach_object(s->st, "launch", load_launch, s) < 0
        || store_foreach_object(s->st, "instance", load_instance, s) < 0)
        return errprintf(err, "cannot read the instances from the store");
    if (!(e->pool = provider_pool_start()))
        return errprintf(err, "cannot start the providers' thread: %s",
                         strerror(errno));
    /* What runs, before anything is launched: until its provider has
     * said, a managed environment is CREATING (as AWS Batch says of one
     * not ready yet). */
    for (struct ce *c = s->ces; c; c = c->next) {
        c->reconciled = !c->spec.managed;
        if (c->spec.managed && strcmp(c->status, "INVALID")) {
            snprintf(c->status, sizeof(c->status), "CREATING");
            op_queue(s, op_new(s, c, OP_DESCRIBE));
        }
    }
    elastic_flush(s);
    e->next_tick = util_monotonic() + 1;
    e->next_describe = util_monotonic() + 15;
    return 0;
}

void elastic_stop(struct server *s)
{
    struct elastic *e = s->elastic;

    if (!e)
        return;
    provider_pool_stop(e->pool);
    while (e->outbox) {
        struct op *op = e->outbox;
        e->outbox = op->next;
        op_free(op);
    }
    while (e->instances) {
        struct instance *in = e->instances;
        e->instances = in->next;
        free(in);
    }
    while (e->launches) {
        struct launch *l = e->launches;
        e->launches = l->next;
        free(l);
    }
    free(e->bins);
    free(e);
    s->elastic = NULL;
}

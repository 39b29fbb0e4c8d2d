/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Core and GPU selection on one node: compact, best fit at each level. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "lib/alloc.h"

/* What is chosen: a PU, or (with threads_per_core) a whole free core. */
struct item {
    int key[4]; /* domain at each level, coarse to fine */
    int yield;  /* PUs it gives the job */
    int pu;     /* a PU: its index; a core: its first PU's index */
};

/* The node's cores: PU indices sorted by core, each core a run of them. */
struct cores {
    int *order;   /* PU indices, grouped by core, ascending within one */
    int *core_of; /* PU index -> its run's number */
    int *start;   /* run number -> its first position in order */
    int *len;     /* run number -> PUs in it */
    int n;
};

struct ctx {
    const struct alloc_node *node;
    struct cores cores;
    int level[4]; /* which alloc_pu field each level is, coarse to fine */
    int nlevels;
    struct item *items;
    int nitems;
};

enum { F_PKG, F_NUMA, F_L3, F_CORE };

static int field(const struct alloc_pu *p, int f)
{
    return f == F_PKG    ? p->pkg
           : f == F_NUMA ? p->numa
           : f == F_L3   ? p->l3
                         : p->core;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return x < y ? -1 : x > y;
}

/* How many domains of field f the node has (-1 on ENOMEM). */
static int distinct(const struct alloc_node *node, int f)
{
    int *v = malloc((node->npu + 1) * sizeof(*v)), count = 0;

    if (!v)
        return -1;
    for (int i = 0; i < node->npu; i++)
        v[i] = field(&node->pu[i], f);
    qsort(v, node->npu, sizeof(*v), cmp_int);
    for (int i = 0; i < node->npu; i++)
        count += i == 0 || v[i] != v[i - 1];
    free(v);
    return count;
}

/* Levels from the one with fewest domains to the one with most, so that
 * "NUMA inside L3" and "L3 inside NUMA" machines are both split coarse to
 * fine. */
static void order_levels(struct ctx *c, bool with_core)
{
    int n[4];

    c->nlevels = with_core ? 4 : 3;
    for (int l = 0; l < c->nlevels; l++) {
        c->level[l] = l;
        n[l] = distinct(c->node, l);
    }
    for (int i = 1; i < c->nlevels; i++)
        for (int j = i; j > 0 && n[j - 1] > n[j]; j--) {
            int t = n[j];
            n[j] = n[j - 1];
            n[j - 1] = t;
            t = c->level[j];
            c->level[j] = c->level[j - 1];
            c->level[j - 1] = t;
        }
}

struct group {
    int key;
    int yield;
};

static int cmp_yield_desc(const void *a, const void *b)
{
    const struct group *x = a, *y = b;
    return x->yield != y->yield ? y->yield - x->yield : x->key - y->key;
}

/* Choose items among s[0..n-1] (indices into c->items) giving at least
 * need PUs, compactly from level lvl down; append them to out.  Returns the
 * PUs got (less than need only when s does not hold enough). */
static int choose(const struct ctx *c, const int *s, int n, int lvl, int need,
                  int *out, int *nout)
{
    struct group *g;
    int ng = 0, got = 0, *sub;

    if (need <= 0 || n == 0)
        return 0;
    if (lvl == c->nlevels) {
        for (int i = 0; i < n && got < need; i++) {
            out[(*nout)++] = s[i];
            got += c->items[s[i]].yield;
        }
        return got;
    }
    if (!(g = malloc(n * sizeof(*g))) || !(sub = malloc(n * sizeof(*sub)))) {
        free(g);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        const struct item *it = &c->items[s[i]];
        int k = 0;
        while (k < ng && g[k].key != it->key[lvl])
            k++;
        if (k == ng)
            g[ng++] = (struct group){ it->key[lvl], 0 };
        g[k].yield += it->yield;
    }
    qsort(g, ng, sizeof(*g), cmp_yield_desc);
    for (int k = 0; k < ng && got < need; k++) {
        int rest = need - got, pick = k, m = 0, r;
        /* The smallest domain left that holds the rest, if any: best fit.
         * Otherwise this one, the largest left, is taken whole. */
        bool fits = false;
        for (int j = k; j < ng; j++)
            if (g[j].yield >= rest && (!fits || g[j].yield < g[pick].yield)) {
                pick = j;
                fits = true;
            }
        if (pick != k) {
            struct group t = g[pick];
            memmove(&g[k + 1], &g[k], (pick - k) * sizeof(*g));
            g[k] = t;
        }
        for (int i = 0; i < n; i++)
            if (c->items[s[i]].key[lvl] == g[k].key)
                sub[m++] = s[i];
        if ((r = choose(c, sub, m, lvl + 1,
                        g[k].yield >= rest ? rest : g[k].yield, out, nout))
            < 0) {
            free(g);
            free(sub);
            return -1;
        }
        got += r;
    }
    free(g);
    free(sub);
    return got;
}

/* Sort item indices s[0..n-1] by the logical index of their PU. */
static void by_pu(const struct ctx *c, int *s, int n)
{
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && c->items[s[j - 1]].pu > c->items[s[j]].pu;
             j--) {
            int t = s[j];
            s[j] = s[j - 1];
            s[j - 1] = t;
        }
}

static int cmp_core(const void *a, const void *b, void *arg)
{
    const struct alloc_node *node = arg;
    int x = *(const int *)a, y = *(const int *)b;
    int cx = node->pu[x].core, cy = node->pu[y].core;
    return cx != cy ? (cx < cy ? -1 : 1) : (x < y ? -1 : x > y);
}

static void cores_release(struct cores *k)
{
    free(k->order);
    free(k->core_of);
    free(k->start);
    free(k->len);
    memset(k, 0, sizeof(*k));
}

/* Group the node's PUs by core, in O(n log n) for nodes of thousands. */
static int cores_build(const struct alloc_node *node, struct cores *k)
{
    int n = node->npu;

    memset(k, 0, sizeof(*k));
    k->order = malloc((n + 1) * sizeof(int));
    k->core_of = malloc((n + 1) * sizeof(int));
    k->start = malloc((n + 1) * sizeof(int));
    k->len = malloc((n + 1) * sizeof(int));
    if (!k->order || !k->core_of || !k->start || !k->len) {
        cores_release(k);
        return -1;
    }
    for (int i = 0; i < n; i++)
        k->order[i] = i;
    qsort_r(k->order, n, sizeof(int), cmp_core, (void *)node);
    for (int p = 0; p < n; p++) {
        int i = k->order[p];
        if (p == 0 || node->pu[k->order[p - 1]].core != node->pu[i].core) {
            k->start[k->n] = p;
            k->len[k->n++] = 0;
        }
        k->core_of[i] = k->n - 1;
        k->len[k->n - 1]++;
    }
    return 0;
}

/* The candidate items: free PUs (whole free cores first within each
 * finest domain), or whole free cores giving per_core PUs each. */
static int build_items(struct ctx *c, const bool *busy, int per_core)
{
    const struct alloc_node *node = c->node;
    const struct cores *k = &c->cores;
    int *nbusy = calloc(k->n + 1, sizeof(*nbusy));

    c->nitems = 0;
    if (!nbusy
        || !(c->items =
                 malloc((node->npu ? node->npu : 1) * sizeof(*c->items)))) {
        free(nbusy);
        return -1;
    }
    for (int i = 0; i < node->npu; i++)
        nbusy[k->core_of[i]] += busy[i];
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < node->npu; i++) {
            int g = k->core_of[i];
            bool core_free = nbusy[g] == 0, first = k->order[k->start[g]] == i;
            if (per_core ? pass == 1 || !first || !core_free
                         : busy[i] || core_free != (pass == 0))
                continue;
            struct item *it = &c->items[c->nitems++];
            for (int l = 0; l < c->nlevels; l++)
                it->key[l] = field(&node->pu[i], c->level[l]);
            it->yield = per_core ? per_core : 1;
            it->pu = i;
        }
    free(nbusy);
    return 0;
}

/* PUs of the core of PU i: all of them (held) or the first max (bound). */
static void core_pus(const struct cores *k, int i, int max, int *out, int *n)
{
    int g = k->core_of[i];

    for (int p = 0; p < k->len[g] && (max <= 0 || p < max); p++)
        out[(*n)++] = k->order[k->start[g] + p];
}

/* PUs each whole core gives with threads_per_core t (the smallest core
 * decides, so that every task gets what it asked for). */
static int per_core_yield(const struct cores *k, int t)
{
    int min = INT_MAX;

    for (int g = 0; g < k->n; g++)
        if (k->len[g] < min)
            min = k->len[g];
    return t < min ? t : min;
}

static int choose_gpus(const struct alloc_node *node, const bool *gpu_busy,
                       int want, int *out, int *pkg)
{
    int n = 0, best = -1, best_free = 0;

    *pkg = -1;
    for (int i = 0; i < node->ngpu; i++) {
        int p = node->gpu[i].pkg, f = 0;
        for (int j = 0; j < node->ngpu; j++)
            f += node->gpu[j].pkg == p && !gpu_busy[j];
        if (f >= want && (best < 0 || f < best_free)) {
            best = p;
            best_free = f;
        }
    }
    for (int i = 0; i < node->ngpu && n < want; i++)
        if (!gpu_busy[i] && (best < 0 || node->gpu[i].pkg == best))
            out[n++] = i;
    *pkg = best;
    return n;
}

static int valid(const struct alloc_req *req)
{
    return req->ntasks > 0 && req->cpus_per_task > 0
           && req->threads_per_core >= 0 && req->gpus >= 0
           && (long)req->ntasks * req->cpus_per_task <= INT_MAX / 2;
}

bool alloc_possible(const struct alloc_node *node, const struct alloc_req *req)
{
    if (!valid(req) || req->gpus > node->ngpu)
        return false;
    if (req->threads_per_core) {
        struct cores k;
        if (cores_build(node, &k) < 0)
            return false;
        int y = per_core_yield(&k, req->threads_per_core), n = k.n;
        cores_release(&k);
        return (long)req->ntasks * ((req->cpus_per_task + y - 1) / y) <= n;
    }
    return (long)req->ntasks * req->cpus_per_task <= node->npu;
}

void alloc_result_release(struct alloc_result *res)
{
    free(res->held);
    free(res->cpus);
    free(res->task);
    free(res->gpu);
    memset(res, 0, sizeof(*res));
}

int alloc_place(const struct alloc_node *node, const bool *busy,
                const bool *gpu_busy, const struct alloc_req *req,
                struct alloc_result *res)
{
    struct ctx c = { .node = node };
    int tpc = req->threads_per_core, y = 1, per_task, ntask_pus, gpu_pkg = -1;
    int *s = NULL, *chosen = NULL, nchosen = 0, err = ENOMEM;
    bool *taken = NULL;

    memset(res, 0, sizeof(*res));
    if (!valid(req)) {
        errno = EINVAL;
        return -1;
    }
    if (req->exclusive)
        for (int i = 0; i < node->npu; i++)
            if (busy[i]) {
                errno = ENOSPC;
                return -1;
            }
    if (cores_build(node, &c.cores) < 0)
        goto out;
    if (tpc)
        y = per_core_yield(&c.cores, tpc);
    per_task = (req->cpus_per_task + y - 1) / y; /* items per task */
    ntask_pus = req->ntasks * req->cpus_per_task;
    order_levels(&c, !tpc);
    if (build_items(&c, busy, tpc ? y : 0) < 0)
        goto out;
    res->gpu = calloc(req->gpus + 1, sizeof(*res->gpu));
    s = malloc((c.nitems + 1) * sizeof(*s));
    chosen = malloc((c.nitems + 1) * sizeof(*chosen));
    taken = calloc(c.nitems + 1, sizeof(*taken));
    res->task = malloc(ntask_pus * sizeof(*res->task));
    res->held = malloc(node->npu * sizeof(*res->held));
    res->cpus = malloc(node->npu * sizeof(*res->cpus));
    if (!res->gpu || !s || !chosen || !taken || !res->task || !res->held
        || !res->cpus)
        goto out;
    err = ENOSPC;
    if (req->gpus) {
        if ((res->ngpu =
                 choose_gpus(node, gpu_busy, req->gpus, res->gpu, &gpu_pkg))
            < req->gpus)
            goto out;
    }
    if (req->dist == ALLOC_CYCLIC) {
        /* Task t goes to the next package round robin that has room for
         * it, compactly there; if none has, anywhere. */
        int npkg = 0, *pkgs = s; /* s is free until the loop needs it */
        for (int i = 0; i < c.nitems; i++) {
            int p = node->pu[c.items[i].pu].pkg, k = 0;
            while (k < npkg && pkgs[k] != p)
                k++;
            if (k == npkg)
                pkgs[npkg++] = p;
        }
        qsort(pkgs, npkg, sizeof(*pkgs), cmp_int);
        int *order = malloc((npkg + 1) * sizeof(*order));
        if (!order) {
            err = ENOMEM;
            goto out;
        }
        memcpy(order, pkgs, npkg * sizeof(*order));
        for (int t = 0, next = 0; t < req->ntasks; t++) {
            int before = nchosen, got = 0;
            for (int tries = 0; tries <= npkg && got < per_task * y; tries++) {
                int m = 0, p = tries < npkg ? order[(next + tries) % npkg] : -1;
                for (int i = 0; i < c.nitems; i++)
                    if (!taken[i]
                        && (p < 0 || node->pu[c.items[i].pu].pkg == p))
                        s[m++] = i;
                nchosen = before;
                got = choose(&c, s, m, 0, per_task * y, chosen, &nchosen);
                if (got < 0) {
                    free(order);
                    err = ENOMEM;
                    goto out;
                }
                if (got >= per_task * y && p >= 0)
                    next = (next + tries + 1) % npkg;
            }
            if (got < per_task * y) {
                free(order);
                goto out;
            }
            /* Keep each task's items in logical order. */
            by_pu(&c, chosen + before, nchosen - before);
            for (int i = before; i < nchosen; i++)
                taken[chosen[i]] = true;
        }
        free(order);
    } else {
        int m = 0, need = req->ntasks * per_task * y, got;
        for (int pass = 0; pass < 2 && m == 0; pass++) {
            /* GPU jobs first try the GPUs' package. */
            if (pass == 0 && gpu_pkg < 0)
                continue;
            for (int i = 0; i < c.nitems; i++)
                if (pass == 1 || node->pu[c.items[i].pu].pkg == gpu_pkg)
                    s[m++] = i;
            int cap = 0;
            for (int i = 0; i < m; i++)
                cap += c.items[s[i]].yield;
            if (pass == 0 && cap < need)
                m = 0;
        }
        if ((got = choose(&c, s, m, 0, need, chosen, &nchosen)) < need) {
            err = got < 0 ? ENOMEM : ENOSPC;
            goto out;
        }
        by_pu(&c, chosen, nchosen);
    }
    /* chosen[] is task by task; items are PUs, or cores giving y PUs. */
    for (int t = 0, i = 0, k = 0; t < req->ntasks; t++) {
        int want = req->cpus_per_task;
        for (int used = 0; used < per_task; used++, i++) {
            const struct item *it = &c.items[chosen[i]];
            if (!tpc) {
                res->task[k++] = it->pu;
                res->held[res->nheld++] = it->pu;
                want--;
                continue;
            }
            int before = k;
            core_pus(&c.cores, it->pu, 0, res->held, &res->nheld);
            core_pus(&c.cores, it->pu, y < want ? y : want, res->task, &k);
            want -= k - before;
        }
    }
    if (req->exclusive) {
        res->nheld = 0;
        for (int i = 0; i < node->npu; i++)
            res->held[res->nheld++] = i;
        memcpy(res->cpus, res->held, res->nheld * sizeof(*res->cpus));
        res->ncpus = res->nheld;
    } else {
        memcpy(res->cpus, res->task, ntask_pus * sizeof(*res->cpus));
        res->ncpus = ntask_pus;
        qsort(res->cpus, res->ncpus, sizeof(*res->cpus), cmp_int);
    }
    qsort(res->held, res->nheld, sizeof(*res->held), cmp_int);
    cores_release(&c.cores);
    free(c.items);
    free(s);
    free(chosen);
    free(taken);
    return 0;
out:
    cores_release(&c.cores);
    free(c.items);
    free(s);
    free(chosen);
    free(taken);
    alloc_result_release(res);
    errno = err;
    return -1;
}

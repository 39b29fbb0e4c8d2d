/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The machine as hwloc sees it, reduced to what the scheduler needs. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <hwloc.h>

#include "lib/topo.h"

static int logical_of(hwloc_topology_t h, hwloc_obj_t pu, hwloc_obj_type_t type)
{
    hwloc_obj_t o = hwloc_get_ancestor_obj_by_type(h, type, pu);
    return o ? (int)o->logical_index : 0;
}

static int numa_of(hwloc_topology_t h, hwloc_obj_t pu)
{
    hwloc_obj_t n = NULL;

    while ((n = hwloc_get_next_obj_by_type(h, HWLOC_OBJ_NUMANODE, n)))
        if (n->cpuset && hwloc_bitmap_isset(n->cpuset, pu->os_index))
            return (int)n->logical_index;
    return 0;
}

static int count_distinct(const struct topo *t, int which)
{
    int count = 0;

    for (int i = 0; i < t->npu; i++) {
        int k = which == 0 ? t->pu[i].core : which == 1 ? t->pu[i].numa : t->pu[i].pkg;
        int seen = 0;
        for (int j = 0; j < i && !seen; j++)
            seen = k == (which == 0 ? t->pu[j].core : which == 1 ? t->pu[j].numa : t->pu[j].pkg);
        count += !seen;
    }
    return count;
}

static void count_objects(struct topo *t)
{
    t->ncores = count_distinct(t, 0);
    t->nnuma = count_distinct(t, 1);
    t->npkg = count_distinct(t, 2);
}

struct topo *topo_discover(const char *spec, const char *cpus,
                           struct kiln_error *err)
{
    hwloc_topology_t h = NULL;
    hwloc_bitmap_t want = NULL, numas = NULL;
    struct topo *t = NULL;
    hwloc_obj_t pu = NULL;
    int n = 0;

    if (hwloc_topology_init(&h) < 0) {
        errprintf(err, "hwloc: cannot initialise");
        return NULL;
    }
    /* "xml:FILE" is an hwloc XML export (lstopo foo.xml); anything else a
     * synthetic description. */
    if (spec && strncmp(spec, "xml:", 4) == 0) {
        if (hwloc_topology_set_xml(h, spec + 4) < 0) {
            errprintf(err, "cannot read topology XML '%s'", spec + 4);
            goto error;
        }
    } else if (spec && hwloc_topology_set_synthetic(h, spec) < 0) {
        errprintf(err, "invalid synthetic topology '%s'", spec);
        goto error;
    }
    if (hwloc_topology_load(h) < 0) {
        errprintf(err, "hwloc: cannot load the topology");
        goto error;
    }
    want = hwloc_bitmap_alloc();
    numas = hwloc_bitmap_alloc();
    if (!want || !numas)
        goto nomem;
    if (cpus) {
        if (hwloc_bitmap_list_sscanf(want, cpus) < 0 || hwloc_bitmap_iszero(want)
            || hwloc_bitmap_weight(want) < 0) {
            errprintf(err, "invalid cpu list '%s'", cpus);
            goto error;
        }
        if (!hwloc_bitmap_isincluded(want, hwloc_topology_get_allowed_cpuset(h))) {
            errprintf(err, "cpu list '%s' names cpus this machine does not "
                           "have or does not allow", cpus);
            goto error;
        }
    } else {
        hwloc_bitmap_copy(want, hwloc_topology_get_allowed_cpuset(h));
    }
    if (!(t = calloc(1, sizeof(*t))))
        goto nomem;
    if (!(t->pu = calloc(hwloc_get_nbobjs_by_type(h, HWLOC_OBJ_PU), sizeof(*t->pu))))
        goto nomem;
    while ((pu = hwloc_get_next_obj_by_type(h, HWLOC_OBJ_PU, pu))) {
        if (!hwloc_bitmap_isset(want, pu->os_index))
            continue;
        t->pu[n].os = (int)pu->os_index;
        t->pu[n].core = logical_of(h, pu, HWLOC_OBJ_CORE);
        t->pu[n].pkg = logical_of(h, pu, HWLOC_OBJ_PACKAGE);
        t->pu[n].numa = numa_of(h, pu);
        hwloc_bitmap_set(numas, (unsigned)t->pu[n].numa);
        n++;
    }
    t->npu = n;
    for (hwloc_obj_t o = NULL; (o = hwloc_get_next_obj_by_type(h, HWLOC_OBJ_NUMANODE, o));)
        if (hwloc_bitmap_isset(numas, o->logical_index))
            t->mem_mib += (int64_t)(o->attr->numanode.local_memory >> 20);
    if (t->mem_mib == 0) /* some synthetic or odd machines report none */
        t->mem_mib = 1024;
    count_objects(t);
    hwloc_bitmap_free(want);
    hwloc_bitmap_free(numas);
    hwloc_topology_destroy(h);
    return t;
nomem:
    errprintf(err, "out of memory");
error:
    hwloc_bitmap_free(want);
    hwloc_bitmap_free(numas);
    if (h)
        hwloc_topology_destroy(h);
    topo_destroy(t);
    return NULL;
}

json_t *topo_to_json(const struct topo *t)
{
    json_t *pus = json_array(), *o;

    if (!pus)
        return NULL;
    for (int i = 0; i < t->npu; i++) {
        json_t *p = json_pack("[i,i,i,i]", t->pu[i].os, t->pu[i].core,
                              t->pu[i].numa, t->pu[i].pkg);
        if (!p || json_array_append_new(pus, p) < 0) {
            json_decref(pus);
            return NULL;
        }
    }
    o = json_pack("{s:i, s:i, s:i, s:i, s:I, s:o}", "packages", t->npkg,
                  "numa_nodes", t->nnuma, "cores", t->ncores, "pus", t->npu,
                  "memory_mib", (json_int_t)t->mem_mib, "pu", pus);
    return o;
}

struct topo *topo_from_json(const json_t *o, struct kiln_error *err)
{
    json_t *pus, *p;
    json_int_t mem;
    json_error_t jerr;
    struct topo *t;
    size_t i;

    if (json_unpack_ex((json_t *)o, &jerr, 0, "{s:I, s:o}", "memory_mib", &mem,
                       "pu", &pus) < 0) {
        errprintf(err, "invalid topology: %s", jerr.text);
        errno = EINVAL;
        return NULL;
    }
    if (!json_is_array(pus) || json_array_size(pus) == 0
        || json_array_size(pus) > 8192 || mem < 0 || mem > ((json_int_t)1 << 40)) {
        errprintf(err, "invalid topology: bad pu list or memory");
        errno = EINVAL;
        return NULL;
    }
    if (!(t = calloc(1, sizeof(*t)))
        || !(t->pu = calloc(json_array_size(pus), sizeof(*t->pu)))) {
        topo_destroy(t);
        errno = ENOMEM;
        return NULL;
    }
    json_array_foreach(pus, i, p) {
        int os, core, numa, pkg;
        if (json_unpack(p, "[iiii!]", &os, &core, &numa, &pkg) < 0 || os < 0
            || core < 0 || numa < 0 || pkg < 0 || os > 1 << 20) {
            errprintf(err, "invalid topology: bad pu entry %zu", i);
            topo_destroy(t);
            errno = EINVAL;
            return NULL;
        }
        for (size_t j = 0; j < i; j++)
            if (t->pu[j].os == os) {
                errprintf(err, "invalid topology: pu %d listed twice", os);
                topo_destroy(t);
                errno = EINVAL;
                return NULL;
            }
        t->pu[i] = (struct alloc_pu){ .os = os, .core = core, .numa = numa, .pkg = pkg };
    }
    t->npu = (int)json_array_size(pus);
    t->mem_mib = mem;
    count_objects(t);
    return t;
}

void topo_destroy(struct topo *t)
{
    if (t) {
        int saved = errno;
        free(t->pu);
        free(t);
        errno = saved;
    }
}

char *topo_cpulist(const struct topo *t, const int *idx, int n)
{
    hwloc_bitmap_t b = hwloc_bitmap_alloc();
    char *s = NULL;

    if (!b)
        return NULL;
    for (int i = 0; i < n; i++)
        hwloc_bitmap_set(b, (unsigned)t->pu[idx[i]].os);
    if (hwloc_bitmap_list_asprintf(&s, b) < 0)
        s = NULL;
    hwloc_bitmap_free(b);
    return s;
}

int topo_indices(const struct topo *t, const char *cpulist, int *idx)
{
    hwloc_bitmap_t b = hwloc_bitmap_alloc();
    int n = 0, want;

    if (!b)
        return -1;
    if (hwloc_bitmap_list_sscanf(b, cpulist) < 0
        || (want = hwloc_bitmap_weight(b)) <= 0) {
        hwloc_bitmap_free(b);
        errno = EINVAL;
        return -1;
    }
    for (int i = 0; i < t->npu; i++)
        if (hwloc_bitmap_isset(b, (unsigned)t->pu[i].os))
            idx[n++] = i;
    hwloc_bitmap_free(b);
    if (n != want) {
        errno = EINVAL;
        return -1;
    }
    return n;
}

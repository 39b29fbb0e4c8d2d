/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The machine as hwloc sees it, reduced to what the scheduler needs. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
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

static int pu_field(const struct alloc_pu *p, int which)
{
    return which == 0   ? p->core
           : which == 1 ? p->numa
           : which == 2 ? p->pkg
                        : p->l3;
}

static int count_distinct(const struct topo *t, int which)
{
    int count = 0;

    for (int i = 0; i < t->npu; i++) {
        int seen = 0;
        for (int j = 0; j < i && !seen; j++)
            seen = pu_field(&t->pu[i], which) == pu_field(&t->pu[j], which);
        count += !seen;
    }
    return count;
}

static void count_objects(struct topo *t)
{
    t->ncores = count_distinct(t, 0);
    t->nnuma = count_distinct(t, 1);
    t->npkg = count_distinct(t, 2);
    t->nl3 = count_distinct(t, 3);
    for (int i = 0; i < t->npu; i++)
        if (t->pu[i].l3 >= TOPO_NO_L3) {
            t->nl3 = 0; /* no L3 cache: each core was its own group */
            break;
        }
}

/* The preference among a GPU's OS devices for its name: CUDA's and ROCm's
 * numbering is what their *_VISIBLE_DEVICES variables use. */
static int gpu_rank(hwloc_obj_t o)
{
    static const char *const order[] = { "cuda", "rsmi", "nvml", "opencl",
                                         "card" };

    for (size_t i = 0; i < sizeof(order) / sizeof(*order); i++)
        if (o->name && strncmp(o->name, order[i], strlen(order[i])) == 0)
            return (int)i;
    return (int)(sizeof(order) / sizeof(*order));
}

static int gpu_rank_of_name(const char *name)
{
    struct hwloc_obj o = { .name = (char *)name };
    return name[0] ? gpu_rank(&o) : 1 << 20;
}

static bool is_gpu(hwloc_obj_t o)
{
    return o->attr->osdev.type == HWLOC_OBJ_OSDEV_GPU
           || (o->attr->osdev.type == HWLOC_OBJ_OSDEV_COPROC && o->subtype
               && (strcmp(o->subtype, "CUDA") == 0
                   || strcmp(o->subtype, "OpenCL") == 0));
}

/* One GPU per PCI device (or other parent) that has GPU OS devices,
 * located at the package and NUMA node of its non-I/O ancestor. */
static int find_gpus(hwloc_topology_t h, struct topo *t)
{
    hwloc_obj_t o = NULL;
    hwloc_obj_t parents[256];
    int n = 0;

    while ((o = hwloc_get_next_osdev(h, o)) && n < 256) {
        if (!is_gpu(o) || !o->name)
            continue;
        int k = 0;
        while (k < n && parents[k] != o->parent)
            k++;
        if (k == n) {
            struct alloc_gpu *g = realloc(t->gpu, (n + 1) * sizeof(*g));
            struct topo_gpu *gi =
                g ? realloc(t->gpu_info, (n + 1) * sizeof(*gi)) : NULL;
            if (g)
                t->gpu = g;
            if (!gi)
                return -1;
            t->gpu_info = gi;
            parents[n++] = o->parent;
            t->gpu_info[k].name[0] = 0;
            hwloc_obj_t anc = hwloc_get_non_io_ancestor_obj(h, o);
            hwloc_obj_t pu = anc && anc->cpuset
                                 ? hwloc_get_next_obj_covering_cpuset_by_type(
                                     h, anc->cpuset, HWLOC_OBJ_PU, NULL)
                                 : NULL;
            if (!pu)
                pu = hwloc_get_obj_by_type(h, HWLOC_OBJ_PU, 0);
            t->gpu[k].pkg = pu ? logical_of(h, pu, HWLOC_OBJ_PACKAGE) : 0;
            t->gpu[k].numa = pu ? numa_of(h, pu) : 0;
        } else if (gpu_rank(o) >= gpu_rank_of_name(t->gpu_info[k].name)) {
            continue;
        }
        snprintf(t->gpu_info[k].name, sizeof(t->gpu_info[k].name), "%s",
                 o->name);
        const char *d = o->name + strcspn(o->name, "0123456789");
        t->gpu_info[k].index = *d ? atoi(d) : k;
    }
    t->ngpu = n;
    return 0;
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
    /* GPUs are I/O devices.  On Linux the core component finds PCI devices
     * in sysfs; the libpciaccess one adds nothing there, and leaks. */
    hwloc_topology_set_io_types_filter(h, HWLOC_TYPE_FILTER_KEEP_IMPORTANT);
    hwloc_topology_set_components(h, HWLOC_TOPOLOGY_COMPONENTS_FLAG_BLACKLIST,
                                  "pci");
    if (hwloc_topology_load(h) < 0) {
        errprintf(err, "hwloc: cannot load the topology");
        goto error;
    }
    want = hwloc_bitmap_alloc();
    numas = hwloc_bitmap_alloc();
    if (!want || !numas)
        goto nomem;
    if (cpus) {
        if (hwloc_bitmap_list_sscanf(want, cpus) < 0
            || hwloc_bitmap_iszero(want) || hwloc_bitmap_weight(want) < 0) {
            errprintf(err, "invalid cpu list '%s'", cpus);
            goto error;
        }
        if (!hwloc_bitmap_isincluded(want,
                                     hwloc_topology_get_allowed_cpuset(h))) {
            errprintf(err,
                      "cpu list '%s' names cpus this machine does not "
                      "have or does not allow",
                      cpus);
            goto error;
        }
    } else {
        hwloc_bitmap_copy(want, hwloc_topology_get_allowed_cpuset(h));
    }
    if (!(t = calloc(1, sizeof(*t))))
        goto nomem;
    if (!(t->pu = calloc(hwloc_get_nbobjs_by_type(h, HWLOC_OBJ_PU),
                         sizeof(*t->pu))))
        goto nomem;
    while ((pu = hwloc_get_next_obj_by_type(h, HWLOC_OBJ_PU, pu))) {
        if (!hwloc_bitmap_isset(want, pu->os_index))
            continue;
        t->pu[n].os = (int)pu->os_index;
        t->pu[n].core = logical_of(h, pu, HWLOC_OBJ_CORE);
        t->pu[n].pkg = logical_of(h, pu, HWLOC_OBJ_PACKAGE);
        t->pu[n].numa = numa_of(h, pu);
        /* Without an L3 cache the core is its own group. */
        hwloc_obj_t l3 =
            hwloc_get_ancestor_obj_by_type(h, HWLOC_OBJ_L3CACHE, pu);
        t->pu[n].l3 = l3 ? (int)l3->logical_index : TOPO_NO_L3 + t->pu[n].core;
        hwloc_bitmap_set(numas, (unsigned)t->pu[n].numa);
        n++;
    }
    t->npu = n;
    t->nnuma_os = hwloc_get_nbobjs_by_type(h, HWLOC_OBJ_NUMANODE);
    if (!(t->numa_os = calloc(t->nnuma_os + 1, sizeof(*t->numa_os))))
        goto nomem;
    for (hwloc_obj_t o = NULL;
         (o = hwloc_get_next_obj_by_type(h, HWLOC_OBJ_NUMANODE, o));) {
        t->numa_os[o->logical_index] = (int)o->os_index;
        if (hwloc_bitmap_isset(numas, o->logical_index))
            t->mem_mib += (int64_t)(o->attr->numanode.local_memory >> 20);
    }
    if (t->mem_mib == 0) /* some synthetic or odd machines report none */
        t->mem_mib = 1024;
    count_objects(t);
    if (find_gpus(h, t) < 0)
        goto nomem;
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
        json_t *p = json_pack("[i,i,i,i,i]", t->pu[i].os, t->pu[i].core,
                              t->pu[i].numa, t->pu[i].pkg, t->pu[i].l3);
        if (!p || json_array_append_new(pus, p) < 0) {
            json_decref(pus);
            return NULL;
        }
    }
    json_t *gpus = json_array();
    for (int i = 0; gpus && i < t->ngpu; i++)
        json_array_append_new(
            gpus, json_pack("{s:s, s:i, s:i, s:i}", "name", t->gpu_info[i].name,
                            "index", t->gpu_info[i].index, "package",
                            t->gpu[i].pkg, "numa", t->gpu[i].numa));
    o = json_pack("{s:i, s:i, s:i, s:i, s:i, s:I, s:o, s:o*}", "packages",
                  t->npkg, "numa_nodes", t->nnuma, "l3_groups", t->nl3, "cores",
                  t->ncores, "pus", t->npu, "memory_mib",
                  (json_int_t)t->mem_mib, "pu", pus, "gpus", gpus);
    return o;
}

struct topo *topo_from_json(const json_t *o, struct kiln_error *err)
{
    json_t *pus, *p, *gpus = NULL;
    json_int_t mem;
    json_error_t jerr;
    struct topo *t;
    size_t i;

    if (json_unpack_ex((json_t *)o, &jerr, 0, "{s:I, s:o, s?o}", "memory_mib",
                       &mem, "pu", &pus, "gpus", &gpus)
        < 0) {
        errprintf(err, "invalid topology: %s", jerr.text);
        errno = EINVAL;
        return NULL;
    }
    if (!json_is_array(pus) || json_array_size(pus) == 0
        || json_array_size(pus) > 8192 || mem < 0
        || mem > ((json_int_t)1 << 40)) {
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
    json_array_foreach (pus, i, p) {
        int os, core, numa, pkg, l3 = -1;
        /* Before L3 groups, entries had four numbers. */
        if ((json_unpack(p, "[iiiii!]", &os, &core, &numa, &pkg, &l3) < 0
             && json_unpack(p, "[iiii!]", &os, &core, &numa, &pkg) < 0)
            || os < 0 || core < 0 || numa < 0 || pkg < 0 || os > 1 << 20) {
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
        t->pu[i] = (struct alloc_pu){ .os = os,
                                      .core = core,
                                      .numa = numa,
                                      .pkg = pkg,
                                      .l3 = l3 >= 0 ? l3 : TOPO_NO_L3 + core };
    }
    if (gpus && (!json_is_array(gpus) || json_array_size(gpus) > 256)) {
        errprintf(err, "invalid topology: bad gpu list");
        topo_destroy(t);
        errno = EINVAL;
        return NULL;
    }
    if (gpus && json_array_size(gpus)) {
        t->gpu = calloc(json_array_size(gpus), sizeof(*t->gpu));
        t->gpu_info = calloc(json_array_size(gpus), sizeof(*t->gpu_info));
        if (!t->gpu || !t->gpu_info) {
            topo_destroy(t);
            errno = ENOMEM;
            return NULL;
        }
    }
    json_array_foreach (gpus, i, p) {
        const char *name;
        int index, pkg, numa;
        if (json_unpack(p, "{s:s, s:i, s:i, s:i}", "name", &name, "index",
                        &index, "package", &pkg, "numa", &numa)
                < 0
            || strlen(name) >= 32 || index < 0 || pkg < 0 || numa < 0) {
            errprintf(err, "invalid topology: bad gpu entry %zu", i);
            topo_destroy(t);
            errno = EINVAL;
            return NULL;
        }
        snprintf(t->gpu_info[i].name, sizeof(t->gpu_info[i].name), "%s", name);
        t->gpu_info[i].index = index;
        t->gpu[i] = (struct alloc_gpu){ .pkg = pkg, .numa = numa };
        t->ngpu = (int)i + 1;
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
        free(t->gpu);
        free(t->gpu_info);
        free(t->numa_os);
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

char *topo_memlist(const struct topo *t, const int *idx, int n)
{
    hwloc_bitmap_t b;
    char *s = NULL;

    if (!t->numa_os || !(b = hwloc_bitmap_alloc()))
        return NULL;
    for (int i = 0; i < n; i++)
        if (t->pu[idx[i]].numa < t->nnuma_os)
            hwloc_bitmap_set(b, (unsigned)t->numa_os[t->pu[idx[i]].numa]);
    if (hwloc_bitmap_iszero(b) || hwloc_bitmap_list_asprintf(&s, b) < 0)
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

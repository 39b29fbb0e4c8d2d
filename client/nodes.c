/* SPDX-License-Identifier: GPL-2.0-or-later */
/* kiln nodes (sinfo) and kiln node show: the nodes, their topology, and
 * which job holds which core. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"
#include "client/optparse.h"
#include "lib/log.h"
#include "lib/topo.h"

static const char *topology_line(const json_t *tp, char *buf, size_t len)
{
    size_t ngpu = json_array_size(json_object_get(tp, "gpus"));

    if (!tp)
        return "-";
    snprintf(buf, len,
             "%lld pkg, %lld numa, %lld L3, %lld cores, %lld pus%s%.0zu%s",
             (long long)jnum(tp, "packages"), (long long)jnum(tp, "numa_nodes"),
             (long long)jnum(tp, "l3_groups"), (long long)jnum(tp, "cores"),
             (long long)jnum(tp, "pus"), ngpu ? ", " : "", ngpu,
             ngpu ? " gpus" : "");
    return buf;
}

/* The long form: one block per node, as sinfo --long and scontrol show
 * node give it. */
static void print_long(const json_t *n)
{
    const json_t *tp = json_object_get(n, "topology"), *g;
    char buf[256];
    size_t i;

    printf("Node %s: %s", jstr(n, "name"), jstr(n, "state"));
    if (json_is_string(json_object_get(n, "reason")))
        printf(" (%s)", jstr(n, "reason"));
    printf("  CE=%s  Features=%s\n", jstr(n, "ce"),
           *jstr(n, "features") ? jstr(n, "features") : "(none)");
    printf(
        "  CPUs=%lld/%lld  Memory=%lld/%lld MiB  GPUs=%lld/%lld  Jobs=%lld\n",
        (long long)jnum(n, "cpus_used"), (long long)jnum(n, "cpus_total"),
        (long long)jnum(n, "memory_used_mib"), (long long)jnum(n, "memory_mib"),
        (long long)jnum(n, "gpus_used"), (long long)jnum(n, "gpus_total"),
        (long long)jnum(n, "jobs"));
    printf("  Topology: %s\n", topology_line(tp, buf, sizeof(buf)));
    printf("  Runtimes=%s  Address=%s\n",
           *jstr(n, "runtimes") ? jstr(n, "runtimes") : "(none)",
           *jstr(n, "address") ? jstr(n, "address") : "-");
    json_array_foreach (json_object_get(tp, "gpus"), i, g)
        printf("  GPU %zu: %s (device %lld) on package %lld, NUMA node %lld\n",
               i, jstr(g, "name"), (long long)jnum(g, "index"),
               (long long)jnum(g, "package"), (long long)jnum(g, "numa"));
}

int cmd_nodes(int argc, char **argv)
{
    static const char *head[] = { "NODE",      "STATE",
                                  "CPUS(A/T)", "MEMORY(A/T MiB)",
                                  "GPUS",      "JOBS",
                                  "CE",        "FEATURES",
                                  "TOPOLOGY",  "INSTANCE (TYPE MARKET STATE)" };
    static struct {
        bool json, lng;
    } o;
    static const struct opt table[] = {
        { "json", 0, OPT_FLAG, offsetof(typeof(o), json), NULL, "print JSON" },
        { "long", 'l', OPT_FLAG, offsetof(typeof(o), lng), NULL,
          "every detail of each node" },
        OPT_END,
    };
    static const struct opt_cmd cmd = { "kiln nodes [--long] [--json]", table,
                                        .anywhere = true };
    json_t *r, *nodes, *n;
    size_t i;
    int first = optparse(argc, argv, &cmd, &o, NULL, "");
    bool json = o.json, lng = o.lng;

    if (first < argc)
        die("unexpected argument '%s'", argv[first]);
    r = client_request("node.list", json_object());
    nodes = json_object_get(r, "nodes");
    if (json) {
        client_print_json(nodes);
        json_decref(r);
        return 0;
    }
    if (lng) {
        json_array_foreach (nodes, i, n) {
            if (i)
                printf("\n");
            print_long(n);
        }
        json_decref(r);
        return 0;
    }
    /* Instances of managed environments: their type, market and state
     * in a column of their own. */
    bool elastic = false;
    json_array_foreach (nodes, i, n)
        elastic = elastic || json_object_get(n, "instance");
    struct table *t = table_create(elastic ? 10 : 9, head);
    json_array_foreach (nodes, i, n) {
        const json_t *in = json_object_get(n, "instance");
        char inst[128] = "-";
        char cpus[32], mem[64], gpus[32], jobs[16], topo[160];
        snprintf(cpus, sizeof(cpus), "%lld/%lld",
                 (long long)jnum(n, "cpus_used"),
                 (long long)jnum(n, "cpus_total"));
        snprintf(mem, sizeof(mem), "%lld/%lld",
                 (long long)jnum(n, "memory_used_mib"),
                 (long long)jnum(n, "memory_mib"));
        snprintf(gpus, sizeof(gpus), "%lld/%lld",
                 (long long)jnum(n, "gpus_used"),
                 (long long)jnum(n, "gpus_total"));
        snprintf(jobs, sizeof(jobs), "%lld", (long long)jnum(n, "jobs"));
        if (in)
            snprintf(inst, sizeof(inst), "%s %s %s", jstr(in, "type"),
                     jstr(in, "market"), jstr(in, "state"));
        const char *cells[] = {
            jstr(n, "name"),
            jstr(n, "state"),
            cpus,
            mem,
            gpus,
            jobs,
            jstr(n, "ce"),
            *jstr(n, "features") ? jstr(n, "features") : "-",
            topology_line(json_object_get(n, "topology"), topo, sizeof(topo)),
            inst,
        };
        table_add_row(t, cells);
    }
    table_print(t, stdout);
    table_destroy(t);
    json_decref(r);
    return 0;
}

/* The letter that stands for holder h in the map: A-Z, then a-z, then #. */
static char mark(size_t h)
{
    return h < 26 ? (char)('A' + h) : h < 52 ? (char)('a' + h - 26) : '#';
}

/* Draw n's cores: a line per L3 group (or NUMA node), grouped by package
 * and NUMA node, each core a bracket of its PUs, each PU the letter of the
 * job holding it or '.' when free. */
static void draw(const json_t *n)
{
    const json_t *tp = json_object_get(n, "topology"),
                 *pus = json_object_get(tp, "pu");
    const json_t *holders = json_object_get(n, "holders"), *h, *p;
    size_t npu = json_array_size(pus), i, k;
    char *owner = calloc(npu + 1, 1);
    int last_pkg = -1, last_numa = -1, last_l3 = -1, last_core = -1,
        on_line = 0;

    if (!owner)
        die("out of memory");
    memset(owner, '.', npu);
    json_array_foreach (holders, i, h) {
        json_t *v;
        json_array_foreach (json_object_get(h, "pus"), k, v) {
            json_int_t x = json_integer_value(v);
            if (x >= 0 && (size_t)x < npu)
                owner[x] = mark(i);
        }
    }
    /* Each PU entry is [os, core, numa, package, l3]; they come in
     * logical order, so each domain's PUs are together. */
    json_array_foreach (pus, i, p) {
        int os = (int)json_integer_value(json_array_get(p, 0));
        int core = (int)json_integer_value(json_array_get(p, 1));
        int numa = (int)json_integer_value(json_array_get(p, 2));
        int pkg = (int)json_integer_value(json_array_get(p, 3));
        int l3 = (int)json_integer_value(json_array_get(p, 4));
        bool new_line = false;
        if (pkg != last_pkg) {
            printf("%sPackage %d\n", last_core >= 0 ? "]\n" : "", pkg);
            last_numa = last_l3 = -1;
            last_core = -1;
        }
        if (numa != last_numa) {
            printf("%s  NUMA node %d\n", last_core >= 0 ? "]\n" : "", numa);
            last_l3 = -1;
            last_core = -1;
        }
        if ((l3 != last_l3 && (l3 < TOPO_NO_L3 || last_l3 < 0))
            || (core != last_core && on_line == 8))
            new_line = true;
        if (core != last_core || new_line) {
            if (last_core >= 0)
                printf("]%s", new_line ? "\n" : "");
            if (new_line) {
                if (l3 < TOPO_NO_L3)
                    printf("    L3 %-3d", l3);
                else
                    printf("    ");
                on_line = 0;
            }
            printf(" core %d [", core);
            on_line++;
        }
        putchar(owner[i]);
        (void)os;
        last_pkg = pkg;
        last_numa = numa;
        last_l3 = l3;
        last_core = core;
    }
    if (last_core >= 0)
        printf("]\n");
    json_array_foreach (json_object_get(tp, "gpus"), i, p) {
        char who = '.';
        json_array_foreach (holders, k, h) {
            json_t *v;
            size_t j;
            json_array_foreach (json_object_get(h, "gpus"), j, v)
                if ((size_t)json_integer_value(v) == i)
                    who = mark(k);
        }
        printf("GPU %zu %s (package %lld) [%c]\n", i, jstr(p, "name"),
               (long long)jnum(p, "package"), who);
    }
    json_array_foreach (holders, i, h)
        printf("%c  job %lld (%s, %s) cpus %s\n", mark(i),
               (long long)jnum(h, "id"), jstr(h, "user"), jstr(h, "name"),
               jstr(h, "cpus"));
    if (json_array_size(holders) == 0)
        printf("(no jobs)\n");
    free(owner);
}

int node_show(int argc, char **argv)
{
    const char *usage = "kiln node show NODE [--json]";
    bool json = false;
    int first = parse_simple(argc, argv, &json, usage);
    json_t *r, *n;

    if (first + 2 != argc)
        die("Usage: %s", usage);
    r = client_request("node.list",
                       json_pack("{s:s}", "name", argv[first + 1]));
    n = json_array_get(json_object_get(r, "nodes"), 0);
    if (json) {
        client_print_json(n);
    } else {
        print_long(n);
        if (json_object_get(n, "topology"))
            draw(n);
    }
    json_decref(r);
    return 0;
}

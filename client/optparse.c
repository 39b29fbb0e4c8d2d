/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Command options from one table (see optparse.h). */
#include <ctype.h>
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"
#include "client/optparse.h"
#include "lib/log.h"
#include "lib/units.h"

#define FIELD(opts, o, type) ((type *)((char *)(opts) + (o)->off))
#define CFIELD(opts, o, type) ((const type *)((const char *)(opts) + (o)->off))

static size_t field_size(const struct opt *o)
{
    switch (o->kind) {
    case OPT_FLAG: return sizeof(bool);
    case OPT_COUNT:
    case OPT_INT: return sizeof(long);
    case OPT_MEM:
    case OPT_TIME: return sizeof(int64_t);
    case OPT_STRING:
    case OPT_CHOICE: return sizeof(const char *);
    default: return o->size; /* OPT_FN: what it says */
    }
}

static bool chosen(const char *choices, const char *arg)
{
    size_t n = strlen(arg);

    for (const char *p = choices; *p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncmp(p, arg, n) == 0)
            return true;
        p += len + (bar != NULL);
    }
    return false;
}

static void take(const struct opt *o, void *opts, const char *arg,
                 const char *where)
{
    long v;

    switch (o->kind) {
    case OPT_FLAG: *FIELD(opts, o, bool) = true; break;
    case OPT_STRING: *FIELD(opts, o, const char *) = arg; break;
    case OPT_COUNT:
        if (units_parse_count(arg, o->max, &v) < 0)
            die("invalid value for --%s%s: '%s' (1-%ld)", o->name, where, arg,
                o->max);
        *FIELD(opts, o, long) = v;
        break;
    case OPT_INT: {
        char *end;
        v = arg ? strtol(arg, &end, 10) : o->def;
        if (arg && (!*arg || *end || v < o->min || v > o->max))
            die("invalid value for --%s%s: '%s' (%ld to %ld)", o->name, where,
                arg, o->min, o->max);
        *FIELD(opts, o, long) = v;
        break;
    }
    case OPT_MEM:
        if (units_parse_mem(arg, FIELD(opts, o, int64_t)) < 0)
            die("invalid value for --%s%s: '%s' (want a positive size such as 512M or 4G)",
                o->name, where, arg);
        break;
    case OPT_TIME:
        if (units_parse_time(arg, FIELD(opts, o, int64_t)) < 0)
            die("invalid value for --%s%s: '%s' (want minutes, M:S, H:M:S or D-H:M:S)",
                o->name, where, arg);
        break;
    case OPT_CHOICE:
        if (!chosen(o->choices, arg))
            die("invalid value for --%s%s: '%s' (%s)", o->name, where, arg,
                o->choices);
        *FIELD(opts, o, const char *) = arg;
        break;
    case OPT_FN: o->fn(opts, arg, where); break;
    }
}

int optparse(int argc, char **argv, const struct opt_cmd *cmd, void *opts,
             struct opt_given *given, const char *where)
{
    const struct opt *table = cmd->table;
    struct option longs[OPT_MAX + 4];
    char shorts[2 * OPT_MAX + 8];
    size_t n = 0, k = 0;
    int c, index;

    if (!cmd->anywhere)
        shorts[k++] = '+';
    shorts[k++] = 'h';
    for (const struct opt *o = table; o->name; o++, n++) {
        int has = o->kind == OPT_FLAG ? no_argument
                  : o->optional       ? optional_argument
                                      : required_argument;
        if (n >= OPT_MAX)
            die("internal error: too many options");
        /* The value getopt returns: the option's place in the table,
         * past every letter. */
        longs[n] = (struct option){ o->name, has, NULL, 256 + (int)n };
        if (o->key) {
            shorts[k++] = (char)o->key;
            if (has == required_argument)
                shorts[k++] = ':';
        }
    }
    shorts[k] = '\0';
    longs[n++] = (struct option){ "help", no_argument, NULL, 'h' };
    if (!cmd->local) {
        longs[n++] =
            (struct option){ "server", required_argument, NULL, OPT_SERVER };
        longs[n++] =
            (struct option){ "config", required_argument, NULL, OPT_CONFIG };
    }
    longs[n] = (struct option){ 0 };
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, shorts, longs, &index)) != -1) {
        const struct opt *o = NULL;
        if (c >= 256 && c < 256 + OPT_MAX) {
            o = &table[c - 256];
        } else if (c == 'h') {
            optparse_usage(stdout, cmd);
            exit(0);
        } else if (c == '?') {
            /* A long option's missing value leaves optopt its key (no
             * character to print): name it as it was written. */
            if (optopt > 0 && optopt < 128 && isprint(optopt))
                die("unknown or incomplete option '-%c'%s", optopt, where);
            die("unknown or incomplete option '%s'%s", argv[optind - 1], where);
        } else if (client_common_opt(c, optarg)) {
            continue;
        } else {
            for (const struct opt *t = table; t->name && !o; t++)
                if (t->key == c)
                    o = t;
            if (!o)
                die("unexpected option%s", where);
        }
        take(o, opts, optarg, where);
        if (given)
            given->on[o - table] = true;
    }
    return optind;
}

void optparse_merge(const struct opt *table, void *dst, const void *src,
                    const struct opt_given *given)
{
    for (const struct opt *o = table; o->name; o++)
        if (given->on[o - table] && field_size(o))
            memcpy((char *)dst + o->off, (const char *)src + o->off,
                   field_size(o));
}

bool optparse_given(const struct opt *table, const struct opt_given *given,
                    const char *name)
{
    for (const struct opt *o = table; o->name; o++)
        if (strcmp(o->name, name) == 0)
            return given->on[o - table];
    return false;
}

void optparse_usage(FILE *f, const struct opt_cmd *cmd)
{
    fprintf(f, "Usage: %s\n", cmd->usage);
    for (const struct opt *o = cmd->table; o->name; o++) {
        char left[96];
        if (!o->help)
            continue;
        snprintf(left, sizeof(left), "%c%c%s --%s%s%s%s", o->key ? '-' : ' ',
                 o->key ? o->key : ' ', o->key ? "," : " ", o->name,
                 o->arg ? (o->optional ? "[=" : " ") : "", o->arg ? o->arg : "",
                 o->arg && o->optional ? "]" : "");
        if (strlen(left) > 28) /* the help on a line of its own */
            fprintf(f, "  %s\n  %-28s %s\n", left, "", o->help);
        else
            fprintf(f, "  %-28s %s\n", left, o->help);
    }
    if (!cmd->local) {
        fprintf(f, "  %-28s %s\n", "    --server ENDPOINT",
                "the server to ask");
        fprintf(f, "  %-28s %s\n", "    --config FILE",
                "the configuration file");
    }
    if (cmd->footer)
        fprintf(f, "%s\n", cmd->footer);
}

void optparse_json(const struct opt *table, const void *opts,
                   const struct opt_given *given, json_t *job)
{
    for (const struct opt *o = table; o->name; o++) {
        json_t *v = NULL;
        if (!o->json || (given && !given->on[o - table]))
            continue;
        switch (o->kind) {
        case OPT_FLAG: v = *CFIELD(opts, o, bool) ? json_true() : NULL; break;
        case OPT_STRING:
        case OPT_CHOICE:
            v = *CFIELD(opts, o, const char *)
                    ? json_string(*CFIELD(opts, o, const char *))
                    : NULL;
            break;
        case OPT_COUNT:
            v = *CFIELD(opts, o, long) ? json_integer(*CFIELD(opts, o, long))
                                       : NULL;
            break;
        case OPT_INT: /* 0 is a value: only when given */
            v = given ? json_integer(*CFIELD(opts, o, long)) : NULL;
            break;
        case OPT_MEM:
        case OPT_TIME:
            v = *CFIELD(opts, o, int64_t)
                    ? json_integer(*CFIELD(opts, o, int64_t))
                    : NULL;
            break;
        case OPT_FN: break;
        }
        if (v)
            json_object_set_new(job, o->json, v);
    }
}

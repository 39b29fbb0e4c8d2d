/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Command options from one table: the getopt tables, the parsing into a
 * command's options struct, the usage text, the merge of one source over
 * another (the command line over a script's directives), and the JSON
 * fields that go into a request as they are.  As git's parse-options or
 * flux's optparse do. */
#ifndef KILN_OPTPARSE_H
#define KILN_OPTPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <jansson.h>

enum opt_kind {
    OPT_FLAG,   /* bool: true when given */
    OPT_STRING, /* const char *: the argument */
    OPT_COUNT,  /* long: a count, 1..max */
    OPT_INT,  /* long: an integer, min..max (def when optional and left out) */
    OPT_MEM,  /* int64_t: a size in MiB (512M, 4G) */
    OPT_TIME, /* int64_t: seconds (minutes, M:S, H:M:S, D-H:M:S) */
    OPT_CHOICE, /* const char *: one of the words of choices ("a|b") */
    OPT_FN,     /* fn decides (a value of its own kind) */
};

struct opt {
    const char *name; /* the long option */
    int key;          /* its letter, or 0 */
    enum opt_kind kind;
    size_t off;          /* where its value goes in the options struct */
    const char *arg;     /* the argument's name in the usage ("N"), or NULL */
    const char *help;    /* one line for the usage; NULL: not shown */
    long max;            /* OPT_COUNT, OPT_INT: the largest */
    long min, def;       /* OPT_INT: the smallest; the value of a bare --name */
    const char *choices; /* OPT_CHOICE: "a|b" */
    /* OPT_FN: parse arg (NULL when optional and left out) into opts; dies
     * on a bad value, naming where. */
    void (*fn)(void *opts, const char *arg, const char *where);
    size_t size;      /* OPT_FN: the bytes at off a merge copies (0: none) */
    bool optional;    /* its argument may be left out (--nice) */
    const char *json; /* the job field it sets as it is, or NULL (OPT_FN,
                          * OPT_INT: the command sets its fields) */
};

#define OPT_END      \
    {                \
        .name = NULL \
    }
enum { OPT_MAX = 64 }; /* options in one table, at most */

/* Which options of a table were given. */
struct opt_given {
    bool on[OPT_MAX];
};

/* A command: its usage and its options. */
struct opt_cmd {
    const char *usage; /* the synopsis lines, after "Usage: " */
    const struct opt *table;
    const char *footer; /* printed after the options, or NULL */
    bool anywhere;      /* options may follow the arguments (GNU order);
                              * else the first non-option ends them */
    bool local;         /* asks no server: no --server, --config */
};

/* Parse argv with cmd's table into opts; the common options (--server,
 * --config) are taken too, and -h/--help prints the usage and exits.
 * Dies on an unknown option or a bad value, naming where ("" on the
 * command line, " in a directive of 'x'").  Returns the index of the
 * first non-option (with anywhere, argv is permuted so that they follow
 * the options). */
int optparse(int argc, char **argv, const struct opt_cmd *cmd, void *opts,
             struct opt_given *given, const char *where);

/* Copy into dst each option given in src (a source that wins). */
void optparse_merge(const struct opt *table, void *dst, const void *src,
                    const struct opt_given *given);

/* Was the option called name given? */
bool optparse_given(const struct opt *table, const struct opt_given *given,
                    const char *name);

/* The usage: the synopsis, each option in two columns, the footer. */
void optparse_usage(FILE *f, const struct opt_cmd *cmd);

/* Set in o the field of each option with a json name: with given, those
 * given; without, those whose value is set (a string, a non-zero number,
 * a true flag), which may come from elsewhere (a job definition).
 * OPT_FN options are the command's to set. */
void optparse_json(const struct opt *table, const void *opts,
                   const struct opt_given *given, json_t *o);

#endif

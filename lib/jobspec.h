/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What a job asks for: the body of job.submit, checked field by field. */
#ifndef KILN_JOBSPEC_H
#define KILN_JOBSPEC_H

#include <stdint.h>
#include <jansson.h>

#include "lib/alloc.h"
#include "lib/error.h"

enum {
    JOBSPEC_MAX_SCRIPT = 512 * 1024, /* bytes */
    JOBSPEC_MAX_NAME = 128,
    JOBSPEC_MAX_PATH = 4096,
    JOBSPEC_MAX_TASKS = 1 << 20,
    JOBSPEC_MAX_ENV = 4096, /* variables */
    JOBSPEC_MAX_DEPS = 100,
    JOBSPEC_MAX_NODES = 4096,
};

struct jobspec {
    char *name;
    char *script; /* the batch script's text, run by the shell */
    json_t *args; /* array of strings: arguments to the script */
    long ntasks;
    long cpus_per_task;
    int64_t mem;        /* MiB for the whole job on its node; 0 = no limit */
    int64_t time_limit; /* seconds; 0 = unlimited */
    char *output;       /* path pattern (%j %x %u %N %%), may be relative */
    char *error;        /* NULL: stderr goes with stdout */
    char *cwd;          /* absolute working directory */
    char *submit_dir;   /* absolute directory the job was submitted from */
    json_t *env;        /* array of "NAME=value" strings */
    char *queue;
    int hold;
    char *user;
    long uid;
    long gid;
    int umask;            /* the submitter's file mode mask (default 022) */
    json_t *retry;        /* retryStrategy (AWS shape), NULL for none */
    json_t *deps;         /* [{"type", "id"}...], NULL for none */
    char *array;          /* array index spec (lib/arrayspec), NULL if none */
    char *job_definition; /* "NAME:REV" it was made from, NULL if none */
    long priority;        /* within its queue, higher first (0-1000000) */
    long nice;            /* Slurm's nice: subtracted from the priority */
    char *share_id;       /* fair-share identifier, NULL if none */
    /* placement (lib/alloc); 0 or NULL when not asked for */
    long nodes; /* nodes the job spans (1 unless asked) */
    long ntasks_per_node;
    int threads_per_core; /* use this many PUs of each core, holding it whole */
    int64_t mem_per_cpu;  /* MiB; when given, mem is this times the cpus */
    int gpus;
    int exclusive;        /* the whole node */
    int distribution;     /* enum alloc_dist: tasks block or cyclic */
    char *constraint;     /* node features expression (lib/features) */
    char *nodelist;       /* host lists as given: run on one of these */
    char *exclude;        /* and on none of these */
    json_t *node_scripts; /* multinode job definitions: each node's script */
    char *container;      /* an OCI bundle or root file system (absolute) */
    json_t *mounts;       /* into it: [{source, destination, readonly}] */
    struct hostlist *nodelist_hl, *exclude_hl; /* parsed */
};

/* Decode and validate a job.submit body.  Unknown fields, wrong types and
 * out-of-range values are refused with the field's name in err.  On
 * success *js is filled and must be released with jobspec_release(). */
int jobspec_from_json(const json_t *o, struct jobspec *js,
                      struct kiln_error *err);

/* Encode js as a new JSON object (caller owns it), or NULL on ENOMEM. */
json_t *jobspec_to_json(const struct jobspec *js);

void jobspec_release(struct jobspec *js);

/* Total cores (PUs) the job asks for, on all its nodes. */
static inline long jobspec_cpus(const struct jobspec *js)
{
    return js->ntasks * js->cpus_per_task;
}

/* The tasks of node i of the job (0 = the main node): spread evenly, the
 * first nodes taking one more when they do not divide. */
static inline long jobspec_node_tasks(const struct jobspec *js, long i)
{
    return js->ntasks / js->nodes + (i < js->ntasks % js->nodes);
}

/* Cores (PUs) node i of the job asks for. */
static inline long jobspec_node_cpus(const struct jobspec *js, long i)
{
    return jobspec_node_tasks(js, i) * js->cpus_per_task;
}

/* What lib/alloc is asked to place on node i of the job. */
static inline struct alloc_req jobspec_alloc_req(const struct jobspec *js,
                                                 long i)
{
    return (struct alloc_req){ .ntasks = (int)jobspec_node_tasks(js, i),
                               .cpus_per_task = (int)js->cpus_per_task,
                               .threads_per_core = js->threads_per_core,
                               .gpus = js->gpus,
                               .dist = (enum alloc_dist)js->distribution,
                               .exclusive = js->exclusive };
}

/* Parse Slurm's --dependency (afterok:1:2,afterany:3,aftercorr:4,singleton;
 * all must hold) and AWS's dependsOn list (1,2:N_TO_N,SEQUENTIAL), either
 * may be NULL, into the job's "dependencies" array (new reference), or NULL
 * with err naming the bad part. */
json_t *jobspec_parse_dependencies(const char *slurm, const char *aws,
                                   struct kiln_error *err);

/* True if s is a safe name: 1..max bytes of letters, digits and ._-+@:, */
int jobspec_name_ok(const char *s, size_t max);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* main(): the one kiln binary, its command table and Slurm personalities. */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/client.h"
#include "lib/log.h"
#include "lib/util.h"

const char *client_prog = "kiln";

enum { CMD_HIDDEN = 1 };

static const struct kiln_cmd {
    const char *name;
    int (*fn)(int argc, char **argv);
    int flags;
    const char *help;
    const char *program; /* a daemon: the program of its own it execs */
} commands[] = {
    { "cancel", cmd_cancel, 0, "cancel jobs (pending or running)" },
    { "ce", cmd_ce, 0, "compute environments: create, update, delete, list" },
    { "container-exec", cmd_container_exec, 0,
      "run a command in a container image, in place (MPI ranks: the hybrid model)" },
    { "exec", cmd_exec, 0,
      "inside a job: run a command on another of its nodes (ssh-like)" },
    { "history", cmd_history, 0, "finished jobs" },
    { "hold", cmd_hold, 0,
      "keep waiting jobs from starting (kiln release undoes it)" },
    { "jobdef", cmd_jobdef, 0,
      "job definitions: register, list, show, deregister" },
    { "jobqueue", cmd_jobqueue, 0, "job queues: create, update, delete, list" },
    { "keygen", cmd_keygen, 0,
      "make CURVE key pairs for the server and workers" },
    { "node", cmd_node, 0,
      "show a node; drain, down, resume it; set its environment, features" },
    { "nodes", cmd_nodes, 0, "the cluster's nodes" },
    { "policy", cmd_policy, 0,
      "fair-share scheduling policies for job queues" },
    { "queue", cmd_queue, 0, "jobs waiting and running" },
    { "release", cmd_release, 0, "release held jobs" },
    { "run", cmd_run, 0,
      "run tasks bound to cores (srun): inside a job, or as a new job" },
    { "server", NULL, 0, "run the head-node daemon", "kiln-server" },
    { "show", cmd_show, 0, "every detail of jobs" },
    { "submit", cmd_submit, 0, "submit a batch script" },
    { "terminate", cmd_terminate, 0,
      "terminate jobs (AWS Batch's word for cancel)" },
    { "why", cmd_why, 0, "why a job is not running yet" },
    { "worker", NULL, 0, "run the compute-node daemon", "kiln-worker" },
};

/* Invoked through a link with one of these names, kiln is that command. */
static const struct {
    const char *alias, *command;
} personalities[] = {
    { "sbatch", "submit" }, { "srun", "run" },    { "scancel", "cancel" },
    { "squeue", "queue" },  { "sinfo", "nodes" }, { "sacct", "history" },
};

static void usage(FILE *f)
{
    fprintf(
        f,
        "Usage: kiln COMMAND [OPTIONS]   (kiln COMMAND --help for more)\n\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!(commands[i].flags & CMD_HIDDEN))
            fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
}

/* kiln server and kiln worker are programs of their own: kiln execs them
 * with its own command line (ps shows "kiln server ..."). */
static int exec_daemon(const struct kiln_cmd *cmd, const char *argv0, int argc,
                       char **argv)
{
    char path[PATH_MAX];
    char **args = calloc((size_t)argc + 2, sizeof(*args));

    if (util_helper_path(cmd->program, path, sizeof(path)) < 0) {
        fprintf(stderr, "kiln %s: cannot find %s: %s\n", cmd->name, path,
                strerror(errno));
        return 1;
    }
    if (!args) {
        fprintf(stderr, "kiln %s: out of memory\n", cmd->name);
        return 1;
    }
    args[0] = (char *)argv0;
    memcpy(args + 1, argv, (size_t)argc * sizeof(*args));
    execv(path, args);
    fprintf(stderr, "kiln %s: cannot run %s: %s\n", cmd->name, path,
            strerror(errno));
    free(args);
    return 1;
}

static int run(const struct kiln_cmd *cmd, const char *alias, int argc,
               char **argv)
{
    static char prog[64];
    int rc;

    if (alias)
        snprintf(prog, sizeof(prog), "%s", alias);
    else
        snprintf(prog, sizeof(prog), "kiln %s", cmd->name);
    client_prog = prog;
    log_init(prog, LOG_INFO, NULL);
    rc = cmd->fn(argc, argv);
    /* A full disk or a closed pipe is a failure, not silence (git.c). */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "%s: cannot write output: %s\n", prog, strerror(errno));
        return 1;
    }
    return rc;
}

static const struct kiln_cmd *find(const char *name)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

int main(int argc, char **argv)
{
    char *base = basename(argv[0]);

    util_malloc_tune();
    for (size_t i = 0; i < sizeof(personalities) / sizeof(personalities[0]);
         i++)
        if (strcmp(base, personalities[i].alias) == 0)
            return run(find(personalities[i].command), base, argc, argv);
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 1 : 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("kiln %s\n", PACKAGE_VERSION);
        return 0;
    }
    const struct kiln_cmd *cmd = find(argv[1]);
    if (!cmd) {
        fprintf(stderr, "kiln: unknown command '%s'\n", argv[1]);
        usage(stderr);
        return 1;
    }
    if (cmd->program)
        return exec_daemon(cmd, argv[0], argc - 1, argv + 1);
    return run(cmd, NULL, argc - 1, argv + 1);
}

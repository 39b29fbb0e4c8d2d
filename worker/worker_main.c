/* SPDX-License-Identifier: GPL-2.0-or-later */
/* kiln-worker: the compute-node daemon, which `kiln worker` execs.  A
 * program of its own so that kiln, the command people type many times a
 * second, loads none of what the daemon needs (hwloc). */
#include <string.h>

int cmd_worker(int argc, char **argv);

int main(int argc, char **argv)
{
    /* kiln worker OPTIONS keeps its command line, for ps. */
    if (argc > 1 && strcmp(argv[1], "worker") == 0)
        return cmd_worker(argc - 1, argv + 1);
    return cmd_worker(argc, argv);
}

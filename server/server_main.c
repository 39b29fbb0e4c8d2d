/* SPDX-License-Identifier: GPL-2.0-or-later */
/* kiln-server: the head-node daemon, which `kiln server` execs.  A program
 * of its own so that kiln, the command people type many times a second,
 * loads none of what the daemon needs (sqlite, hwloc). */
#include <string.h>

#include "lib/util.h"

int cmd_server(int argc, char **argv);

int main(int argc, char **argv)
{
    util_malloc_tune();
    /* kiln server OPTIONS keeps its command line, for ps. */
    if (argc > 1 && strcmp(argv[1], "server") == 0)
        return cmd_server(argc - 1, argv + 1);
    return cmd_server(argc, argv);
}

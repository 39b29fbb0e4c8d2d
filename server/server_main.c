/* SPDX-License-Identifier: GPL-2.0-or-later */
/* kiln-server: the head-node daemon, which `kiln server` execs.  A program
 * of its own so that kiln, the command people type many times a second,
 * loads none of what the daemon needs (sqlite, hwloc). */
#include <string.h>
#include <sys/resource.h>

#include "lib/util.h"

int cmd_server(int argc, char **argv);

int main(int argc, char **argv)
{
    util_malloc_tune();
    /* A connection per worker and client, each a file: the soft limit of
     * 1,024 most systems start daemons with is not a cluster's. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    /* kiln server OPTIONS keeps its command line, for ps. */
    if (argc > 1 && strcmp(argv[1], "server") == 0)
        return cmd_server(argc - 1, argv + 1);
    return cmd_server(argc, argv);
}

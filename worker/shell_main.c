/* SPDX-License-Identifier: GPL-2.0-or-later */
/* kiln-shell DIR: the supervisor of one job on one node, exec'd by the
 * worker for each job (as flux-shell and slurmstepd are).  A program of
 * its own, linked with only what it uses, so that it starts in a fraction
 * of a millisecond. */
#include <stdio.h>

#include "worker/worker.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr,
                "usage: kiln-shell DIR (the worker starts it, one per job)\n");
        return 2;
    }
    return shell_run(argv[1]);
}

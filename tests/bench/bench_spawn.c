/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bench_spawn [N] [IN_FLIGHT] [PROGRAM]: this machine's limit for running
 * trivial processes, the anchor of make bench: N runs of PROGRAM (default
 * /bin/true) by posix_spawn, IN_FLIGHT at a time (default: the number of
 * cpus), from a small process.  Given the bench's job script as PROGRAM,
 * what the jobs alone would cost, with no batch system around them.
 * Prints the processes per second.  Not a pass/fail test. */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/util.h"

extern char **environ;

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 5000;
    long k = argc > 2 ? atol(argv[2]) : sysconf(_SC_NPROCESSORS_ONLN);
    const char *prog = argc > 3 ? argv[3] : "/bin/true";
    char *const args[] = { (char *)prog, NULL };
    int running = 0, done = 0, started = 0;

    if (n <= 0 || k <= 0) {
        fprintf(stderr, "usage: bench_spawn [N] [IN_FLIGHT] [PROGRAM]\n");
        return 2;
    }
    double t0 = util_monotonic();
    while (done < n) {
        while (started < n && running < k) {
            pid_t pid;
            if (posix_spawn(&pid, prog, NULL, NULL, args, environ) != 0) {
                perror(prog);
                return 1;
            }
            started++;
            running++;
        }
        if (wait(NULL) > 0) {
            running--;
            done++;
        }
    }
    printf("%.0f\n", n / (util_monotonic() - t0));
    return 0;
}

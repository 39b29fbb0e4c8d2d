/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Each rank prints its rank, its host and the cpus it may run on.
 * Build: mpicc -o whereami whereami.c */
#include <mpi.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int rank, size;
    char host[64] = "", line[256], cpus[200] = "?";
    FILE *f;

    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    gethostname(host, sizeof(host) - 1);
    if ((f = fopen("/proc/self/status", "r"))) {
        while (fgets(line, sizeof(line), f))
            if (sscanf(line, "Cpus_allowed_list: %199s", cpus) == 1)
                break;
        fclose(f);
    }
    printf("whereami: rank %d of %d host %s cpus %s\n", rank, size, host, cpus);
    MPI_Finalize();
    return 0;
}

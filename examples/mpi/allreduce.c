/* SPDX-License-Identifier: GPL-2.0-or-later */
/* MPI_Allreduce of rank + 1 over all ranks; every rank checks the sum is
 * n(n+1)/2.  Exit 1 if not.  Build: mpicc -o allreduce allreduce.c */
#include <mpi.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    int rank, size;
    long mine, sum = 0;

    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    mine = rank + 1;
    MPI_Allreduce(&mine, &sum, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
    long want = (long)size * (size + 1) / 2;
    if (rank == 0)
        printf("allreduce: %d ranks, sum %ld, expected %ld: %s\n", size, sum,
               want, sum == want ? "ok" : "WRONG");
    MPI_Finalize();
    return sum == want ? 0 : 1;
}

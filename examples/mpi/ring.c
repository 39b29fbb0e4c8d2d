/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A token goes once around the ranks with MPI_Sendrecv; each rank checks
 * what it got and says from which rank and host.  Exit 1 if anything is
 * wrong.  Build: mpicc -o ring ring.c */
#include <mpi.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct token {
    int from;
    int value;
    char host[64];
};

int main(int argc, char **argv)
{
    int rank, size, ok;
    struct token mine = { 0 }, got = { 0 };

    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    mine.from = rank;
    mine.value = 1000 + rank * 7;
    gethostname(mine.host, sizeof(mine.host) - 1);
    int next = (rank + 1) % size, prev = (rank + size - 1) % size;
    MPI_Sendrecv(&mine, sizeof(mine), MPI_BYTE, next, 0, &got, sizeof(got),
                 MPI_BYTE, prev, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    ok = got.from == prev && got.value == 1000 + prev * 7;
    printf("ring: rank %d of %d on %s got token %d from rank %d on %s: %s\n",
           rank, size, mine.host, got.value, got.from, got.host,
           ok ? "ok" : "WRONG");
    int all_ok;
    MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD);
    MPI_Finalize();
    return all_ok ? 0 : 1;
}

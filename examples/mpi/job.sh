#!/bin/sh
# Two nodes, two ranks each: mpirun needs no host options under Kiln.
#KILN --nodes 2 --ntasks-per-node 2 --time 5 --job-name ring
mpirun ./ring

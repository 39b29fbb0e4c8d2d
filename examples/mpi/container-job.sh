#!/bin/sh
# Open MPI with containers, the hybrid model: mpirun and its daemons run on
# the hosts (placed by Kiln, reaching the other nodes through kiln exec);
# each rank runs in the image, started in place by kiln container-exec, so
# it keeps its pid, cgroup, cores and network.  The image brings its own
# files; the host lends its MPI library, as Sarus and Shifter do.
# Make the image with examples/containers/busybox-bundle.sh image.
#KILN --nodes 2 --ntasks-per-node 2 --time 5 --job-name ring-in-image
mpirun kiln container-exec --bind /usr --bind /lib --bind /lib64 --bind /etc/openmpi \
	image ./ring

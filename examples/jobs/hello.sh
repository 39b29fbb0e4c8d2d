#!/bin/sh
#KILN --job-name=hello
#KILN --time=1
# The smallest job: say where it ran and on which cores.
echo "hello from job $KILN_JOB_ID on $KILN_NODENAME"
echo "cores given by kiln: $KILN_CPUS"
grep Cpus_allowed_list /proc/self/status

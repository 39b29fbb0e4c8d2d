#!/bin/sh
#KILN --job-name=two-tasks
#KILN --ntasks=2
#KILN --time=1
# Two tasks, one per core of the job's allocation, each bound to its core.
i=0
for cpu in $(echo "$KILN_CPUS" | tr ',' ' '); do
	taskset -c "$cpu" sh -c 'echo "task '"$i"' on cpu $(grep Cpus_allowed_list /proc/self/status | cut -f2)"' &
	i=$((i + 1))
done
wait

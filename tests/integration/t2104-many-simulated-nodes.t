#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
test_description='64 simulated nodes of a large machine, 2,000 jobs of mixed shapes:
no core is ever given to two running jobs at once'
. "$KILN_SRCDIR/tests/integration/lib/kiln-test.sh"

NODES=64
TOPO="pack:2 numa:2 l3:2 core:4 pu:2" # 64 PUs per node

test_expect_success "start a server and $NODES simulated workers" '
	start_server &&
	for i in $(seq 1 $NODES); do
		start_worker sim$i 0-63 --topology "$TOPO" --simulate --log-level info || return 1
	done &&
	wait_nodes_up $NODES
'

# 20 shapes x 100 jobs: tasks, cpus per task, whole cores, cyclic tasks,
# and a few jobs that want a whole node.
test_expect_success 'submit 2,000 jobs of 20 shapes' '
	for shape in "-n 1" "-n 2" "-n 4" "-c 2" "-c 3" "-c 8" "-n 2 -c 4" "-n 3 -c 5" \
		"-n 16" "-c 24" "-n 4 --hint=nomultithread" "-n 2 -c 2 --hint=nomultithread" \
		"-n 4 -m cyclic" "-n 6 -c 2 -m cyclic" "-n 8 -m cyclic --hint=nomultithread" \
		"-c 40" "-n 1 --exclusive" "-n 12 -c 1" "-c 1 --mem 100M" "-n 2 -c 7"; do
		"$KILN" submit --parsable --array 1-100 -o /dev/null $shape \
			--wrap "sleep 0.2" >>ids || return 1
	done &&
	test "$(wc -l <ids)" = 20
'

test_expect_success 'all 2,000 succeed' '
	for id in $(cat ids); do
		test "$(wait_job $id 300)" = SUCCEEDED || return 1
	done &&
	"$KILN" history --json --limit 100000 >hist &&
	test "$(jq "[.[] | select(.array_job_id and .state == \"SUCCEEDED\")] | length" hist)" = 2000
'

# Every finished child: node, start, end (the worker clock, one machine),
# and the cpus it held.  For each node and cpu, sorted by start, no start
# may come before the end of the previous holder.
test_expect_success 'no cpu was held by two running jobs at once' '
	jq -r ".[] | select(.array_job_id) |
		\"\(.nodes[0]) \(.start_time) \(.end_time) \(.allocation.nodes[0].held) \(.id)\"" \
		hist >spans &&
	test "$(wc -l <spans)" = 2000 &&
	awk "{
		n = split(\$4, parts, \",\");
		for (i = 1; i <= n; i++) {
			lo = parts[i]; hi = parts[i];
			if (index(parts[i], \"-\")) { split(parts[i], r, \"-\"); lo = r[1]; hi = r[2] }
			for (c = lo; c <= hi; c++) print \$1, c, \$2, \$3, \$5
		}
	}" spans | sort -k1,1 -k2,2n -k3,3g >per-cpu &&
	awk "{
		key = \$1 \" \" \$2;
		if (key == last && \$3 < end) { print \"cpu \" \$2 \" of \" \$1 \": job \" \$5 \" started before job \" who \" ended\"; bad++ }
		if (key != last || \$4 > end) { end = \$4; who = \$5 }
		last = key
	} END { exit bad > 0 }" per-cpu &&
	echo "$(wc -l <per-cpu) cpu holdings checked"
'

test_expect_success 'the workers saw no double booking, the exclusive jobs had whole nodes' '
	! grep "are held by job" worker-sim*.log &&
	test "$(jq "[.[] | select(.array_job_id and .ntasks == 1 and .allocation.nodes[0].held == \"0-63\")] | length" hist)" -ge 100 &&
	"$KILN" nodes | grep -c " 0/64 " >idle &&
	test "$(cat idle)" = $NODES
'

# A node is a connection, a file: 1,024 open files would not do.
test_expect_success 'the server raises its soft limit of open files to the hard one' '
	kill_pid $SERVER_PID &&
	KILN_WRAP="prlimit --nofile=1024:8192" start_server &&
	grep "^Max open files" /proc/$SERVER_PID/limits >limits &&
	test "$(awk "{print \$4, \$5}" limits)" = "8192 8192" &&
	wait_nodes_up $NODES
'

test_done

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
test_description='on real cores: what a job and each of its tasks may run on, its cgroup,
kiln run inside and outside a job, node maps and accounting columns'
. "$KILN_SRCDIR/tests/integration/lib/kiln-test.sh"

test_expect_success 'start a server and one worker with cpus 0-1' '
	start_server &&
	start_worker n1 0-1 &&
	wait_nodes_up 1
'

# The job prints the cpus it may use, its cgroup's cpus and memory limit,
# and the memory nodes of its cgroup.
cat >limits.sh <<'EOT'
#!/bin/sh
grep Cpus_allowed_list /proc/self/status | cut -f2
if ! grep -q ":cpuset:" /proc/self/cgroup; then
	d=/sys/fs/cgroup$(sed -n "s/^0:://p" /proc/self/cgroup)
	cat $d/cpuset.cpus $d/memory.max $d/cpuset.mems
else
	c=/sys/fs/cgroup/cpuset$(sed -n "s/^[0-9]*:cpuset://p" /proc/self/cgroup)
	cat $c/cpuset.cpus
	cat /sys/fs/cgroup/memory$(sed -n "s/^[0-9]*:memory://p" /proc/self/cgroup)/memory.limit_in_bytes
	cat $c/cpuset.mems
fi
EOT

test_expect_success 'a job sees exactly its cores, and its cgroup has its limits' '
	j=$("$KILN" submit --parsable -c 1 --mem 64M limits.sh) &&
	test "$(wait_job $j)" = SUCCEEDED &&
	cpus=$(job_field $j cpus.n1) &&
	test "$(sed -n 1p kiln-$j.out)" = "$cpus" &&
	test "$(sed -n 2p kiln-$j.out)" = "$cpus" &&
	test "$(sed -n 3p kiln-$j.out)" = $((64 * 1024 * 1024)) &&
	# its memory nodes are those of its cpus (NUMA node 0 on a one-node machine)
	node=$(ls -d /sys/devices/system/cpu/cpu$cpus/node* | sed "s/.*node//") &&
	test "$(sed -n 4p kiln-$j.out)" = "$node"
'

test_expect_success '--exclusive: the whole node' '
	x=$("$KILN" submit --parsable --exclusive limits.sh) &&
	test "$(wait_job $x)" = SUCCEEDED &&
	test "$(sed -n 1p kiln-$x.out)" = 0-1
'

test_expect_success 'kiln run in a job binds each task to its own core' '
	cat >tasks.sh <<-\EOT &&
	#!/bin/sh
	#KILN -n 2
	"$KILN" run --cpu-bind=verbose sh -c "echo task \$KILN_PROCID \$(grep Cpus_allowed_list /proc/self/status | cut -f2)"
	EOT
	t=$(KILN=$KILN "$KILN" submit --parsable --export ALL tasks.sh) &&
	test "$(wait_job $t)" = SUCCEEDED &&
	sort kiln-$t.out >tasks &&
	grep "^task 0 [01]$" tasks &&
	grep "^task 1 [01]$" tasks &&
	test "$(grep ^task tasks | cut -d" " -f3 | sort -u | wc -l)" = 2 &&
	grep "kiln run: node n1, task 0: cpus [01]" kiln-$t.out &&
	grep "kiln run: node n1, task 1: cpus [01]" kiln-$t.out
'

test_expect_success 'kiln run in a job: more tasks than the job has is refused' '
	u=$(KILN=$KILN "$KILN" submit --parsable --export ALL \
		--wrap "\"\$KILN\" run -n 3 true") &&
	test "$(wait_job $u)" = FAILED &&
	grep "this job has 1 tasks" kiln-$u.out
'

test_expect_success 'kiln run outside a job: submits, streams output, passes the exit code' '
	"$KILN" run -n 2 sh -c "echo out \$KILN_PROCID; echo err \$KILN_PROCID >&2" >out 2>err &&
	sort out >sorted && printf "out 0\nout 1\n" >want && test_cmp want sorted &&
	grep "^err 0$" err && grep "^err 1$" err &&
	test_expect_code 3 "$KILN" run sh -c "exit 3" 2>err &&
	grep "failed: exit code 3" err &&
	! ls .kiln-run-* 2>/dev/null
'

test_expect_success 'kiln run outside a job: an interrupt cancels the job' '
	"$KILN" run sleep 60 >out 2>err &
	runpid=$! &&
	for i in $(seq 100); do
		id=$("$KILN" queue --json | jq -r ".[] | select(.name == \"sleep\") | .id") &&
		test -n "$id" && break
		sleep 0.1
	done &&
	wait_state $id RUNNING &&
	kill -INT $runpid &&
	! wait $runpid &&
	test "$(wait_job $id)" = FAILED &&
	test "$(job_field $id status_reason)" = "cancelled: interrupted (kiln run)" &&
	grep "kiln run: job $id cancelled" err
'

test_expect_success 'kiln node show: which job holds which core' '
	h=$("$KILN" submit --parsable -o /dev/null --wrap "sleep 30") &&
	wait_state $h RUNNING &&
	"$KILN" node show n1 >map &&
	grep "^A  job $h (" map &&
	grep "core [0-9]* \[A\]" map &&
	"$KILN" cancel $h &&
	test_must_fail "$KILN" node show nosuch 2>err &&
	grep "unknown node .nosuch." err
'

test -w /sys/fs/cgroup/memory/cgroup.procs -o -w /sys/fs/cgroup/cgroup.subtree_control &&
	test_set_prereq MEMCG

test_expect_success MEMCG 'kiln history --format: usage columns, OOM kills counted' '
	o=$("$KILN" submit --parsable --mem 32M -o /dev/null \
		--wrap "head -c 300M /dev/zero | tail") &&
	test "$(wait_job $o 30)" = FAILED &&
	"$KILN" history -o JobID,State,OOMKills,MaxRSS,TotalCPU,Reason >hist &&
	grep "^$o  *FAILED  *[1-9][0-9]*  *[0-9]*K  *[0-9.]*  *out of memory" hist &&
	test_must_fail "$KILN" history -o JobID,Bogus 2>err &&
	grep "unknown field .Bogus." err
'

test_done

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
test_description='multi-node Open MPI jobs: on test hosts (network namespaces on a
bridge) and on two workers sharing this machine; kiln exec; cancel leaves nothing'
. "$KILN_SRCDIR/tests/integration/lib/kiln-test.sh"

if ! "$KILN_SRCDIR/scripts/testhosts" check 2>check.err; then
	skip_all="network namespaces cannot be made here: $(cat check.err)"
	test_done
fi
if ! command -v mpicc >/dev/null || ! command -v mpirun >/dev/null; then
	skip_all="Open MPI is not installed (apt-get install openmpi-bin libopenmpi-dev)"
	test_done
fi
# Tests run as root, and so do their jobs.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

test_expect_success 'build the MPI examples' '
	for p in ring allreduce whereami; do
		mpicc -o $p "$KILN_SRCDIR/examples/mpi/$p.c" || return 1
	done
'

test_expect_success 'three test hosts, a server on the bridge, a worker on each' '
	testhosts_up 3 &&
	KILN_LISTEN="tcp://$("$KILN_SRCDIR/scripts/testhosts" addr 0):*" &&
	KILN_WORKER_LISTEN=$KILN_LISTEN &&
	start_server &&
	for i in 1 2 3; do
		start_host_worker $i --cpus 0-1 || return 1
	done &&
	wait_nodes_up 3 &&
	"$KILN" nodes --json | jq -r ".[].address" | sort >addrs &&
	printf "198.18.0.11\n198.18.0.12\n198.18.0.13\n" >want && test_cmp want addrs
'

test_expect_success 'kiln exec runs on another node of the job, inside it, and only for it' '
	cat >exec.sh <<-\EOT &&
	#!/bin/sh
	#KILN -N 2 -t 2
	echo "main $(hostname) $KILN_NODELIST $KILN_NUM_NODES $KILN_NODE_INDEX $KILN_MAIN_NODE"
	echo "ip $AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS $AWS_BATCH_JOB_NUM_NODES"
	for n in th1 th2 th3; do
		test $n = $(hostname) && continue
		"$KILN" exec $n "echo remote \$(hostname) \$KILN_NODE_INDEX; grep Cpus_allowed_list /proc/self/status" && break
	done
	"$KILN" exec th3 true; echo "th3 rc=$?"
	"$KILN" exec $(hostname) "exit 7"; echo "self rc=$?"
	EOT
	j=$("$KILN" submit --parsable -w th1,th2 --export ALL,KILN="$KILN" exec.sh) &&
	test "$(wait_job $j)" = SUCCEEDED &&
	cat kiln-$j.out &&
	grep "^main th1 th\[1-2\] 2 0 th1$" kiln-$j.out &&
	grep "^ip 198.18.0.11 2$" kiln-$j.out &&
	grep "^remote th2 1$" kiln-$j.out &&
	grep "Cpus_allowed_list:.$(job_field $j cpus.th2)$" kiln-$j.out &&
	grep "^th3 rc=255$" kiln-$j.out &&
	grep "does not run on node .th3." kiln-$j.out &&
	grep "^self rc=7$" kiln-$j.out &&
	KILN_JOB_ID=$j KILN_JOB_TOKEN=guessed test_expect_code 255 "$KILN" exec th2 true 2>err &&
	grep "not a process of this job" err
'

test_expect_success 'a ring across 2 test hosts, 2 ranks each, every rank on its own core' '
	cat >ring.sh <<-\EOT &&
	#!/bin/sh
	#KILN --nodes 2 --ntasks-per-node 2 --time 5
	mpirun ./ring && mpirun ./whereami
	EOT
	j=$("$KILN" submit --parsable --export ALL ring.sh) &&
	test "$(wait_job $j 60)" = SUCCEEDED &&
	cat kiln-$j.out &&
	test "$(grep -c "^ring: .*: ok$" kiln-$j.out)" = 4 &&
	# ranks on different hosts exchanged the token over the bridge
	grep "^ring: rank 2 of 4 on th. got token 1007 from rank 1 on th." kiln-$j.out >cross &&
	h2=$(sed "s/^ring: rank 2 of 4 on \(th.\) .*/\1/" cross) &&
	h1=$(sed "s/.* from rank 1 on \(th.\):.*/\1/" cross) &&
	test "$h1" != "$h2" &&
	# each rank: one cpu, of its node'"'"'s allocation, no cpu twice on a node
	grep "^whereami:" kiln-$j.out | while read -r w r n of size host h cpus c; do
		alloc=$(job_field $j "cpus.$h") &&
		case "$c" in *[,-]*) echo "rank $n has $c" && return 1 ;; esac &&
		case ",$(echo $alloc | sed "s/-/,/")," in *",$c,"*) ;; *) return 1 ;; esac ||
		return 1
		echo "$h $c"
	done >placed &&
	test "$(wc -l <placed)" = 4 &&
	test "$(sort -u placed | wc -l)" = 4
'

test_expect_success 'kiln run in a job on 2 hosts starts its tasks on both, bound' '
	cat >run.sh <<-\EOT &&
	#!/bin/sh
	#KILN -N 2 --ntasks-per-node 2 -t 2
	"$KILN" run sh -c "echo task \$KILN_PROCID of \$KILN_STEP_NUM_TASKS on \$(hostname) \$(grep Cpus_allowed_list /proc/self/status | cut -f2)"
	EOT
	j=$("$KILN" submit --parsable --export ALL run.sh) &&
	test "$(wait_job $j 30)" = SUCCEEDED &&
	sort kiln-$j.out >tasks &&
	cat tasks &&
	grep "^task 0 of 4 on th1 [01]$" tasks && grep "^task 1 of 4 on th1 [01]$" tasks &&
	grep "^task 2 of 4 on th2 [01]$" tasks && grep "^task 3 of 4 on th2 [01]$" tasks &&
	test "$(grep th1 tasks | cut -d" " -f7 | sort -u | wc -l)" = 2 &&
	test "$(grep th2 tasks | cut -d" " -f7 | sort -u | wc -l)" = 2
'

test_expect_success 'an allreduce across 3 test hosts' '
	j=$("$KILN" submit --parsable -N 3 --ntasks-per-node 2 -t 5 --export ALL \
		--wrap "mpirun ./allreduce") &&
	test "$(wait_job $j 60)" = SUCCEEDED &&
	grep "^allreduce: 6 ranks, sum 21, expected 21: ok$" kiln-$j.out &&
	test "$(job_field $j "nodes | length")" = 3
'

test_expect_success 'a rank that fails fails the job with its exit code' '
	j=$("$KILN" submit --parsable -N 2 -t 5 --export ALL \
		--wrap "mpirun sh -c \"exit \\\$((3 * OMPI_COMM_WORLD_RANK))\"") &&
	test "$(wait_job $j 60)" = FAILED &&
	test "$(job_field $j exit_code)" = 3
'

# The processes of a job on test host I: those in its network namespace
# other than its worker and the worker's launcher of shells.
job_procs() {
	for pid in $(ip netns pids kiln-th$1); do
		test "$pid" = "$(eval echo \$WORKER_PID_th$1)" && continue
		ps -o pid=,args= -p $pid
	done | grep -v " kiln-shell --launcher$" || :
}

test_expect_success 'cancel in the middle leaves no process of the job on any host' '
	j=$("$KILN" submit --parsable -N 3 -t 5 --export ALL --wrap "mpirun sleep 300") &&
	wait_state $j RUNNING &&
	for i in 1 2 3; do
		n=0
		while ! job_procs $i | grep -q "sleep 300"; do
			n=$((n + 1)); test $n -gt 100 && return 1; sleep 0.1
		done
	done &&
	job_procs 2 | grep orted &&
	"$KILN" cancel $j &&
	test "$(wait_job $j 30)" = FAILED &&
	test "$(job_field $j status_reason)" = cancelled &&
	sleep 0.5 &&
	for i in 1 2 3; do
		job_procs $i >left.$i
		test_must_be_empty left.$i || { cat left.$i; return 1; }
	done &&
	"$KILN" nodes | grep -c " 0/2 " >idle && test "$(cat idle)" = 3
'

test_expect_success 'a multinode job definition runs each node range'"'"'s command' '
	cat >multi.json <<-\EOT &&
	{"jobDefinitionName": "ranges", "type": "multinode",
	 "nodeProperties": {"numNodes": 3, "mainNode": 0, "nodeRangeProperties": [
	   {"targetNodes": "0", "container": {"command": ["sh", "-c",
	     "echo main $AWS_BATCH_JOB_NODE_INDEX of $AWS_BATCH_JOB_NUM_NODES $ROLE; sleep 1"],
	     "environment": [{"name": "ROLE", "value": "leader"}]}},
	   {"targetNodes": "1:", "container": {"command": ["sh", "-c",
	     "echo child $AWS_BATCH_JOB_NODE_INDEX on $(hostname) $ROLE"],
	     "environment": [{"name": "ROLE", "value": "follower"}]}}]}}
	EOT
	"$KILN" jobdef register multi.json &&
	j=$("$KILN" submit --parsable --jobdef ranges) &&
	test "$(wait_job $j 30)" = SUCCEEDED &&
	test "$(cat kiln-$j.out)" = "main 0 of 3 leader" &&
	grep "^child 1 on th[123] follower$" kiln-$j.out.1 &&
	grep "^child 2 on th[123] follower$" kiln-$j.out.2 &&
	"$KILN" show $j#2 >node2 &&
	grep "^JobId=$j#2 " node2
'

test_expect_success 'ranks in a container image, mpirun on the hosts (hybrid model)' '
	"$KILN_SRCDIR/examples/containers/busybox-bundle.sh" "$PWD/image" &&
	echo "in the image" >image/rootfs/etc/kiln-image &&
	cat >hybrid.sh <<-\EOT &&
	#!/bin/sh
	#KILN -N 2 --ntasks-per-node 2 -t 5
	# The image brings its own /etc and shell; the host lends its MPI.
	mpirun "$KILN" container-exec --bind /usr --bind /lib --bind /lib64 --bind /etc/openmpi image \
		sh -c "echo \$(cat /etc/kiln-image) on \$(hostname); exec ./ring"
	EOT
	j=$("$KILN" submit --parsable --export ALL,KILN="$KILN" hybrid.sh) &&
	test "$(wait_job $j 60)" = SUCCEEDED &&
	cat kiln-$j.out &&
	test "$(grep -c "^in the image on th[12]$" kiln-$j.out)" = 4 &&
	test "$(grep -c "^ring: .*: ok$" kiln-$j.out)" = 4
'

test_expect_success 'a node failure ends the job on every node and says why' '
	j=$("$KILN" submit --parsable -N 3 -t 5 --export ALL --wrap "mpirun sleep 300") &&
	wait_state $j RUNNING &&
	n=0 &&
	while ! job_procs 3 | grep -q "sleep 300"; do
		n=$((n + 1)); test $n -gt 100 && return 1; sleep 0.1
	done &&
	# th3 dies: every process on it, its worker too.  All are stopped
	# before any is killed, so that none sees another die and says so:
	# pids wrap, so their order is no guide to which goes first.  (One
	# that ended by itself meanwhile is no error: the job ends below as
	# a node failure only if the worker died.)
	pids=$(ip netns pids kiln-th3) &&
	{ kill -STOP $pids; kill -KILL $pids; :; } 2>/dev/null &&
	test "$(wait_job $j 30)" = FAILED &&
	job_field $j status_reason | grep "^node failure (th3)" &&
	sleep 0.5 &&
	job_procs 1 >left.1 && test_must_be_empty left.1 &&
	job_procs 2 >left.2 && test_must_be_empty left.2
'

test_expect_success 'the same ring on two workers sharing this machine' '
	start_worker local1 0 &&
	start_worker local2 1 &&
	wait_nodes_up 4 &&
	j=$("$KILN" submit --parsable -N 2 -w local1,local2 -t 5 --export ALL \
		--wrap "mpirun ./ring") &&
	test "$(wait_job $j 60)" = SUCCEEDED &&
	test "$(grep -c "^ring: .*: ok$" kiln-$j.out)" = 2
'

test_expect_success 'the test hosts are removed' '
	kiln_stop_all &&
	! ip netns list | grep kiln-th &&
	! ip link show kilnbr0 2>/dev/null
'

test_done

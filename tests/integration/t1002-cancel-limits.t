#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
test_description='cancel pending and running jobs, time limits, FIFO order'
. "$KILN_SRCDIR/tests/integration/lib/kiln-test.sh"

test_expect_success 'start a server and one worker with one cpu' '
	start_server &&
	start_worker n1 0 &&
	wait_nodes_up 1
'

test_expect_success 'a running job holds the cpu; the next waits for resources' '
	cat >long.sh <<-\EOT &&
	#!/bin/sh
	echo $$ >pid.$KILN_JOB_ID
	sleep 300 &
	echo $! >child.$KILN_JOB_ID
	wait
	EOT
	run=$("$KILN" submit --parsable long.sh) &&
	wait_state $run RUNNING &&
	pend=$("$KILN" submit --parsable --wrap true) &&
	sleep 0.3 &&
	test "$(job_field $pend state)" = RUNNABLE &&
	"$KILN" nodes | grep "^n1 *UP *1/1"
'

test_expect_success 'cancel of a pending job: FAILED, cancelled, never ran' '
	"$KILN" cancel $pend &&
	test "$(job_field $pend state)" = FAILED &&
	test "$(job_field $pend status_reason)" = cancelled &&
	test "$(job_field $pend attempts)" = 0
'

test_expect_success 'cancel of a running job kills it and its children' '
	kiln_wait_line child.$run . &&
	pid=$(cat pid.$run) && child=$(cat child.$run) &&
	kill -0 $pid && kill -0 $child &&
	"$KILN" cancel --reason "no longer needed" $run &&
	test "$(wait_job $run 10)" = FAILED &&
	test "$(job_field $run status_reason)" = "cancelled: no longer needed" &&
	! kill -0 $pid 2>/dev/null &&
	! kill -0 $child 2>/dev/null &&
	"$KILN" nodes | grep "^n1 *UP *0/1"
'

test_expect_success 'the cores keep their cgroup, empty, after the job' '
	scope=$(sed -n "s/.*(jobs under \(kiln[^)]*\)).*/\1/p" worker-n1.log | head -1) &&
	test -n "$scope" &&
	for g in /sys/fs/cgroup/cpuset/$scope /sys/fs/cgroup/$scope; do
		test -d $g || continue
		! test -d $g/job_$run.1 &&
		for c in $g/cpus_*; do
			test -d $c && test -z "$(cat $c/cgroup.procs)" || return 1
		done
	done
'

test_expect_success 'a time limit kills a sleeping job: FAILED, timed out' '
	id=$("$KILN" submit --parsable -t 0:01 long.sh) &&
	test "$(wait_job $id 15)" = FAILED &&
	test "$(job_field $id status_reason)" = "timed out" &&
	! kill -0 $(cat child.$id) 2>/dev/null &&
	elapsed=$(job_field $id "end_time - .start_time") &&
	awk "BEGIN { exit !($elapsed >= 1) }"
'

# A job whose output file is a FIFO blocks in its open, before its exec:
# neither a cancel nor its time limit may wait for a reader that never
# comes, and its cpu is free again.
test_expect_success 'a job stuck before its exec (output to a FIFO): cancel ends it' '
	mkfifo stuck.fifo &&
	id=$("$KILN" submit --parsable -o "$PWD/stuck.fifo" --wrap true) &&
	wait_state $id RUNNING &&
	sleep 0.5 &&
	"$KILN" cancel --reason stuck $id &&
	test "$(wait_job $id 10)" = FAILED &&
	test "$(job_field $id status_reason)" = "cancelled: stuck" &&
	"$KILN" nodes | grep "^n1 *UP *0/1"
'

test_expect_success 'a job stuck before its exec: its time limit ends it' '
	id=$("$KILN" submit --parsable -t 0:01 -o "$PWD/stuck.fifo" --wrap true) &&
	test "$(wait_job $id 15)" = FAILED &&
	test "$(job_field $id status_reason)" = "timed out" &&
	"$KILN" nodes | grep "^n1 *UP *0/1"
'

test_expect_success 'a job that ignores SIGTERM is killed after the grace period' '
	id=$("$KILN" submit --parsable -t 0:01 --wrap "trap \"\" TERM; sleep 300") &&
	test "$(wait_job $id 15)" = FAILED &&
	test "$(job_field $id status_reason)" = "timed out" &&
	test "$(job_field $id exit_code)" = 137
'

test -w /sys/fs/cgroup/memory/cgroup.procs -o -w /sys/fs/cgroup/cgroup.subtree_control &&
	test_set_prereq MEMCG

test_expect_success MEMCG 'a job above its --mem is killed: FAILED, out of memory' '
	id=$("$KILN" submit --parsable --mem 40M --wrap "head -c 400M /dev/zero | tail; echo survived") &&
	test "$(wait_job $id 30)" = FAILED &&
	test "$(job_field $id status_reason)" = "out of memory" &&
	grep survived kiln-$id.out
'

test_expect_success 'a job within its --mem succeeds' '
	id=$("$KILN" submit --parsable --mem 200M --wrap "head -c 10M /dev/zero | tail | wc -c") &&
	test "$(wait_job $id 30)" = SUCCEEDED
'

test_expect_success 'a 1-second busy loop records about 1 CPU second' '
	id=$("$KILN" submit --parsable -o /dev/null --wrap "timeout 1 sh -c \"while :; do :; done\"; true") &&
	test "$(wait_job $id)" = SUCCEEDED &&
	cpu=$("$KILN" show --json $id | jq ".attempt_list[0].user_cpu + .attempt_list[0].sys_cpu") &&
	echo "cpu seconds: $cpu" &&
	awk "BEGIN { exit !($cpu >= 0.5 && $cpu <= 1.5) }" &&
	"$KILN" show --json $id | jq -e ".attempt_list[0].max_rss_kib > 0" &&
	"$KILN" show $id | grep "#1 node=n1 .*cpu=[0-9.]*s(user)"
'

test_expect_success MEMCG 'the next job on the same cores counts its own use alone' '
	big=$("$KILN" submit --parsable -o /dev/null --wrap "head -c 150M /dev/zero | tail >/dev/null") &&
	test "$(wait_job $big 30)" = SUCCEEDED &&
	"$KILN" show --json $big | jq -e ".attempt_list[0].max_rss_kib > 100000" &&
	small=$("$KILN" submit --parsable -o /dev/null --wrap true) &&
	test "$(wait_job $small)" = SUCCEEDED &&
	"$KILN" show --json $small | jq -e ".attempt_list[0].max_rss_kib < 50000" &&
	"$KILN" show --json $small | jq -e ".attempt_list[0].user_cpu + .attempt_list[0].sys_cpu < 0.5"
'

test_expect_success 'jobs start in submit order (FIFO)' '
	first=$("$KILN" submit --parsable --wrap "sleep 0.5; date +%s.%N >order.1") &&
	second=$("$KILN" submit --parsable --wrap "date +%s.%N >order.2") &&
	test "$(wait_job $second)" = SUCCEEDED &&
	test "$(job_field $first state)" = SUCCEEDED &&
	awk "BEGIN { exit !($(cat order.1) < $(cat order.2)) }"
'

test_expect_success 'cancel of a finished job is an error' '
	test_must_fail "$KILN" cancel $first 2>err &&
	grep "job already finished" err
'

test_done

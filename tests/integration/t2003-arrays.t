#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
test_description='array jobs: indices, throttle, environment, cancel, failures, restart'
. "$KILN_SRCDIR/tests/integration/lib/kiln-test.sh"

test_expect_success 'start a server and two workers' '
	start_cluster
'

test_expect_success 'an array runs every index with its environment and output file' '
	id=$("$KILN" submit --parsable --array 0-5 --wrap \
		"echo \$KILN_ARRAY_JOB_ID \$KILN_ARRAY_INDEX \$AWS_BATCH_JOB_ARRAY_INDEX \$AWS_BATCH_JOB_ID") &&
	test "$(wait_job $id)" = SUCCEEDED &&
	for i in 0 1 2 3 4 5; do
		test "$(cat kiln-${id}_$i.out)" = "$id $i $i $id:$i" || return 1
	done &&
	"$KILN" show --json $id | jq -e ".array.counts.SUCCEEDED == 6" &&
	"$KILN" history | grep "^${id}_5 .*SUCCEEDED"
'

test_expect_success 'children are jobs of their own: show, history' '
	test "$(job_field ${id}_3 array_index)" = 3 &&
	test "$(job_field ${id}_3 array_job_id)" = $id &&
	test "$(job_field ${id}_3 state)" = SUCCEEDED &&
	"$KILN" show ${id}_3 | grep "^JobId=${id}_3 "
'

test_expect_success 'step and list forms' '
	id=$("$KILN" submit --parsable --array 1-10:4,20 -o "step-%a.out" --wrap true) &&
	test "$(wait_job $id)" = SUCCEEDED &&
	test "$(ls step-*.out | sort | tr "\n" " ")" = "step-1.out step-20.out step-5.out step-9.out "
'

test_expect_success 'a throttle of 1 runs one child at a time' '
	id=$("$KILN" submit --parsable --array 0-3%1 -o /dev/null --wrap "sleep 0.3") &&
	test "$(wait_job $id)" = SUCCEEDED &&
	for i in 1 2 3; do
		prev_end=$(job_field ${id}_$((i - 1)) end_time) &&
		start=$(job_field ${id}_$i start_time) &&
		awk "BEGIN { exit !($start >= $prev_end) }" || return 1
	done
'

test_expect_success 'one failing child fails the array, the others run' '
	id=$("$KILN" submit --parsable --array 0-3 -o /dev/null --wrap "test \$KILN_ARRAY_INDEX != 2") &&
	test "$(wait_job $id)" = FAILED &&
	test "$(job_field $id status_reason)" = "1 of 4 children failed" &&
	test "$(job_field ${id}_2 state)" = FAILED &&
	test "$(job_field ${id}_3 state)" = SUCCEEDED
'

test_expect_success 'cancel one child before it starts: it never runs' '
	id=$("$KILN" submit --parsable --array 0-2%1 --wrap "sleep 0.5") &&
	"$KILN" cancel ${id}_2 &&
	test "$(wait_job $id)" = FAILED &&
	test "$(job_field ${id}_2 status_reason)" = cancelled &&
	test "$(job_field ${id}_2 attempts)" = 0 &&
	! test -e kiln-${id}_2.out &&
	test "$(job_field ${id}_1 state)" = SUCCEEDED
'

test_expect_success 'a 100,000-element array is one row: accepted, listed, cancelled' '
	id=$("$KILN" submit --parsable --array 0-99999 -H --wrap true) &&
	"$KILN" show --json $id | jq -e ".array.size == 100000 and .array.created == 0" &&
	test "$("$KILN" queue --json | jq length)" = 1 &&
	"$KILN" cancel $id &&
	test "$(job_field $id state)" = FAILED &&
	test "$(job_field $id status_reason)" = cancelled
'

test_expect_success 'cancel a running array: running children die, the rest never start' '
	id=$("$KILN" submit --parsable --array 0-9 -o /dev/null --wrap "sleep 60") &&
	wait_state ${id}_0 RUNNING &&
	"$KILN" cancel $id &&
	test "$(wait_job $id)" = FAILED &&
	test "$(job_field ${id}_0 status_reason)" = cancelled &&
	test_must_fail "$KILN" show ${id}_9 2>err &&
	grep "unknown job id ${id}_9" err &&
	test "$("$KILN" queue --json)" = "[]"
'

test_expect_success 'an array goes on across a server restart; no child runs twice' '
	id=$("$KILN" submit --parsable --array 0-7%2 -o /dev/null \
		--wrap "echo x >>ran.\$KILN_ARRAY_INDEX; sleep 0.3") &&
	wait_state ${id}_1 RUNNING &&
	kill_pid $SERVER_PID KILL &&
	start_server &&
	test "$(wait_job $id 60)" = SUCCEEDED &&
	for i in 0 1 2 3 4 5 6 7; do
		test "$(wc -l <ran.$i)" = 1 || return 1
	done
'

test_expect_success 'SEQUENTIAL: each child after the one before' '
	id=$("$KILN" submit --parsable --array 0-3 --depends-on SEQUENTIAL -o /dev/null \
		--wrap "sleep 0.2") &&
	test "$(wait_job $id)" = SUCCEEDED &&
	for i in 1 2 3; do
		prev_end=$(job_field ${id}_$((i - 1)) end_time) &&
		start=$(job_field ${id}_$i start_time) &&
		awk "BEGIN { exit !($start >= $prev_end) }" || return 1
	done
'

test_expect_success 'SEQUENTIAL: after a failed child the rest never run' '
	id=$("$KILN" submit --parsable --array 0-3 --depends-on SEQUENTIAL -o /dev/null \
		--wrap "test \$KILN_ARRAY_INDEX != 1") &&
	test "$(wait_job $id)" = FAILED &&
	test "$(job_field ${id}_0 state)" = SUCCEEDED &&
	test "$(job_field ${id}_2 attempts)" = 0 &&
	job_field ${id}_3 status_reason | grep "dependency never satisfied: sequential"
'

test_expect_success 'N_TO_N (aftercorr): child i after child i of the other array' '
	a=$("$KILN" submit --parsable --array 0-2 -o /dev/null \
		--wrap "sleep 0.\$KILN_ARRAY_INDEX; test \$KILN_ARRAY_INDEX != 2 || exit 1; date +%s.%N >a.\$KILN_ARRAY_INDEX") &&
	b=$("$KILN" submit --parsable --array 0-2 --depends-on $a:N_TO_N -o /dev/null \
		--wrap "date +%s.%N >b.\$KILN_ARRAY_INDEX") &&
	test "$(wait_job $b)" = FAILED &&
	for i in 0 1; do
		awk "BEGIN { exit !($(cat a.$i) <= $(cat b.$i)) }" || return 1
	done &&
	job_field ${b}_2 status_reason | grep "aftercorr:$a, and job ${a}_2 FAILED" &&
	! test -e b.2
'

test_expect_success 'aftercorr and SEQUENTIAL need an array' '
	test_must_fail "$KILN" submit --depends-on SEQUENTIAL --wrap true 2>err &&
	grep "sequential needs an array job" err
'

test_expect_success 'hold an array: no more children start until release' '
	id=$("$KILN" submit --parsable --array 0-3%1 -o /dev/null --wrap "sleep 0.5") &&
	wait_state ${id}_0 RUNNING &&
	"$KILN" hold $id &&
	test "$(wait_job ${id}_0)" = SUCCEEDED &&
	sleep 0.5 &&
	test "$(job_field $id array.created)" = 1 &&
	"$KILN" release $id &&
	test "$(wait_job $id)" = SUCCEEDED &&
	test "$(job_field $id array.created)" = 4 &&
	# The server restarted more than --node-timeout ago: a RUNNING parent
	# holds no cores and must not be taken for a job lost with its node.
	! "$KILN" show $id | grep "node failure"
'

test_expect_success 'bad arrays are refused' '
	test_must_fail "$KILN" submit --array 5-1 --wrap true 2>err &&
	grep "invalid value for --array: .5-1." err &&
	test_must_fail "$KILN" submit --array 0-2000000 --wrap true 2>err &&
	grep "invalid value for --array" err &&
	test_must_fail "$KILN" cancel 1_x 2>err &&
	grep "invalid job id .1_x." err
'

test_done

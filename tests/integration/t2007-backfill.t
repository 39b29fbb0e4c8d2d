#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
test_description='backfill behind the reservation of a blocked job'
. "$KILN_SRCDIR/tests/integration/lib/kiln-test.sh"

test_expect_success 'start a server and one worker with two cpus' '
	start_server &&
	start_worker n1 0-1 &&
	wait_nodes_up 1
'

test_expect_success 'a short job backfills; one without a limit waits' '
	run=$("$KILN" submit --parsable -o /dev/null -t 0:04 --wrap "sleep 2") &&
	wait_state $run RUNNING &&
	big=$("$KILN" submit --parsable -o /dev/null -n 2 --wrap true) &&
	short=$("$KILN" submit --parsable -o /dev/null -t 0:01 --wrap "sleep 0.2") &&
	long=$("$KILN" submit --parsable -o /dev/null --wrap "sleep 0.2") &&
	test "$(wait_job $short)" = SUCCEEDED &&
	test "$(job_field $big state)" = RUNNABLE &&
	"$KILN" why $big >why &&
	grep "job $big is RUNNABLE: needs 2 cores on one node of environments default; the best node, n1, has 1 free cores; cores reserved, expected to start at" why &&
	"$KILN" show --json $big | jq -e ".why.expected_start >= $(job_field $run start_time) + 3" &&
	"$KILN" why $long | grep "1 jobs ahead of it in job queue .default." &&
	test "$(job_field $long state)" = RUNNABLE &&
	wait_idle &&
	bs=$(job_field $big start_time) &&
	awk "BEGIN { exit !($(job_field $short end_time) <= $bs) }" &&
	awk "BEGIN { exit !($bs <= $(job_field $long start_time)) }"
'

test_expect_success 'without time limits there is no backfill' '
	run=$("$KILN" submit --parsable -o /dev/null --wrap "sleep 1") &&
	wait_state $run RUNNING &&
	big=$("$KILN" submit --parsable -o /dev/null -n 2 --wrap true) &&
	short=$("$KILN" submit --parsable -o /dev/null -t 0:01 --wrap true) &&
	wait_idle &&
	awk "BEGIN { exit !($(job_field $big start_time) <= $(job_field $short start_time)) }"
'

test_done

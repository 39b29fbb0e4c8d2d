#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
test_description='job queues with priorities and compute environments'
. "$KILN_SRCDIR/tests/integration/lib/kiln-test.sh"

cat >kiln.conf <<\EOT
[queue fromfile]
priority = 7
ce = default
[ce spare]
state = DISABLED
EOT

test_expect_success 'start a server (with declared queues) and two workers' '
	start_server --config kiln.conf &&
	start_worker n1 0 &&
	start_worker n2 1 &&
	wait_nodes_up 2
'

test_expect_success 'the default queue and environment exist, and the declared ones' '
	"$KILN" jobqueue list >q &&
	grep "^default *1 *ENABLED *0 *default$" q &&
	grep "^fromfile *7 *ENABLED *0 *default$" q &&
	"$KILN" ce list >c &&
	grep "^default *UNMANAGED *ENABLED *n1,n2$" c &&
	grep "^spare *UNMANAGED *DISABLED" c
'

test_expect_success 'a node moves to a new compute environment' '
	"$KILN" ce create big &&
	"$KILN" node update n2 --ce big &&
	"$KILN" ce list | grep "^big *UNMANAGED *ENABLED *n2$" &&
	"$KILN" nodes --json | jq -e ".[] | select(.name == \"n2\") | .ce == \"big\"" &&
	"$KILN" nodes | grep "^n2 *UP .* big *- *1 pkg"
'

test_expect_success 'a job runs only on nodes of its queue environments' '
	"$KILN" jobqueue create hi --priority 10 --ce big &&
	for i in 1 2 3; do
		"$KILN" submit --parsable -p hi -o /dev/null --wrap true >>hi.ids || return 1
		"$KILN" submit --parsable -o /dev/null --wrap true >>default.ids || return 1
	done &&
	wait_idle &&
	for id in $(cat hi.ids); do test "$(job_field $id "nodes[0]")" = n2 || return 1; done &&
	for id in $(cat default.ids); do test "$(job_field $id "nodes[0]")" = n1 || return 1; done
'

test_expect_success 'a queue tries its environments in order' '
	"$KILN" jobqueue create ordered --ce big,default &&
	first=$("$KILN" submit --parsable -p ordered -o /dev/null --wrap "sleep 1") &&
	wait_state $first RUNNING &&
	test "$(job_field $first "nodes[0]")" = n2 &&
	second=$("$KILN" submit --parsable -p ordered -o /dev/null --wrap true) &&
	test "$(wait_job $second)" = SUCCEEDED &&
	test "$(job_field $second "nodes[0]")" = n1 &&
	wait_idle &&
	"$KILN" jobqueue delete ordered
'

test_expect_success 'a higher-priority queue gets the cores first' '
	"$KILN" jobqueue create lo --priority 1 --ce default,big &&
	"$KILN" jobqueue update hi --ce default,big &&
	a=$("$KILN" submit --parsable -p lo -o /dev/null --wrap "sleep 1") &&
	b=$("$KILN" submit --parsable -p lo -o /dev/null --wrap "sleep 1") &&
	wait_state $a RUNNING && wait_state $b RUNNING &&
	c=$("$KILN" submit --parsable -p lo -o /dev/null --wrap true) &&
	d=$("$KILN" submit --parsable -p lo -o /dev/null --wrap true) &&
	h=$("$KILN" submit --parsable -p hi -o /dev/null --wrap true) &&
	wait_idle &&
	hs=$(job_field $h start_time) &&
	awk "BEGIN { exit !($hs <= $(job_field $c start_time) || $hs <= $(job_field $d start_time)) }" &&
	awk "BEGIN { exit !($hs <= $(job_field $d start_time)) }"
'

test_expect_success 'a disabled queue refuses new jobs and still runs what it holds' '
	held=$("$KILN" submit --parsable -p lo -H -o /dev/null --wrap true) &&
	"$KILN" jobqueue update lo --state DISABLED &&
	test_must_fail "$KILN" submit -p lo --wrap true 2>err &&
	grep "job queue .lo. is DISABLED" err &&
	"$KILN" release $held &&
	test "$(wait_job $held)" = SUCCEEDED
'

test_expect_success 'a disabled environment gets no new jobs' '
	"$KILN" ce update big --state DISABLED &&
	id=$("$KILN" submit --parsable -p hi -o /dev/null --wrap true) &&
	test "$(wait_job $id)" = SUCCEEDED &&
	test "$(job_field $id "nodes[0]")" = n1 &&
	"$KILN" ce update big --state ENABLED
'

test_expect_success 'unknown queues and environments are named' '
	test_must_fail "$KILN" submit -p nosuch --wrap true 2>err &&
	grep "unknown job queue .nosuch." err &&
	test_must_fail "$KILN" jobqueue create x --ce nosuch 2>err &&
	grep "unknown compute environment .nosuch." err &&
	test_must_fail "$KILN" node update n1 --ce nosuch 2>err &&
	grep "unknown compute environment .nosuch." err &&
	test_must_fail "$KILN" jobqueue create hi 2>err &&
	grep "job queue .hi. exists" err &&
	test_must_fail "$KILN" jobqueue update hi --priority -3 2>err &&
	grep "invalid value for --priority" err
'

test_expect_success 'what is in use cannot be deleted' '
	test_must_fail "$KILN" ce delete big 2>err &&
	grep "compute environment .big. is used by job queue" err &&
	id=$("$KILN" submit --parsable -p hi -H --wrap true) &&
	test_must_fail "$KILN" jobqueue delete hi 2>err &&
	grep "job queue .hi. still has 1 jobs" err &&
	"$KILN" cancel $id &&
	"$KILN" jobqueue delete hi &&
	! "$KILN" jobqueue list | grep "^hi "
'

test_expect_success 'queues, environments and node placement survive a restart' '
	kill_pid $SERVER_PID KILL &&
	start_server --config kiln.conf &&
	wait_nodes_up 2 &&
	"$KILN" jobqueue list | grep "^lo *1 *DISABLED *0 *default,big$" &&
	"$KILN" ce list | grep "^big *UNMANAGED *ENABLED *n2$"
'

test_expect_success 'a queue cancels jobs left RUNNABLE too long for a reason' '
	"$KILN" jobqueue create stuck --ce default --cancel-stuck resources:1 &&
	"$KILN" jobqueue list --json | jq -e ".[] | select(.name == \"stuck\") | .jobStateTimeLimitActions[0].maxTimeSeconds == 1" &&
	blocker=$("$KILN" submit --parsable -p stuck -o /dev/null --wrap "sleep 30") &&
	wait_state $blocker RUNNING &&
	waiting=$("$KILN" submit --parsable -p stuck -o /dev/null --wrap true) &&
	test "$(wait_job $waiting 15)" = FAILED &&
	test "$(job_field $waiting status_reason)" = "cancelled: RUNNABLE for more than 1 s (resources)" &&
	test "$(job_field $blocker state)" = RUNNING &&
	"$KILN" cancel $blocker &&
	test_must_fail "$KILN" jobqueue update stuck --cancel-stuck resources 2>err &&
	grep "invalid value for --cancel-stuck: .resources." err
'

test_expect_success 'a worker joins the environment given by --ce' '
	kill_worker n1 &&
	start_worker n1 0 --ce spare &&
	"$KILN" ce list | grep "^spare *UNMANAGED *DISABLED *n1$"
'

test_done

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
test_description='job priority and nice within a queue; terminate'
. "$KILN_SRCDIR/tests/integration/lib/kiln-test.sh"

test_expect_success 'start a server and one worker with one cpu' '
	start_server &&
	start_worker n1 0 &&
	wait_nodes_up 1
'

test_expect_success 'priority, then nice, then submit order decide who starts next' '
	busy=$("$KILN" submit --parsable -o /dev/null --wrap "sleep 1") &&
	wait_state $busy RUNNING &&
	a=$("$KILN" submit --parsable -o /dev/null --wrap true) &&
	b=$("$KILN" submit --parsable -o /dev/null --priority 10 --wrap true) &&
	c=$("$KILN" submit --parsable -o /dev/null --nice=5 --wrap true) &&
	d=$("$KILN" submit --parsable -o /dev/null --priority 10 --wrap true) &&
	"$KILN" queue | grep "^$b .*(Resources)" &&
	wait_idle &&
	order=$(for j in $a $b $c $d; do echo "$(job_field $j start_time) $j"; done |
		sort -n | cut -d" " -f2 | tr "\n" " ") &&
	test "$order" = "$b $d $a $c "
'

test_expect_success 'bad priority and nice are refused' '
	test_must_fail "$KILN" submit --priority -1 --wrap true 2>err &&
	grep "invalid value for --priority: .-1." err &&
	test_must_fail "$KILN" submit --nice=x --wrap true 2>err &&
	grep "invalid value for --nice: .x." err
'

test_expect_success 'terminate a running job: killed, FAILED, terminated' '
	id=$("$KILN" submit --parsable -o /dev/null --wrap "sleep 60") &&
	wait_state $id RUNNING &&
	"$KILN" terminate --reason "wrong input" $id &&
	test "$(wait_job $id)" = FAILED &&
	test "$(job_field $id status_reason)" = "terminated: wrong input"
'

test_expect_success 'terminate a pending job' '
	id=$("$KILN" submit --parsable -H --wrap true) &&
	"$KILN" terminate $id &&
	test "$(job_field $id state)" = FAILED &&
	test "$(job_field $id status_reason)" = terminated
'

test_done

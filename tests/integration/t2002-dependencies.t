#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
test_description='dependencies: after, afterany, afterok, afternotok, singleton, dependsOn'
. "$KILN_SRCDIR/tests/integration/lib/kiln-test.sh"

test_expect_success 'start a server and two workers' '
	start_cluster
'

test_expect_success 'afterok waits for success, then runs' '
	a=$("$KILN" submit --parsable --wrap "sleep 1; date +%s.%N >a.end") &&
	b=$("$KILN" submit --parsable --dependency afterok:$a --wrap "date +%s.%N >b.start") &&
	test "$(job_field $b state)" = PENDING &&
	test "$(job_field $b status_reason)" = Dependency &&
	"$KILN" queue | grep "^$b .*PENDING.*(Dependency)" &&
	wait_state $a RUNNING &&
	"$KILN" why $b | grep "job $b is PENDING: waits for afterok:$a (job $a is RUNNING)" &&
	"$KILN" why --json $b | jq -e ".code == \"dependency\" and .waiting[0].id == $a" &&
	test "$(wait_job $b)" = SUCCEEDED &&
	awk "BEGIN { exit !($(cat a.end) <= $(cat b.start)) }"
'

test_expect_success 'afterok on a failed job: never satisfied' '
	a=$("$KILN" submit --parsable --wrap "exit 1") &&
	b=$("$KILN" submit --parsable --depends-on $a --wrap true) &&
	test "$(wait_job $b)" = FAILED &&
	test "$(job_field $b status_reason)" = "dependency never satisfied: afterok:$a, and job $a FAILED" &&
	test "$(job_field $b attempts)" = 0
'

test_expect_success 'a chain of never-satisfied dependants all fail' '
	a=$("$KILN" submit --parsable -H --wrap true) &&
	b=$("$KILN" submit --parsable -d afterok:$a --wrap true) &&
	c=$("$KILN" submit --parsable -d afterok:$b --wrap true) &&
	"$KILN" cancel $a &&
	test "$(wait_job $c)" = FAILED &&
	test "$(job_field $b state)" = FAILED
'

test_expect_success 'afternotok runs after a failure; afterany after either' '
	a=$("$KILN" submit --parsable --wrap "exit 2") &&
	b=$("$KILN" submit --parsable -d afternotok:$a --wrap true) &&
	c=$("$KILN" submit --parsable -d afterany:$a:$b --wrap true) &&
	test "$(wait_job $c)" = SUCCEEDED &&
	test "$(job_field $b state)" = SUCCEEDED
'

test_expect_success 'after: starts once the other has started' '
	a=$("$KILN" submit --parsable --wrap "sleep 3") &&
	b=$("$KILN" submit --parsable -d after:$a --wrap true) &&
	test "$(wait_job $b)" = SUCCEEDED &&
	test "$(job_field $a state)" = RUNNING &&
	"$KILN" cancel $a
'

test_expect_success 'singleton: one job of a name and user at a time' '
	a=$("$KILN" submit --parsable -J single --wrap "sleep 1; date +%s.%N >s1.end") &&
	b=$("$KILN" submit --parsable -J single -d singleton --wrap "date +%s.%N >s2.start") &&
	test "$(wait_job $b)" = SUCCEEDED &&
	awk "BEGIN { exit !($(cat s1.end) <= $(cat s2.start)) }"
'

test_expect_success 'held with dependencies: release leaves it waiting for them' '
	a=$("$KILN" submit --parsable --wrap "sleep 1") &&
	b=$("$KILN" submit --parsable -H -d afterok:$a --wrap true) &&
	"$KILN" release $b &&
	test "$(job_field $b status_reason)" = Dependency &&
	test "$(wait_job $b)" = SUCCEEDED
'

test_expect_success 'dependencies survive a server restart' '
	a=$("$KILN" submit --parsable -H --wrap true) &&
	b=$("$KILN" submit --parsable -d afterok:$a --wrap true) &&
	kill_pid $SERVER_PID KILL &&
	start_server &&
	wait_nodes_up 2 &&
	test "$(job_field $b state)" = PENDING &&
	"$KILN" release $a &&
	test "$(wait_job $b)" = SUCCEEDED
'

test_expect_success 'bad dependencies are refused' '
	test_must_fail "$KILN" submit -d afterok:99999 --wrap true 2>err &&
	grep "invalid dependency: unknown job id 99999" err &&
	test_must_fail "$KILN" submit -d soon:1 --wrap true 2>err &&
	grep "unknown type .soon." err &&
	test_must_fail "$KILN" submit -d afterok --wrap true 2>err &&
	grep "needs a job id" err &&
	test_must_fail "$KILN" submit --depends-on x --wrap true 2>err &&
	grep "invalid job id .x. in --depends-on" err
'

test_done

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
test_description='retry strategies: attempts and evaluateOnExit, as in AWS Batch'
. "$KILN_SRCDIR/tests/integration/lib/kiln-test.sh"

# Fails until its third attempt.
cat >flaky.sh <<\EOT
#!/bin/sh
echo "attempt $KILN_JOB_ATTEMPT" >>attempts.$KILN_JOB_ID
test "$KILN_JOB_ATTEMPT" -ge 3 || exit 4
EOT

test_expect_success 'start a server and two workers' '
	start_cluster
'

test_expect_success 'a flaky job succeeds on its third of three attempts' '
	id=$("$KILN" submit --parsable --retry-attempts 3 flaky.sh) &&
	test "$(wait_job $id)" = SUCCEEDED &&
	test "$(job_field $id attempts)" = 3 &&
	test "$(wc -l <attempts.$id)" = 3 &&
	"$KILN" show --json $id >show.json &&
	jq -e "[.attempt_list[].exit_code] == [4,4,0]" show.json &&
	jq -e "[.events[].state] | map(select(. == \"RUNNABLE\")) | length == 3" show.json &&
	"$KILN" show $id | grep "#3 node=n[12]"
'

test_expect_success 'without attempts left the job fails with the last reason' '
	id=$("$KILN" submit --parsable --retry-attempts 2 flaky.sh) &&
	test "$(wait_job $id)" = FAILED &&
	test "$(job_field $id attempts)" = 2 &&
	test "$(job_field $id status_reason)" = "exit code 4"
'

test_expect_success 'evaluateOnExit EXIT on the exit code stops retrying' '
	id=$("$KILN" submit --parsable --retry-strategy \
		"{\"attempts\":5,\"evaluateOnExit\":[{\"onExitCode\":\"4\",\"action\":\"EXIT\"}]}" flaky.sh) &&
	test "$(wait_job $id)" = FAILED &&
	test "$(job_field $id attempts)" = 1
'

test_expect_success 'evaluateOnExit from a file; the first matching rule wins' '
	cat >rs.json <<-\EOT &&
	{"attempts": 4, "evaluateOnExit": [
	  {"onStatusReason": "exit code 4*", "action": "RETRY"},
	  {"onExitCode": "*", "action": "EXIT"}]}
	EOT
	id=$("$KILN" submit --parsable --retry-strategy @rs.json flaky.sh) &&
	test "$(wait_job $id)" = SUCCEEDED &&
	test "$(job_field $id attempts)" = 3
'

test_expect_success 'a rule that retries exit code 3 and exits on 4' '
	cat >three-then-four.sh <<-\EOT &&
	#!/bin/sh
	test "$KILN_JOB_ATTEMPT" = 1 && exit 3
	exit 4
	EOT
	id=$("$KILN" submit --parsable -o /dev/null --retry-strategy \
		"{\"attempts\":5,\"evaluateOnExit\":[{\"onExitCode\":\"3\",\"action\":\"RETRY\"},{\"onExitCode\":\"4\",\"action\":\"EXIT\"}]}" \
		three-then-four.sh) &&
	test "$(wait_job $id)" = FAILED &&
	test "$(job_field $id attempts)" = 2 &&
	test "$(job_field $id status_reason)" = "exit code 4" &&
	"$KILN" show --json $id | jq -e "[.attempt_list[].exit_code] == [3,4]"
'

test_expect_success 'a bad retry strategy is refused with the field named' '
	test_must_fail "$KILN" submit --retry-attempts 11 flaky.sh 2>err &&
	grep "invalid value for --retry-attempts: .11." err &&
	test_must_fail "$KILN" submit --retry-strategy "{\"attempts\":2,\"evaluateOnExit\":[{\"action\":\"RETRY\"}]}" flaky.sh 2>err &&
	grep "evaluateOnExit\[0\]: needs onExitCode" err &&
	test_must_fail "$KILN" submit --retry-strategy "{oops" flaky.sh 2>err &&
	grep "invalid value for --retry-strategy" err
'

test_expect_success 'a cancelled job is not retried' '
	id=$("$KILN" submit --parsable --retry-attempts 3 --wrap "sleep 60") &&
	wait_state $id RUNNING &&
	"$KILN" cancel $id &&
	test "$(wait_job $id)" = FAILED &&
	test "$(job_field $id attempts)" = 1 &&
	test "$(job_field $id status_reason)" = cancelled
'

test_expect_success 'a node failure is retried on another node' '
	id=$("$KILN" submit --parsable --retry-attempts 2 -o /dev/null --wrap "sleep 30") &&
	wait_state $id RUNNING &&
	node=$(job_field $id "nodes[0]") &&
	kill_worker $node KILL &&
	wait_field $id attempts 2 30 &&
	wait_state $id RUNNING &&
	test "$(job_field $id "nodes[0]")" != "$node" &&
	"$KILN" show --json $id | jq -e ".attempt_list[0].reason == \"node failure\"" &&
	"$KILN" cancel $id
'

test_done

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
test_description='kill -9 of the server or a worker: no job lost, none run twice'
. "$KILN_SRCDIR/tests/integration/lib/kiln-test.sh"

# Each job appends its id to a file of its own: two lines mean it ran twice.
cat >job.sh <<\EOT
#!/bin/sh
echo "$KILN_JOB_ID" >>ran.$KILN_JOB_ID
sleep ${1:-0}
EOT

test_expect_success 'start a server and two workers' '
	start_cluster
'

test_expect_success 'kill -9 the server with jobs running and queued' '
	"$KILN" submit --parsable -o /dev/null job.sh 2 >ids &&
	"$KILN" submit --parsable -o /dev/null job.sh 2 >>ids &&
	for i in 1 2 3 4 5 6; do
		"$KILN" submit --parsable -o /dev/null job.sh 0.2 >>ids || return 1
	done &&
	wait_state $(head -1 ids) RUNNING &&
	kill_pid $SERVER_PID KILL
'

test_expect_success 'restart the server on the same ports: every job ends, each ran once' '
	start_server &&
	wait_nodes_up 2 &&
	wait_idle 60 &&
	for id in $(cat ids); do
		test "$(job_field $id state)" = SUCCEEDED || { echo "job $id: $(job_field $id state)"; return 1; }
		test "$(wc -l <ran.$id)" = 1 || { echo "job $id ran $(wc -l <ran.$id) times"; return 1; }
	done
'

test_expect_success 'a job submitted after the restart gets a new id' '
	id=$("$KILN" submit --parsable -o /dev/null --wrap true) &&
	test $id -gt $(sort -n ids | tail -1) &&
	test "$(wait_job $id)" = SUCCEEDED
'

test_expect_success 'kill -9 a worker while its job runs; restart it: the result arrives' '
	id=$("$KILN" submit --parsable -o /dev/null job.sh 2) &&
	wait_state $id RUNNING &&
	node=$(job_field $id "nodes[0]") &&
	kill_worker $node KILL &&
	test -d spool-$node/jobs/$id.1 &&
	restart_worker $node &&
	test "$(wait_job $id 30)" = SUCCEEDED &&
	test "$(wc -l <ran.$id)" = 1 &&
	test "$(job_field $id attempts)" = 1
'

test_expect_success 'the result is kept when the server is down as the job ends' '
	id=$("$KILN" submit --parsable -o /dev/null job.sh 1) &&
	wait_state $id RUNNING &&
	node=$(job_field $id "nodes[0]") &&
	kill_pid $SERVER_PID KILL &&
	kiln_wait_line spool-$node/jobs/$id.1/result.json exit_code &&
	start_server &&
	test "$(wait_job $id 30)" = SUCCEEDED &&
	i=0; while test -d spool-$node/jobs/$id.1 && test $i -lt 100; do sleep 0.05; i=$((i+1)); done &&
	! test -d spool-$node/jobs/$id.1
'

test_expect_success 'a worker that stays away: its running job fails with node failure' '
	id=$("$KILN" submit --parsable -o /dev/null job.sh 30) &&
	wait_state $id RUNNING &&
	node=$(job_field $id "nodes[0]") &&
	kill_worker $node KILL &&
	test "$(wait_job $id 20)" = FAILED &&
	test "$(job_field $id status_reason)" = "node failure" &&
	"$KILN" nodes | grep "^$node *DOWN"
'

test_expect_success 'when it comes back, the worker is told to kill the stray job' '
	restart_worker $node &&
	wait_nodes_up 2 &&
	i=0; while test -d spool-$node/jobs/$id.1 && test $i -lt 100; do sleep 0.1; i=$((i+1)); done &&
	! test -d spool-$node/jobs/$id.1 &&
	! pgrep -f "spool-$node/jobs/$id.1" >/dev/null
'

# Everything a request changes is stored in the same turn: after a restart
# each object reads back as it was (issue 12.12).
snapshot() {
	for j in $(cat held); do "$KILN" show --json $j | jq -S "{id, state, status_reason, spec: .spec.hold, priority: .spec.priority}"; done >"$1" &&
	"$KILN" nodes --json | jq -S "[.[] | {name, state, reason}]" >>"$1" &&
	"$KILN" jobqueue list --json | jq -S . >>"$1" &&
	"$KILN" ce list --json | jq -S . >>"$1" &&
	"$KILN" policy list --json | jq -S . >>"$1"
}

test_expect_success 'every kind of change survives a restart of the server' '
	"$KILN" ce create empty &&
	"$KILN" jobqueue create parked --priority 3 --ce empty &&
	a=$("$KILN" submit --parsable --hold -p parked --wrap true) &&
	b=$("$KILN" submit --parsable --priority 9 -p parked --wrap true) &&
	"$KILN" hold $b &&
	c=$("$KILN" submit --parsable --hold -p parked --wrap true) &&
	"$KILN" release $c &&
	d=$("$KILN" submit --parsable -p parked --wrap true) &&
	"$KILN" cancel $d &&
	echo "$a $b $c $d" >held &&
	"$KILN" node drain n2 --reason "new disks" &&
	"$KILN" jobqueue update parked --priority 5 --state DISABLED &&
	"$KILN" ce update empty --state DISABLED &&
	"$KILN" policy create fair --share "physics=1,bio=0.5" &&
	snapshot before &&
	kill_pid $SERVER_PID KILL &&
	start_server &&
	wait_nodes_up 1 &&
	snapshot after &&
	diff before after &&
	test "$(job_field $a state)" = PENDING &&
	test "$(job_field $b status_reason)" = held &&
	"$KILN" cancel $a $b $c &&
	"$KILN" node resume n2
'

test_expect_success 'kiln exec into a running job still works after a restart' '
	rm -f go &&
	j=$("$KILN" submit --parsable -w n1 -o exec.out \
		--wrap "while ! test -e go; do sleep 0.1; done; \"$KILN\" exec n1 echo exec-ok") &&
	wait_state $j RUNNING &&
	kill_pid $SERVER_PID KILL &&
	start_server &&
	wait_nodes_up 2 &&
	touch go &&
	test "$(wait_job $j)" = SUCCEEDED &&
	test "$(cat exec.out)" = exec-ok
'

test_done

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
test_description='soak (make check-long): 3,000 short jobs while the server is killed
with SIGKILL 5 times and a worker 3 times; every job the clients were told of
exists at the end, in one final state, and ran exactly once'
. "$KILN_SRCDIR/tests/integration/lib/kiln-test.sh"

# Each job appends its id to a file of its own: two lines mean it ran twice.
cat >job.sh <<\EOT
#!/bin/sh
echo "$KILN_JOB_ID" >>"$KILN_SUBMIT_DIR/ran/$KILN_JOB_ID"
EOT
mkdir ran

test_expect_success 'start a server and two workers' '
	start_cluster
'

# Submit, trying again while the server is down; an id is recorded only
# when the server said it.
submitter() {
	n=0
	while test $n -lt "$1"; do
		if id=$(KILN_TIMEOUT=3 "$KILN" submit --parsable -o /dev/null $2 job.sh 2>/dev/null); then
			echo "$id" >>told
			n=$((n + 1))
		else
			sleep 0.2
		fi
	done
}

test_expect_success '3,000 jobs under fire: 5 server kills, 3 worker kills' '
	: >told &&
	(submitter 1 "--array 0-1999") &&
	(submitter 1000 "") &
	SUB=$! &&
	for round in 1 2 3 4 5 6 7 8; do
		sleep $(awk "BEGIN { srand($round * 7919); print 1 + rand() * 3 }") &&
		case $round in
		2|5|7) kill_worker n$((round % 2 + 1)) KILL && restart_worker n$((round % 2 + 1)) ;;
		*) kill_pid $SERVER_PID KILL && start_server ;;
		esac || return 1
	done &&
	wait $SUB &&
	wait_nodes_up 2 &&
	wait_idle 300
'

test_expect_success 'every job told of exists, is final, and ran exactly once' '
	test "$(wc -l <told)" = 1001 &&
	succ=0 &&
	for id in $(tail -n +2 told); do
		st=$(job_field $id state) &&
		case $st in
		SUCCEEDED) test "$(wc -l <ran/$id)" = 1 || { echo "job $id: ran $(cat ran/$id | wc -l) times"; return 1; }
			succ=$((succ + 1)) ;;
		FAILED) ;;
		*) echo "job $id is $st"; return 1 ;;
		esac
	done &&
	array=$(head -1 told) &&
	"$KILN" show --json $array >array.json &&
	jq -e ".state == \"SUCCEEDED\" or .state == \"FAILED\"" array.json &&
	asucc=$(jq ".array.counts.SUCCEEDED" array.json) &&
	afail=$(jq ".array.counts.FAILED" array.json) &&
	test $((asucc + afail)) = 2000 &&
	twice=$(for f in ran/*; do if test "$(wc -l <"$f")" -gt 1; then echo "$f"; fi; done) &&
	test -z "$twice" &&
	ran=$(ls ran | wc -l) &&
	echo "# single jobs: $succ of 1000 SUCCEEDED; array: $asucc SUCCEEDED, $afail FAILED; $ran ran (a job whose submit answer was lost with the server runs too), none twice" >&5 &&
	test "$ran" -ge $((succ + asucc))
'

test_done

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
test_description='kill -9 of a worker, the server, and both during a 5,000-job array: every child counted once, none run twice'
. "$KILN_SRCDIR/tests/integration/lib/kiln-test.sh"

N=${KILN_KILL_ARRAY_N:-5000}

# Each child appends its index to ran: a child that ran twice is there
# twice, one that never ran is missing.
ran() {
	if test -f ran; then wc -l <ran; else echo 0; fi
}
wait_ran() {
	i=0
	while test "$(ran)" -lt "$1"; do
		i=$((i + 1))
		test $i -gt 2400 && { echo "only $(ran) of $1 children ran"; return 1; }
		sleep 0.05
	done
}

test_expect_success 'start a server and two workers' '
	start_cluster
'

test_expect_success "submit an array of $N" '
	id=$("$KILN" submit --parsable -o /dev/null --array 1-$N \
		--wrap "echo \$KILN_ARRAY_INDEX >>\"$PWD/ran\"") &&
	echo $id >array
'

test_expect_success 'kill -9 worker n1 mid-array, and start it again' '
	wait_ran $((N / 5)) &&
	kill_worker n1 KILL &&
	sleep 0.5 &&
	restart_worker n1 &&
	wait_nodes_up 2
'

test_expect_success 'kill -9 the server mid-array, and start it again' '
	wait_ran $((N * 2 / 5)) &&
	kill_pid $SERVER_PID KILL &&
	start_server &&
	wait_nodes_up 2
'

test_expect_success 'kill -9 worker n2 and the server together, and start them again' '
	wait_ran $((N * 3 / 5)) &&
	kill_worker n2 KILL &&
	kill_pid $SERVER_PID KILL &&
	start_server &&
	restart_worker n2 &&
	wait_nodes_up 2
'

test_expect_success 'every child ran exactly once' '
	test "$(wait_job $(cat array) 300)" = SUCCEEDED &&
	test "$(ran)" = $N &&
	test "$(sort -n ran | uniq | wc -l)" = $N &&
	test "$(sort -n ran | head -1)" = 1 &&
	test "$(sort -n ran | tail -1)" = $N
'

test_expect_success 'and is counted exactly once, SUCCEEDED in one attempt' '
	id=$(cat array) &&
	"$KILN" show --json $id | jq -e ".array.counts.SUCCEEDED == $N" &&
	"$KILN" history --json --limit $((N + 100)) >history.json &&
	test "$(jq "[.[] | select(.array_job_id == $id)] | length" history.json)" = $N &&
	test "$(jq -r ".[] | select(.array_job_id == $id) | .array_index" history.json |
		sort -n | uniq | wc -l)" = $N &&
	test "$(jq "[.[] | select(.array_job_id == $id and .state != \"SUCCEEDED\")] | length" \
		history.json)" = 0 &&
	test "$(jq "[.[] | select(.array_job_id == $id and .attempts != 1)] | length" \
		history.json)" = 0
'

test_done

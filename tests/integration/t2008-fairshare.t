#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
test_description='fair-share scheduling policies: share identifiers, weights, decay'
. "$KILN_SRCDIR/tests/integration/lib/kiln-test.sh"

test_expect_success 'start a server and one worker with one cpu' '
	start_server &&
	start_worker n1 0 &&
	wait_nodes_up 1
'

test_expect_success 'create a policy and a queue that uses it' '
	"$KILN" policy create fair --share-decay 3600 --share "a=1,b=0.1" &&
	"$KILN" policy list | grep "^fair *3600 *a=1,b=0.1$" &&
	"$KILN" jobqueue create fs --policy fair --priority 5 &&
	"$KILN" jobqueue list --json | jq -e ".[] | select(.name == \"fs\") | .policy == \"fair\""
'

test_expect_success 'the share with the lower weighted usage goes first' '
	busy=$("$KILN" submit --parsable -p fs --share-identifier a -o /dev/null --wrap "sleep 1") &&
	wait_state $busy RUNNING &&
	for i in 1 2 3; do
		"$KILN" submit --parsable -p fs --share-identifier a -o /dev/null --wrap "sleep 0.2" >>a.ids
	done &&
	for i in 1 2 3; do
		"$KILN" submit --parsable -p fs --share-identifier b -o /dev/null --wrap "sleep 0.2" >>b.ids
	done &&
	wait_idle 60 &&
	order=$(for j in $(cat a.ids b.ids); do echo "$(job_field $j start_time) $(job_field $j spec.share_identifier)"; done |
		sort -n | cut -d" " -f2 | tr -d "\n") &&
	test "$order" = bbbaaa
'

test_expect_success 'usage is kept across a restart' '
	kill_pid $SERVER_PID KILL &&
	start_server &&
	wait_nodes_up 1 &&
	x=$("$KILN" submit --parsable -p fs --share-identifier a -H -o /dev/null --wrap "sleep 0.1") &&
	y=$("$KILN" submit --parsable -p fs --share-identifier b -H -o /dev/null --wrap "sleep 0.1") &&
	"$KILN" release $x $y &&
	wait_idle &&
	awk "BEGIN { exit !($(job_field $y start_time) <= $(job_field $x start_time)) }"
'

test_expect_success 'a share identifier is needed in a fair-share queue, and only there' '
	test_must_fail "$KILN" submit -p fs --wrap true 2>err &&
	grep "job queue .fs. has fair-share policy .fair.: give a share identifier" err &&
	test_must_fail "$KILN" submit --share-identifier a --wrap true 2>err &&
	grep "job queue .default. has no fair-share policy" err
'

test_expect_success 'bad policies are refused; a used one cannot be deleted' '
	test_must_fail "$KILN" policy create bad --share "a=0" 2>err &&
	grep "weightFactor: 0.0001-999.9999" err &&
	test_must_fail "$KILN" jobqueue create q2 --policy nosuch 2>err &&
	grep "unknown scheduling policy .nosuch." err &&
	test_must_fail "$KILN" policy delete fair 2>err &&
	grep "scheduling policy .fair. is used by job queue .fs." err
'

test_expect_success 'over 200 jobs, two shares get cores within 10% of their weights' '
	start_worker n2 1 &&
	wait_nodes_up 2 &&
	"$KILN" policy create half --share-decay 3600 --share "x=1,y=0.5" &&
	"$KILN" jobqueue create fs2 --policy half --priority 6 &&
	i=0 &&
	while test $i -lt 200; do
		"$KILN" submit --parsable -p fs2 --share-identifier x -o /dev/null -H --wrap "sleep 0.1" >>x.ids &&
		"$KILN" submit --parsable -p fs2 --share-identifier y -o /dev/null -H --wrap "sleep 0.1" >>y.ids || return 1
		i=$((i + 1))
	done &&
	"$KILN" release $(cat x.ids y.ids) &&
	wait_idle 300 &&
	"$KILN" history --json >h.json &&
	jq -r "[.[] | select(.queue == \"fs2\")] | sort_by(.start_time) | .[:200] | map(.id) | .[]" h.json >first &&
	nx=$(grep -c -x -F -f x.ids first) && ny=$(grep -c -x -F -f y.ids first) &&
	echo "x=$nx y=$ny" &&
	awk "BEGIN { r = $ny / $nx; exit !(r >= 1.8 && r <= 2.2) }"
'

test_done

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
test_description='300 short jobs on 2 cores, each with its own exit code'
. "$KILN_SRCDIR/tests/integration/lib/kiln-test.sh"

test_expect_success 'start a server and two workers' '
	start_cluster
'

test_expect_success 'submit 300 jobs' '
	i=0 &&
	while test $i -lt 300; do
		"$KILN" submit --parsable -o /dev/null --wrap "exit $((i % 7))" >>ids || return 1
		i=$((i + 1))
	done &&
	test "$(sort -u ids | wc -l)" = 300
'

test_expect_success 'all 300 finish with their own exit codes' '
	wait_idle 120 &&
	"$KILN" history --json >h.json &&
	i=0 &&
	for id in $(cat ids); do
		want=$((i % 7))
		got=$(jq -r ".[] | select(.id == $id) | \"\(.state) \(.exit_code)\"" h.json)
		if test $want = 0; then exp="SUCCEEDED 0"; else exp="FAILED $want"; fi
		test "$got" = "$exp" || { echo "job $id: got \"$got\" want \"$exp\""; return 1; }
		i=$((i + 1))
	done &&
	test "$("$KILN" queue --json)" = "[]"
'

test_expect_success 'both nodes ran jobs and every core is free again' '
	jq -r ".[].nodes[0]" h.json | sort | uniq -c >per-node &&
	test "$(wc -l <per-node)" = 2 &&
	"$KILN" nodes | grep "^n1 *UP *0/1" &&
	"$KILN" nodes | grep "^n2 *UP *0/1"
'

test_done

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
test_description='the local provider launches its instances in the test hosts (network namespaces)'
. "$KILN_SRCDIR/tests/integration/lib/kiln-test.sh"
. "$KILN_SRCDIR/tests/integration/lib/elastic.sh"

if ! "$KILN_SRCDIR/scripts/testhosts" check 2>check.err; then
	skip_all="network namespaces cannot be made here: $(cat check.err)"
	test_done
fi

none_left() {
	test "$(instances th)" = 0 &&
	! pgrep -f "worker --foreground.*$PWD/state/instances/" >/dev/null
}

test_expect_success 'two test hosts, a server on the bridge' '
	testhosts_up 2 &&
	KILN_LISTEN="tcp://$("$KILN_SRCDIR/scripts/testhosts" addr 0):*" &&
	KILN_WORKER_LISTEN=$KILN_LISTEN &&
	start_server &&
	"$KILN" ce create th --provider local --hosts "kiln-th[1-2]" --max-vcpus 2 \
		--idle-timeout 3 &&
	"$KILN" jobqueue create thq --ce th
'

test_expect_success 'two jobs: an instance in each test host, on its own network' '
	for i in 1 2; do
		"$KILN" submit -p thq --wrap \
			"ip -4 -o addr show dev eth0 | awk \"{print \\\$4}\" >\"$PWD/addr-\$KILN_JOB_ID\"; sleep 2" |
			awk "{print \$3}" >>ids || return 1
	done &&
	for id in $(cat ids); do
		test "$(wait_job "$id" 60)" = SUCCEEDED || return 1
	done &&
	cat addr-* | sort >addrs &&
	printf "198.18.0.11/24\n198.18.0.12/24\n" >want &&
	test_cmp want addrs &&
	"$KILN" ce show th --json | jq -r ".computeEnvironments[0].kiln.instances[].id" | sort >names &&
	printf "kiln-th1\nkiln-th2\n" >want && test_cmp want names
'

test_expect_success 'idle, they go; a third job finds a host free again' '
	wait_for 30 none_left &&
	"$KILN" submit -p thq --wrap true | awk "{print \$3}" >id &&
	test "$(wait_job "$(cat id)" 60)" = SUCCEEDED &&
	wait_for 30 none_left
'

test_done

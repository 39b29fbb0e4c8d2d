#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
test_description='attacks and bad luck (issue 12): overflows in the root job shell,
results that must be taken, secrets kept from other users, peers that never answer'
. "$KILN_SRCDIR/tests/integration/lib/kiln-test.sh"

RAWSEND="$KILN_BUILDDIR/tests/tools/rawsend"

test_expect_success 'start a server and a worker' '
	start_server && start_worker n1 0 && wait_nodes_up 1
'

test_expect_success 'an output pattern that expands past PATH_MAX fails the job, clearly' '
	name=$(printf "%0128d" 0 | tr 0 x) &&
	pat=$(for i in $(seq 40); do printf "%%x%%u"; done) &&
	j=$("$KILN" submit --parsable -J "$name" -o "$pat" --wrap true) &&
	test "$(wait_job $j)" = FAILED &&
	job_field $j status_reason | grep "output file pattern: its expansion is longer than PATH_MAX"
'

test_expect_success 'a job whose failure reason is long still ends (cut, not refused)' '
	long=$PWD/$(printf "%0230d" 0 | tr 0 d)/out &&
	j=$("$KILN" submit --parsable -o "$long" --wrap true) &&
	test "$(wait_job $j)" = FAILED &&
	r=$(job_field $j status_reason) &&
	test ${#r} -le 200 &&
	! grep "reason too long" server.log
'

test_done

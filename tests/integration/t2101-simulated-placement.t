#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
test_description='placement on a simulated machine (worker --topology --simulate)'
. "$KILN_SRCDIR/tests/integration/lib/kiln-test.sh"

test_expect_success 'a made-up machine needs --simulate; a bad one is named' '
	test_must_fail "$KILN" worker --topology "pack:2 core:2 pu:1" --spool "$PWD/x" 2>err &&
	grep "need --simulate" err &&
	test_must_fail "$KILN" worker --topology "pack:banana" --simulate --spool "$PWD/x" 2>err &&
	grep "invalid synthetic topology .pack:banana." err
'

test_expect_success 'start a server and a simulated 2-socket, 4-NUMA, 32-thread worker' '
	start_server &&
	start_worker big 0-31 --topology "pack:2 numa:2 core:4 pu:2" --simulate &&
	wait_nodes_up 1 &&
	"$KILN" nodes | grep "^big *UP *0/32 .*2 pkg, 4 numa, 0 L3, 16 cores, 32 pus"
'

test_expect_success 'jobs get compact, best-fitting cores on it' '
	a=$("$KILN" submit --parsable -n 4 -o /dev/null --wrap "sleep 3") &&
	wait_state $a RUNNING &&
	test "$(job_field $a cpus.big)" = 0-3 &&
	b=$("$KILN" submit --parsable -n 8 -o /dev/null --wrap "sleep 3") &&
	wait_state $b RUNNING &&
	test "$(job_field $b cpus.big)" = 8-15 &&
	c=$("$KILN" submit --parsable -n 2 --wrap "echo \$KILN_CPUS") &&
	test "$(wait_job $c)" = SUCCEEDED &&
	test "$(job_field $c cpus.big)" = 4-5 &&
	test "$(cat kiln-$c.out)" = 4-5 &&
	"$KILN" cancel $a $b
'

test_done

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
test_description='placement requests on simulated nodes: threads per core, cyclic tasks,
exclusive nodes, GPUs, features and host lists'
. "$KILN_SRCDIR/tests/integration/lib/kiln-test.sh"

# Three made-up machines: smt (4 cores x 2 threads), two (2 sockets x 4
# cores), gpu (2 sockets x 4 cores, GPU cuda0 on socket 0, cuda1 and cuda2
# on socket 1, from an hwloc XML file).
test_expect_success 'start a server and three simulated workers' '
	start_server &&
	start_worker smt 0-7 --topology "pack:1 core:4 pu:2" --simulate --features avx512,ib &&
	start_worker two 0-7 --topology "pack:2 core:4 pu:1" --simulate &&
	start_worker gpu 0-7 --topology-xml "$KILN_SRCDIR/tests/integration/data/gpus.xml" \
		--simulate &&
	wait_nodes_up 3 &&
	"$KILN" nodes | grep "^gpu .* 0/3 " &&
	"$KILN" nodes --long >long &&
	grep "GPU 1: cuda1 (device 1) on package 1" long &&
	grep "Features=avx512,ib" long
'

test_expect_success '--hint=nomultithread: one thread of each of its cores' '
	j=$("$KILN" submit --parsable -w smt -n 2 -c 2 --hint=nomultithread \
		--wrap "echo \$KILN_TASK_CPUS") &&
	test "$(wait_job $j)" = SUCCEEDED &&
	test "$(job_field $j cpus.smt)" = 0,2,4,6 &&
	test "$(cat kiln-$j.out)" = "0,2;4,6" &&
	test "$(job_field $j allocation.nodes[0].held)" = 0-7
'

test_expect_success '--distribution cyclic: tasks alternate sockets; block keeps them together' '
	c=$("$KILN" submit --parsable -w two -n 4 -m cyclic --wrap "echo \$KILN_TASK_CPUS") &&
	test "$(wait_job $c)" = SUCCEEDED &&
	test "$(cat kiln-$c.out)" = "0;4;1;5" &&
	b=$("$KILN" submit --parsable -w two -n 2 -c 2 --wrap "echo \$KILN_TASK_CPUS") &&
	test "$(wait_job $b)" = SUCCEEDED &&
	test "$(cat kiln-$b.out)" = "0-1;2-3"
'

test_expect_success 'the submitter CUDA_VISIBLE_DEVICES does not hide the allocated GPUs' '
	g=$(CUDA_VISIBLE_DEVICES=7 "$KILN" submit --parsable -w gpu -G 1 \
		--wrap "printenv CUDA_VISIBLE_DEVICES; env | grep -c ^CUDA_VISIBLE_DEVICES=") &&
	test "$(wait_job $g)" = SUCCEEDED &&
	cat kiln-$g.out &&
	test "$(sed -n 1p kiln-$g.out)" != 7 &&
	sed -n 1p kiln-$g.out | grep -x "[0-2]" &&
	test "$(sed -n 2p kiln-$g.out)" = 1
'

test_expect_success '--gpus: devices set for the job, cores beside its GPUs' '
	g=$("$KILN" submit --parsable -G 2 -c 2 \
		--wrap "echo \$CUDA_VISIBLE_DEVICES \$KILN_GPUS \$KILN_CPUS") &&
	test "$(wait_job $g)" = SUCCEEDED &&
	test "$(cat kiln-$g.out)" = "1,2 cuda1,cuda2 4-5" &&
	h=$("$KILN" submit --parsable -G 1 --wrap "sleep 30") &&
	wait_state $h RUNNING &&
	"$KILN" node show gpu >map &&
	grep "GPU 0 cuda0 (package 0) \[A\]" map &&
	grep "^A  job $h " map &&
	"$KILN" cancel $h &&
	test_must_fail "$KILN" submit -G 4 --wrap true 2>err &&
	grep "asks for 4 GPUs and the node of job queue .default. with the most has 3" err
'

test_expect_success '--exclusive: the whole node, once it is idle' '
	a=$("$KILN" submit --parsable -w two -o /dev/null --wrap "sleep 2") &&
	wait_state $a RUNNING &&
	x=$("$KILN" submit --parsable -w two --exclusive --wrap "echo \$KILN_CPUS") &&
	sleep 0.5 &&
	test "$(job_field $x state)" = RUNNABLE &&
	test "$(wait_job $x)" = SUCCEEDED &&
	test "$(cat kiln-$x.out)" = 0-7
'

test_expect_success '--constraint picks nodes by feature; kiln node update sets them' '
	f=$("$KILN" submit --parsable -C "avx512&ib" --wrap true) &&
	test "$(wait_job $f)" = SUCCEEDED &&
	test "$(job_field $f nodes[0])" = smt &&
	test_must_fail "$KILN" submit -C "quantum" --wrap true 2>err &&
	grep "no node of job queue .default. has the features .quantum." err &&
	test_must_fail "$KILN" submit -C "a&&b" --wrap true 2>err &&
	grep "invalid constraint" err &&
	"$KILN" node update two --features quantum &&
	q=$("$KILN" submit --parsable -C "quantum|nothing" --wrap true) &&
	test "$(wait_job $q)" = SUCCEEDED &&
	test "$(job_field $q nodes[0])" = two &&
	"$KILN" node update two --features "" &&
	test_must_fail "$KILN" submit -C quantum --wrap true
'

test_expect_success '--nodelist and --exclude take host lists' '
	w=$("$KILN" submit --parsable -w "smt,gpu" -x gpu --wrap true) &&
	test "$(wait_job $w)" = SUCCEEDED &&
	test "$(job_field $w nodes[0])" = smt &&
	test_must_fail "$KILN" submit -w "node[1-" --wrap true 2>err &&
	grep "invalid host list .node\[1-." err &&
	test_must_fail "$KILN" submit -w "smt" -x "smt" --wrap true 2>err &&
	grep "is in its --nodelist and not in its --exclude" err
'

test_expect_success '--mem-per-cpu: memory for each of its cpus' '
	m=$("$KILN" submit --parsable -w two -n 2 --mem-per-cpu 100M --wrap "echo \$KILN_MEM_MB") &&
	test "$(wait_job $m)" = SUCCEEDED &&
	test "$(cat kiln-$m.out)" = 200 &&
	test_must_fail "$KILN" submit --mem 1G --mem-per-cpu 1G --wrap true 2>err &&
	grep "mutually exclusive" err
'

test_expect_success 'no worker was ever given cpus that a running job held' '
	! grep "are held by job" worker-smt.log worker-two.log worker-gpu.log
'

test_done

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
test_description='the launcher of job shells: one per worker, replaced when it dies, never waited on for ever'
. "$KILN_SRCDIR/tests/integration/lib/kiln-test.sh"

# The launcher of worker n1 (a child of it), or nothing.
launcher_of() {
	pgrep -P "$WORKER_PID_n1" -fx "kiln-shell --launcher" || :
}

test_expect_success 'setup' '
	start_server &&
	start_worker n1 0 &&
	wait_nodes_up 1
'

test_expect_success 'the worker starts one launcher, and each shell shows its job' '
	id=$("$KILN" submit --parsable -o /dev/null --wrap "sleep 30") &&
	wait_state $id RUNNING &&
	test "$(launcher_of | wc -l)" = 1 &&
	pgrep -fx "kiln-shell $PWD/spool-n1/jobs/$id.1" >shell &&
	test "$(ps -o ppid= -p "$(cat shell)" | tr -d " ")" = "$(launcher_of)" &&
	"$KILN" cancel $id &&
	test "$(wait_job $id 20)" = FAILED
'

test_expect_success 'a launcher killed is replaced; the job it started goes on' '
	id=$("$KILN" submit --parsable -o /dev/null --wrap "sleep 2") &&
	wait_state $id RUNNING &&
	old=$(launcher_of) &&
	kill -KILL $old &&
	test "$(wait_job $id 20)" = SUCCEEDED &&
	id=$("$KILN" submit --parsable -o out.txt --wrap "echo again") &&
	test "$(wait_job $id 20)" = SUCCEEDED &&
	grep -x again out.txt &&
	new=$(launcher_of) &&
	test -n "$new" && test "$new" != "$old" &&
	grep "the launcher (pid $old) is gone: starting another" worker-n1.log &&
	! ps --ppid "$new" -o stat= | grep Z
'

# The worker goes on meanwhile: it beats, and its node stays up.
test_expect_success 'a launcher that does not answer fails that launch only, in 10 s' '
	kill -STOP $(launcher_of) &&
	id=$("$KILN" submit --parsable -o /dev/null --wrap true) &&
	test "$(wait_job $id 30)" = FAILED &&
	test "$(job_field $id status_reason)" = "launch failed: the launcher of job shells failed" &&
	grep "did not answer in 10 s: starting another" worker-n1.log &&
	"$KILN" nodes | grep "^n1 *UP" &&
	id=$("$KILN" submit --parsable -o /dev/null --wrap true) &&
	test "$(wait_job $id 20)" = SUCCEEDED
'

# A worker killed after it asked for a shell, before the launcher (stopped
# here) started it: the restarted worker starts one, and when the old
# launcher goes on, its shell finds the job taken and leaves.
test_expect_success 'a start a worker died in runs once, whichever shell comes first' '
	l=$(launcher_of) &&
	kill -STOP $l &&
	id=$("$KILN" submit --parsable -o /dev/null --wrap "echo \$KILN_JOB_ID >>\"$PWD/once\"") &&
	kiln_wait_line "$PWD/spool-n1/jobs/$id.1/job.json" id &&
	kill_worker n1 KILL &&
	restart_worker n1 &&
	test "$(wait_job $id 20)" = SUCCEEDED &&
	grep "job $id.1: no shell yet; starting one" worker-n1.log &&
	kill -CONT $l &&
	i=0; while kill -0 $l 2>/dev/null && test $i -lt 100; do sleep 0.1; i=$((i+1)); done &&
	! kill -0 $l 2>/dev/null &&
	grep "another shell has this job, or it is over: leaving it" worker-n1.log &&
	test "$(cat once)" = "$id" &&
	test "$(job_field $id attempts)" = 1
'

# The launcher takes absolute job directories only; the worker makes its
# spool absolute, whatever it was given.
test_expect_success 'a worker given a relative spool runs its jobs' '
	start_worker rel 1 --spool rel-spool &&
	wait_nodes_up 2 &&
	id=$("$KILN" submit --parsable -w rel -o out3.txt --wrap "echo relative") &&
	test "$(wait_job $id 20)" = SUCCEEDED &&
	grep -x relative out3.txt &&
	test -d rel-spool/jobs &&
	kill_worker rel
'

test_expect_success 'the launcher stops with its worker; the shells go on' '
	id=$("$KILN" submit --parsable -o out2.txt --wrap "sleep 2; echo done") &&
	wait_state $id RUNNING &&
	l=$(launcher_of) &&
	kill_worker n1 &&
	! kill -0 $l 2>/dev/null &&
	pgrep -fx "kiln-shell $PWD/spool-n1/jobs/$id.1" &&
	restart_worker n1 &&
	test "$(wait_job $id 20)" = SUCCEEDED &&
	grep -x done out2.txt
'

test_done

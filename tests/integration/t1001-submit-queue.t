#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
test_description='submit, directives, output files, cores, environment, queue, show, history'
. "$KILN_SRCDIR/tests/integration/lib/kiln-test.sh"

test_expect_success 'start a server and two workers' '
	start_cluster
'

test_expect_success 'a job writes its output to kiln-ID.out in the submit directory' '
	cat >hello.sh <<-\EOT &&
	#!/bin/sh
	echo "hello from $KILN_JOB_NAME"
	EOT
	"$KILN" submit hello.sh >out &&
	id=$(sed -n "s/^Submitted job \([0-9]*\)$/\1/p" out) &&
	test -n "$id" &&
	test "$(wait_job $id)" = SUCCEEDED &&
	test "$(cat kiln-$id.out)" = "hello from hello.sh"
'

test_expect_success 'a job runs on exactly the cores kiln show reports' '
	id=$("$KILN" submit --parsable --wrap "grep Cpus_allowed_list /proc/self/status") &&
	test "$(wait_job $id)" = SUCCEEDED &&
	node=$(job_field $id "nodes[0]") &&
	cpus=$(job_field $id "cpus.$node") &&
	test -n "$cpus" &&
	test "$(cut -f2 kiln-$id.out)" = "$cpus"
'

test_expect_success 'the job is in the cgroup of its cores where the node has one' '
	test -w /sys/fs/cgroup/cpuset/cgroup.procs -o -w /sys/fs/cgroup/cgroup.subtree_control || {
		echo "# no writable cgroup: skipped"; return 0; } &&
	id=$("$KILN" submit --parsable --wrap "cat /proc/self/cgroup") &&
	test "$(wait_job $id)" = SUCCEEDED &&
	grep "kiln/n[12]-[0-9a-f]\{8\}/cpus_[0-9]" kiln-$id.out
'

test_expect_success 'a group of cores with a part removed by hand is made again; the job runs' '
	test -w /sys/fs/cgroup/memory/cgroup.procs -a -w /sys/fs/cgroup/cpuset/cgroup.procs || {
		echo "# no writable cgroup v1 memory controller: skipped"; return 0; } &&
	: >groups &&
	for i in 1 2 3 4; do
		id=$("$KILN" submit --parsable --wrap "cat /proc/self/cgroup") &&
		test "$(wait_job $id)" = SUCCEEDED &&
		sed -n "s,^[0-9]*:memory:,/sys/fs/cgroup/memory,p" kiln-$id.out >>groups || return 1
	done &&
	groups=$(sort -u groups) &&
	test -n "$groups" &&
	rmdir $groups &&
	for i in 1 2 3 4; do
		id=$("$KILN" submit --parsable --wrap "cat /proc/self/cgroup") &&
		test "$(wait_job $id)" = SUCCEEDED &&
		grep "memory:/kiln/n[12]-[0-9a-f]\{8\}/cpus_[0-9]" kiln-$id.out &&
		test "$(job_field $id attempts)" = 1 || return 1
	done &&
	for g in $groups; do test -d $g || return 1; done
'

test_expect_success 'directives set name, output pattern, error file and time' '
	cat >dir.sh <<-\EOT &&
	#!/bin/sh
	#KILN --job-name=dirjob
	#SBATCH -o out-%x-%j.txt
	#KILN --error=err-%j.txt --time 1:00
	echo to-out; echo to-err >&2
	# a later directive-looking comment is not a directive:
	#KILN --job-name=ignored
	EOT
	id=$("$KILN" submit --parsable dir.sh) &&
	test "$(wait_job $id)" = SUCCEEDED &&
	test "$(job_field $id name)" = dirjob &&
	test "$(job_field $id time_limit)" = 60 &&
	test "$(cat out-dirjob-$id.txt)" = to-out &&
	test "$(cat err-$id.txt)" = to-err
'

test_expect_success 'the command line wins over directives' '
	id=$("$KILN" submit --parsable -J cli dir.sh) &&
	test "$(job_field $id name)" = cli
'

test_expect_success 'script arguments, --chdir and %u%N patterns' '
	mkdir -p wd &&
	cat >args.sh <<-\EOT &&
	#!/bin/sh
	echo "$1,$2,$(pwd)"
	EOT
	id=$("$KILN" submit --parsable -D wd -o "%u-%N-%%.out" args.sh "a b" c) &&
	test "$(wait_job $id)" = SUCCEEDED &&
	node=$(job_field $id "nodes[0]") &&
	test "$(cat "wd/$(id -un)-$node-%.out")" = "a b,c,$PWD/wd"
'

test_expect_success 'the environment: exported variables and KILN_* names' '
	MYVAR=hello123 && export MYVAR &&
	id=$("$KILN" submit --parsable -c 1 --wrap "env") &&
	test "$(wait_job $id)" = SUCCEEDED &&
	grep "^MYVAR=hello123$" kiln-$id.out &&
	grep "^KILN_JOB_ID=$id$" kiln-$id.out &&
	grep "^KILN_JOB_NAME=wrap$" kiln-$id.out &&
	grep "^KILN_NTASKS=1$" kiln-$id.out &&
	grep "^KILN_CPUS_PER_TASK=1$" kiln-$id.out &&
	grep "^KILN_NODELIST=n[12]$" kiln-$id.out &&
	grep "^KILN_SUBMIT_DIR=$PWD$" kiln-$id.out &&
	grep "^KILN_CPUS=[01]$" kiln-$id.out &&
	grep "^AWS_BATCH_JOB_ID=$id$" kiln-$id.out
'

test_expect_success '--export=NONE and a list of names' '
	MYVAR=hello123 && export MYVAR &&
	id=$("$KILN" submit --parsable --export=NONE --wrap "env") &&
	test "$(wait_job $id)" = SUCCEEDED &&
	! grep "^MYVAR=" kiln-$id.out &&
	grep "^KILN_JOB_ID=$id$" kiln-$id.out &&
	id=$("$KILN" submit --parsable --export=MYVAR,OTHER=x --wrap "env") &&
	test "$(wait_job $id)" = SUCCEEDED &&
	grep "^MYVAR=hello123$" kiln-$id.out &&
	grep "^OTHER=x$" kiln-$id.out &&
	! grep "^HOME=" kiln-$id.out
'

test "$(id -u)" = 0 && id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null &&
	test_set_prereq ROOT_AND_NOBODY

test_expect_success ROOT_AND_NOBODY 'a root worker runs a job as its submitter, output theirs' '
	out=$(mktemp -d /tmp/kiln-t1001.XXXXXX) && chmod 777 $out &&
	test_when_finished "rm -rf $out" &&
	id=$(cd $out && setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$KILN" submit --parsable --wrap "id -u; id -g") &&
	test "$(wait_job $id)" = SUCCEEDED &&
	test "$(job_field $id user)" = nobody &&
	test "$(head -1 $out/kiln-$id.out)" = "$(id -u nobody)" &&
	test "$(stat -c %U $out/kiln-$id.out)" = nobody
'

test_expect_success ROOT_AND_NOBODY 'a job cannot write where its submitter may not' '
	id=$(cd /tmp && setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$KILN" submit --parsable -o /root/kiln-must-not-exist-%j --wrap true) &&
	test "$(wait_job $id)" = FAILED &&
	job_field $id status_reason | grep "cannot open output file ./root/kiln-must-not-exist-$id.: Permission denied" &&
	! test -e /root/kiln-must-not-exist-$id
'

test_expect_success 'a failing job is FAILED with its exit code' '
	id=$("$KILN" submit --parsable --wrap "exit 3") &&
	test "$(wait_job $id)" = FAILED &&
	test "$(job_field $id exit_code)" = 3 &&
	test "$(job_field $id status_reason)" = "exit code 3"
'

test_expect_success '--wait returns when the job ends, with its exit code' '
	"$KILN" submit --wait --wrap "sleep 0.2; true" &&
	test_expect_code 5 "$KILN" submit --wait --wrap "exit 5"
'

test_expect_success 'a job that cannot open its output file fails with the reason' '
	id=$("$KILN" submit --parsable -o /nonexistent/dir/out --wrap true) &&
	test "$(wait_job $id)" = FAILED &&
	job_field $id status_reason | grep "cannot open output file ./nonexistent/dir/out."
'

test_expect_success 'hold keeps a job pending; release lets it run' '
	id=$("$KILN" submit --parsable -H --wrap true) &&
	sleep 0.3 &&
	test "$(job_field $id state)" = PENDING &&
	"$KILN" queue >q &&
	grep "^$id .*PENDING.*(held)" q &&
	"$KILN" why $id | grep "held by its user" &&
	"$KILN" release $id &&
	test "$(wait_job $id)" = SUCCEEDED &&
	test_must_fail "$KILN" release $id 2>err &&
	grep "job already finished" err
'

test_expect_success 'hold a waiting job, then release it' '
	busy1=$("$KILN" submit --parsable -o /dev/null --wrap "sleep 2") &&
	busy2=$("$KILN" submit --parsable -o /dev/null --wrap "sleep 2") &&
	id=$("$KILN" submit --parsable --wrap true) &&
	"$KILN" hold $id &&
	test "$(job_field $id state)" = PENDING &&
	test "$(job_field $id status_reason)" = held &&
	test_must_fail "$KILN" hold $id 2>err &&
	grep "job is already held" err &&
	wait_job $busy1 && wait_job $busy2 &&
	sleep 0.3 &&
	test "$(job_field $id state)" = PENDING &&
	"$KILN" release $id &&
	test "$(wait_job $id)" = SUCCEEDED &&
	test_must_fail "$KILN" hold $busy1 2>err &&
	grep "job already finished" err
'

test_expect_success 'queue lists running jobs with node and cores' '
	id=$("$KILN" submit --parsable --wrap "sleep 30") &&
	wait_state $id RUNNING &&
	"$KILN" queue >q &&
	grep "^JOBID *NAME *USER *STATE *TIME *CPUS *NODELIST(REASON)" q &&
	grep "^$id *wrap *$(id -un) *RUNNING *00:00:0[0-9] *1 *n[12]$" q &&
	"$KILN" queue --json | jq -e ".[] | select(.id == $id) | .state == \"RUNNING\"" &&
	"$KILN" cancel $id &&
	test "$(wait_job $id)" = FAILED
'

test_expect_success 'show --json has the documented fields' '
	id=$("$KILN" submit --parsable --wrap true) &&
	wait_job $id &&
	"$KILN" show --json $id >show.json &&
	for f in id name user queue state status_reason exit_code nodes cpus \
		submit_time start_time end_time attempts; do
		jq -e "has(\"$f\")" show.json >/dev/null || { echo "missing $f"; return 1; }
	done &&
	jq -e ".events | map(.state) == [\"SUBMITTED\",\"PENDING\",\"RUNNABLE\",\"STARTING\",\"RUNNING\",\"SUCCEEDED\"]" show.json
'

test_expect_success 'show prints every field as text' '
	"$KILN" show $id >show.txt &&
	grep "^JobId=$id JobName=wrap" show.txt &&
	grep "JobState=SUCCEEDED" show.txt &&
	grep "NodeList=n[12] Cpus\[n[12]\]=[01]" show.txt
'

test_expect_success 'history lists finished jobs with exit codes' '
	"$KILN" history >h &&
	grep "^JOBID *JOBNAME *USER *STATE *EXITCODE *START *END *ELAPSED" h &&
	grep "FAILED *3 .*exit code 3" h &&
	"$KILN" history --json | jq -e "length >= 10" &&
	"$KILN" history --limit 2 --json | jq -e "length == 2"
'

test_expect_success 'the Slurm names work through links' '
	ln -sf "$KILN" sbatch && ln -sf "$KILN" squeue &&
	./sbatch --wrap true >out &&
	grep "^Submitted batch job [0-9]*$" out &&
	./squeue >/dev/null
'

test_done

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
test_description='managed compute environments grow and shrink (local provider)'
. "$KILN_SRCDIR/tests/integration/lib/kiln-test.sh"
. "$KILN_SRCDIR/tests/integration/lib/elastic.sh"
RAWSEND="$KILN_BUILDDIR/tests/tools/rawsend"

# workers: the instance workers running on this machine
workers() {
	pgrep -f "worker --foreground.*$PWD/state/instances/" | wc -l
}
# capacity ID: kiln why says the job waits for instances
capacity() {
	"$KILN" why "$1" | grep "launching in ce el\|maximum of 4 vCPUs"
}
workers_at_least() {
	test "$(workers)" -ge "$1"
}
# watch_max CE FILE: record the most instances seen until killed
watch_max() {
	max=0
	while :; do
		n=$(instances "$1" 2>/dev/null) || n=0
		test "$n" -gt "$max" && max=$n && echo "$max" >"$2"
		sleep 0.1
	done
}
none_left() {
	test "$(instances el)" = 0 && test "$(workers)" = 0
}

cat >kiln.conf <<\EOT
[ce fromfile]
provider = local
max-vcpus = 2
idle-timeout = 30
EOT

test_expect_success 'start a server, with a managed environment in its configuration' '
	start_server --config kiln.conf &&
	"$KILN" ce list | grep "^fromfile *MANAGED *ENABLED *local *VALID *0/0/2$"
'

test_expect_success 'the example bodies are taken as they are' '
	for f in "$KILN_SRCDIR"/examples/ces/*.json; do
		"$KILN" ce create --json "$f" >out || return 1
		name=$(jq -r .computeEnvironmentName "$f") &&
		grep "compute environment $name: MANAGED" out &&
		"$KILN" ce show "$name" --json |
			jq -e ".computeEnvironments[0].computeEnvironmentName == \"$name\"" &&
		"$KILN" ce delete "$name" || return 1
	done
'

test_expect_success 'bad compute environments are refused, naming the field' '
	test_must_fail "$KILN" ce create x --provider local 2>err &&
	grep "maxvCpus" err &&
	test_must_fail "$KILN" ce create x --provider ec2 --max-vcpus 4 2>err &&
	grep "imageId or launchTemplate" err &&
	test_must_fail "$KILN" ce create x --provider local --max-vcpus 4 --min-vcpus 8 2>err &&
	grep "minvCpus 8 is more than maxvCpus 4" err &&
	test_must_fail "$KILN" ce create x --provider local --max-vcpus 4 --instance-types m5 2>err &&
	grep "for the ec2 provider" err &&
	test_must_fail "$KILN" ce create x --max-vcpus four 2>err &&
	grep "invalid --max-vcpus" err &&
	echo "{\"type\": \"MANAGED\", \"computeResources\": {\"maxvCpus\": 2, \"colour\": 1}}" >bad.json &&
	test_must_fail "$KILN" ce create x --json bad.json 2>err &&
	grep "computeResources.colour" err &&
	! "$KILN" ce list | grep "^x "
'

test_expect_success 'a managed local environment starts empty' '
	"$KILN" ce create el --provider local --min-vcpus 0 --max-vcpus 4 \
		--idle-timeout 3 --boot-timeout 30 >out &&
	grep "compute environment el: MANAGED, ENABLED" out &&
	"$KILN" jobqueue create elq --ce el &&
	"$KILN" ce list | grep "^el *MANAGED *ENABLED *local *VALID *0/0/4$" &&
	test "$(instances el)" = 0 &&
	"$KILN" ce show el | grep "No instances"
'

test_expect_success 'eight 1-vCPU jobs: it grows to exactly 4, and all finish' '
	(watch_max el max.txt) & watcher=$! &&
	for i in 1 2 3 4 5 6 7 8; do
		"$KILN" submit -p elq --wrap "sleep 1" | awk "{print \$3}" >>ids || return 1
	done &&
	capacity "$(tail -1 ids)" &&
	for id in $(cat ids); do
		test "$(wait_job "$id" 60)" = SUCCEEDED || return 1
	done &&
	kill $watcher && wait $watcher;
	test "$(cat max.txt)" = 4 &&
	test "$(events el launched)" = 4 &&
	"$KILN" history --json | jq -r ".[].nodes[0]" | grep -c "^el-" >n &&
	test "$(cat n)" = 8
'

test_expect_success 'kiln nodes shows the instances' '
	"$KILN" nodes >nodes &&
	grep "^el-.* local on-demand \(UP\|IDLE\)$" nodes &&
	"$KILN" nodes --json | jq -e "[.[] | select(.instance.market == \"on-demand\")] | length == 4"
'

test_expect_success 'after the idle timeout it is back at 0, its keys gone' '
	wait_for 30 none_left &&
	test "$(events el idle)" = 4 &&
	test "$(events el terminated)" = 4 &&
	! ls keys/workers | grep "^el-" &&
	"$KILN" nodes --json | jq -e "length == 0" &&
	"$KILN" ce show el | grep "No instances"
'

test_expect_success 'a join token is good once, for its own instances only' '
	"$KILN" submit -p elq --wrap "env >\"$PWD/jobenv\"; sleep 1" |
		awk "{print \$3}" >id &&
	wait_state "$(cat id)" RUNNING 30 &&
	inst=$(job_field "$(cat id)" nodes[0]) &&
	pid=$(pgrep -f "worker --foreground.*$PWD/state/instances/$inst/") &&
	tok=$(tr "\0" "\n" </proc/$pid/environ | sed -n "s/^KILN_JOIN_TOKEN=//p") &&
	test -n "$tok" &&
	"$RAWSEND" "$KILN_SERVER" "" node.join \
		"{\"version\":1,\"name\":\"$inst\",\"token\":\"$tok\",\"key\":\"$(sed -n "s/^public = //p" keys/server.pub)\"}" >ans &&
	grep "EACCES" ans && grep "already used" ans &&
	"$RAWSEND" "$KILN_SERVER" "" node.join \
		"{\"version\":1,\"name\":\"intruder\",\"token\":\"${tok%%.*}.00\"}" >ans &&
	grep "unknown or invalid join token" ans &&
	"$RAWSEND" "$KILN_SERVER" "" node.join \
		"{\"version\":1,\"name\":\"intruder\",\"token\":\"nope\"}" >ans &&
	grep "unknown or invalid join token" ans &&
	grep "refused node.join" server.log &&
	test "$(wait_job "$(cat id)" 30)" = SUCCEEDED &&
	! grep KILN_JOIN_TOKEN jobenv
'

test_expect_success 'a worker killed as it boots is replaced, and its job retried' '
	"$KILN" submit -p elq --retry-attempts 3 --wrap "sleep 1" | awk "{print \$3}" >id &&
	wait_for 30 workers_at_least 1 &&
	pkill -KILL -f "$PWD/state/instances/" &&
	test "$(wait_job "$(cat id)" 90)" = SUCCEEDED &&
	test "$(events el launch)" -ge 3 &&
	"$KILN" ce show el >show &&
	grep "vanished\|node-down\|boot-timeout" show
'

test_expect_success 'a server killed in the middle forgets no instance' '
	wait_for 30 none_left &&
	: >ids &&
	for i in 1 2 3 4 5 6; do
		"$KILN" submit -p elq --wrap "sleep 2" | awk "{print \$3}" >>ids || return 1
	done &&
	wait_for 20 workers_at_least 4 &&
	kill_pid $SERVER_PID KILL &&
	test "$(workers)" -ge 4 &&
	start_server &&
	for id in $(cat ids); do
		test "$(wait_job "$id" 60)" = SUCCEEDED || return 1
	done &&
	test "$(events el reconciled)" -ge 1 &&
	wait_for 30 none_left
'

test_expect_success 'burst: own nodes first, instances only for the overflow' '
	start_worker n1 0 &&
	wait_nodes_up 1 &&
	"$KILN" jobqueue create burst --ce default,el &&
	before=$(events el launched) &&
	"$KILN" submit -p burst --wrap "sleep 3" | awk "{print \$3}" >first &&
	wait_state "$(cat first)" RUNNING &&
	test "$(job_field "$(cat first)" "nodes[0]")" = n1 &&
	test "$(events el launched)" = "$before" &&
	: >ids &&
	for i in 1 2; do
		"$KILN" submit -p burst --wrap "sleep 1" | awk "{print \$3}" >>ids || return 1
	done &&
	for id in $(cat ids); do
		test "$(wait_job "$id" 60)" = SUCCEEDED || return 1
		job_field "$id" "nodes[0]" | grep "^el-" || return 1
	done &&
	test "$(wait_job "$(cat first)")" = SUCCEEDED &&
	test "$(events el launched)" = $((before + 2))
'

test_expect_success 'seventy managed environments: the last one of a queue still launches' '
	wait_for 30 none_left &&
	for i in $(seq 1 70); do
		"$KILN" ce create "many$i" --provider local --max-vcpus 1 \
			--idle-timeout 2 >/dev/null || return 1
	done &&
	"$KILN" jobqueue create many --ce many70 &&
	"$KILN" submit -p many --wrap true | awk "{print \$3}" >id &&
	test "$(wait_job "$(cat id)" 60)" = SUCCEEDED &&
	test "$(events many70 launched)" = 1 &&
	wait_for 30 instances_are many70 0
'

test_expect_success 'disabled, it launches nothing; min-vcpus keeps nodes' '
	wait_for 30 none_left &&
	"$KILN" ce update el --state DISABLED &&
	"$KILN" submit -p elq --wrap true | awk "{print \$3}" >id &&
	sleep 2 &&
	test "$(instances el)" = 0 &&
	"$KILN" cancel "$(cat id)" &&
	"$KILN" ce update el --state ENABLED --min-vcpus 2 &&
	wait_for 30 instances_are el 2 &&
	sleep 4 &&
	test "$(instances el)" = 2 &&
	test_must_fail "$KILN" ce delete el 2>err &&
	grep "used by job queue\|still has" err &&
	"$KILN" ce update el --min-vcpus 0 &&
	wait_for 30 none_left
'

test_done

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
test_description='job definitions: register, revisions, parameters, overrides'
. "$KILN_SRCDIR/tests/integration/lib/kiln-test.sh"

test_expect_success 'start a server and two workers' '
	start_cluster
'

test_expect_success 'register a definition: revision 1, then 2' '
	"$KILN" jobdef register "$KILN_SRCDIR/examples/jobdefs/hello.json" >out &&
	grep "^Registered job definition hello:1$" out &&
	"$KILN" jobdef register "$KILN_SRCDIR/examples/jobdefs/hello.json" >out &&
	grep "^Registered job definition hello:2$" out &&
	"$KILN" jobdef list >list &&
	grep "^hello *1 *container *ACTIVE" list &&
	grep "^hello *2 *container *ACTIVE" list
'

test_expect_success 'submit with parameters: Ref:: substituted, defaults kept' '
	id=$("$KILN" submit --parsable --jobdef hello --parameters who=kiln) &&
	test "$(wait_job $id)" = SUCCEEDED &&
	test "$(cat kiln-$id.out)" = "hello kiln from $id (plain)" &&
	test "$(job_field $id name)" = hello &&
	test "$(job_field $id mem)" = 64 &&
	test "$(job_field $id time_limit)" = 60 &&
	test "$(job_field $id spec.job_definition)" = hello:2 &&
	test "$(job_field $id spec.retry_strategy.attempts)" = 2
'

test_expect_success 'submit overrides: command, environment, vcpus, timeout' '
	test_must_fail "$KILN" submit --jobdef hello:1 -c 2 2>err &&
	grep "asks for 2 cpus" err &&
	id=$("$KILN" submit --parsable --jobdef hello:1 -t 5 --retry-attempts 1 \
		--export GREETING_STYLE=loud --wrap "echo \$GREETING_STYLE") &&
	test "$(wait_job $id)" = SUCCEEDED &&
	test "$(cat kiln-$id.out)" = loud &&
	test "$(job_field $id time_limit)" = 300 &&
	test "$(job_field $id spec.retry_strategy.attempts)" = 1 &&
	test "$(job_field $id spec.job_definition)" = hello:1
'

test_expect_success 'deregister makes a revision INACTIVE; the name takes the latest ACTIVE' '
	"$KILN" jobdef deregister hello:2 &&
	"$KILN" jobdef list >list &&
	! grep "^hello *2" list &&
	"$KILN" jobdef list --all | grep "^hello *2 *container *INACTIVE" &&
	id=$("$KILN" submit --parsable --jobdef hello) &&
	test "$(job_field $id spec.job_definition)" = hello:1
'

test_expect_success 'show prints the definition' '
	"$KILN" jobdef show hello:1 >show &&
	grep "^hello:1 ACTIVE" show &&
	"$KILN" jobdef show --json hello | jq -e ".definition.parameters.who == \"world\""
'

test_expect_success 'definitions survive a server restart' '
	kill_pid $SERVER_PID KILL &&
	start_server &&
	"$KILN" jobdef list --all | grep -c "^hello" | grep -x 2
'

test_expect_success 'bad definitions are refused with the field named' '
	echo "{\"jobDefinitionName\":\"x\",\"type\":\"container\",\"containerProperties\":{\"command\":[\"true\"],\"cpus\":2}}" >bad1.json &&
	test_must_fail "$KILN" jobdef register bad1.json 2>err &&
	grep "unknown field .containerProperties.cpus." err &&
	echo "{\"jobDefinitionName\":\"x\",\"type\":\"container\",\"containerProperties\":{\"command\":\"true\"}}" >bad2.json &&
	test_must_fail "$KILN" jobdef register bad2.json 2>err &&
	grep ".containerProperties.command. must be an array" err &&
	echo "{\"jobDefinitionName\":\"x\",\"type\":\"batch\"}" >bad3.json &&
	test_must_fail "$KILN" jobdef register bad3.json 2>err &&
	grep ".type. must be container or multinode" err &&
	echo "{\"jobDefinitionName\":\"x\",\"type\":\"container\",\"containerProperties\":{\"command\":[\"true\"],\"resourceRequirements\":[{\"type\":\"VCPU\",\"value\":\"many\"}]}}" >bad4.json &&
	test_must_fail "$KILN" jobdef register bad4.json 2>err &&
	grep "resourceRequirements\[0\]" err &&
	printf "{oops" >bad5.json &&
	test_must_fail "$KILN" jobdef register bad5.json 2>err &&
	grep "cannot read job definition .bad5.json." err
'

test_expect_success 'unknown definitions, missing parameters, image names are named' '
	test_must_fail "$KILN" submit --jobdef nosuch 2>err &&
	grep "unknown job definition .nosuch." err &&
	cat >need.json <<-\EOT &&
	{"jobDefinitionName": "need", "type": "container",
	 "containerProperties": {"command": ["echo", "Ref::what"]}}
	EOT
	"$KILN" jobdef register need.json &&
	test_must_fail "$KILN" submit --jobdef need 2>err &&
	grep "parameter .what. has no value: give --parameters what=VALUE" err &&
	cat >img.json <<-\EOT &&
	{"jobDefinitionName": "img", "type": "container",
	 "containerProperties": {"image": "busybox", "command": ["true"]}}
	EOT
	"$KILN" jobdef register img.json &&
	test_must_fail "$KILN" submit --jobdef img 2>err &&
	grep "busybox\|container engine (podman, docker) for images" err
'

test_done

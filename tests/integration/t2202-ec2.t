#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
test_description='managed compute environments on EC2 (a stand-in that checks requests as EC2 does)'
. "$KILN_SRCDIR/tests/integration/lib/kiln-test.sh"
. "$KILN_SRCDIR/tests/integration/lib/elastic.sh"

# The stand-in's credentials, for Kiln and for the AWS CLI; never the
# machine's own (HOME is the test's folder; no metadata service).
AWS_ACCESS_KEY_ID=AKIDKILNTEST
AWS_SECRET_ACCESS_KEY=kiln-test-secret
AWS_DEFAULT_REGION=us-east-1
AWS_EC2_METADATA_DISABLED=true
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_DEFAULT_REGION AWS_EC2_METADATA_DISABLED

start_fake() {
	"$KILN_SRCDIR/tests/tools/fake-ec2" --dir "$PWD/fake" --kiln-dir "$KILN_BUILDDIR" \
		>fake.out 2>fake.err &
	KILN_PIDS="$KILN_PIDS $!"
	kiln_wait_line fake.out "fake-ec2" || { cat fake.err >&2; return 1; }
	EC2="http://127.0.0.1:$(awk "{print \$2}" fake.out)"
}
control() {
	curl -s -X POST -d "$1" "$EC2/_control" >/dev/null
}
# live: instances the stand-in runs (pending or running)
live() {
	curl -s "$EC2/_control" | jq "[.[] | select(.state == \"pending\" or .state == \"running\")] | length"
}
calls() {
	grep -c "^$1 " fake/requests.log
}
status_is() {
	test "$("$KILN" ce show "$1" --json | jq -r ".computeEnvironments[0].status")" = "$2"
}
live_at_least() {
	test "$(live)" -ge "$1"
}
all_gone() {
	test "$(live)" = 0 && test "$(instances "$1")" = 0
}
submit_id() {
	"$KILN" submit "$@" | awk "{print \$3}"
}
node_of() {
	job_field "$1" "nodes[0]"
}
type_of() {
	curl -s "$EC2/_control" | jq -r ".[] | select(.id == \"$1\") | .type"
}

test_expect_success 'start the stand-in for EC2 and a server' '
	start_fake &&
	start_server
'

# describe_with ENV...: kiln-ec2's DescribeInstances with only this
# environment (and HOME here), as the server would run it
describe_with() {
	echo "{\"kind\": \"describe\", \"ce\": \"nothing\", \"server_id\": \"x\",
	       \"conf\": {\"kiln\": {\"endpoint\": \"$EC2/\"}}, \"args\": {}}" |
	env -i PATH="$PATH" HOME="$PWD/home" "$@" "$KILN_BUILDDIR/kiln-ec2" call
}

test_expect_success 'credentials: the environment, a profile, the instance role, or a clear no' '
	mkdir -p home/.aws &&
	describe_with AWS_ACCESS_KEY_ID=AKIDKILNTEST AWS_SECRET_ACCESS_KEY=kiln-test-secret |
		jq -e ".result.instances == []" &&
	printf "[default]\naws_access_key_id = AKIDKILNTEST\naws_secret_access_key = kiln-test-secret\n" \
		>home/.aws/credentials &&
	describe_with AWS_EC2_METADATA_DISABLED=true | jq -e ".result.instances == []" &&
	printf "[profile other]\naws_access_key_id = AKIDKILNTEST\naws_secret_access_key = kiln-test-secret\nregion = us-east-1\n" \
		>home/.aws/config &&
	rm home/.aws/credentials &&
	describe_with AWS_PROFILE=other AWS_EC2_METADATA_DISABLED=true |
		jq -e ".result.instances == []" &&
	describe_with AWS_EC2_METADATA_SERVICE_ENDPOINT="$EC2/_host" |
		jq -e ".result.instances == []" &&
	describe_with AWS_EC2_METADATA_DISABLED=true >out &&
	jq -e ".error.code == \"NoCredentials\"" out &&
	describe_with AWS_ACCESS_KEY_ID=AKIDKILNTEST AWS_SECRET_ACCESS_KEY=wrong >out &&
	jq -e ".error.code == \"SignatureDoesNotMatch\"" out &&
	! grep -r "kiln-test-secret\|wrong" out server.log
'

test_expect_success 'an ec2 environment: AWS-shaped in, DescribeComputeEnvironments out' '
	cat >cloud.json <<-EOT &&
	{"computeEnvironmentName": "cloud", "type": "MANAGED", "state": "ENABLED",
	 "computeResources": {"type": "EC2", "minvCpus": 0, "maxvCpus": 4,
	   "instanceTypes": ["c5.large", "m5.large"], "imageId": "ami-0kiln",
	   "subnets": ["subnet-a"], "securityGroupIds": ["sg-1"],
	   "ec2KeyPair": "ops", "instanceRole": "ecsInstanceRole",
	   "tags": {"team": "bio"}},
	 "kiln": {"endpoint": "$EC2/", "region": "us-east-1",
	   "idleTimeoutSeconds": 4}}
	EOT
	"$KILN" ce create cloud --json cloud.json &&
	"$KILN" jobqueue create cq --ce cloud &&
	"$KILN" ce show cloud --json >show &&
	jq -e ".computeEnvironments[0] | .status == \"VALID\" and .computeEnvironmentName == \"cloud\" and .computeResources.maxvCpus == 4 and .computeResources.desiredvCpus == 0" show
'

test_expect_success 'three 1-vCPU jobs: two c5.large, tagged, seen by the AWS CLI; all finish' '
	for i in 1 2 3; do submit_id -p cq --wrap "sleep 2" >>ids || return 1; done &&
	for id in $(cat ids); do
		test "$(wait_job "$id" 60)" = SUCCEEDED || return 1
	done &&
	test "$(instances cloud)" = 2 &&
	test "$(calls RunInstances)" -le 2 &&
	grep "^RunInstances " fake/requests.log | head -1 >run &&
	grep "\"InstanceType\": \"c5.large\"" run &&
	grep "\"ImageId\": \"ami-0kiln\"" run &&
	grep "\"SubnetId\": \"subnet-a\"" run &&
	grep "\"SecurityGroupId.1\": \"sg-1\"" run &&
	grep "\"KeyName\": \"ops\"" run &&
	grep "\"IamInstanceProfile.Name\": \"ecsInstanceRole\"" run &&
	! grep MarketType run &&
	/usr/bin/aws --endpoint-url "$EC2" ec2 describe-instances \
		--filters Name=tag:kiln:ce,Values=cloud Name=tag:team,Values=bio \
		--query "Reservations[].Instances[].[InstanceId,State.Name,Tags[?Key==\`kiln:launch\`]|[0].Value]" \
		--output text >aws.out &&
	cat aws.out &&
	test "$(grep -c "running.L[0-9a-f]" aws.out)" = 2
'

test_expect_success 'idle, they are terminated, in one call' '
	wait_for 30 all_gone cloud &&
	test "$(calls TerminateInstances)" = 1 &&
	grep "^TerminateInstances .*InstanceId.2" fake/requests.log
'

test_expect_success 'a join from an address other than the instance'"'"'s is refused' '
	"$KILN" ce update cloud --boot-timeout 5 &&
	before=$(events cloud boot-timeout) &&
	control "{\"private_ip\": \"10.9.9.9\"}" &&
	id=$(submit_id -p cq --wrap true) &&
	test "$(wait_job "$id" 60)" = SUCCEEDED &&
	grep "refused node.join.*the instance.s address is 10.9.9.9" server.log &&
	test "$(events cloud boot-timeout)" -gt "$before" &&
	"$KILN" ce update cloud --boot-timeout 600 &&
	wait_for 30 all_gone cloud
'

test_expect_success 'a type short of capacity: another type is launched' '
	control "{\"fail\": {\"action\": \"RunInstances\", \"code\": \"InsufficientInstanceCapacity\", \"times\": 1}}" &&
	id=$(submit_id -p cq --wrap true) &&
	test "$(wait_job "$id" 60)" = SUCCEEDED &&
	test "$(type_of "$(node_of "$id")")" = m5.large &&
	"$KILN" ce show cloud >show &&
	grep "InsufficientInstanceCapacity" show &&
	grep "trying other types" show
'

test_expect_success 'RequestLimitExceeded: it backs off and tries again' '
	wait_for 30 all_gone cloud &&
	before=$(calls RunInstances) &&
	control "{\"fail\": {\"action\": \"RunInstances\", \"code\": \"RequestLimitExceeded\", \"times\": 1, \"status\": 503}}" &&
	id=$(submit_id -p cq --wrap true) &&
	test "$(wait_job "$id" 60)" = SUCCEEDED &&
	test "$(calls RunInstances)" = $((before + 2)) &&
	"$KILN" ce show cloud | grep "RequestLimitExceeded"
'

test_expect_success 'AuthFailure: INVALID with the message, nothing retried in a loop' '
	wait_for 30 all_gone cloud &&
	before=$(calls RunInstances) &&
	control "{\"fail\": {\"action\": \"RunInstances\", \"code\": \"AuthFailure\", \"message\": \"key revoked\", \"times\": 1, \"status\": 401}}" &&
	id=$(submit_id -p cq --wrap true) &&
	wait_for 20 status_is cloud INVALID &&
	"$KILN" ce show cloud --json | jq -r ".computeEnvironments[0].statusReason" | grep "AuthFailure: key revoked" &&
	"$KILN" why "$id" | grep "is INVALID" &&
	sleep 3 &&
	test "$(calls RunInstances)" = $((before + 1)) &&
	"$KILN" ce update cloud --state ENABLED &&
	test "$(wait_job "$id" 60)" = SUCCEEDED
'

test_expect_success 'a server killed with instances up forgets none, and ends one it does not know' '
	wait_for 30 all_gone cloud &&
	server_id=$(sed -n "s/.*\"TagSpecification.1.Tag.1.Value\": \"\([^\"]*\)\".*/\1/p" fake/requests.log | head -1) &&
	test -n "$server_id" &&
	: >ids &&
	for i in 1 2; do submit_id -p cq --wrap "sleep 3" >>ids || return 1; done &&
	wait_for 30 live_at_least 1 &&
	kill_pid $SERVER_PID KILL &&
	/usr/bin/aws --endpoint-url "$EC2" ec2 run-instances --image-id ami-stray \
		--instance-type c5.large --count 1 \
		--tag-specifications "ResourceType=instance,Tags=[{Key=kiln:server,Value=$server_id},{Key=kiln:ce,Value=cloud},{Key=kiln:launch,Value=Lnotours}]" \
		--query "Instances[0].InstanceId" --output text >stray &&
	start_server &&
	for id in $(cat ids); do
		test "$(wait_job "$id" 60)" = SUCCEEDED || return 1
	done &&
	test "$(events cloud reconciled)" -ge 1 &&
	"$KILN" ce show cloud | grep "$(cat stray) is not one of this server" &&
	wait_for 30 all_gone cloud
'

test_expect_success 'spot: a bid, a price strategy, Kiln tags on every instance' '
	"$KILN" ce create spot --provider ec2 --endpoint "$EC2/" --image-id ami-0kiln \
		--instance-types c5.large,c6i.large,m5.large --max-vcpus 2 \
		--spot-bid-percentage 60 --allocation-strategy SPOT_PRICE_CAPACITY_OPTIMIZED \
		--idle-timeout 3 &&
	"$KILN" jobqueue create sq --ce spot &&
	id=$(submit_id -p sq --retry-attempts 3 --wrap "sleep 12") &&
	echo "$id" >spot-job &&
	wait_state "$id" RUNNING 60 &&
	grep "^RunInstances .*\"InstanceMarketOptions.MarketType\": \"spot\"" fake/requests.log >spotrun &&
	grep "InstanceMarketOptions.SpotOptions.MaxPrice" spotrun &&
	grep "^DescribeSpotPriceHistory " fake/requests.log &&
	"$KILN" nodes | grep "$(node_of "$id") .* spot UP"
'

test_expect_success 'spot interruption: the job is requeued and finishes elsewhere' '
	id=$(cat spot-job) &&
	first=$(node_of "$id") &&
	ftype=$(type_of "$first") &&
	control "{\"interrupt\": \"$first\", \"after\": 8}" &&
	test "$(wait_job "$id" 90)" = SUCCEEDED &&
	second=$(node_of "$id") &&
	test "$second" != "$first" &&
	test "$(type_of "$second")" != "$ftype" &&
	"$KILN" show --json "$id" | jq -r ".attempt_list[0].reason" | grep "spot interruption" &&
	"$KILN" ce show spot | grep "spot-interruption"
'

test_expect_success 'a spot instance that vanishes without notice: the same' '
	id=$(submit_id -p sq --retry-attempts 3 --wrap "sleep 8") &&
	wait_state "$id" RUNNING 60 &&
	first=$(node_of "$id") &&
	control "{\"vanish\": \"$first\"}" &&
	test "$(wait_job "$id" 120)" = SUCCEEDED &&
	test "$(node_of "$id")" != "$first" &&
	"$KILN" show --json "$id" | jq -r ".attempt_list[0].reason" | grep "spot interruption"
'

test_expect_success 'a multi-node job on spot instances is requeued whole' '
	"$KILN" ce update spot --max-vcpus 4 &&
	id=$(submit_id -p sq --retry-attempts 3 --nodes 2 --ntasks-per-node 1 \
		--wrap "sleep 10") &&
	wait_state "$id" RUNNING 90 &&
	job_field "$id" "nodes | length" | grep -x 2 &&
	first=$(job_field "$id" "nodes[1]") &&
	control "{\"interrupt\": \"$first\", \"after\": 6}" &&
	test "$(wait_job "$id" 150)" = SUCCEEDED &&
	"$KILN" show --json "$id" | jq -r ".attempt_list[0].reason" | grep "spot interruption" &&
	! job_field "$id" "nodes[]" | grep -x "$first"
'

test_expect_success 'at the end nothing runs' '
	wait_for 40 all_gone spot &&
	wait_for 40 all_gone cloud &&
	test "$(live)" = 0
'

test_done

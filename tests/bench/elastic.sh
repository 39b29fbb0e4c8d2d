#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# make bench (elastic part): how fast managed compute environments react,
# with the local provider and with the EC2 stand-in (tests/tools/fake-ec2,
# whose instances boot on this machine).  Prints, per provider: submit to
# launch request, launch to worker registered, last job's end to
# termination (less the idle timeout), and the provider calls of one
# scale-up of 100 instances.  One run on a shared machine: read the
# figures as orders of magnitude.
#   tests/bench/elastic.sh BUILDDIR
set -eu
build=$1
src=$(cd "$(dirname "$0")/../.." && pwd)
kiln="$build/kiln"
dir=$(mktemp -d /tmp/kiln-elastic.XXXXXX)
pids=""
stop() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	for p in $pids; do while kill -0 "$p" 2>/dev/null; do sleep 0.05; done; done
	pkill -KILL -f "$dir/" 2>/dev/null || true
	rm -rf "$dir"
}
trap stop EXIT INT TERM
wait_line() { i=0; while [ ! -s "$1" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; }

"$kiln" keygen --dir "$dir/keys" >/dev/null
KILN_KEYS=$dir/keys
AWS_ACCESS_KEY_ID=AKIDKILNTEST
AWS_SECRET_ACCESS_KEY=kiln-test-secret
AWS_EC2_METADATA_DISABLED=true
export KILN_KEYS AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_EC2_METADATA_DISABLED
"$src/tests/tools/fake-ec2" --dir "$dir/fake" --kiln-dir "$build" >"$dir/fake.out" 2>"$dir/fake.err" &
pids="$pids $!"
wait_line "$dir/fake.out"
ec2="http://127.0.0.1:$(awk '{print $2}' "$dir/fake.out")"
"$kiln" server --auth munge --keys "$dir/keys" --listen 'tcp://127.0.0.1:*' \
	--state "$dir/state" --foreground --log-level info \
	>"$dir/server.out" 2>"$dir/server.log" &
pids="$pids $!"
wait_line "$dir/server.out"
KILN_SERVER=$(awk '{print $4}' "$dir/server.out")
export KILN_SERVER

"$kiln" ce create loc --provider local --max-vcpus 200 --idle-timeout 2 >/dev/null
"$kiln" ce create ec2 --provider ec2 --endpoint "$ec2/" --image-id ami-bench \
	--instance-types c5.large --max-vcpus 200 --idle-timeout 2 >/dev/null
"$kiln" jobqueue create loc --ce loc
"$kiln" jobqueue create ec2 --ce ec2

# time_of CE KIND [N]: the time of the Nth event of that kind (1: first)
time_of() {
	"$kiln" ce show "$1" --json |
	jq -r "[.computeEnvironments[0].kiln.events[] | select(.kind == \"$2\")][${3:-1} - 1].time"
}
ms() { echo "$1 $2" | awk '{printf "%.0f", ($1 - $2) * 1000}'; }
gone() {
	i=0
	while [ "$("$kiln" ce show "$1" --json | jq '.computeEnvironments[0].kiln.instances | length')" != 0 ] &&
		[ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
}

printf '%-8s %18s %18s %22s %26s\n' provider "submit->launch ms" "launch->up ms" \
	"end->terminated ms" "calls for 100 instances"
for ce in loc ec2; do
	t0=$(date +%s.%N)
	id=$("$kiln" submit --parsable -p "$ce" --wrap true)
	"$kiln" submit --wait -p "$ce" --wrap true >/dev/null 2>&1 || true
	while [ "$("$kiln" show --json "$id" | jq -r .state)" != SUCCEEDED ]; do sleep 0.05; done
	end=$("$kiln" show --json "$id" | jq -r .end_time)
	gone "$ce"
	launch=$(time_of "$ce" launch)
	up=$(time_of "$ce" registered)
	term=$(time_of "$ce" terminated)
	idle=2
	calls_before=$(grep -c "^RunInstances " "$dir/fake/requests.log" 2>/dev/null || echo 0)
	launches_before=$(grep -c "ce $ce: launch: " "$dir/server.log" || true)
	# 100 instances at once: 200 one-vCPU jobs in one request (an array);
	# a c5.large and a local node of 2 vCPUs... local nodes have 1, so 100
	# local instances take 100 jobs.
	n=200
	[ "$ce" = loc ] && n=100
	"$kiln" submit -p "$ce" --array "1-$n" --wrap true >/dev/null
	i=0
	while [ "$("$kiln" queue --json | jq length)" != 0 ] && [ $i -lt 1800 ]; do
		sleep 0.1; i=$((i + 1))
	done
	launches=$(( $(grep -c "ce $ce: launch: " "$dir/server.log" || true) - launches_before ))
	calls="$launches launch op(s)"
	if [ "$ce" = ec2 ]; then
		calls="$(( $(grep -c "^RunInstances " "$dir/fake/requests.log") - calls_before )) RunInstances"
	fi
	gone "$ce"
	printf '%-8s %18s %18s %22s %26s\n' "$ce" "$(ms "$launch" "$t0")" "$(ms "$up" "$launch")" \
		"$(ms "$term" "$end" | awk -v i=$idle '{print $1 - i * 1000}')" "$calls"
done
if [ -f "$dir/fake/requests.log" ]; then
	echo "EC2 requests of the run: $(cut -d' ' -f1 "$dir/fake/requests.log" | sort | uniq -c | tr '\n' ' ')"
fi

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# make bench: start a server and two workers (one per cpu of this machine's
# first two) on loopback in a temporary folder, measure, stop them by pid.
set -eu
build=$1
kiln="$build/kiln"
dir=$(mktemp -d /tmp/kiln-bench.XXXXXX)
pids=""
stop() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	for p in $pids; do while kill -0 "$p" 2>/dev/null; do sleep 0.05; done; done
	rm -rf "$dir"
}
trap stop EXIT INT TERM
wait_line() { i=0; while [ ! -s "$1" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; }

# Measured as a cluster runs: MUNGE on every request, CURVE to the workers
# (KILN_BENCH_AUTH=none measures the single-user mode instead).
if [ "${KILN_BENCH_AUTH:-munge}" = munge ] && munge -n >/dev/null 2>&1; then
	auth="--auth munge --keys $dir/keys"
	local="--local $dir/kiln.sock"
	"$kiln" keygen --dir "$dir/keys" >/dev/null
	KILN_KEYS=$dir/keys
	export KILN_KEYS
	echo "authentication: munge (every request signed and checked), CURVE (all traffic encrypted)"
else
	auth="--auth none"
	local=""
	[ "$(id -u)" = 0 ] && auth="$auth --allow-root"
	KILN_BENCH_AUTH=none
	export KILN_BENCH_AUTH
	echo "authentication: none (single-user mode: nothing signed or checked)"
fi
# The bench's own limit on queued jobs: its phases queue 100,000 and more.
printf '[server]\nmax_jobs_per_user = 10000000\n' >"$dir/kiln.conf"
"$kiln" server $auth $local --config "$dir/kiln.conf" --listen 'tcp://127.0.0.1:*' \
	--state "$dir/state" --foreground \
	--log-level warning >"$dir/server.out" 2>"$dir/server.log" &
pids="$pids $!"
wait_line "$dir/server.out"
ep=$(awk '{print $4}' "$dir/server.out")
n=$(nproc)
for c in $(seq 0 $((n > 2 ? 1 : n - 1))); do
	"$kiln" worker $auth --server "$ep" --name "b$c" --cpus "$c" --spool "$dir/spool$c" \
		--foreground --log-level warning >"$dir/w$c.out" 2>"$dir/w$c.log" &
	pids="$pids $!"
	wait_line "$dir/w$c.out"
done
sleep 0.5
n_jobs=${KILN_BENCH_JOBS:-5000}
echo "Kiln benchmark on $(nproc) cpus, $(uname -r); workers: $(seq -s ' ' 0 $((n > 2 ? 1 : n - 1)))"
echo "(tests/bench/README says what each figure is and how to read it)"
echo
# The machine's limit first, in this run: trivial processes per second.
limit=$("$build/tests/bench/bench_spawn" "$n_jobs")
echo "| figure | value | how |"
echo "| --- | --- | --- |"
echo "| this machine's limit: /bin/true by posix_spawn | $limit/s | $n_jobs processes, $(nproc) in flight, from a small program |"
# The jobs below are this script: what they cost alone, with no batch
# system around them, is a ceiling under the limit.
printf '#!/bin/sh\ntrue\n' >"$dir/job.sh" && chmod 755 "$dir/job.sh"
alone=$("$build/tests/bench/bench_spawn" "$n_jobs" "$(nproc)" "$dir/job.sh")
awk "BEGIN { printf \"| the bench's job alone: its script (#!/bin/sh, true) by posix_spawn | %d/s (%.2f x the limit) | the same way; the ceiling of any batch system here |\\n\", $alone, $alone / $limit }"
"$build/tests/bench/bench_submit" "$ep" "$n_jobs" "$limit" "$kiln"

# The command line: one kiln submit process per job, one after the other:
# over TCP, as from a login node (CURVE, MUNGE), and on the server's host,
# through its local socket.
submit_row() {
	m=300
	# The jobs of the row before have ended.
	"$kiln" submit --server "$ep" -W -o /dev/null --wrap true >/dev/null
	start=$(date +%s.%N)
	i=0
	while [ $i -lt $m ]; do
		"$kiln" submit --server "$1" --parsable ${3:-} -o /dev/null --wrap true >>"$dir/ids"
		i=$((i + 1))
	done
	end=$(date +%s.%N)
	awk "BEGIN { printf \"| kiln submit, one process per job, %s | %d/s (%.2f ms each) | %d in a row from sh, process start included |\\n\", \"$2\", $m / ($end - $start), ($end - $start) * 1000 / $m, $m }"
}
submit_row "$ep" "over TCP"
if [ -n "$local" ]; then submit_row "ipc://$dir/kiln.sock" "local socket"; fi
# The same, the jobs held: what submitting costs, without the jobs' own
# processes on the same cpus (then cancelled).
: >"$dir/ids"
submit_row "$ep" "over TCP, held" --hold
if [ -n "$local" ]; then submit_row "ipc://$dir/kiln.sock" "local socket, held" --hold; fi
"$kiln" cancel --server "$ep" $(cat "$dir/ids") >/dev/null
start=$(date +%s.%N)
i=0
while [ $i -lt $m ]; do
	"$kiln" --version >/dev/null
	i=$((i + 1))
done
end=$(date +%s.%N)
awk "BEGIN { printf \"| kiln --version, process start alone | %.2f ms | %d in a row from sh |\\n\", ($end - $start) * 1000 / $m, $m }"
# The server at rest: CPU seconds over 5 s with nothing to do.
spid=$(echo $pids | cut -d' ' -f1)
before=$(awk '{print $14 + $15}' /proc/$spid/stat)
sleep 5
after=$(awk '{print $14 + $15}' /proc/$spid/stat)
rss=$(awk '/VmRSS/ {print $2}' /proc/$spid/status)
echo "| server CPU at rest | $(( (after - before) * 1000 / $(getconf CLK_TCK) )) ms in 5 s | after the phases above; resident $((rss / 1024)) MiB |"

# A large store: a second server on a database of a million finished jobs.
big=${KILN_BENCH_STORE_JOBS:-1000000}
rate=$("$build/tests/bench/bench_store" "$dir/big" "$big")
start=$(date +%s%N)
"$kiln" server $auth --listen 'tcp://127.0.0.1:*' --state "$dir/big" --foreground \
	--log-level warning >"$dir/big.out" 2>"$dir/big.log" &
bpid=$!
pids="$pids $bpid"
i=0
while [ ! -s "$dir/big.out" ] && [ $i -lt 3000 ]; do sleep 0.01; i=$((i+1)); done
up=$(( ($(date +%s%N) - start) / 1000000 ))
bep=$(awk '{print $4}' "$dir/big.out")
: >"$dir/show.ms"
for i in $(seq 21); do
	t=$(date +%s%N)
	"$kiln" show --server "$bep" $(( (i * 47353) % big + 1 )) >/dev/null
	echo $(( ($(date +%s%N) - t) / 1000 )) >>"$dir/show.ms"
done
show=$(sort -n "$dir/show.ms" | sed -n 11p)
t=$(date +%s%N)
"$kiln" history --server "$bep" --limit 100000 >/dev/null
hist=$(( ($(date +%s%N) - t) / 1000000 ))
rss=$(awk '/VmHWM/ {print $2}' /proc/$bpid/status)
echo "| server start on $big stored jobs | $up ms | finished jobs stay on disk; the store written at $rate jobs/s by bench_store |"
awk "BEGIN { printf \"| kiln show ID, $big jobs stored | %.2f ms | median of 21, ids across the store |\\n\", $show / 1000 }"
echo "| kiln history --limit 100000, $big jobs stored | $hist ms | pages of 5,000 (job.history next_token) |"
echo "| server peak resident, $big jobs stored | $((rss / 1024)) MiB | after the figures above |"

# Scale: thousands of simulated nodes on a third server, which has no
# other worker.
"$kiln" server $auth --config "$dir/kiln.conf" --listen 'tcp://127.0.0.1:*' \
	--state "$dir/scale" --foreground --log-level warning \
	>"$dir/scale.out" 2>"$dir/scale.log" &
npid=$!
pids="$pids $npid"
wait_line "$dir/scale.out"
if [ ! -s "$dir/scale.out" ]; then
	echo "the scale phase's server did not start:" >&2
	cat "$dir/scale.log" >&2
	exit 1
fi
"$build/tests/bench/bench_nodes" "$(awk '{print $4}' "$dir/scale.out")" "$npid" \
	"${KILN_BENCH_NODES:-5000}" "${KILN_BENCH_NODE_JOBS:-100000}"
rss=$(awk '/VmHWM/ {print $2}' /proc/$npid/status)
echo "| server peak resident, the scale phase | $((rss / 1024)) MiB | every job running at once, the nodes' topologies |"
echo

# The allocator alone, on made-up machines much larger than this one.
"$build/tests/bench/bench_alloc"

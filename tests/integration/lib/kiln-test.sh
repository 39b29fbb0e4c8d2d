# SPDX-License-Identifier: GPL-2.0-or-later
# Helpers for Kiln's integration tests: start a real server and real workers
# on free loopback ports, wait for jobs, and stop every daemon by pid at the
# end, even when a test fails.  Source after setting test_description.

: "${KILN_BUILDDIR:?run through make check, or set KILN_BUILDDIR}"
. /usr/share/sharness/sharness.sh

KILN="$KILN_BUILDDIR/kiln"
export KILN
KILN_PIDS=""
# Daemons optionally run under valgrind (KILN_TEST_VALGRIND=1).
if test -n "$KILN_TEST_VALGRIND"; then
	KILN_WRAP="valgrind -q --error-exitcode=99 --leak-check=full --trace-children=no --suppressions=$KILN_SRCDIR/tests/valgrind.supp"
else
	KILN_WRAP=""
fi

# Sanitizer reports of every process a test starts (daemons, job shells,
# clients, jobs) go to files here, so that none is lost with a spool or
# in a log nobody reads; the script fails when any is there at its end.
# (In /tmp: the trash directory's name has a space, and the sanitizers
# split their options on spaces.)
KILN_REPORTS=$(mktemp -d /tmp/kiln-sanitizer.XXXXXX)
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$KILN_REPORTS/asan"
UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$KILN_REPORTS/ubsan"
export ASAN_OPTIONS UBSAN_OPTIONS
# Daemons that ended badly when told to stop: "PID:STATUS ...".
KILN_BAD_EXITS=""

# reap PID SIGNAL: collect a stopped daemon's exit status; one told to stop
# with SIGTERM must exit 0.
kiln_reap() {
	wait "$1" 2>/dev/null
	st=$?
	if test "$2" = TERM && test $st -ne 0 && test $st -ne 127; then
		echo "# daemon $1 exited with status $st when told to stop" >&5
		KILN_BAD_EXITS="$KILN_BAD_EXITS $1:$st"
	fi
	return 0
}

kiln_stop_all() {
	# One already dead (bash may have reaped it: no zombie) ended by
	# SIGKILL, which only a test (a node failure) or the OOM killer sends;
	# any other end (a crash, an exit of its own) is reported.
	live=""
	for pid in $KILN_PIDS; do
		if ps -o stat= -p "$pid" 2>/dev/null | grep -q Z \
			|| ! kill -TERM "$pid" 2>/dev/null; then
			wait "$pid" 2>/dev/null
			st=$?
			if test $st -ne 137 && test $st -ne 127 && test $st -ne 0; then
				echo "# daemon $pid had ended by itself, with status $st" >&5
				KILN_BAD_EXITS="$KILN_BAD_EXITS $pid:$st"
			fi
			continue
		fi
		live="$live $pid"
	done
	for pid in $live; do
		i=0
		while kill -0 "$pid" 2>/dev/null && test $i -lt 50; do
			sleep 0.1; i=$((i + 1))
		done
		if kill -KILL "$pid" 2>/dev/null; then
			echo "# daemon $pid did not stop within 5 s of SIGTERM" >&5
			KILN_BAD_EXITS="$KILN_BAD_EXITS $pid:hung"
			wait "$pid" 2>/dev/null
		else
			kiln_reap "$pid" TERM
		fi
	done
	KILN_PIDS=""
	# Jobs the test left running (their shells outlive workers by design).
	# (shell.pid is "PID STARTTIME": the pid alone.)
	for f in spool-*/jobs/*/shell.pid; do
		test -f "$f" || continue
		pid=$(cut -d' ' -f1 "$f")
		kill -KILL "$pid" 2>/dev/null
	done
	pkill -KILL -f "$SHARNESS_TRASH_DIRECTORY/spool-" 2>/dev/null
	# Instances of managed environments (the local provider's workers and
	# their jobs), when a test ended before they were terminated.
	pkill -KILL -f "$SHARNESS_TRASH_DIRECTORY/state/instances/" 2>/dev/null
	pkill -KILL -f "$SHARNESS_TRASH_DIRECTORY/fake/" 2>/dev/null
	# Test hosts go with everything that still runs in them.
	if test -n "$KILN_TESTHOSTS"; then
		"$KILN_SRCDIR/scripts/testhosts" down
		KILN_TESTHOSTS=""
	fi
	kiln_remove_scopes
	return 0
}

# The cgroups of this script's workers: a worker killed, or stopped with a
# job running, leaves its groups, which nothing else would remove, and the
# job's processes in them (its shell is killed above, not what it ran).
# Each worker logs its scope (kiln/NAME-HASH of its spool) at start; a
# managed instance's log goes with it, but its name (CE-8 hex digits, or
# an EC2 id) is its own, in the server's log.  What runs in those groups
# is killed, and the groups removed.
kiln_remove_scopes() {
	{
		grep -rhoE --include="*.log" "jobs under kiln/[^)]+" \
			"$SHARNESS_TRASH_DIRECTORY" | cut -d" " -f3
		grep -rhoE --include="server*.log" "node [^ ]+ up:" \
			"$SHARNESS_TRASH_DIRECTORY" | cut -d" " -f2 \
			| grep -E -e "-[0-9a-f]{8}$" -e "^i-[0-9a-f]+$" | sed "s|.*|kiln/&-*|"
	} 2>/dev/null | sort -u >"$SHARNESS_TRASH_DIRECTORY/.scopes"
	for scope in $(cat "$SHARNESS_TRASH_DIRECTORY/.scopes"); do
		for d in /sys/fs/cgroup/*/$scope /sys/fs/cgroup/$scope; do
			test -d "$d" || continue
			# Killed processes may take a moment to leave their group.
			for try in 1 2 3 4 5; do
				find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null \
					| xargs -r kill -KILL 2>/dev/null
				find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
				test -d "$d" || break
				sleep 0.1
			done
		done
	done
}
trap 'kiln_stop_all; die' EXIT

# make check runs each script under timeout(1): on SIGTERM, leave through
# the EXIT trap so that the daemons are stopped.
trap 'echo "# test script stopped by a signal (time limit?)"; exit 143' TERM INT

# Wait until FILE has a line matching PATTERN (at most 10 s).
kiln_wait_line() {
	i=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		test $i -gt 200 && return 1
		sleep 0.05
	done
}

# The daemons authenticate as on a cluster (KILN_AUTH=munge, the default:
# munged must run, as scripts/test makes it) with CURVE keys made in the
# test's directory; KILN_AUTH=none for the single-user mode.
KILN_AUTH=${KILN_AUTH:-munge}
kiln_keys() {
	test -f "$SHARNESS_TRASH_DIRECTORY/keys/server.key" ||
	"$KILN" keygen --dir "$SHARNESS_TRASH_DIRECTORY/keys" >/dev/null
}
# Clients (kiln, rawsend, jobs' kiln exec) find the server's public key
# here, and speak CURVE to it; with KILN_AUTH=none, plainly.
if test "$KILN_AUTH" = munge; then
	KILN_KEYS="$SHARNESS_TRASH_DIRECTORY/keys"
	export KILN_KEYS
fi

# start_server [OPTIONS]: a server on ephemeral loopback ports; sets
# KILN_SERVER.  Reuse the same ports with KILN_LISTEN/KILN_WORKER_LISTEN.
start_server() {
	if test "$KILN_AUTH" = munge && ! munge -n >/dev/null 2>&1; then
		echo "munged is not running: start it (scripts/test does), or set KILN_AUTH=none" >&2
		return 1
	fi
	kiln_keys || return 1
	: > server.out
	$KILN_WRAP "$KILN" server --auth "$KILN_AUTH" --keys "$SHARNESS_TRASH_DIRECTORY/keys" \
		--listen "${KILN_LISTEN:-tcp://127.0.0.1:*}" \
		--worker-listen "${KILN_WORKER_LISTEN:-tcp://127.0.0.1:*}" \
		--state "$PWD/state" --foreground --log-level debug \
		--node-timeout "${KILN_NODE_TIMEOUT:-5}" --kill-wait 2 "$@" \
		>server.out 2>>server.log &
	SERVER_PID=$!
	KILN_PIDS="$KILN_PIDS $SERVER_PID"
	kiln_wait_line server.out "clients" || { cat server.log >&2; return 1; }
	KILN_SERVER=$(awk '{print $4}' server.out)
	KILN_LISTEN=$KILN_SERVER
	KILN_WORKER_LISTEN=$(awk '{print $6}' server.out)
	export KILN_SERVER KILN_LISTEN KILN_WORKER_LISTEN
}

# start_worker NAME CPUS [OPTIONS]: a worker managing the cpus CPUS.
start_worker() {
	name=$1 cpus=$2
	shift 2
	: > "worker-$name.out"
	$KILN_WRAP "$KILN" worker --auth "$KILN_AUTH" --keys "$SHARNESS_TRASH_DIRECTORY/keys" \
		--server "$KILN_SERVER" --name "$name" --cpus "$cpus" \
		--spool "$PWD/spool-$name" --foreground --log-level debug "$@" \
		>"worker-$name.out" 2>>"worker-$name.log" &
	pid=$!
	eval "WORKER_PID_$(echo "$name" | tr -c 'a-zA-Z0-9\n' _)=$pid"
	KILN_PIDS="$KILN_PIDS $pid"
	kiln_wait_line "worker-$name.out" "kiln worker" || { cat "worker-$name.log" >&2; return 1; }
}

# start_cluster: a server and workers n1 (cpu 0) and n2 (cpu 1), all UP.
start_cluster() {
	start_server &&
	start_worker n1 0 &&
	start_worker n2 1 &&
	wait_nodes_up 2
}

# kill_worker NODE [SIGNAL] and restart_worker NODE: the workers of
# start_cluster, stopped and started again on their own cpus and spool.
kill_worker() {
	eval "kill_pid \$WORKER_PID_$1 ${2:-TERM}"
}
restart_worker() {
	start_worker "$1" "$(test "$1" = n1 && echo 0 || echo 1)"
}

# kill_pid PID [SIGNAL]: stop one daemon and forget it (its exit status
# checked when the signal is TERM).
kill_pid() {
	kill -"${2:-TERM}" "$1" 2>/dev/null
	while kill -0 "$1" 2>/dev/null; do sleep 0.05; done
	kiln_reap "$1" "${2:-TERM}"
	KILN_PIDS=$(echo "$KILN_PIDS" | tr ' ' '\n' | grep -vx "$1" | tr '\n' ' ')
}

# The last test of every script: every daemon stopped cleanly, and no
# process left a sanitizer report (the reports are printed).
kiln_check_reports() {
	kiln_stop_all
	ok=0
	for f in "$KILN_REPORTS"/*; do
		test -s "$f" || continue
		# To the TAP stream (fd 5), as comments: they reach the log.
		echo "# ==== sanitizer report $f" >&5
		sed "s/^/# /" "$f" >&5
		ok=1
	done
	if test -n "$KILN_BAD_EXITS"; then
		echo "# daemons that ended badly (pid:status):$KILN_BAD_EXITS" >&5
		ok=1
	fi
	test $ok = 0 && rm -rf "$KILN_REPORTS"
	return $ok
}
if test -n "$BASH_VERSION"; then
	eval "sharness_test_done() $(declare -f test_done | sed 1d)"
	test_done() {
		if test -z "$skip_all"; then
			test_expect_success 'no sanitizer report; every daemon stopped cleanly' \
				'kiln_check_reports'
		fi
		sharness_test_done
	}
fi

# Wait until N nodes are UP (10 s).
wait_nodes_up() {
	i=0
	while test "$("$KILN" nodes --json | grep -c '"state": "UP"')" -lt "$1"; do
		i=$((i + 1))
		test $i -gt 200 && return 1
		sleep 0.05
	done
}

# forged_is_sender USER COMMAND...: COMMAND, run as USER with a held
# job.submit body that says it is root's as its last argument, must make a
# job of USER's (then cancelled): a request's user is never believed.
forged_is_sender() {
	u=$1
	shift
	body='{"version":1,"job":{"name":"forged","script":"#!/bin/sh\nid -u\n","output":"/tmp/x","cwd":"/tmp","submit_dir":"/tmp","user":"root","uid":0,"gid":0,"hold":true}}'
	runuser -u "$u" -- "$@" "$body" >ans || return 1
	id=$(sed -n 's/.*"id": *\([0-9]*\).*/\1/p' ans)
	test -n "$id" &&
	test "$(job_field $id user)" = "$u" &&
	test "$(job_field $id uid)" = "$(id -u "$u")" &&
	"$KILN" cancel $id
}

# job_field ID FIELD: a top-level field of kiln show --json.
job_field() {
	"$KILN" show --json "$1" | jq -c -r ".$2"
}

# wait_job ID [SECONDS]: until the job is SUCCEEDED or FAILED; prints it.
wait_job() {
	i=0 limit=$(( ${2:-30} * 20 ))
	while :; do
		st=$(job_field "$1" state) || return 1
		case $st in SUCCEEDED|FAILED) echo "$st"; return 0 ;; esac
		i=$((i + 1))
		test $i -gt $limit && { echo "$st"; return 1; }
		sleep 0.05
	done
}

# wait_state ID STATE [SECONDS]
wait_state() {
	i=0 limit=$(( ${3:-30} * 20 ))
	while test "$(job_field "$1" state)" != "$2"; do
		i=$((i + 1))
		test $i -gt $limit && return 1
		sleep 0.05
	done
}

# wait_idle [SECONDS]: until no job is pending or running.
wait_idle() {
	i=0 limit=$(( ${1:-60} * 10 ))
	while test "$("$KILN" queue --json)" != "[]"; do
		i=$((i + 1))
		test $i -gt $limit && return 1
		sleep 0.1
	done
}

# wait_field ID FIELD VALUE [SECONDS]: until job_field ID FIELD is VALUE.
wait_field() {
	i=0 limit=$(( ${4:-30} * 20 ))
	while test "$(job_field "$1" "$2")" != "$3"; do
		i=$((i + 1))
		test $i -gt $limit && return 1
		sleep 0.05
	done
}

# Test hosts (scripts/testhosts): one script at a time may use them.
# testhosts_up N makes th1..thN; they are removed when the script ends.
testhosts_up() {
	KILN_TESTHOSTS=1
	"$KILN_SRCDIR/scripts/testhosts" up "$1"
}

# start_host_worker I [OPTIONS]: a worker named thI on test host thI.
start_host_worker() {
	name=th$1
	host=$1
	shift
	: > "worker-$name.out"
	"$KILN_SRCDIR/scripts/testhosts" exec "$host" $KILN_WRAP "$KILN" worker \
		--auth "$KILN_AUTH" --keys "$SHARNESS_TRASH_DIRECTORY/keys" \
		--server "$KILN_SERVER" --name "$name" --spool "$PWD/spool-$name" \
		--foreground --log-level debug "$@" \
		>"worker-$name.out" 2>>"worker-$name.log" &
	eval "WORKER_PID_$name=$!"
	KILN_PIDS="$KILN_PIDS $!"
	kiln_wait_line "worker-$name.out" "kiln worker" || { cat "worker-$name.log" >&2; return 1; }
}

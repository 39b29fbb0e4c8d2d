#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
test_description='attacks and bad luck (issue 12): overflows in the root job shell,
results that must be taken, secrets kept from other users, peers that never answer'
. "$KILN_SRCDIR/tests/integration/lib/kiln-test.sh"

RAWSEND="$KILN_BUILDDIR/tests/tools/rawsend"

test_expect_success 'start a server and a worker' '
	start_server && start_worker n1 0 && wait_nodes_up 1
'

test_expect_success 'an output pattern that expands past PATH_MAX fails the job, clearly' '
	name=$(printf "%0128d" 0 | tr 0 x) &&
	pat=$(for i in $(seq 40); do printf "%%x%%u"; done) &&
	j=$("$KILN" submit --parsable -J "$name" -o "$pat" --wrap true) &&
	test "$(wait_job $j)" = FAILED &&
	job_field $j status_reason | grep "output file pattern: its expansion is longer than PATH_MAX"
'

test_expect_success 'a job whose failure reason is long still ends (cut, not refused)' '
	long=$PWD/$(printf "%0230d" 0 | tr 0 d)/out &&
	j=$("$KILN" submit --parsable -o "$long" --wrap true) &&
	test "$(wait_job $j)" = FAILED &&
	r=$(job_field $j status_reason) &&
	test ${#r} -le 200 &&
	! grep "reason too long" server.log
'

test_expect_success 'a worker key cannot take over another node or receive its messages' '
	"$KILN" keygen --dir "$SHARNESS_TRASH_DIRECTORY/keys" n5 >/dev/null &&
	for key in workers/n5.key cluster.key; do
		("$RAWSEND" "$KILN_WORKER_LISTEN" --key "keys/$key" --id n1 --listen 4 \
			"" node.heartbeat "{\"version\":1}" >impostor.out &) &&
		sleep 1 &&
		j=$("$KILN" submit --parsable -w n1 --wrap "echo real") &&
		test "$(wait_job $j)" = SUCCEEDED &&
		test "$(cat kiln-$j.out)" = real &&
		sleep 4 &&
		cat impostor.out &&
		! grep "job.start\|node.welcome" impostor.out &&
		"$KILN" nodes | grep "^n1 .*UP" || return 1
	done
'

test_expect_success 'a frame too large is dropped before it is read into memory' '
	rss() { awk "/^VmRSS/ {print \$2}" /proc/$SERVER_PID/status; } &&
	before=$(rss) &&
	test_must_fail "$RAWSEND" "$KILN_SERVER" --sign "" job.submit --size 200000000 &&
	after=$(rss) &&
	echo "server RSS $before -> $after KiB" &&
	test $((after - before)) -lt 20000 &&
	"$KILN" queue >/dev/null
'

test_expect_success 'a client whose server never speaks gives up and says so' '
	python3 -c "
import socket, sys, time
s = socket.socket(); s.bind((\"127.0.0.1\", 0)); s.listen(8)
print(s.getsockname()[1], flush=True)
conns = []
t = time.time()
while time.time() - t < 30:
    s.settimeout(1)
    try: conns.append(s.accept())
    except OSError: pass
" >port &
	i=0 && while ! test -s port && test $i -lt 50; do sleep 0.1; i=$((i + 1)); done &&
	start=$(date +%s) &&
	KILN_SERVER=tcp://127.0.0.1:$(cat port) test_expect_code 1 timeout 20 "$KILN" queue 2>err &&
	test $(($(date +%s) - start)) -lt 15 &&
	cat err && grep "cannot reach the server" err
'

test_expect_success 'a worker notices a silent server and connects again' '
	kill -STOP $SERVER_PID &&
	sleep 13 &&
	kill -CONT $SERVER_PID &&
	kiln_wait_line worker-n1.log "the server has said nothing for" &&
	wait_nodes_up 1 &&
	j=$("$KILN" submit --parsable -w n1 --wrap true) &&
	test "$(wait_job $j)" = SUCCEEDED
'

test_expect_success 'a start its node never confirms: requeued, the node drained, run once' '
	kill_pid $SERVER_PID &&
	start_server --start-timeout 2 --node-timeout 30 &&
	wait_nodes_up 1 &&
	start_worker n2 0 && wait_nodes_up 2 &&
	"$KILN" node drain n2 --reason "keep it free" &&
	kill -STOP $WORKER_PID_n1 &&
	j=$("$KILN" submit --parsable -o /dev/null --wrap "sleep 1; echo \$KILN_NODENAME >>ran.\$KILN_JOB_ID") &&
	wait_state $j STARTING &&
	"$KILN" node resume n2 &&
	test "$(wait_job $j 20)" = SUCCEEDED &&
	"$KILN" show --json $j | jq -r ".events[].reason" >events &&
	grep -x "start not confirmed by node n1 within 2 s; requeued" events &&
	"$KILN" nodes --json | jq -r ".[] | select(.name == \"n1\") | .reason" >reason &&
	grep "did not confirm the start of job $j within 2 s" reason &&
	kill -CONT $WORKER_PID_n1 &&
	test "$(job_field $j attempts)" = 2 &&
	sleep 2 &&
	test "$(cat ran.$j)" = n2 &&
	grep "job $j.1: told to kill it\|job $j.1 started" worker-n1.log &&
	"$KILN" node resume n1
'

# A worker in a mount namespace whose /sys/fs/cgroup is an empty tmpfs (as
# on a node where it is not visible).  The wrapper's path has no space:
# KILN_WRAP is split into words.
nocg=$(mktemp /tmp/kiln-nocg.XXXXXX)
cat >"$nocg" <<\EOT
#!/bin/sh
mount -t tmpfs none /sys/fs/cgroup && exec "$@"
EOT
test_expect_success 'a node without cgroups says so, and cancel still ends what kiln exec started' '
	KILN_WRAP="unshare -m --propagation private sh $nocg" start_worker n3 1 &&
	wait_nodes_up 3 &&
	grep "no usable cgroups on this node" worker-n3.log &&
	j=$("$KILN" submit --parsable -w n3 -o /dev/null \
		--wrap "\"$KILN\" exec n3 sleep 297 & sleep 300") &&
	wait_state $j RUNNING &&
	i=0 && while ! pgrep -f "^sleep 297" >/dev/null && test $i -lt 100; do sleep 0.1; i=$((i + 1)); done &&
	pgrep -f "^sleep 297" &&
	"$KILN" cancel $j &&
	test "$(wait_job $j)" = FAILED &&
	i=0 && while pgrep -f "^sleep 297" >/dev/null && test $i -lt 50; do sleep 0.1; i=$((i + 1)); done &&
	! pgrep -f "^sleep 297"
'
rm -f "$nocg"

test_expect_success 'an error message cut inside a character is still answered' '
	q="$(printf "a%.0s" $(seq 63))é" &&
	body="{\"version\":1,\"job\":{\"name\":\"u\",\"script\":\"#!/bin/sh\\ntrue\\n\",\"output\":\"/tmp/x\",\"cwd\":\"/tmp\",\"submit_dir\":\"/tmp\",\"user\":\"root\",\"uid\":0,\"gid\":0,\"queue\":\"$q\"}}" &&
	"$RAWSEND" "$KILN_SERVER" --sign "" job.submit "$body" >ans &&
	grep "invalid queue name" ans
'

test_expect_success 'secrets are the owner'"'"'s: state 0700, database 0600, job files 0600' '
	MY_API_TOKEN=hunter2-secret "$KILN" submit --parsable --hold --wrap true >id &&
	j=$(cat id) &&
	"$KILN" submit --parsable -w n1 --wrap "sleep 30" >id2 &&
	wait_state $(cat id2) RUNNING &&
	test "$(stat -c %a state)" = 700 &&
	test "$(stat -c %a state/kiln.db)" = 600 &&
	test "$(stat -c %a state/kiln.db-wal)" = 600 &&
	test "$(stat -c %a spool-n1/jobs)" = 711 &&
	chmod o+x "$SHARNESS_TRASH_DIRECTORY" &&
	test_must_fail runuser -u nobody -- grep -rl hunter2-secret state 2>err &&
	! runuser -u nobody -- grep -rl hunter2-secret spool-n1 2>/dev/null &&
	for f in spool-n1/jobs/*/*; do
		case $f in */script) continue ;; esac
		test "$(stat -c %a "$f")" = 600 || { echo "$f: $(stat -c %a "$f")"; return 1; }
	done &&
	"$KILN" cancel $j $(cat id2)
'

test_expect_success 'an old state directory and database are made private at start' '
	kill_pid $SERVER_PID &&
	chmod 755 state && chmod 644 state/kiln.db &&
	start_server &&
	test "$(stat -c %a state)" = 700 &&
	test "$(stat -c %a state/kiln.db)" = 600
'

# A full disk: the state on a small tmpfs.  Every id a client was told
# is there after a restart; the client that could not be saved is told so.
if mkdir fs && mount -t tmpfs -o size=600k tmpfs fs 2>/dev/null; then
	test_set_prereq TMPFS
fi
cleanup_fs() { umount -l "$SHARNESS_TRASH_DIRECTORY/fs" 2>/dev/null; return 0; }

test_expect_success TMPFS 'disk full: nothing half-saved, every acknowledged job kept' '
	kill_pid $SERVER_PID &&
	KILN_LISTEN= KILN_WORKER_LISTEN= &&
	start_server --state "$PWD/fs/state" &&
	head -c 60000 /dev/urandom | base64 -w 76 | sed "s/^/# /" >big.sh &&
	: >told &&
	i=0 && while test $i -lt 60; do
		"$KILN" submit --parsable --hold big.sh >>told 2>err || break
		i=$((i + 1))
	done &&
	test $i -lt 60 &&
	cat err &&
	grep "could not save this request, so nothing of it was done" err &&
	grep -i "full" err &&
	i=0 && while kill -0 $SERVER_PID 2>/dev/null && test $i -lt 100; do sleep 0.1; i=$((i + 1)); done &&
	! kill -0 $SERVER_PID &&
	grep "cannot commit to the store" server.log &&
	mount -o remount,size=64m "$PWD/fs" &&
	KILN_PIDS=$(echo "$KILN_PIDS" | tr " " "\n" | grep -vx "$SERVER_PID" | tr "\n" " ") &&
	start_server --state "$PWD/fs/state" &&
	for id in $(cat told); do
		test "$(job_field $id state)" = PENDING || { echo "lost $id"; return 1; }
	done &&
	new=$("$KILN" submit --parsable --hold --wrap true) &&
	test "$new" -gt "$(tail -1 told)" &&
	"$KILN" cancel $(cat told) $new &&
	kill_pid $SERVER_PID &&
	cleanup_fs
'
cleanup_fs

test_done

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
test_description='the server local socket: the kernel says who a client is, and a socket
another user could have put in the server place gets nothing'
. "$KILN_SRCDIR/tests/integration/lib/kiln-test.sh"

RAWSEND="$KILN_BUILDDIR/tests/tools/rawsend"
users_down() {
	for u in kilnla kilnlb; do userdel "$u" 2>/dev/null; done
	return 0
}
as() {
	u=$1
	shift
	runuser -u "$u" -- env -u KILN_SERVER KILN_CONFIG="$SHARNESS_TRASH_DIRECTORY/client.conf" "$@"
}

test_expect_success 'make the test users' '
	users_down &&
	useradd -M -N -g users -s /bin/sh kilnla &&
	useradd -M -N -g users -s /bin/sh kilnlb &&
	mkdir -m 1777 shared &&
	chmod o+x "$SHARNESS_TRASH_DIRECTORY"
'

test_expect_success 'a server listens on its local socket too, open to all users' '
	start_server --local "$PWD/run/kiln.sock" &&
	start_worker n1 0 && wait_nodes_up 1 &&
	grep "listening for clients on tcp://.* and ipc://$PWD/run/kiln.sock" server.log &&
	test "$(stat -c %a run)" = 755 &&
	test "$(stat -c %a run/kiln.sock)" = 666 &&
	printf "[client]\nlocal = %s\nserver = %s\n" "$PWD/run/kiln.sock" "$KILN_SERVER" >client.conf
'

test_expect_success 'a job sent there is its sender, with no MUNGE at all' '
	(cd shared && as kilnla env KILN_MUNGE_SOCKET=/nonexistent \
		"$KILN" submit --parsable -o a-%j.out --wrap "id -u" >../id) &&
	id=$(cat id) &&
	test "$(wait_job $id)" = SUCCEEDED &&
	test "$(job_field $id user)" = kilnla &&
	test "$(cat shared/a-$id.out)" = "$(id -u kilnla)" &&
	(cd shared && test_must_fail env KILN_MUNGE_SOCKET=/nonexistent \
		runuser -u kilnla -- "$KILN" submit --wrap true 2>../err) &&
	grep -i munge err
'

test_expect_success 'the user in a request is not believed there either' '
	forged_is_sender kilnlb env -u KILN_KEYS "$RAWSEND" "ipc://$PWD/run/kiln.sock" "" job.submit
'

test_expect_success 'B cannot cancel the job of A there; A can' '
	(cd shared && as kilnla "$KILN" submit --parsable --hold --wrap true >../id) &&
	id=$(cat id) &&
	test_must_fail as kilnlb "$KILN" cancel $id 2>err &&
	grep "permission denied" err &&
	as kilnla "$KILN" cancel $id
'

test_expect_success 'a second server cannot take the socket of a running one' '
	test_must_fail "$KILN" server --auth munge --keys "$SHARNESS_TRASH_DIRECTORY/keys" \
		--listen "tcp://127.0.0.1:*" --worker-listen "tcp://127.0.0.1:*" \
		--state "$PWD/state2" --local "$PWD/run/kiln.sock" --foreground 2>err2 &&
	grep "another server listens on the local socket" err2 &&
	as kilnla "$KILN" queue >/dev/null
'

# A listener of kilnlb: prints how many bytes anybody sent it.  (The
# last one's output goes first: "up" must be this one's.)
fake() {
	rm -f fake.out
	runuser -u kilnlb -- python3 -c "
import os, socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(4)
os.chmod(sys.argv[1], 0o666)
print(\"up\", flush=True)
s.settimeout(10)
c, _ = s.accept(); c.settimeout(3)
got = b\"\"
try:
    while True:
        b = c.recv(4096)
        if not b: break
        got += b
except OSError: pass
print(\"got\", len(got), flush=True)
" "$1" >fake.out &
	i=0 && while ! grep -q up fake.out 2>/dev/null && test $i -lt 50; do sleep 0.1; i=$((i + 1)); done
}

test_expect_success 'a socket of another user in /tmp gets nothing, not even a greeting' '
	d=$(mktemp -d /tmp/kiln-t5004.XXXXXX) && chown kilnlb "$d" && chmod 755 "$d" &&
	fake "$d/kiln.sock" &&
	printf "[client]\nlocal = %s\n" "$d/kiln.sock" >evil.conf &&
	test_must_fail runuser -u kilnla -- env -u KILN_SERVER KILN_CONFIG="$PWD/evil.conf" \
		"$KILN" submit --wrap "echo secret" 2>err &&
	cat err &&
	grep "may not be the server.s, so nothing is sent there: $d belongs to uid $(id -u kilnlb)" err &&
	i=0 && while ! grep -q got fake.out && test $i -lt 50; do sleep 0.1; i=$((i + 1)); done &&
	grep "got 0" fake.out &&
	rm -rf "$d"
'

test_expect_success 'nor in a folder anybody may write' '
	mkdir -m 777 open &&
	fake "$PWD/open/kiln.sock" &&
	test_must_fail runuser -u kilnla -- env KILN_SERVER="ipc://$PWD/open/kiln.sock" \
		"$KILN" queue 2>err &&
	grep "folder $PWD/open is writable by others (mode 777)" err &&
	i=0 && while ! grep -q got fake.out && test $i -lt 50; do sleep 0.1; i=$((i + 1)); done &&
	grep "got 0" fake.out
'

test_expect_success 'the socket of a server that stopped: the client goes on over TCP' '
	python3 -c "import socket; socket.socket(socket.AF_UNIX).bind(\"$PWD/stale.sock\")" &&
	printf "[client]\nlocal = %s\nserver = %s\n" "$PWD/stale.sock" "$KILN_SERVER" >stale.conf &&
	(cd shared && runuser -u kilnla -- env -u KILN_SERVER KILN_CONFIG="$PWD/../stale.conf" \
		"$KILN" submit --parsable --wrap true >../id) &&
	test "$(wait_job $(cat id))" = SUCCEEDED &&
	test "$(job_field $(cat id) user)" = kilnla
'

test_expect_success 'a local socket path that cannot be one is an error, named' '
	printf "[client]\nlocal = run/kiln.sock\n" >bad.conf &&
	test_must_fail env -u KILN_SERVER KILN_CONFIG="$PWD/bad.conf" "$KILN" queue 2>err &&
	grep "\[client\] local: local socket .run/kiln.sock.: want an absolute path" err &&
	printf "[client]\nlocal = /%0150d\n" 0 >bad.conf &&
	test_must_fail env -u KILN_SERVER KILN_CONFIG="$PWD/bad.conf" "$KILN" queue 2>err &&
	grep "longer than a UNIX socket path may be" err
'

test_expect_success 'the socket goes with its server' '
	kiln_stop_all &&
	! test -e run/kiln.sock
'

test_expect_success 'remove the test users' '
	users_down
'

test_done

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
test_description='many users: MUNGE identities, CURVE workers, jobs as their owners, permissions'
. "$KILN_SRCDIR/tests/integration/lib/kiln-test.sh"

RAWSEND="$KILN_BUILDDIR/tests/tools/rawsend"
# Two users, A and B, an admin C (group kilntadm), and a group of A's
# beyond the primary one.  Made here, removed at the end.
users_down() {
	for u in kilnta kilntb kilntc; do userdel "$u" 2>/dev/null; done
	for g in kilntadm kilntx; do groupdel "$g" 2>/dev/null; done
	return 0
}
as() {
	u=$1
	shift
	runuser -u "$u" -- "$@"
}

test_expect_success 'make the test users' '
	users_down &&
	groupadd kilntadm && groupadd kilntx &&
	useradd -M -N -g users -G kilntx -s /bin/sh kilnta &&
	useradd -M -N -g users -s /bin/sh kilntb &&
	useradd -M -N -g users -G kilntadm -s /bin/sh kilntc &&
	mkdir -m 1777 shared &&
	chmod o+x "$SHARNESS_TRASH_DIRECTORY" &&
	as kilnta "$KILN" --version >/dev/null
'

printf "[server]\nadmin_group = kilntadm\n" >kiln.conf

test_expect_success 'start a server (munge) and two workers (CURVE)' '
	start_server --config "$PWD/kiln.conf" &&
	grep "authentication: munge for clients, CURVE for workers" server.log &&
	start_worker n1 0 && start_worker n2 1 &&
	wait_nodes_up 2
'

test_expect_success 'a job runs as its owner, with their groups; its output is theirs' '
	(cd shared && as kilnta "$KILN" submit --parsable -o a-%j.out --wrap "id -u; id -G" >../id) &&
	id=$(cat id) &&
	test "$(wait_job $id)" = SUCCEEDED &&
	test "$(job_field $id user)" = kilnta &&
	test "$(stat -c %U shared/a-$id.out)" = kilnta &&
	test "$(sed -n 1p shared/a-$id.out)" = "$(id -u kilnta)" &&
	sed -n 2p shared/a-$id.out | tr " " "\n" >groups &&
	grep -x "$(getent group kilntx | cut -d: -f3)" groups
'

test_expect_success 'the submitter umask keeps a job output from other users' '
	(cd shared && as kilnta sh -c "umask 077; \"$KILN\" submit --parsable -o private-%j.out --wrap \"echo secret\"" >../id) &&
	id=$(cat id) &&
	test "$(wait_job $id)" = SUCCEEDED &&
	test "$(stat -c %a shared/private-$id.out)" = 600 &&
	as kilnta cat shared/private-$id.out >out && test "$(cat out)" = secret &&
	test_must_fail as kilntb cat shared/private-$id.out
'

test_expect_success 'the user in a request is not believed: the credential says who' '
	forged_is_sender kilntb "$RAWSEND" "$KILN_SERVER" --sign "" job.submit
'

test_expect_success 'B cannot cancel, hold or release the job of A; A and an admin can' '
	(cd shared && as kilnta "$KILN" submit --parsable --wrap "sleep 60" >../id) &&
	id=$(cat id) &&
	wait_state $id RUNNING &&
	test_must_fail as kilntb "$KILN" cancel $id 2>err &&
	grep "permission denied" err &&
	test_must_fail as kilntb "$KILN" hold $id 2>err &&
	grep "permission denied" err &&
	test "$(job_field $id state)" = RUNNING &&
	grep "refused job.cancel of job $id from user kilntb" server.log &&
	as kilntc "$KILN" cancel $id &&
	test "$(wait_job $id)" = FAILED &&
	(cd shared && as kilnta "$KILN" submit --parsable --hold --wrap true >../id) &&
	id=$(cat id) &&
	test_must_fail as kilntb "$KILN" release $id 2>err &&
	grep "permission denied" err &&
	as kilnta "$KILN" cancel $id
'

test_expect_success 'B sees the job of A in the queue, not its script or environment' '
	(cd shared && as kilnta "$KILN" submit --parsable --hold --wrap "echo topsecret" >../id) &&
	id=$(cat id) &&
	as kilntb "$KILN" queue >q && grep "kilnta" q &&
	as kilntb "$KILN" show --json $id >show &&
	! grep topsecret show &&
	as kilnta "$KILN" show --json $id >show &&
	grep topsecret show &&
	as kilnta "$KILN" cancel $id
'

test_expect_success 'kiln exec in a job runs as its user; a stolen token is no use to another' '
	printf "#!/bin/sh\necho \"\$KILN_JOB_TOKEN\" >tok\n%s exec n1 id -u\nsleep 30\n" "$KILN" >shared/ex.sh &&
	(cd shared && as kilnta sh -c "umask 077; \"$KILN\" submit --parsable -w n1 -o ex-%j.out ex.sh" >../id) &&
	id=$(cat id) &&
	wait_state $id RUNNING &&
	i=0 && while ! test -s shared/ex-$id.out && test $i -lt 100; do sleep 0.1; i=$((i + 1)); done &&
	test "$(cat shared/ex-$id.out)" = "$(id -u kilnta)" &&
	tok=$(cat shared/tok) && test -n "$tok" &&
	test_must_fail as kilntb env KILN_JOB_ID=$id KILN_JOB_TOKEN=$tok "$KILN" exec n1 id 2>err &&
	grep "not a process of this job" err &&
	as kilnta env KILN_JOB_ID=$id KILN_JOB_TOKEN=$tok "$KILN" exec n1 id -un >out &&
	test "$(cat out)" = kilnta &&
	as kilnta "$KILN" cancel $id
'

test_expect_success 'an expired credential is refused' '
	"$RAWSEND" "$KILN_SERVER" --ttl 1 --delay 3 "" job.list "{\"version\":1}" >ans &&
	grep "expired MUNGE credential" ans &&
	"$RAWSEND" "$KILN_SERVER" --ttl 10 "" job.list "{\"version\":1}" >ans &&
	grep "^ok$" ans
'

test_expect_success 'an admin drains and resumes a node; a user cannot' '
	test_must_fail as kilntb "$KILN" node drain n1 --reason "not mine" 2>err &&
	grep "permission denied" err &&
	as kilntc "$KILN" node drain n1 --reason "new disks" >out &&
	grep "n1: DRAINED" out &&
	"$KILN" nodes --json | jq -r ".[] | select(.name == \"n1\") | .reason" >r &&
	test "$(cat r)" = "new disks" &&
	"$KILN" node show n1 >show && grep "^Node n1: DRAINED (new disks)" show &&
	grep "refused node.update from kilntb (uid $(id -u kilntb)): permission denied" server.log &&
	(cd shared && as kilnta "$KILN" submit --parsable -w n1 --wrap true >../id) &&
	id=$(cat id) &&
	sleep 1 &&
	test "$(job_field $id state)" = RUNNABLE &&
	as kilntc "$KILN" node resume n1 &&
	test "$(wait_job $id)" = SUCCEEDED
'

test_expect_success 'an admin sets a node down: its jobs stop' '
	(cd shared && as kilnta "$KILN" submit --parsable -w n2 --wrap "sleep 60" >../id) &&
	id=$(cat id) &&
	wait_state $id RUNNING &&
	as kilntc "$KILN" node down n2 --reason "bad fan" >out &&
	grep "n2: DOWN" out &&
	test "$(wait_job $id)" = FAILED &&
	job_field $id status_reason | grep "node set down by an admin" &&
	as kilntc "$KILN" node resume n2
'

test_expect_success 'queues, and the job definitions of others, are for admins' '
	test_must_fail as kilntb "$KILN" jobqueue create q2 --priority 5 --ce default 2>err &&
	grep "permission denied" err &&
	as kilntc "$KILN" jobqueue create q2 --priority 5 --ce default &&
	printf "%s\n" "{\"jobDefinitionName\": \"adef\", \"type\": \"container\"," \
		"\"containerProperties\": {\"command\": [\"true\"], \"resourceRequirements\":" \
		"[{\"type\": \"VCPU\", \"value\": \"1\"}]}}" >def.json &&
	as kilnta "$KILN" jobdef register def.json &&
	test_must_fail as kilntb "$KILN" jobdef deregister adef:1 2>err &&
	grep "belongs to kilnta" err &&
	test_must_fail as kilntb "$KILN" jobdef register def.json 2>err &&
	grep "belongs to kilnta" err &&
	as kilntc "$KILN" jobdef deregister adef:1
'

test_expect_success 'with private_jobs, B does not see the jobs of A at all' '
	(cd shared && as kilnta "$KILN" submit --parsable --hold --wrap true >../id) &&
	id=$(cat id) &&
	kill_pid $SERVER_PID &&
	printf "private_jobs = yes\n" >>kiln.conf &&
	start_server --config "$PWD/kiln.conf" &&
	as kilntb "$KILN" queue >q && ! grep kilnta q &&
	test_must_fail as kilntb "$KILN" show $id 2>err &&
	grep "permission denied" err &&
	as kilntb "$KILN" history >h && ! grep kilnta h &&
	as kilnta "$KILN" queue >q && grep kilnta q &&
	as kilntc "$KILN" queue >q && grep kilnta q &&
	as kilnta "$KILN" cancel $id
'

test_expect_success 'a captured credential replayed is refused' '
	"$RAWSEND" "$KILN_SERVER" --sign --twice "" job.list "{\"version\":1}" >ans &&
	sed -n "1,/^--$/p" ans | grep "^ok$" &&
	sed -n "/^--$/,\$p" ans | grep "replayed MUNGE credential" &&
	grep "refused job.list from an unidentified client: replayed" server.log &&
	test "$(grep -c "replayed MUNGE credential" server.log)" = 1
'

test_expect_success 'no credential, a forged one, or one for another request: refused' '
	"$RAWSEND" "$KILN_SERVER" "" job.list "{\"version\":1}" >ans &&
	grep "authentication required" ans &&
	"$RAWSEND" "$KILN_SERVER" "" job.list "{\"version\":1}" "MUNGE:AAAAforged:" >ans &&
	grep "invalid MUNGE credential" ans &&
	cred=$(munge -n -s "not the digest") &&
	"$RAWSEND" "$KILN_SERVER" "" job.list "{\"version\":1}" "$cred" >ans &&
	grep "made for another request" ans &&
	"$KILN" queue >/dev/null
'

test_expect_success 'malformed and oversized messages leave the server answering' '
	"$RAWSEND" "$KILN_SERVER" --sign "" job.submit "{\"version\":1,\"job\":[]}" >ans &&
	grep "must be an object" ans &&
	"$RAWSEND" "$KILN_SERVER" "" job.list "{\"version\":1}" --size 5000 >ans &&
	grep "bad credential frame" ans &&
	"$RAWSEND" "$KILN_SERVER" --sign "" job.submit --size 3000000 >ans &&
	grep "above the limit" ans &&
	"$RAWSEND" "$KILN_SERVER" --sign "" job.cancel "{\"version\":1,\"ids\":[\"x\"],\"reason\":\"a\\u0007b\"}" >ans &&
	grep "printable" ans &&
	"$RAWSEND" "$KILN_SERVER" --sign "" job.show "{\"version\":1,\"id\":[1]}" >ans &&
	grep "field .id. must be an integer or a string" ans &&
	"$RAWSEND" "$KILN_SERVER" --sign "" job.list "{\"version\":1,\"uid\":0}" >ans &&
	grep "unknown field .uid." ans &&
	"$RAWSEND" "$KILN_SERVER" --sign "" node.update "{\"version\":1}" >ans &&
	grep "field .name. is missing" ans &&
	grep "refused job.list from root (uid 0): invalid job.list request" server.log &&
	"$KILN" queue >/dev/null
'

test_expect_success 'a worker without keys cannot start; one with a stranger key is refused' '
	mkdir nokeys &&
	test_must_fail "$KILN" worker --server "$KILN_SERVER" --name n3 --cpus 0 \
		--spool "$PWD/spool-n3" --keys "$PWD/nokeys" --foreground 2>err &&
	grep "server.pub" err &&
	"$KILN" keygen --dir "$PWD/other" cluster >/dev/null &&
	cp keys/server.pub other/ &&
	start_worker n4 0 --keys "$PWD/other" &&
	sleep 2 &&
	! "$KILN" nodes | grep "^n4 " &&
	grep "refused a worker from .*its CURVE key" server.log &&
	grep "the server refused this worker.s CURVE key" worker-n4.log
'

test_expect_success 'a node key speaks for its node only' '
	"$KILN" keygen --dir "$PWD/keys" n5 >/dev/null &&
	mkdir -p k6/workers && cp keys/server.pub k6/ && cp keys/workers/n5.key k6/workers/n6.key &&
	start_worker n6 0 --keys "$PWD/k6" &&
	sleep 2 &&
	! "$KILN" nodes | grep "^n6 " &&
	grep "CURVE key is .n5." server.log &&
	start_worker n5 0 &&
	wait_nodes_up 3
'

test_expect_success 'clients speak CURVE to the server: without its key, kiln says so' '
	KILN_KEYS=$PWD/nokeys test_must_fail "$KILN" queue 2>err &&
	grep "encrypts its traffic (CURVE), and this host has no .*nokeys/server.pub" err &&
	"$KILN" keygen --dir "$PWD/impostor" server >/dev/null &&
	KILN_KEYS=$PWD/impostor test_must_fail "$KILN" queue 2>err &&
	grep "the encrypted (CURVE) handshake failed" err &&
	"$KILN" queue >/dev/null
'

test_expect_success 'kiln without munged says what is missing' '
	KILN_MUNGE_SOCKET=/nonexistent/munge.socket test_must_fail "$KILN" queue 2>err &&
	grep "cannot get a MUNGE credential (is munged running" err
'

test_expect_success 'single-user mode: root must say --allow-root; loopback only' '
	kiln_stop_all &&
	test_must_fail timeout 10 "$KILN" server --auth none --state "$PWD/s1" --foreground 2>err &&
	grep "give --allow-root" err &&
	test_must_fail timeout 10 "$KILN" server --auth none --allow-root --state "$PWD/s1" \
		--listen tcp://0.0.0.0:0 --foreground 2>err &&
	grep "loopback or ipc:// only" err &&
	test_must_fail timeout 10 "$KILN" worker --auth none --allow-root --server tcp://10.1.2.3:7810 \
		--foreground 2>err &&
	grep "a server on this machine only" err
'

test_expect_success 'single-user mode: its owner gets in; other local users do not' '
	KILN_AUTH=none KILN_LISTEN= KILN_WORKER_LISTEN= &&
	unset KILN_KEYS &&
	rm -f server.log worker-n1.log &&
	start_server --allow-root && start_worker n1 0 --allow-root && wait_nodes_up 1 &&
	head -1 server.log | grep "authentication: none (single-user mode)" &&
	grep "only clients and workers with the token in $HOME/.kiln/token" server.log &&
	head -1 worker-n1.log | grep "authentication: none (single-user mode)" &&
	test "$(stat -c %a "$HOME/.kiln/token")" = 600 &&
	(cd shared && KILN_MUNGE_SOCKET=/nonexistent KILN_TIMEOUT=3 test_must_fail as kilnta \
		"$KILN" submit --parsable --wrap "id -un" >../id 2>../err) &&
	cat err &&
	grep "the handshake failed" err &&
	test "$("$KILN" queue --json)" = "[]" &&
	KILN_TOKEN_FILE=/nonexistent test_must_fail "$KILN" queue 2>err &&
	(cd shared && "$KILN" submit --parsable --wrap "id -un" >../id) &&
	id=$(cat id) &&
	test "$(wait_job $id)" = SUCCEEDED &&
	test "$(cat shared/kiln-$id.out)" = root
'

test_expect_success 'remove the test users' '
	kiln_stop_all &&
	users_down
'

test_done

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
test_description='the binary, its errors, a server and two workers'
. "$KILN_SRCDIR/tests/integration/lib/kiln-test.sh"

test_expect_success 'kiln without a command prints usage and fails' '
	test_must_fail "$KILN" 2>err &&
	grep "Usage: kiln COMMAND" err
'

test_expect_success 'an unknown command is named' '
	test_must_fail "$KILN" frobnicate 2>err &&
	grep "unknown command .frobnicate." err
'

test_expect_success 'an option without its value is named as written' '
	test_must_fail "$KILN" queue --server 2>err &&
	grep "incomplete option .--server." err
'

test_expect_success 'an unreachable server is reported with its address, quickly' '
	test_must_fail env KILN_TIMEOUT=1 "$KILN" queue --server tcp://127.0.0.1:9 2>err &&
	grep "cannot reach the server at tcp://127.0.0.1:9" err
'

test_expect_success 'KILN_SERVER is used when --server is absent' '
	test_must_fail env KILN_TIMEOUT=1 KILN_SERVER=tcp://127.0.0.1:11 "$KILN" queue 2>err &&
	grep "tcp://127.0.0.1:11" err
'

test_expect_success 'the config file names the server for clients' '
	printf "[client]\nserver = tcp://127.0.0.1:13\n" >client.conf &&
	test_must_fail env KILN_TIMEOUT=1 "$KILN" queue --config client.conf 2>err &&
	grep "tcp://127.0.0.1:13" err
'

test_expect_success 'a bad config file names the line' '
	printf "[client]\nbogus = 1\n" >bad.conf &&
	test_must_fail "$KILN" queue --config bad.conf 2>err &&
	grep "bad.conf. line 2: unknown setting .bogus." err
'

test_expect_success 'bad option values are refused before anything is sent' '
	echo "true" >job.sh &&
	test_must_fail "$KILN" submit --server tcp://127.0.0.1:9 --cpus-per-task=abc job.sh 2>err &&
	grep "invalid value for --cpus-per-task: .abc." err &&
	test_must_fail "$KILN" submit --server tcp://127.0.0.1:9 --time=xyz job.sh 2>err &&
	grep "invalid value for --time: .xyz." err &&
	test_must_fail "$KILN" submit --server tcp://127.0.0.1:9 --mem=-1 job.sh 2>err &&
	grep "invalid value for --mem: .-1." err &&
	test_must_fail "$KILN" submit --server tcp://127.0.0.1:9 -n 0 job.sh 2>err &&
	grep "invalid value for --ntasks: .0." err
'

test_expect_success 'a missing script is named' '
	test_must_fail "$KILN" submit --server tcp://127.0.0.1:9 nosuch.sh 2>err &&
	grep "cannot read script .nosuch.sh.: No such file" err
'

test_expect_success 'a bad directive names the script' '
	printf "#!/bin/sh\n#KILN --time=soon\ntrue\n" >bad.sh &&
	test_must_fail "$KILN" submit --server tcp://127.0.0.1:9 bad.sh 2>err &&
	grep "invalid value for --time in a directive of .bad.sh.: .soon." err
'

test_expect_success 'server starts and says where it listens' '
	start_server &&
	grep "^kiln server: clients tcp://127.0.0.1:[0-9]* workers tcp://127.0.0.1:[0-9]*" server.out
'

test_expect_success 'two workers register with their cpus' '
	start_worker n1 0 &&
	start_worker n2 1 &&
	wait_nodes_up 2 &&
	"$KILN" nodes >nodes.out &&
	grep "^n1 *UP *0/1" nodes.out &&
	grep "^n2 *UP *0/1" nodes.out
'

test_expect_success 'nodes --json reports the topology' '
	"$KILN" nodes --json >nodes.json &&
	test "$(jq ".[0].topology.pu[0][0]" nodes.json)" = 0 &&
	test "$(jq ".[1].topology.pus" nodes.json)" = 1
'

test_expect_success 'a job no node can ever run is refused at submit' '
	test_must_fail "$KILN" submit -n 4 --wrap true 2>err &&
	grep "job can never run: it asks for 4 cpus and the largest node of job queue .default. has 1" err &&
	test_must_fail "$KILN" submit --mem 100T --wrap true 2>err &&
	grep "job can never run: it asks for 104857600 MiB" err &&
	test "$("$KILN" queue --json)" = "[]"
'

test_expect_success 'an unknown job id is an error' '
	test_must_fail "$KILN" show 4242 2>err &&
	grep "unknown job id 4242" err &&
	test_must_fail "$KILN" cancel 4242 2>err &&
	grep "cannot cancel job 4242: unknown job id" err
'

RAWSEND="$KILN_BUILDDIR/tests/tools/rawsend"

test_expect_success 'malformed messages get an error answer and the server goes on' '
	"$RAWSEND" "$KILN_SERVER" "" job.submit "{not json" >ans &&
	grep "malformed message body" ans &&
	"$RAWSEND" "$KILN_SERVER" "" job.submit "[1,2]" >ans &&
	grep "not a JSON object" ans &&
	"$RAWSEND" "$KILN_SERVER" --sign "" job.submit "{\"version\":1,\"job\":{\"name\":3}}" >ans &&
	grep "invalid job" ans &&
	"$RAWSEND" "$KILN_SERVER" --sign "" job.frob "{\"version\":1}" >ans &&
	grep "unknown request type" ans &&
	"$RAWSEND" "$KILN_SERVER" "" job.list "{\"version\":99}" >ans &&
	grep "protocol version mismatch" ans &&
	"$RAWSEND" "$KILN_SERVER" one two three four five >ans &&
	grep "malformed message" ans &&
	"$KILN" queue >/dev/null
'

test_expect_success 'an oversized message is refused and the server goes on' '
	"$RAWSEND" "$KILN_SERVER" "" job.submit --size 2000000 >ans &&
	grep "above the limit" ans &&
	"$KILN" queue >/dev/null
'

test_expect_success 'a stranger without CURVE keys gets nothing from the worker socket' '
	test_must_fail "$RAWSEND" "$KILN_WORKER_LISTEN" "" job.end "{\"id\":1}" >ans &&
	test_must_be_empty ans &&
	"$KILN" nodes >/dev/null
'

test_expect_success 'daemons stop on SIGTERM' '
	kiln_stop_all &&
	! kill -0 $SERVER_PID 2>/dev/null
'

test_done

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
test_description='the heartbeat a server asks of its workers, from its config'
. "$KILN_SRCDIR/tests/integration/lib/kiln-test.sh"

test_expect_success 'a heartbeat out of range is refused, naming it' '
	printf "[server]\nheartbeat = 0\n" >zero.conf &&
	test_must_fail "$KILN" server --auth none --allow-root --config zero.conf --state "$PWD/s0" \
		--listen "tcp://127.0.0.1:*" --foreground 2>err &&
	grep "invalid heartbeat .0.: whole seconds from 1 to 59" err &&
	test ! -e s0/kiln.db
'

test_expect_success 'a node timeout under three heartbeats is refused' '
	printf "[server]\nheartbeat = 3\nnode_timeout = 8\n" >slow.conf &&
	test_must_fail "$KILN" server --auth none --allow-root --config slow.conf --state "$PWD/s1" \
		--listen "tcp://127.0.0.1:*" --foreground 2>err &&
	grep "node timeout 8 s is less than three heartbeats (3 s apart)" err
'

# Every 2 s, with a node timeout of 6 s: a node that heard of the
# heartbeat stays up past the timeout, and one that stops is down.
test_expect_success 'the workers beat as the server says' '
	printf "[server]\nheartbeat = 2\n" >hb.conf &&
	KILN_NODE_TIMEOUT=6 start_server --config hb.conf &&
	start_worker n1 0 &&
	wait_nodes_up 1 &&
	grep "a heartbeat every 2 s" worker-n1.log &&
	sleep 8 &&
	"$KILN" nodes | grep "^n1 *UP"
'

test_expect_success 'a worker that stops beating is down after the timeout' '
	kill -STOP $WORKER_PID_n1 &&
	sleep 9 &&
	"$KILN" nodes >nodes.out &&
	kill -CONT $WORKER_PID_n1 &&
	grep "^n1 *DOWN" nodes.out &&
	wait_nodes_up 1
'

test_done

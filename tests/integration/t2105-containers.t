#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
test_description='jobs in OCI containers (runc): exactly the job'"'"'s cores and memory,
the submitting user, out of memory, cancel, and bundles that cannot run'
. "$KILN_SRCDIR/tests/integration/lib/kiln-test.sh"

if ! command -v runc >/dev/null || ! runc list >/dev/null 2>&1; then
	skip_all="runc is not installed or does not work here (apt-get install runc)"
	test_done
fi
if ! test -x /bin/busybox; then
	skip_all="busybox-static is not installed (apt-get install busybox-static)"
	test_done
fi
for engine in podman docker; do
	if command -v $engine >/dev/null && $engine info >/dev/null 2>&1; then
		say "$engine works here, but Kiln does not drive engines yet"
	else
		say "skipping $engine: not installed or no working engine"
	fi
done

test_expect_success 'a busybox bundle, a server, a worker that finds runc' '
	"$KILN_SRCDIR/examples/containers/busybox-bundle.sh" "$PWD/bundle" &&
	start_server &&
	start_worker n1 0-1 &&
	wait_nodes_up 1 &&
	"$KILN" nodes --long | grep "Runtimes=runc" &&
	grep "container runtimes: .*runc" worker-n1.log
'

test_expect_success 'inside, the job sees exactly its cores and memory limit' '
	j=$("$KILN" submit --parsable -c 1 --mem 48M --container bundle \
		--wrap "grep Cpus_allowed_list /proc/self/status | cut -f2;
		        cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null ||
		        cat /sys/fs/cgroup/memory.max; hostname") &&
	test "$(wait_job $j)" = SUCCEEDED &&
	cat kiln-$j.out &&
	test "$(sed -n 1p kiln-$j.out)" = "$(job_field $j cpus.n1)" &&
	test "$(sed -n 2p kiln-$j.out)" = $((48 * 1024 * 1024)) &&
	sed -n 3p kiln-$j.out | grep "^kiln-$j.1-n1-" &&
	! runc list -q | grep "^kiln-$j\\."
'

test_expect_success 'the exit code comes out; the submit directory is mounted' '
	echo data >input &&
	j=$("$KILN" submit --parsable --container bundle \
		--wrap "cat input >copied; exit 5") &&
	test "$(wait_job $j)" = FAILED &&
	test "$(job_field $j exit_code)" = 5 &&
	test "$(cat copied)" = data
'

test_expect_success 'it runs as the submitting user, never root' '
	id kilnct >/dev/null 2>&1 || useradd -M -d /nonexistent -s /bin/sh kilnct &&
	mkdir -p user && chown kilnct user && chmod 755 . &&
	(cd user && runuser -u kilnct -- env KILN_SERVER="$KILN_SERVER" "$KILN" submit \
		--parsable --container ../bundle --wrap "id -u; id -g; touch mine" >../uid.j) &&
	j=$(cat uid.j) &&
	test "$(wait_job $j)" = SUCCEEDED &&
	test "$(sed -n 1p user/kiln-$j.out)" = "$(id -u kilnct)" &&
	test "$(stat -c %U user/mine)" = kilnct &&
	test "$(stat -c %U user/kiln-$j.out)" = kilnct
'

test -w /sys/fs/cgroup/memory/cgroup.procs -o -w /sys/fs/cgroup/cgroup.subtree_control &&
	test_set_prereq MEMCG

test_expect_success MEMCG 'a container above its memory is out of memory' '
	j=$("$KILN" submit --parsable --mem 32M --container bundle \
		--wrap "head -c 314572800 /dev/zero | tail") &&
	test "$(wait_job $j 30)" = FAILED &&
	test "$(job_field $j status_reason)" = "out of memory" &&
	! runc list -q | grep "^kiln-$j\\."
'

test_expect_success 'cancel kills and deletes the container' '
	j=$("$KILN" submit --parsable --container bundle --wrap "sleep 297") &&
	wait_state $j RUNNING &&
	n=0 && while ! runc list -q | grep -q "^kiln-$j\\."; do
		n=$((n + 1)); test $n -gt 100 && return 1; sleep 0.1
	done &&
	"$KILN" cancel $j &&
	test "$(wait_job $j 30)" = FAILED &&
	! runc list -q | grep "^kiln-$j\\." &&
	! pgrep -x -f "sleep 297"
'

test_expect_success 'a missing bundle or a broken config is a clear failure, not a hang' '
	test_must_fail "$KILN" submit --container ./nosuch --wrap true 2>err &&
	grep "container .\./nosuch. not found" err &&
	if ! grep -q "container runtimes: .*\(podman\|docker\)" worker-n1.log; then
		test_must_fail "$KILN" submit --container debian:12 --wrap true 2>err &&
		grep "has a container engine (podman, docker) for images" err
	fi &&
	mkdir -p broken/rootfs && echo "{ not json" >broken/config.json &&
	j=$("$KILN" submit --parsable --container broken --wrap true) &&
	test "$(wait_job $j 30)" = FAILED &&
	job_field $j status_reason | grep "container bundle .*config.json" &&
	rm -rf gone && mkdir gone &&
	j=$("$KILN" submit --parsable --hold --container gone --wrap true) &&
	rmdir gone && "$KILN" release $j &&
	test "$(wait_job $j 30)" = FAILED &&
	job_field $j status_reason | grep "not found"
'

# Attacks: a user's bundle is theirs, read as them; root takes nothing
# else from it (issue 12).  kilnct is the user of the test above.
as_ct() {
	(cd user && runuser -u kilnct -- env KILN_SERVER="$KILN_SERVER" "$@")
}

test_expect_success 'a config.json that links to /etc/shadow is read as the user: refused, nothing leaks' '
	mkdir -p user/evil1/rootfs && ln -s /etc/shadow user/evil1/config.json &&
	chown -R kilnct user/evil1 &&
	j=$(as_ct "$KILN" submit --parsable --container "$PWD/user/evil1" --wrap true) &&
	test "$(wait_job $j 30)" = FAILED &&
	job_field $j status_reason >reason &&
	grep "config.json Permission denied" reason &&
	! grep "root:" reason
'

test_expect_success 'a root.path into a directory only root may enter is refused' '
	mkdir -m 700 secret && cp -a bundle/rootfs secret/rootfs &&
	mkdir -p user/evil2 &&
	printf "{\"root\": {\"path\": \"%s\"}}\n" "$PWD/secret/rootfs" >user/evil2/config.json &&
	chown -R kilnct user/evil2 &&
	j=$(as_ct "$KILN" submit --parsable --container "$PWD/user/evil2" --wrap "ls /") &&
	test "$(wait_job $j 30)" = FAILED &&
	job_field $j status_reason | grep "root file system is not a directory you can read"
'

test_expect_success 'a bundle mount of what the user cannot reach is refused' '
	mkdir -p secret/inner && echo hidden >secret/inner/data && chmod 755 secret/inner &&
	mkdir -p user/evil3 &&
	printf "{\"root\": {\"path\": \"%s\"}, \"mounts\": [{\"destination\": \"/loot\", \"type\": \"bind\", \"source\": \"%s\", \"options\": [\"rbind\"]}]}\n" \
		"$PWD/bundle/rootfs" "$PWD/secret/inner" >user/evil3/config.json &&
	chown -R kilnct user/evil3 &&
	j=$(as_ct "$KILN" submit --parsable --container "$PWD/user/evil3" --wrap "cat /loot/data") &&
	test "$(wait_job $j 30)" = FAILED &&
	job_field $j status_reason | grep "cannot mount .*secret/inner" &&
	! grep hidden user/kiln-$j.out
'

test_expect_success 'root makes nothing in a root file system the user cannot write' '
	mkdir ro && cp -a bundle/rootfs ro/rootfs && rm -rf ro/rootfs/proc ro/rootfs/sys &&
	mkdir -p user/ok && chown kilnct user/ok &&
	printf "{\"root\": {\"path\": \"%s\"}}\n" "$PWD/ro/rootfs" >user/ok/config.json &&
	j=$(as_ct "$KILN" submit --parsable --container "$PWD/user/ok" --wrap "id -u; touch /tmp/x; ls /proc/self/status") &&
	test "$(wait_job $j 30)" = SUCCEEDED &&
	grep /proc/self/status user/kiln-$j.out &&
	! test -e ro/rootfs/proc && ! test -e ro/rootfs/.kiln && ! test -e ro/rootfs/tmp/x &&
	! test -e "ro/rootfs$PWD"
'

RAWSEND="$KILN_BUILDDIR/tests/tools/rawsend"
test_expect_success 'a mount path that an engine would split into options is refused' '
	for dst in /x:U /x,uid=0 "/x\\\"y" /a/../etc; do
		body="{\"version\":1,\"job\":{\"name\":\"m\",\"script\":\"#!/bin/sh\\ntrue\\n\",\"output\":\"/tmp/x\",\"cwd\":\"/tmp\",\"submit_dir\":\"/tmp\",\"user\":\"root\",\"uid\":0,\"gid\":0,\"container\":\"$PWD/bundle\",\"mounts\":[{\"source\":\"/etc\",\"destination\":\"$dst\"}]}}" &&
		"$RAWSEND" "$KILN_SERVER" --sign "" job.submit "$body" >ans &&
		grep "without any of : , =" ans || return 1
	done &&
	test_must_fail "$KILN" submit --container bundle -D "/tmp/a:b" --wrap true 2>err &&
	grep "cannot have cwd" err
'

test_done

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
test_description='managed compute environments with a site'"'"'s own resume and suspend programs'
. "$KILN_SRCDIR/tests/integration/lib/kiln-test.sh"
. "$KILN_SRCDIR/tests/integration/lib/elastic.sh"

# The site's programs: each host is a kiln worker on this machine.
cat >resume.sh <<EOT
#!/bin/sh
# resume HOSTLIST: power the hosts on (here: start their workers)
echo "\$1" >>"$PWD/resume.log"
if test -f "$PWD/hang"; then sleep 60; fi
for h in \$(echo "\$1" | tr , " "); do
	if test -f "$PWD/broken-\$h"; then
		rm -f "$PWD/broken-\$h"; echo "\$h did not power on"; continue
	fi
	mkdir -p "$PWD/site/\$h/keys"
	printf "public = %s\n" "\$KILN_SERVER_KEY" >"$PWD/site/\$h/keys/server.pub"
	setsid "$KILN" worker --foreground --server "\$KILN_SERVER" --name "\$h" \
		--ce "\$KILN_CE" --auth "\$KILN_AUTH" --keys "$PWD/site/\$h/keys" \
		--spool "$PWD/site/\$h/spool" --cpus 0 \
		>>"$PWD/site/\$h.log" 2>&1 </dev/null &
	echo "powered on \$h"
done
EOT
cat >suspend.sh <<EOT
#!/bin/sh
# suspend HOSTLIST: power the hosts off
echo "\$1" >>"$PWD/suspend.log"
for h in \$(echo "\$1" | tr , " "); do
	pkill -TERM -f "worker --foreground .*--name \$h " && echo "powered off \$h"
done
exit 0
EOT
chmod +x resume.sh suspend.sh

site_workers() {
	pgrep -f "worker --foreground .*$PWD/site/" | wc -l
}
none_left() {
	test "$(instances ex)" = 0 && test "$(site_workers)" = 0
}

test_expect_success 'start a server; an exec environment of three hosts' '
	start_server &&
	test_must_fail "$KILN" ce create bad --provider exec --max-vcpus 3 --hosts "a;b" \
		--resume-program "$PWD/resume.sh" --suspend-program "$PWD/suspend.sh" 2>err &&
	grep "kiln.hosts" err &&
	"$KILN" ce create ex --provider exec --hosts alpha,bravo,charlie \
		--resume-program "$PWD/resume.sh" --suspend-program "$PWD/suspend.sh" \
		--program-timeout 5 --node-vcpus 1 --max-vcpus 3 --idle-timeout 3 \
		--boot-timeout 10 &&
	"$KILN" jobqueue create exq --ce ex
'

test_expect_success 'three jobs resume three hosts; idle, they are suspended' '
	for i in 1 2 3; do
		"$KILN" submit -p exq --wrap "sleep 1" | awk "{print \$3}" >>ids || return 1
	done &&
	for id in $(cat ids); do
		test "$(wait_job "$id" 60)" = SUCCEEDED || return 1
	done &&
	"$KILN" ce show ex >show &&
	grep "program-output.*powered on" show &&
	wait_for 30 none_left &&
	"$KILN" ce show ex | grep "program-output.*powered off" &&
	test "$(cat resume.log | tr , "\n" | sort -u | wc -l)" = 3
'

test_expect_success 'a host that does not boot is suspended at its boot timeout and resumed again' '
	: >broken-alpha && : >broken-bravo && : >broken-charlie &&
	"$KILN" submit -p exq --wrap true | awk "{print \$3}" >id &&
	wait_for 30 events_at_least ex boot-timeout 1 &&
	test "$(wait_job "$(cat id)" 60)" = SUCCEEDED &&
	"$KILN" ce show ex | grep "did not power on" &&
	wait_for 30 none_left
'

test_expect_success 'a resume program that hangs is killed at its timeout, said, and tried again' '
	: >hang &&
	"$KILN" submit -p exq --wrap true | awk "{print \$3}" >id &&
	wait_for 20 events_at_least ex provider-error 1 &&
	"$KILN" ce show ex | grep "ProgramTimeout" &&
	rm -f hang &&
	test "$(wait_job "$(cat id)" 90)" = SUCCEEDED &&
	wait_for 30 none_left
'

test_done

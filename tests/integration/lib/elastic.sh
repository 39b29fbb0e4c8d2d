# SPDX-License-Identifier: GPL-2.0-or-later
# Helpers of the tests of managed compute environments (t22xx), sourced
# after kiln-test.sh.

# events CE KIND: how many events of that kind kiln ce show lists
events() {
	"$KILN" ce show "$1" --json |
	jq "[.computeEnvironments[0].kiln.events[] | select(.kind == \"$2\")] | length"
}
# events_at_least CE KIND N
events_at_least() {
	test "$(events "$1" "$2")" -ge "$3"
}
# instances CE: how many instances it has now
instances() {
	"$KILN" ce show "$1" --json | jq ".computeEnvironments[0].kiln.instances | length"
}
# instances_are CE N
instances_are() {
	test "$(instances "$1")" = "$2"
}
# wait_for SECONDS COMMAND...: until the command succeeds; it runs again at
# each try (so a condition goes in a function, not in "$(...)")
wait_for() {
	limit=$(( $1 * 10 )); shift
	i=0
	until "$@"; do
		i=$((i + 1)); test $i -gt $limit && return 1
		sleep 0.1
	done
}

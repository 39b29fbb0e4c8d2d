#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Build Kiln's libFuzzer targets with clang (AddressSanitizer and
# UndefinedBehaviorSanitizer, the pure parsers of lib/ instrumented for
# coverage) into OUT, then run each for SECONDS from its committed corpus
# (tests/fuzz/corpus/NAME; what it finds is added to OUT/corpus/NAME, not
# to the tree).  Any crash, leak or sanitizer report fails, leaving its
# input in OUT and saying how to replay it.
#   tests/fuzz/run.sh [OUT [SECONDS [TARGET...]]]    (make fuzz)
#   FUZZ_RUNS=N runs N inputs per target instead of SECONDS
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mkdir -p "${1:-fuzz-out}" && cd "${1:-fuzz-out}" && pwd)
secs=${2:-30}
[ $# -gt 2 ] && shift 2 || set --
cc=${FUZZ_CC:-clang}
command -v "$cc" >/dev/null || { echo "fuzz: $cc is not installed (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
flags="-g -O1 -std=gnu11 -D_GNU_SOURCE -I$top -I$out $san $(pkg-config --cflags jansson libzmq hwloc sqlite3 libsodium 2>/dev/null)"
libs="$(pkg-config --libs jansson libzmq hwloc sqlite3 inih libsodium 2>/dev/null) -lcrypto -lmunge -lm -lpthread"

# config.h as configure makes it, for the few defines lib/ wants.
[ -f "$out/config.h" ] || cat >"$out/config.h" <<-EOT
	#define _GNU_SOURCE 1
	#define PACKAGE_VERSION "fuzz"
	#define KILN_DEFAULT_SERVER "tcp://127.0.0.1:7810"
	#define KILN_DEFAULT_STATE "/var/lib/kiln"
	#define KILN_DEFAULT_CONFIG "/etc/kiln/kiln.conf"
	#define KILN_DEFAULT_KEYS "/etc/kiln/keys"
EOT
mkdir -p "$out/obj"
objs=""
for src in "$top"/lib/*.c; do
	o="$out/obj/$(basename "$src" .c).o"
	if [ ! -f "$o" ] || [ "$src" -nt "$o" ]; then
		$cc $flags -include "$out/config.h" -fsanitize=fuzzer-no-link -c "$src" -o "$o"
	fi
	objs="$objs $o"
done
targets=${*:-$(cd "$top/tests/fuzz" && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//')}
status=0
for t in $targets; do
	$cc $flags -include "$out/config.h" -fsanitize=fuzzer "$top/tests/fuzz/fuzz_$t.c" $objs \
		$libs -o "$out/fuzz_$t"
	mkdir -p "$out/corpus/$t"
	seed="$top/tests/fuzz/corpus/$t"
	if [ -n "${FUZZ_RUNS:-}" ]; then limit="-runs=$FUZZ_RUNS"; else limit="-max_total_time=$secs"; fi
	echo "== fuzz_$t ($limit)"
	if ! (cd "$out" && ASAN_OPTIONS=detect_leaks=1 "./fuzz_$t" "$limit" -max_len=4096 \
		-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		"corpus/$t" $( [ -d "$seed" ] && echo "$seed" ) >"fuzz_$t.log" 2>&1); then
		tail -40 "$out/fuzz_$t.log"
		echo "fuzz_$t FAILED: replay with $out/fuzz_$t $out/crash-* (or leak-*, timeout-*)"
		status=1
	fi
	grep -E "stat::number_of_executed_units|Done [0-9]+ runs" "$out/fuzz_$t.log" | tail -1
done
exit $status

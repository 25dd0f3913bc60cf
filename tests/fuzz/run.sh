#!/usr/bin/env bash
# make fuzz [FUZZ_SECONDS=30]: builds every libFuzzer target in tests/fuzz/ with clang,
# ASan and UBSan over the programs' own archives, then runs each for FUZZ_SECONDS seconds
# from its seed corpus. Fails on a crash, a sanitizer report or an oracle failure; the
# input that did it is kept in $FUZZ_BUILD/artifacts/. New corpus entries stay in the
# build folder, so the committed seeds stay small.
# Usage: FUZZ_BUILD=build/fuzz WARN="..." tests/fuzz/run.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds=${1:-30}
build=${FUZZ_BUILD:-build/fuzz}
fuzz_dir=tests/fuzz
sanitize="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
packages="libpq json-c librabbitmq fcgi"

build_archives() {
	# the archives' objects carry coverage counters, so the fuzzer sees inside them
	make --no-print-directory CC=clang BUILD="$build" \
		CFLAGS="-O1 -g -fsanitize=fuzzer-no-link $sanitize" \
		"$build/libcommon.a" "$build/libinventory.a" "$build/libbilling.a"
}

# build_target NAME: links tests/fuzz/NAME.c and the oracle with the archives.
build_target() {
	local name=$1
	# shellcheck disable=SC2046,SC2086 # WARN and the pkg-config flags are word lists
	clang ${WARN:-} -O1 -g -fsanitize=fuzzer $sanitize -Ifcgi \
		$(pkg-config --cflags $packages) -o "$build/bin/$name" \
		"$fuzz_dir/$name.c" "$fuzz_dir/oracle.c" \
		"$build/libinventory.a" "$build/libbilling.a" "$build/libcommon.a" \
		$(pkg-config --libs $packages) -lpthread
}

# run_target NAME: fuzzes it for $seconds; prints its last coverage line.
run_target() {
	local name=$1 log=$build/logs/$1.log work=$build/corpus/$1
	mkdir -p "$work"
	if ! "$build/bin/$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-dict="$fuzz_dir/json.dict" -print_final_stats=1 \
		-artifact_prefix="$build/artifacts/$name-" \
		"$work" "$fuzz_dir/corpus/$name" >"$log" 2>&1; then
		echo "FAIL $name: see $log"
		grep -E 'ORACLE FAILED|ERROR: |SUMMARY: |runtime error|Test unit written' "$log" | head -n 10
		return 1
	fi
	printf 'ok   %-18s %s | %s\n' "$name" \
		"$(grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE)' "$log" | tail -n 1 | sed 's/^#\([0-9]*\)\s*\(\w*\)\s*/\1 runs, /')" \
		"$(grep -E '^stat::average_exec_per_sec' "$log" | sed 's/.*: *//') exec/s"
}

main() {
	local name failed=0 names=()
	mkdir -p "$build/bin" "$build/logs" "$build/artifacts"
	build_archives
	for name in "$fuzz_dir"/fuzz_*.c; do
		name=$(basename "$name" .c)
		names+=("$name")
		build_target "$name"
	done
	echo "== fuzzing ${#names[@]} targets for $seconds s each"
	for name in "${names[@]}"; do
		run_target "$name" || failed=$((failed + 1))
	done
	echo "$((${#names[@]} - failed)) passed, $failed failed"
	[ "$failed" -eq 0 ]
}

main

#!/usr/bin/env bash
# The soak's verdicts on made-up runs, without a stack (a second or so): coverage.sh and
# classify.awk must pass a run that made every kind of request and carried out every
# fault, and fail one that made no request, skipped a fault, had a fault fail, carried
# out another fault than scheduled or the faults out of order, or made too few requests
# of one kind.
# Usage: tests/soak/selftest.sh   Prints one line per case, then "N passed, N failed".
set -euo pipefail

SOAK_LIB=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/soak/coverage.sh
source "$SOAK_LIB/coverage.sh"

SOAK_SECONDS=30 SOAK_READ_RATE=8 SOAK_WRITE_RATE=4 SOAK_BILL_RATE=4 SOAK_HOSTILE_RATE=1
FAULT_GRACE=5
declare -A FAULT_KINDS=([broker]=billing [postgres]="read list post put delete")
START_US=1700000000000000
SCHEDULE=(inventory_reload gateway_reload broker billing_reload postgres)
WORK=$(mktemp -d /tmp/soak-selftest.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
passed=0 failed=0

# at SECONDS: START_US plus SECONDS.
at() { echo $((START_US + $1 * 1000000)); }

# requests KIND STATUS CTYPE N: N requests of KIND, one every 0.3 s from the start.
requests() {
	local i t
	for ((i = 0; i < $4; i++)); do
		t=$(at 0)
		t=$((t + i * 300000))
		echo "$t $((t + 20000)) $1 $2 $3 - -"
	done
}

# a_good_run: a folder whose run met every minimum and carried out every fault.
a_good_run() {
	local i
	SOAK_DIR=$(mktemp -d "$WORK/run.XXXXXX")
	for i in "${!SCHEDULE[@]}"; do
		echo "$((5 * (i + 1))) ${SCHEDULE[i]}" >>"$SOAK_DIR/schedule"
		echo "${SCHEDULE[i]} $(at $((5 * (i + 1)))) $(at $((5 * (i + 1) + 2))) done" >>"$SOAK_DIR/faults"
	done
	{ requests read 200 application/json 100; requests list 200 application/json 40; } >"$SOAK_DIR/requests.reader"
	{ requests post 201 application/json 30; requests put 200 application/json 30
		requests delete 200 application/json 30; } >"$SOAK_DIR/requests.writer"
	requests billing 200 application/json 70 >"$SOAK_DIR/requests.biller"
	requests hostile:malformed_json 400 application/problem+json 20 >"$SOAK_DIR/requests.hostile"
}

# expect_verdict NAME WANT: runs the checks on SOAK_DIR; WANT is pass or fail.
expect_verdict() {
	local out got=pass
	MISSED=0
	classify_requests >/dev/null
	out=$({ kinds_table; faults_table; echo "MISSED=$MISSED"; } 2>&1)
	# MISSED is counted in the subshell above: read it back from its output
	[ "$(sed -n 's/^MISSED=//p' <<<"$out")" = 0 ] || got=fail
	if [ "$got" = "$2" ]; then
		passed=$((passed + 1))
		echo "ok    $1: $got"
	else
		failed=$((failed + 1))
		echo "FAIL  $1: the checks say $got, want $2"
		printf '%s\n' "$out" | sed 's/^/      /'
	fi
}

a_good_run
expect_verdict "every kind above its minimum, every fault done" pass

a_good_run
rm -f "$SOAK_DIR"/requests.*
expect_verdict "no request at all" fail

a_good_run
: >"$SOAK_DIR/faults"
expect_verdict "no fault carried out" fail

a_good_run
sed -i '/^broker /d' "$SOAK_DIR/faults"
expect_verdict "one fault skipped (broker)" fail

a_good_run
sed -i '$d' "$SOAK_DIR/faults"
expect_verdict "the last fault never ran" fail

a_good_run
sed -i 's/^postgres \(.*\) done$/postgres \1 failed/' "$SOAK_DIR/faults"
expect_verdict "a fault that did not complete" fail

a_good_run
sed -i 's/^gateway_reload /inventory_reload /' "$SOAK_DIR/faults"
expect_verdict "another fault carried out than scheduled" fail

a_good_run
sed -i '2{h;d};3G' "$SOAK_DIR/faults"
expect_verdict "two faults carried out in the wrong order" fail

# SOAK_SECONDS=30 at 4 orders a second: at least 30 answered 200
a_good_run
requests billing 200 application/json 30 >"$SOAK_DIR/requests.biller"
expect_verdict "orders at their minimum" pass

a_good_run
requests billing 200 application/json 29 >"$SOAK_DIR/requests.biller"
expect_verdict "one order short of the minimum" fail

a_good_run
sed -i '/ delete /d' "$SOAK_DIR/requests.writer"
expect_verdict "no DELETE made" fail

a_good_run
sed -i 's/ list 200 / list 503 /' "$SOAK_DIR/requests.reader"
expect_verdict "every list answered 503" fail

a_good_run
: >"$SOAK_DIR/schedule"
: >"$SOAK_DIR/faults"
expect_verdict "an empty schedule" fail

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

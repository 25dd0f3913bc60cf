# shellcheck shell=bash
# Sourced by tests/lib/test.sh and tests/lib/test-hosts.sh: the run's totals, from bats'
# TAP and from the "N passed, N failed" line that every other runner prints last.

passed=0 failed=0

# count_line OUTPUT: adds a runner's "N passed, N failed" line to the totals; output
# without one counts as one failure.
count_line() {
	local line
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' <<<"$1" | tail -n 1)
	if [ -z "$line" ]; then
		failed=$((failed + 1))
		return
	fi
	passed=$((passed + $(cut -d' ' -f1 <<<"$line")))
	failed=$((failed + $(cut -d' ' -f3 <<<"$line")))
}

# run_bats FILES...: runs bats (its TAP shown as it goes, each test with its duration) and adds its results to the totals.
run_bats() {
	local tap ok not_ok planned
	tap=$(mktemp)
	bats --tap --timing "$@" | tee "$tap" || true
	ok=$(grep -c '^ok ' "$tap" || true)
	not_ok=$(grep -c '^not ok ' "$tap" || true)
	planned=$(sed -n 's/^1\.\.//p' "$tap" | head -n 1)
	rm -f "$tap"
	passed=$((passed + ok))
	failed=$((failed + not_ok))
	# A run that stopped early (a crash in setup_file) counts its missing tests as failed.
	if [ -n "$planned" ] && [ $((ok + not_ok)) -lt "$planned" ]; then
		failed=$((failed + planned - ok - not_ok))
	fi
}

# tally_report: prints the closing line; fails when anything failed or nothing ran.
tally_report() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
}

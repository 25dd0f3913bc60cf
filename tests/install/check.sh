# shellcheck shell=bash
# Sourced by the install checks: check counts each outcome; the caller prints
# "$passed passed, $failed failed" last.
passed=0
failed=0

# check DESCRIPTION CMD...: runs CMD quietly and counts the outcome.
check() {
	local what=$1
	shift
	if "$@" >/dev/null 2>&1; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "not ok: $what"
	fi
}

#!/usr/bin/env bash
# make test: unit tests, then the end-to-end suite against a private PostgreSQL,
# RabbitMQ, lighttpd and PM2 that this script starts on its own ports and folders,
# and stops on exit. It never touches what `make run` started.
# Usage: tests/lib/test.sh [bats files or folders...]  (default: tests/e2e)
# Each section's header ends with the seconds since the run started, [N s].
set -euo pipefail
source "$(dirname "$0")/../../scripts/deploy/lib/env.sh"
source "$PROJECT_ROOT/tests/lib/stack.sh"
source "$PROJECT_ROOT/tests/lib/tally.sh"
source "$PROJECT_ROOT/tests/lib/tls_pass.sh"

private_stack_env test
export BASE_URL=http://127.0.0.1:$API_GATEWAY_PORT

stop_private_stack() {
	local status=$?
	private_stack_down
	if [ "$failed" -gt 0 ] || [ "$status" -ne 0 ]; then
		echo "--- logs of the failed run (kept in $STACK_DIR)"
		tail -n 30 "$PM2_HOME"/logs/*.log 2>/dev/null || true
	else
		rm -rf "$STACK_DIR"
	fi
}
trap stop_private_stack EXIT

echo "== unit tests  [${SECONDS} s]"
for t in "$BUILD_DIR"/tests/test_*; do
	[ -x "$t" ] || continue
	out=$("$t" 2>&1) || true
	printf '%s: %s\n' "${t##*/}" "$(tail -n 1 <<<"$out")"
	grep -E '^(not ok|FAIL)' <<<"$out" || true
	count_line "$out"
done

# run_check TITLE LINES CMD...: a checker whose last line is "N passed, N failed"; its
# last LINES lines are shown and its counts added.
run_check() {
	local title=$1 lines=$2 out
	shift 2
	echo "== $title  [${SECONDS} s]"
	out=$("$@" 2>&1) || true
	printf '%s\n' "$out" | tail -n "$lines"
	count_line "$out"
}

run_check "OpenAPI lint" 5 "$PROJECT_ROOT/tests/lint_openapi.sh"
run_check "one default per setting (C, .env.example, docs)" 10 "$PROJECT_ROOT/tests/lint_defaults.sh"
run_check shellcheck 20 "$PROJECT_ROOT/tests/lint_shell.sh"
run_check "make install into a temporary DESTDIR" 5 "$PROJECT_ROOT/tests/install/check_install.sh"

echo "== starting private services in $STACK_DIR  [${SECONDS} s]"
private_stack_up

# The same API served as plain CGI from cgi-bin/ through lighttpd's mod_cgi, on a
# second gateway beside the FastCGI one (same databases, broker and billing_app).
run_cgi_suites() {
	local port=$((API_GATEWAY_PORT + 1)) pid
	RUN_DIR=$STACK_DIR/run-cgi API_GATEWAY_PORT=$port \
		GATEWAY_CONF=$PROJECT_ROOT/cgi-bin/lighttpd-cgi.conf \
		"$PROJECT_ROOT/scripts/deploy/gateway.sh" >"$STACK_DIR/cgi-gateway.log" 2>&1 3>&- &
	pid=$!
	if wait_for 30 curl -fsS -o /dev/null "http://127.0.0.1:$port/api/movies"; then
		BASE_URL=http://127.0.0.1:$port run_bats "$PROJECT_ROOT"/tests/e2e/inventory{,_input,_http}.bats \
			"$PROJECT_ROOT/tests/e2e/billing.bats"
	else
		echo "the CGI gateway did not come up"
		failed=$((failed + 1))
	fi
	kill "$pid"
	wait "$pid" || true
}

echo "== end-to-end tests  [${SECONDS} s]"
if [ $# -gt 0 ]; then
	run_bats "$@"
else
	run_bats "$PROJECT_ROOT/tests/e2e"
	echo "== end-to-end tests, plain CGI  [${SECONDS} s]"
	run_cgi_suites
	echo "== HTTPS: tests/tls, then the gateway suites over HTTPS  [${SECONDS} s]"
	run_tls_suites
	# The API page: its HTTP checks, then the page in headless Chromium (puppeteer-core).
	echo "== the API page (tests/browser)  [${SECONDS} s]"
	run_bats "$PROJECT_ROOT/tests/browser"
	out=$(timeout 300 node "$PROJECT_ROOT/tests/browser/api_page.js" 2>&1) || true
	printf '%s\n' "$out"
	count_line "$out"
fi

# make install into a temporary PREFIX, and the platform run from that tree alone against
# this stack's services (its own gateway ports, API_GATEWAY_PORT + 20 and + 21), then
# uninstalled.
run_check "the installed tree (tests/install/run_installed.sh)" 40 "$PROJECT_ROOT/tests/install/run_installed.sh"

# The daemons report leaks when they exit, so stop them cleanly before reading the logs.
# Any sanitizer report (SANITIZE=1 builds) fails the run even if every test passed.
check_sanitizer_reports() {
	local reports
	"$PM2" stop all >/dev/null 2>&1 || true
	reports=$(grep -lE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' \
		"$PM2_HOME"/logs/*.log "$STACK_DIR"/*.log 2>/dev/null || true)
	if [ -n "$reports" ]; then
		echo "sanitizer reports in:"
		for f in $reports; do
			echo "== $f"
			grep -A 12 -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$f" | head -n 40
			failed=$((failed + 1))
		done
	fi
}
check_sanitizer_reports

tally_report

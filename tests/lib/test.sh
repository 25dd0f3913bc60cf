#!/usr/bin/env bash
# make test: unit tests and lints, then the end-to-end suites against private PostgreSQL,
# RabbitMQ, lighttpd and PM2 that this script starts on their own ports and folders, and
# stops on exit. It never touches what `make run` started.
# The suites run on three private stacks side by side: two for the suites that restart,
# stop or kill parts of the platform, one for everything else (docs/testing.md).
# Within a stack the suites run one after another, so no suite sees another's outages.
# Usage: tests/lib/test.sh [bats files or folders...]  (default: tests/e2e, all three stacks)
# Each section's header ends with the seconds since the run started, [N s].
set -euo pipefail
source "$(dirname "$0")/../../scripts/deploy/lib/env.sh"
source "$PROJECT_ROOT/tests/lib/stack.sh"
source "$PROJECT_ROOT/tests/lib/tally.sh"
source "$PROJECT_ROOT/tests/lib/tls_pass.sh"

# The suites that restart, stop or kill services: operations.bats on the first stack,
# the others on the second.
RESTART_SUITES=(operations billing_outages inventory_outages resources)

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

# The API page: its HTTP checks, then the page in headless Chromium (puppeteer-core).
run_browser_suites() {
	local out
	run_bats "$PROJECT_ROOT/tests/browser"
	out=$(timeout 300 node "$PROJECT_ROOT/tests/browser/api_page.js" 2>&1) || true
	printf '%s\n' "$out"
	count_line "$out"
}

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

# stack_run NAME PORT_OFFSET JOB [ARGS...]: a private stack of its own (make test's ports
# plus PORT_OFFSET), JOB (a function) run on it with ARGS, then the sanitizer check and
# the stack's "N passed, N failed" line. The stack's folder is kept when anything failed.
stack_run() {
	local name=$1 offset=$2
	shift 2
	STACK_NAME=$name
	export TEST_GATEWAY_PORT=$((${TEST_GATEWAY_PORT:-18080} + offset))
	export TEST_PG_PORT=$((${TEST_PG_PORT:-15432} + offset))
	export TEST_RABBIT_PORT=$((${TEST_RABBIT_PORT:-16672} + offset))
	export TEST_INVENTORY_PORT=$((${TEST_INVENTORY_PORT:-19000} + offset))
	private_stack_env "test-$name"
	export BASE_URL=http://127.0.0.1:$API_GATEWAY_PORT
	trap 'stack_stop $?' EXIT
	echo "== $name: starting private services in $STACK_DIR  [${SECONDS} s]"
	private_stack_up || return
	"$@"
	check_sanitizer_reports
	STACK_DONE=1
}

# stack_stop STATUS: the stack's services stopped, its logs kept when anything failed,
# and its totals. A stack that stops before its job is done (its services would not
# start, or a signal stopped it mid-suite) counts as a failure, whatever it had passed.
stack_stop() {
	if [ "$1" -ne 0 ] || [ "${STACK_DONE:-0}" != 1 ]; then
		echo "== $STACK_NAME: stopped before its suites were done (status $1)"
		failed=$((failed + 1))
	fi
	echo "== $STACK_NAME: done  [${SECONDS} s]"
	private_stack_down
	if [ "$failed" -gt 0 ]; then
		echo "--- logs of the failed run (kept in $STACK_DIR)"
		tail -n 30 "$PM2_HOME"/logs/*.log 2>/dev/null || true
	else
		rm -rf "$STACK_DIR"
	fi
	echo "$passed passed, $failed failed"
}

# The jobs a stack runs (stack_run's JOB arguments), each about as long as the others.
# restart_suites NAME...: those suites of tests/e2e (NAME.bats), on this stack.
restart_suites() {
	local suite files=()
	for suite in "$@"; do files+=("$PROJECT_ROOT/tests/e2e/$suite.bats"); done
	echo "== $STACK_NAME: end-to-end tests that restart, stop or kill services  [${SECONDS} s]"
	run_bats "${files[@]}"
}
operations_job() {
	restart_suites operations
	# A third gateway serving HTTPS on this stack (tests/lib/tls_pass.sh).
	echo "== operations: HTTPS: tests/tls, then the gateway suites over HTTPS  [${SECONDS} s]"
	run_tls_suites
	echo "== operations: the API page (tests/browser)  [${SECONDS} s]"
	run_browser_suites
	# make install into a temporary PREFIX, and the platform run from that tree alone
	# against this stack's services (its own gateway ports, API_GATEWAY_PORT + 20 and
	# + 21), then uninstalled.
	run_check "operations: the installed tree (tests/install/run_installed.sh)" 40 \
		"$PROJECT_ROOT/tests/install/run_installed.sh"
}
outages_job() {
	restart_suites "${RESTART_SUITES[@]:1}"
	echo "== outages: end-to-end tests, plain CGI  [${SECONDS} s]"
	run_cgi_suites
}
api_job() {
	local file files=()
	for file in "$PROJECT_ROOT"/tests/e2e/*.bats; do
		[[ " ${RESTART_SUITES[*]} " == *" $(basename "$file" .bats) "* ]] || files+=("$file")
	done
	echo "== api: end-to-end tests  [${SECONDS} s]"
	run_bats "${files[@]}"
}
chosen_suites() {
	echo "== end-to-end tests  [${SECONDS} s]"
	run_bats "$@"
}

# tests/lib/test.sh --stack NAME PORT_OFFSET JOB [ARGS...]: one stack, as this script
# starts each in a session of its own, so that stopping it stops all it started.
if [ "${1:-}" = --stack ]; then
	shift
	SECONDS=${TEST_SECONDS:-0} # the run's clock, for the section headers
	stack_run "$@"
	exit
fi

# Users and kernel settings both stacks need, made once before they start side by side.
allow_listener_handover
ensure_app_users inventory_app billing_app
load_env
export BUILD_DIR=$PROJECT_ROOT/${BUILD:-build/release}
LOG_DIR=$(mktemp -d /tmp/movies-test-logs.XXXXXX)
pids=()

# On any exit, the stacks still running stop too: their whole session (bats, load
# clients), and each takes its services down itself.
stop_stacks() {
	local pid
	for pid in "${pids[@]}"; do
		kill -- "-$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$LOG_DIR"
}
trap stop_stacks EXIT

# start_stack NAME PORT_OFFSET JOB [ARGS...]: stack_run in a session of its own (setsid
# does not fork here: a background job of a script leads no process group), its output
# in LOG_DIR/NAME.log.
start_stack() {
	stacks+=("$1")
	TEST_SECONDS=$SECONDS setsid "$PROJECT_ROOT/tests/lib/test.sh" --stack "$@" >"$LOG_DIR/$1.log" 2>&1 3>&- &
	pids+=($!)
}
stacks=()
if [ $# -gt 0 ]; then
	start_stack test 0 chosen_suites "$@"
else
	# 500 apart: each stack also uses its gateway port + 1..21 and its broker port + 100, + 200.
	start_stack operations 0 operations_job
	start_stack outages 500 outages_job
	start_stack api 1000 api_job
fi

echo "== unit tests  [${SECONDS} s]"
for t in "$BUILD_DIR"/tests/test_*; do
	[ -x "$t" ] || continue
	out=$("$t" 2>&1) || true
	printf '%s: %s\n' "${t##*/}" "$(tail -n 1 <<<"$out")"
	grep -E '^(not ok|FAIL)' <<<"$out" || true
	count_line "$out"
done

run_check "OpenAPI lint" 5 "$PROJECT_ROOT/tests/lint_openapi.sh"
run_check "one default per setting (C, .env.example, docs)" 10 "$PROJECT_ROOT/tests/lint_defaults.sh"
run_check shellcheck 20 "$PROJECT_ROOT/tests/lint_shell.sh"
run_check "make install into a temporary DESTDIR" 5 "$PROJECT_ROOT/tests/install/check_install.sh"

# Each stack's output whole, in turn: the first as it goes, the next from its start once
# the one before is done. Each ends with its own "N passed, N failed" line.
for i in "${!stacks[@]}"; do
	echo "=== stack ${stacks[$i]} (of ${stacks[*]}, run side by side)  [${SECONDS} s]"
	tail -n +1 -f --pid="${pids[$i]}" "$LOG_DIR/${stacks[$i]}.log"
	wait "${pids[$i]}" || true
	count_line "$(tail -n 1 "$LOG_DIR/${stacks[$i]}.log")"
done
echo "== all stacks done  [${SECONDS} s]"
tally_report

#!/usr/bin/env bash
# make test: unit tests, then the end-to-end suite against a private PostgreSQL,
# RabbitMQ, lighttpd and PM2 that this script starts on its own ports and folders,
# and stops on exit. It never touches what `make run` started.
# Usage: scripts/test.sh [bats files or folders...]  (default: tests/e2e)
set -euo pipefail
source "$(dirname "$0")/env.sh"
source "$PROJECT_ROOT/scripts/stack.sh"

STACK_DIR=$(mktemp -d /tmp/movies-test.XXXXXX)
chmod 755 "$STACK_DIR"
export STACK_DIR
# Private settings win over .env (load_env never overrides a set variable).
export API_GATEWAY_PORT=${TEST_GATEWAY_PORT:-18080} GATEWAY_BIND=127.0.0.1
export INVENTORY_FCGI_ADDR=127.0.0.1:${TEST_INVENTORY_PORT:-19000}
export POSTGRES_HOST=127.0.0.1 POSTGRES_PORT=${TEST_PG_PORT:-15432}
export POSTGRES_BILLING_HOST=127.0.0.1 POSTGRES_BILLING_PORT=$POSTGRES_PORT
export RABBITMQ_URL=amqp://guest:guest@127.0.0.1:${TEST_RABBIT_PORT:-16672}/
export RUN_DIR=$STACK_DIR/run PM2_HOME=$STACK_DIR/pm2
export BUILD_DIR=${BUILD_DIR:-$PROJECT_ROOT/${BUILD:-build/release}}
load_env
export BASE_URL=http://127.0.0.1:$API_GATEWAY_PORT

passed=0 failed=0

cleanup() {
	local status=$?
	"$PM2" kill >/dev/null 2>&1 || true
	private_rabbit_stop >/dev/null 2>&1 || true
	private_pg_stop >/dev/null 2>&1 || true
	if [ "$failed" -gt 0 ] || [ "$status" -ne 0 ]; then
		echo "--- logs of the failed run (kept in $STACK_DIR)"
		tail -n 30 "$PM2_HOME"/logs/*.log 2>/dev/null || true
	else
		rm -rf "$STACK_DIR"
	fi
}
trap cleanup EXIT

# count_line OUTPUT: adds a runner's "N passed, N failed" line to the totals.
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

echo "== unit tests"
for t in "$BUILD_DIR"/tests/test_*; do
	[ -x "$t" ] || continue
	out=$("$t" 2>&1) || true
	printf '%s: %s\n' "${t##*/}" "$(tail -n 1 <<<"$out")"
	grep -E '^(not ok|FAIL)' <<<"$out" || true
	count_line "$out"
done

echo "== starting private services in $STACK_DIR"
private_pg_start
db_setup
private_rabbit_start
"$PM2" start "$PROJECT_ROOT/scripts/ecosystem.config.js" >/dev/null
wait_for 30 curl -fsS -o /dev/null "$BASE_URL/api/movies" ||
	{ echo "the gateway did not come up"; exit 1; }

echo "== end-to-end tests"
if [ $# -eq 0 ]; then
	set -- "$PROJECT_ROOT/tests/e2e"
fi
bats --tap "$@" | tee "$STACK_DIR/bats.tap" || true
ok=$(grep -c '^ok ' "$STACK_DIR/bats.tap" || true)
not_ok=$(grep -c '^not ok ' "$STACK_DIR/bats.tap" || true)
planned=$(sed -n 's/^1\.\.//p' "$STACK_DIR/bats.tap" | head -n 1)
passed=$((passed + ok))
failed=$((failed + not_ok))
# A run that stopped early (a crash in setup_file) counts its missing tests as failed.
if [ -n "$planned" ] && [ $((ok + not_ok)) -lt "$planned" ]; then
	failed=$((failed + planned - ok - not_ok))
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

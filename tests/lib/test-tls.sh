#!/usr/bin/env bash
# make test-tls: the slow HTTPS proofs that make test leaves out, on a private stack with
# the TLS gateway of tests/lib/tls_pass.sh (its own test CA):
#   1. testssl.sh (Debian's testssl.sh) against the HTTPS port: protocols, cipher
#      categories, forward secrecy and every vulnerability check (-p -s -f -U; not -h,
#      whose header advice concerns the answers, not TLS). It fails on any protocol
#      below TLS 1.2 offered and on any finding rated MEDIUM or worse.
#   2. tests/e2e/billing.bats over HTTPS. Over HTTP/1.1: two of its tests send what
#      HTTP/2 cannot carry as they mean it (a control character in a header; a body the
#      gateway refuses early, which Debian 12's curl misreports over HTTP/2), and HTTP/2
#      itself is tests/tls's part of make test.
# Ports: make test's (TEST_GATEWAY_PORT...), HTTPS on TEST_TLS_PORT (default +3).
set -euo pipefail
source "$(dirname "$0")/../../scripts/deploy/lib/env.sh"
source "$PROJECT_ROOT/scripts/deploy/lib/gateway_settings.sh"
source "$PROJECT_ROOT/tests/lib/stack.sh"
source "$PROJECT_ROOT/tests/lib/tally.sh"
source "$PROJECT_ROOT/tests/lib/tls_pass.sh"

private_stack_env tls
export BASE_URL=http://127.0.0.1:$API_GATEWAY_PORT

finish() {
	local status=$?
	tls_gateway_stop
	private_stack_down
	if [ "$failed" -gt 0 ] || [ "$status" -ne 0 ]; then
		echo "--- kept for a look: $STACK_DIR"
	else
		rm -rf "$STACK_DIR"
	fi
}
trap finish EXIT

echo "== starting private services and the TLS gateway in $STACK_DIR  [${SECONDS} s]"
private_stack_up
tls_gateway_start

# testssl_verdict JSON: prints each offending finding; "N passed, N failed" last.
testssl_verdict() {
	jq -r '
		def old: .id | test("^(SSLv2|SSLv3|TLS1|TLS1_1)$");
		[.[] | select(old and (.finding | test("^not offered") | not))
		       | "offered below TLS 1.2: \(.id): \(.finding)"]
		+ [.[] | select(.severity | IN("MEDIUM", "HIGH", "CRITICAL"))
		       | "\(.severity) \(.id): \(.finding)"]
		| (.[]), "\([.[]] | length | if . == 0 then 1 else 0 end) passed, \(length) failed"' "$1"
}

echo "== testssl.sh against https://127.0.0.1:$TLS_PORT  [${SECONDS} s]"
json=$STACK_DIR/testssl.json
testssl --quiet --color 0 --warnings off --add-ca "$TLS_CA" -p -s -f -U \
	--jsonfile "$json" "127.0.0.1:$TLS_PORT" >"$STACK_DIR/testssl.txt" 2>&1 || true
if [ -s "$json" ]; then
	out=$(testssl_verdict "$json")
	printf '%s\n' "$out"
	count_line "$out"
	grep -E '^ (SSLv|TLS 1)' "$STACK_DIR/testssl.txt" || true
else
	echo "testssl.sh wrote no results:"
	tail -n 20 "$STACK_DIR/testssl.txt"
	failed=$((failed + 1))
fi

echo "== tests/e2e/billing.bats over HTTPS (HTTP/1.1)  [${SECONDS} s]"
mkdir -p "$STACK_DIR/curl-home"
echo http1.1 >"$STACK_DIR/curl-home/.curlrc"
BASE_URL=https://127.0.0.1:$TLS_PORT CURL_CA_BUNDLE=$TLS_CA CURL_HOME=$STACK_DIR/curl-home \
	run_bats "$PROJECT_ROOT/tests/e2e/billing.bats"

echo "== done  [${SECONDS} s]"
tally_report

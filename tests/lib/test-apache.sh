#!/usr/bin/env bash
# make test-apache: the API on a shared Apache host. Installs Debian's apache2 and
# libapache2-mod-fcgid (nothing starts the system Apache), starts the private test stack
# (tests/lib/stack.sh), lays out the site as a customer uploads it (README, Shared
# hosting; tests/lib/apache.sh), and serves it from private Apache instances (config, pid,
# logs and sockets under STACK_DIR) on their own ports, one after the other:
#   cgid   the .htaccess variant (cgi-bin/apache-htaccess.conf), plain CGI through mod_cgid
#   fcgid  the same .htaccess, the programs kept running by mod_fcgid
#   vhost  the vhost snippet (cgi-bin/apache-vhost.conf) with mod_fcgid, .env outside the
#          site, Basic authentication of writes on
# The movie and billing suites run through the first two, billing.bats and
# tests/apache/vhost.bats through the third. Everything stops on exit.
# Ports: TEST_APACHE_PORT (default TEST_GATEWAY_PORT + 100) and the next two.
set -euo pipefail
source "$(dirname "$0")/../../scripts/deploy/lib/env.sh"
source "$PROJECT_ROOT/scripts/deploy/lib/host.sh"
source "$PROJECT_ROOT/tests/lib/stack.sh"
source "$PROJECT_ROOT/tests/lib/tally.sh"
source "$PROJECT_ROOT/tests/lib/apache.sh"

# run_mode MODE PORT BATS...: the suites through a private Apache in MODE (apache_conf).
run_mode() {
	local mode=$1 port=$2 dir=$STACK_DIR/apache-$1
	shift 2
	echo "== Apache, $mode  [${SECONDS} s]"
	apache_conf "$dir" "$port" "$mode" "$SITE"
	if ! apache_start "$dir" "$port"; then
		failed=$((failed + 1))
		apache_stop
		return 0
	fi
	BASE_URL=http://127.0.0.1:$port run_bats "$@"
	apache_stop
	# A program that crashed is a failure even when every answer was right.
	if grep -E 'AH[0-9]+: .*(segfault|exit signal|Segmentation)' "$dir/error.log"; then
		failed=$((failed + 1))
	fi
}

stop_all() {
	local status=$?
	apache_stop
	private_stack_down
	if [ "$failed" -gt 0 ] || [ "$status" -ne 0 ]; then
		echo "--- kept $STACK_DIR; the Apache error logs:"
		tail -n 20 "$STACK_DIR"/apache-*/error.log 2>/dev/null || true
	else
		rm -rf "$STACK_DIR"
	fi
}

echo "== installing apache2 and libapache2-mod-fcgid  [${SECONDS} s]"
apache_install
private_stack_env apache
APACHE_PORT=${TEST_APACHE_PORT:-$((API_GATEWAY_PORT + 100))}
SITE=$STACK_DIR/site
trap stop_all EXIT
echo "== starting private services in $STACK_DIR  [${SECONDS} s]"
private_stack_up
site_upload "$SITE"
suites=("$PROJECT_ROOT"/tests/e2e/inventory{,_input,_http}.bats "$PROJECT_ROOT/tests/e2e/billing.bats")
# The .htaccess variant in both modes: Apache's 400 for a malformed header comes before
# any .htaccess is read, as its own HTML page (billing.bats checks the status only); and
# under plain CGI Apache drops the program's Content-Length on HEAD (inventory_http.bats).
HEADER_ERRORS_HTML=1 HEAD_LENGTH_DROPPED=1 run_mode cgid "$APACHE_PORT" "${suites[@]}"
HEADER_ERRORS_HTML=1 run_mode fcgid "$((APACHE_PORT + 1))" "${suites[@]}"
# The vhost snippet, with mod_fcgid: settings outside the site (the site's .env removed),
# Basic authentication of writes on; the inventory suites write without a password.
site_private_env "$SITE" "$STACK_DIR/private"
APACHE_AUTH=writer:$(random_secret)
export APACHE_AUTH
htpasswd -niB "${APACHE_AUTH%%:*}" <<<"${APACHE_AUTH#*:}" >"$MOVIES_HTPASSWD"
run_mode vhost "$((APACHE_PORT + 2))" "$PROJECT_ROOT/tests/e2e/billing.bats" "$PROJECT_ROOT/tests/apache/vhost.bats"
tally_report

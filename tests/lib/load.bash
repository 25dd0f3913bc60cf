# shellcheck shell=bash
# Loaded by tests/lib/helpers.bash: background load for the bats suites (operations.bats,
# tests/cluster) and the check that every order it had accepted landed exactly once.
# (The soak's paced traffic is tests/soak/load.sh's traffic_start, another job.)
#
# Background clients (the operations suite) that record one line per request ("STATUS"
# or, for orders, "STATUS KEY"), so that a test can count what failed while it restarted
# something. curl writes 000 for a request that got no answer at all.
#   fresh      a new connection for every request (a curl process each); each request is
#              also recorded with when it started and ended ("START END STATUS [KEY]",
#              seconds since the epoch) in CLIENT.times (load_timed_lines)
#   keepalive  one curl process sends 100 requests on one connection, then the next 100
# Orders carry their own Idempotency-Key, which begins their message_id in billing_db
# (KEY:DIGEST, LOAD_ORDER_DIGEST below).

LOAD_DIR=
LOAD_PIDS=()
# A client stops by itself after this long, whatever happens to the test that started it:
# far beyond any operation a test waits for, even on a busy machine (make run again
# under load has taken over 120 s there).
LOAD_SECONDS_MAX=600

# load_request_config METHOD PATH CLIENT BATCH: a curl config of 100 requests.
load_request_config() {
	local method=$1 path=$2 client=$3 batch=$4 i key
	for ((i = 0; i < 100; i++)); do
		[ "$i" -eq 0 ] || echo next
		printf 'url = "%s%s"\nrequest = "%s"\noutput = "/dev/null"\nmax-time = 10\n' \
			"$BASE_URL" "$path" "$method"
		# LOAD_CURL_OPTION: one more curl config line for every request (e.g. http1.1).
		[ -z "${LOAD_CURL_OPTION:-}" ] || printf '%s\n' "$LOAD_CURL_OPTION"
		if [ "$method" = POST ]; then
			key=load-$client-$batch-$i-$RANDOM$RANDOM
			printf 'header = "Content-Type: application/json"\nheader = "Idempotency-Key: %s"\n' "$key"
			printf 'data = "{\\"user_id\\": \\"7\\", \\"number_of_items\\": 1, \\"total_amount\\": \\"2.50\\"}"\n'
			printf 'write-out = "%%{http_code} %s\\n"\n' "$key"
		else
			printf 'write-out = "%%{http_code}\\n"\n'
		fi
	done
}

# load_client KIND METHOD PATH CLIENT: runs until the stop file exists; what it records
# goes to CLIENT.before, or to CLIENT.after once the mark file exists.
load_client() {
	local kind=$1 method=$2 path=$3 client=$4 batch=0 cfg out started answer deadline=$((SECONDS + LOAD_SECONDS_MAX))
	cfg=$LOAD_DIR/$client.cfg
	while [ ! -e "$LOAD_DIR/stop" ] && [ "$SECONDS" -lt "$deadline" ]; do
		out=$LOAD_DIR/$client.before
		[ ! -e "$LOAD_DIR/mark" ] || out=$LOAD_DIR/$client.after
		batch=$((batch + 1))
		load_request_config "$method" "$path" "$client" "$batch" >"$cfg"
		if [ "$kind" = fresh ]; then
			# One curl per request: split the config at its "next" lines.
			awk -v dir="$LOAD_DIR" -v c="$client" 'BEGIN { n = 0 } $0 == "next" { n++; next }
				{ print > (dir "/" c ".req" n) }' "$cfg"
			for req in "$LOAD_DIR/$client".req*; do
				[ ! -e "$LOAD_DIR/stop" ] || break
				started=$EPOCHREALTIME
				answer=$(curl -sS -K "$req" 2>>"$LOAD_DIR/$client.err") || true
				echo "$answer" >>"$out"
				echo "$started $EPOCHREALTIME $answer" >>"$LOAD_DIR/$client.times"
			done
			rm -f "$LOAD_DIR/$client".req*
		else
			curl -sS -K "$cfg" >>"$out" 2>>"$LOAD_DIR/$client.err" || true
		fi
	done
}

# load_start KIND CLIENTS METHOD PATH: starts CLIENTS background clients of that kind.
load_start() {
	local kind=$1 n=$2 method=$3 path=$4 i
	LOAD_DIR=${LOAD_DIR:-$(mktemp -d "$BATS_TEST_TMPDIR/load.XXXXXX")}
	for ((i = 1; i <= n; i++)); do
		# Without bats' DEBUG trap, which a test's subshells inherit (set -T) and which
		# would run its own dozens of commands before each of the client's. Niced: the
		# clients stand for other machines, so they yield the CPU to the platform and to
		# the operation a test times (they still keep a request in flight each).
		(
			trap - DEBUG
			renice -n 10 -p "$BASHPID" >/dev/null
			load_client "$kind" "$method" "$path" "$kind-$method-${#LOAD_PIDS[@]}"
		) 3>&- &
		LOAD_PIDS+=($!)
	done
}

# load_lines before|after|all: the lines recorded so far in that phase.
load_lines() {
	local phase phases=("$1")
	[ "$1" != all ] || phases=(before after)
	for phase in "${phases[@]}"; do
		cat "$LOAD_DIR"/*."$phase" 2>/dev/null || true
	done
}

# load_timed_lines: "START END STATUS [KEY]" of every request of the fresh clients.
load_timed_lines() {
	cat "$LOAD_DIR"/*.times 2>/dev/null || true
}

# load_count PHASE: requests answered so far; load_failures PHASE: those not 2xx.
load_count() {
	load_lines "$1" | grep -c . || true
}

load_failures() {
	load_lines "$1" | grep -vc '^2' || true
}

load_reached() {
	[ "$(load_count all)" -ge "$1" ]
}

# load_wait_for N: returns once N more requests were recorded (at most 30 s).
load_wait_for() {
	wait_for 30 load_reached $(($(load_count all) + $1))
}

load_mark() {
	touch "$LOAD_DIR/mark"
}

load_stop() {
	touch "$LOAD_DIR/stop"
	wait "${LOAD_PIDS[@]}" 2>/dev/null || true
	LOAD_PIDS=()
}

# load_accepted_orders: the Idempotency-Keys of the orders answered 200.
load_accepted_orders() {
	load_lines all | awk '$1 == 200 && NF == 2 { print $2 }'
}

# ---- The orders the load made ------------------------------------------------------
# The load's order (load_request_config) and so the digest in its message_id:
# <key>:<the first 32 hex digits of SHA-256("7\n1\n2.50")> (docs/billing.md).
LOAD_ORDER_DIGEST=$(printf '7\n1\n2.50' | sha256sum | cut -c1-32)

# orders_not_once: of the orders answered 200, how many are not in billing_db exactly once,
# by the message_id each key was answered with.
orders_not_once() {
	local ids
	ids=$(load_accepted_orders | sed "s/\$/:$LOAD_ORDER_DIGEST/" | paste -sd,)
	sql_billing "SELECT count(*) FROM unnest(string_to_array('$ids', ',')) AS answered(mid)
		WHERE (SELECT count(*) FROM orders WHERE message_id = answered.mid) <> 1"
}

all_orders_once() {
	[ "$(orders_not_once)" = 0 ]
}

# billing_queue_empty: nothing left in QUEUE_NAME, as the local node sees it, or in the
# scale-out test (tests/cluster/cluster.bash's queue_json) as the billing host's node does.
billing_queue_empty() {
	if declare -F queue_json >/dev/null; then
		queue_json "$BILLING_HOST" | jq -e '.messages == 0' >/dev/null
	else
		[ "$(queue_count "$QUEUE_NAME")" = 0 ]
	fi
}

# assert_orders_exactly_once: at least one order was answered 200, the queue drains, and
# every order answered 200 is in billing_db exactly once. ORDERS_CHECKED: how many were
# checked (tests/cluster/cluster.bash reads it for its table).
assert_orders_exactly_once() {
	local n bad
	n=$(load_accepted_orders | grep -c . || true)
	[ "$n" -gt 0 ] || fail "no order was answered 200"
	wait_for 60 billing_queue_empty || fail "$QUEUE_NAME did not drain"
	wait_for 30 all_orders_once || true # the assertion below says how many are not
	bad=$(orders_not_once)
	echo "# orders answered 200: $n, not in billing_db exactly once: $bad" >&3
	assert_equal "$bad" 0
	# shellcheck disable=SC2034 # read by tests/cluster/cluster.bash (scenario_teardown)
	ORDERS_CHECKED=$n
}

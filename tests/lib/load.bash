# shellcheck shell=bash
# Load for the operations suite: background clients that record one line per request
# ("STATUS" or, for orders, "STATUS KEY"), so that a test can count what failed while it
# restarted something. curl writes 000 for a request that got no answer at all.
#   fresh      a new connection for every request (a curl process each)
#   keepalive  one curl process sends 100 requests on one connection, then the next 100
# Orders carry their own Idempotency-Key, which is also their message_id in billing_db.

LOAD_DIR=
LOAD_PIDS=()
LOAD_SECONDS_MAX=120

# load_request_config METHOD PATH CLIENT BATCH: a curl config of 100 requests.
load_request_config() {
	local method=$1 path=$2 client=$3 batch=$4 i key
	for ((i = 0; i < 100; i++)); do
		[ "$i" -eq 0 ] || echo next
		printf 'url = "%s%s"\nrequest = "%s"\noutput = "/dev/null"\nmax-time = 10\n' \
			"$BASE_URL" "$path" "$method"
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
	local kind=$1 method=$2 path=$3 client=$4 batch=0 cfg out deadline=$((SECONDS + LOAD_SECONDS_MAX))
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
				curl -sS -K "$req" >>"$out" 2>/dev/null || true
			done
			rm -f "$LOAD_DIR/$client".req*
		else
			curl -sS -K "$cfg" >>"$out" 2>/dev/null || true
		fi
	done
}

# load_start KIND CLIENTS METHOD PATH: starts CLIENTS background clients of that kind.
load_start() {
	local kind=$1 n=$2 method=$3 path=$4 i
	LOAD_DIR=${LOAD_DIR:-$(mktemp -d "$BATS_TEST_TMPDIR/load.XXXXXX")}
	for ((i = 1; i <= n; i++)); do
		load_client "$kind" "$method" "$path" "$kind-$method-${#LOAD_PIDS[@]}" 3>&- &
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

# shellcheck shell=bash
# Sourced by soak.sh: the clients. Each is a bash loop of curl (a new connection per
# request) held to a steady rate, and writes one line per request to its own file:
#   START_US END_US KIND STATUS CONTENT_TYPE KEY MESSAGE_ID
# (microseconds since the epoch; curl writes status 000 for no answer at all; "-" for an
# empty content type, no Idempotency-Key, or no message_id). Orders carry a unique
# Idempotency-Key; an order answered 200 names its message_id in billing_db.

# now_us: the wall clock in microseconds.
now_us() { echo "${EPOCHREALTIME/./}"; }

# sleep_until US: sleeps until the wall clock reaches US (at once when it has).
sleep_until() {
	local wait=$(($1 - $(now_us)))
	[ "$wait" -le 0 ] || sleep "$(printf '%d.%06d' $((wait / 1000000)) $((wait % 1000000)))"
}

# soak_request KIND KEY METHOD PATH [curl args...]: one request, with KEY as its
# Idempotency-Key unless KEY is "-"; its line goes to $CLIENT_LOG, its body to
# $CLIENT_BODY. Sets STATUS.
soak_request() {
	local kind=$1 key=$2 method=$3 path=$4 start out ctype message_id=-
	shift 4
	[ "$key" = - ] || set -- -H "Idempotency-Key: $key" "$@"
	start=$(now_us)
	out=$(curl -sS --connect-timeout 5 --max-time 40 -X "$method" -o "$CLIENT_BODY" \
		-w '%{http_code} %{content_type}' "$@" "$BASE_URL$path" 2>/dev/null) || true
	read -r STATUS ctype <<<"${out:-000}"
	if [ "$key" != - ] && [ "$STATUS" = 200 ]; then
		message_id=$(jq -r '.message_id // "-"' "$CLIENT_BODY" 2>/dev/null || echo -)
	fi
	echo "$start $(now_us) $kind ${STATUS:-000} ${ctype:--} $key $message_id" >>"$CLIENT_LOG"
}

# json_request KIND KEY METHOD PATH BODY: soak_request with a JSON body.
json_request() {
	soak_request "$1" "$2" "$3" "$4" -H 'Content-Type: application/json' --data-binary "$5"
}

# paced CLIENT RATE STEP: calls STEP about RATE times a second until the stop file exists.
# A client that falls behind (a request that hung) does not burst to catch up.
paced() {
	local client=$1 period=$((1000000 / $2)) step=$3 next
	CLIENT_LOG=$SOAK_DIR/requests.$client
	CLIENT_BODY=$SOAK_DIR/body.$client
	TICK=0
	next=$(now_us)
	while [ ! -e "$SOAK_DIR/stop" ]; do
		"$step"
		TICK=$((TICK + 1))
		next=$((next + period))
		[ $(($(now_us) - next)) -lt 1000000 ] || next=$(now_us)
		sleep_until "$next"
	done
}

# ---- The kinds of traffic -------------------------------------------------------------

# read_step: three GET /api/movies/:id of a seeded movie (never deleted), then one page.
read_step() {
	if [ $((TICK % 4)) -eq 3 ]; then
		soak_request list - GET '/api/movies?limit=50'
	else
		soak_request read - GET "/api/movies/${SEEDED_IDS[RANDOM % ${#SEEDED_IDS[@]}]}"
	fi
}

# write_step: POST a movie, PUT one this client created, DELETE the oldest it created
# (once it holds a few): in turn. Never DELETE /api/movies, which deletes every movie.
OWN_IDS=()
write_step() {
	local n=$TICK$RANDOM
	case $((TICK % 3)) in
	0)
		json_request post - POST /api/movies "{\"title\":\"Soak $n\",\"description\":\"written by the soak\"}"
		if [ "$STATUS" = 201 ]; then OWN_IDS+=("$(jq -r .id "$CLIENT_BODY")"); fi
		;;
	1)
		[ "${#OWN_IDS[@]}" -gt 0 ] || return 0
		json_request put - PUT "/api/movies/${OWN_IDS[-1]}" "{\"title\":\"Soak $n, renamed\",\"description\":null}"
		;;
	2)
		[ "${#OWN_IDS[@]}" -gt 3 ] || return 0
		soak_request delete - DELETE "/api/movies/${OWN_IDS[0]}"
		# A 503 may or may not have deleted it: either way it is no longer this client's.
		OWN_IDS=("${OWN_IDS[@]:1}")
		;;
	esac
}

# bill_step: one order with a key no other request uses.
bill_step() {
	json_request billing "soak-$SOAK_RUN-bill-$TICK" POST /api/billing \
		"{\"user_id\":\"soak-$((TICK % 50))\",\"number_of_items\":$((TICK % 9 + 1)),\"total_amount\":\"$((TICK % 500)).$((TICK % 90 + 10))\"}"
}

# hostile_step: the next hostile case (hostile.sh), with a key of its own, so that an
# order wrongly accepted is counted against billing_db like any other.
hostile_step() {
	local case=${HOSTILE_CASES[TICK % ${#HOSTILE_CASES[@]}]} method path type
	read -r method path type <"$SOAK_DIR/hostile/$case.request"
	soak_request "hostile:$case" "soak-$SOAK_RUN-hostile-$TICK" "$method" "$path" \
		-H "Content-Type: $type" --data-binary "@$SOAK_DIR/hostile/$case.body"
}

# ---- Starting and stopping ------------------------------------------------------------
# traffic_start and traffic_stop are the soak's own: the paced mix above, one client per
# kind. The bats suites' load_start and load_stop (tests/lib/load.bash) are something
# else: as many identical clients as fast as they go, for one request in a test.

TRAFFIC_PIDS=()

# traffic_start: the clients and their rates (requests per second).
traffic_start() {
	rm -f "$SOAK_DIR/stop"
	paced reader "$SOAK_READ_RATE" read_step 3>&- &
	TRAFFIC_PIDS+=($!)
	paced writer "$SOAK_WRITE_RATE" write_step 3>&- &
	TRAFFIC_PIDS+=($!)
	paced biller "$SOAK_BILL_RATE" bill_step 3>&- &
	TRAFFIC_PIDS+=($!)
	paced hostile "$SOAK_HOSTILE_RATE" hostile_step 3>&- &
	TRAFFIC_PIDS+=($!)
}

traffic_stop() {
	touch "$SOAK_DIR/stop"
	[ "${#TRAFFIC_PIDS[@]}" -eq 0 ] || wait "${TRAFFIC_PIDS[@]}" 2>/dev/null || true
	TRAFFIC_PIDS=()
}

# shellcheck shell=bash
# Sourced by soak.sh: the fault schedule, written to $SOAK_DIR/schedule ("AT NAME", AT in
# seconds from the load's start) and printed before the run, then carried out. Each fault
# appends "NAME START_US END_US STATUS" to $SOAK_DIR/faults when it is over (STATUS done,
# or failed when its commands or its wait for the platform to recover failed); the report
# (coverage.sh) fails the soak unless every scheduled fault is there, in order, done, with
# requests made during its window.
#
# SOAK_SKIP_FAULT="NAME..." leaves those faults out of the run (not of the schedule), and
# so fails the soak: the way to see that a skipped fault is caught.
#
#   inventory_reload  pm2 reload inventory_app               zero downtime: no window
#   billing_reload    pm2 reload billing_app                 zero downtime: no window
#   gateway_reload    scripts/deploy/reload.sh api_gateway_app   zero downtime: no window
#   broker            RabbitMQ stopped, held down, started   window for POST /api/billing
#   postgres          PostgreSQL stopped, held down, started window for the movie requests
# After either of the last two, the next fault waits for billing_app to consume again.
#
# A window runs from the fault's start to FAULT_GRACE seconds after its end; only a 503
# answered to a request of the window's kinds inside it is explained.

FAULT_ORDER=(inventory_reload gateway_reload broker billing_reload postgres)
FAULT_GRACE=5
declare -A FAULT_KINDS=([broker]=billing [postgres]="read list post put delete")

# fault_what NAME: what the fault does, in words.
fault_what() {
	case $1 in
	inventory_reload | billing_reload) echo "pm2 reload ${1%_reload}_app" ;;
	gateway_reload) echo "scripts/deploy/reload.sh api_gateway_app (graceful restart)" ;;
	broker) echo "RabbitMQ stopped, down for $FAULT_HOLD s, started" ;;
	postgres) echo "PostgreSQL stopped, down for $FAULT_HOLD s, started" ;;
	esac
}

# fault_schedule SECONDS: FAULT_AT (offsets in seconds) and FAULT_NAME, FAULT_ORDER
# repeated once per 150 s (at least once), spread evenly with a quiet stretch at the end;
# FAULT_HOLD, how long the broker and the database stay down (3 to 10 s).
fault_schedule() {
	local seconds=$1 rounds=$(($1 / 150)) n i
	[ "$rounds" -ge 1 ] || rounds=1
	n=$((rounds * ${#FAULT_ORDER[@]}))
	FAULT_HOLD=$((seconds / 60))
	[ "$FAULT_HOLD" -ge 3 ] || FAULT_HOLD=3
	[ "$FAULT_HOLD" -le 10 ] || FAULT_HOLD=10
	FAULT_AT=() FAULT_NAME=()
	for ((i = 0; i < n; i++)); do
		FAULT_AT+=($((seconds * (i + 1) / (n + 1))))
		FAULT_NAME+=("${FAULT_ORDER[i % ${#FAULT_ORDER[@]}]}")
	done
}

# fault_write_schedule FILE: the schedule, "AT NAME" a line.
fault_write_schedule() {
	local i
	for i in "${!FAULT_AT[@]}"; do
		echo "${FAULT_AT[i]} ${FAULT_NAME[i]}"
	done >"$1"
}

fault_print_schedule() {
	local i name
	echo "== fault schedule (a fault starts at its time, or when the one before it ends)"
	for i in "${!FAULT_AT[@]}"; do
		name=${FAULT_NAME[i]}
		printf '   t=%4d s  %-16s %s' "${FAULT_AT[i]}" "$name" "$(fault_what "$name")"
		if [ -n "${FAULT_KINDS[$name]-}" ]; then
			printf '; window until %d s after it ends: 503 allowed for %s\n' "$FAULT_GRACE" "${FAULT_KINDS[$name]}"
		else
			printf '; no window: no 5xx allowed\n'
		fi
	done
}

# ---- The faults -----------------------------------------------------------------------

fault_inventory_reload() {
	pm2_ reload inventory_app >/dev/null
	wait_for 30 instances_online inventory_app "${INVENTORY_INSTANCES:-2}"
}

fault_billing_reload() {
	pm2_ reload billing_app >/dev/null
	wait_for 60 consumer_attached
}

fault_gateway_reload() {
	"$PROJECT_ROOT/scripts/deploy/reload.sh" api_gateway_app >/dev/null
}

fault_broker() {
	private_rabbit_stop
	sleep "$FAULT_HOLD" # the outage itself, not a wait for a condition
	private_rabbit_start
	rabbit_setup
}

fault_postgres() {
	private_pg_stop
	sleep "$FAULT_HOLD" # the outage itself
	private_pg_start
}

# After the broker or the database is back (the fault and its window over), billing_app
# reconnects with its backoff; the next fault waits for that.
settle_broker() { wait_for 60 consumer_attached; }
settle_postgres() { wait_for 60 consumer_attached; }

# consumer_attached: a billing_app consumes the order queue.
consumer_attached() {
	rabbit_url_parts
	rabbitmqctl_ list_consumers -p "$AMQP_VHOST" -q --no-table-headers queue_name 2>/dev/null |
		grep -qxF "$QUEUE_NAME"
}

# fault_skipped NAME: NAME is in SOAK_SKIP_FAULT.
fault_skipped() {
	[[ " ${SOAK_SKIP_FAULT:-} " == *" $1 "* ]]
}

# fault_run: carries out the schedule from START_US (the load's start).
fault_run() {
	local i name begin end status
	for i in "${!FAULT_AT[@]}"; do
		name=${FAULT_NAME[i]}
		sleep_until $((START_US + FAULT_AT[i] * 1000000))
		if fault_skipped "$name"; then
			printf '   t=%5.1f s  %s skipped (SOAK_SKIP_FAULT)\n' "$(since_start "$(now_us)")" "$name"
			continue
		fi
		begin=$(now_us)
		status="done"
		if ! "fault_$name" >>"$SOAK_DIR/faults.log" 2>&1; then
			status=failed
			echo "   fault $name did not complete: see $SOAK_DIR/faults.log" >&2
		fi
		end=$(now_us)
		if declare -F "settle_$name" >/dev/null && ! "settle_$name"; then
			status=failed
			echo "   t=$(since_start "$(now_us)") s  billing_app has not consumed again within 60 s" >&2
		fi
		echo "$name $begin $end $status" >>"$SOAK_DIR/faults"
		printf '   t=%5.1f s  %s %s in %.1f s\n' "$(since_start "$begin")" "$name" "$status" \
			"$(awk -v d=$((end - begin)) 'BEGIN { print d / 1e6 }')"
	done
}

# since_start US: seconds from the load's start to US.
since_start() { awk -v t="$1" -v s="$START_US" 'BEGIN { printf "%.1f", (t - s) / 1e6 }'; }

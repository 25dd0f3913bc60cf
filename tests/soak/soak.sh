#!/usr/bin/env bash
# make soak: the platform on a private stack for SOAK_SECONDS (default 600) under mixed
# traffic at a steady rate, while a fault schedule printed up front restarts each app,
# stops and starts the broker and restarts PostgreSQL. Then a table: requests by kind and
# status, 5xx outside the announced fault windows, orders answered 200 against the rows
# in billing_db (once the queue drained), and the RSS of every C process at start and end.
#
#   traffic   reader   GET /api/movies/:id of seeded movies, and GET /api/movies?limit=50
#             writer   POST /api/movies, PUT and DELETE /api/movies/:id of its own movies
#             biller   POST /api/billing, each with a unique Idempotency-Key
#             hostile  malformed, mistyped, huge, nested, oversize bodies (hostile.sh):
#                      4xx problem+json, never 5xx
#   rates     SOAK_READ_RATE, SOAK_WRITE_RATE, SOAK_BILL_RATE, SOAK_HOSTILE_RATE
#             (whole requests per second, at least 1; 8, 4, 4 and 1), a new connection
#             per request
#   minimums  each kind must be answered as expected at least a quarter as often as its
#             rate makes in SOAK_SECONDS (at least once), and every scheduled fault must
#             have been carried out with requests during it (coverage.sh), or the soak fails
#   skipping  SOAK_SKIP_FAULT="NAME..." leaves those faults out, to see the soak fail
#   ports     TEST_GATEWAY_PORT, TEST_INVENTORY_PORT, TEST_PG_PORT, TEST_RABBIT_PORT when
#             set, else 27080, 27900, 27432, 27672: neither the tests' nor the
#             benchmark's, and below the kernel's range for outgoing ports
#
# Usage: tests/soak/soak.sh   (make soak [SOAK_SECONDS=N] [BUILD=dir]); SOAK_SECONDS at least 30
# Exit status: 0 when every target holds, 1 when one was missed or the run failed.
#
# Beside it: load.sh (the clients), hostile.sh (the hostile bodies), faults.sh (the
# schedule and the faults), classify.awk (each request's verdict), coverage.sh (the
# minimums and the faults carried out), report.sh (orders and the tables); selftest.sh
# checks coverage.sh and classify.awk on made-up runs, without a stack.
set -euo pipefail
# shellcheck source=scripts/deploy/lib/env.sh
source "$(dirname "$0")/../../scripts/deploy/lib/env.sh"
# shellcheck source=tests/lib/stack.sh
source "$PROJECT_ROOT/tests/lib/stack.sh"
# c_processes, snapshot_rss, rss_table, stop_leftovers, instances_online
# shellcheck source=tests/lib/procs.sh
source "$PROJECT_ROOT/tests/lib/procs.sh"

SOAK_LIB=$PROJECT_ROOT/tests/soak
SOAK_SECONDS=${SOAK_SECONDS:-600}
SOAK_READ_RATE=${SOAK_READ_RATE:-8}
SOAK_WRITE_RATE=${SOAK_WRITE_RATE:-4}
SOAK_BILL_RATE=${SOAK_BILL_RATE:-4}
SOAK_HOSTILE_RATE=${SOAK_HOSTILE_RATE:-1}
# A soak too short to hold its fault schedule, or with a client that sends nothing, could
# only pass by proving nothing: refused before anything starts.
if [[ ! $SOAK_SECONDS =~ ^[0-9]+$ ]] || [ "$SOAK_SECONDS" -lt 30 ]; then
	echo "soak: SOAK_SECONDS=$SOAK_SECONDS: a soak needs a whole number of seconds, at least 30" \
		"(the fault schedule and each kind's minimum of requests need them); nothing was run" >&2
	exit 1
fi
for rate in SOAK_READ_RATE SOAK_WRITE_RATE SOAK_BILL_RATE SOAK_HOSTILE_RATE; do
	if [[ ! ${!rate} =~ ^[1-9][0-9]*$ ]]; then
		echo "soak: $rate=${!rate}: a rate is a whole number of requests per second, at least 1" >&2
		exit 1
	fi
done
SEED_MOVIES=200

export TEST_GATEWAY_PORT=${TEST_GATEWAY_PORT:-27080} TEST_INVENTORY_PORT=${TEST_INVENTORY_PORT:-27900}
export TEST_PG_PORT=${TEST_PG_PORT:-27432} TEST_RABBIT_PORT=${TEST_RABBIT_PORT:-27672}
private_stack_env soak
BASE_URL=http://127.0.0.1:$API_GATEWAY_PORT
SOAK_DIR=$STACK_DIR/soak
# Part of every Idempotency-Key: no two runs share one.
SOAK_RUN=$$-$(date +%s)
mkdir -p "$SOAK_DIR"

# shellcheck source=tests/soak/load.sh
source "$SOAK_LIB/load.sh"
# shellcheck source=tests/soak/hostile.sh
source "$SOAK_LIB/hostile.sh"
# shellcheck source=tests/soak/faults.sh
source "$SOAK_LIB/faults.sh"
# shellcheck source=tests/soak/coverage.sh
source "$SOAK_LIB/coverage.sh"
# shellcheck source=tests/soak/report.sh
source "$SOAK_LIB/report.sh"

FAULT_PID=

# soak_cleanup: the EXIT trap. Stops the clients, the schedule and the stack; keeps the
# folder (requests, faults, logs) after a failure, removes it after a pass.
soak_cleanup() {
	local status=$? pids
	traffic_stop
	[ -z "$FAULT_PID" ] || kill "$FAULT_PID" 2>/dev/null || true
	read -r -a pids <<<"$(stack_pids)"
	private_stack_down
	stop_leftovers "${pids[@]}"
	if [ "$status" -ne 0 ]; then
		echo "--- the run's requests, faults and logs are kept in $STACK_DIR"
	else
		rm -rf "$STACK_DIR"
	fi
}
trap soak_cleanup EXIT

# soak_seed_movies: SEED_MOVIES movies that only the reader touches; sets SEEDED_IDS.
soak_seed_movies() {
	app_psql POSTGRES -v n="$SEED_MOVIES" <<'SQL'
INSERT INTO movies (title, description)
	SELECT format('Soak movie %s', g), 'read by the soak, never changed'
	FROM generate_series(1, :'n'::integer) g;
SQL
	mapfile -t SEEDED_IDS < <(app_psql POSTGRES -c 'SELECT id FROM movies ORDER BY id')
}

# run_load: the clients for SOAK_SECONDS with the schedule beside them, and at least
# until FAULT_GRACE + 5 s after the last fault ended.
run_load() {
	local last
	START_US=$(now_us)
	traffic_start
	fault_run &
	FAULT_PID=$!
	wait "$FAULT_PID" || true
	FAULT_PID=
	sleep_until $((START_US + SOAK_SECONDS * 1000000))
	last=$(tail -n 1 "$SOAK_DIR/faults" | cut -d' ' -f3)
	sleep_until $((${last:-0} + (FAULT_GRACE + 5) * 1000000))
	snapshot_rss "$SOAK_DIR/rss-end"
	traffic_stop
	printf '   t=%5.1f s  load stopped\n' "$(since_start "$(now_us)")"
}

main() {
	local tool
	for tool in curl jq psql pgrep; do
		command -v "$tool" >/dev/null || { echo "soak: $tool is missing" >&2; exit 1; }
	done
	echo "== starting a private stack in $STACK_DIR (gateway on $BASE_URL)"
	private_stack_up
	soak_seed_movies
	[ "${#SEEDED_IDS[@]}" -ge "$SEED_MOVIES" ] ||
		{ echo "soak: seeded ${#SEEDED_IDS[@]} movies, not $SEED_MOVIES" >&2; exit 1; }
	hostile_prepare "${SEEDED_IDS[0]}"
	fault_schedule "$SOAK_SECONDS"
	fault_write_schedule "$SOAK_DIR/schedule"
	echo "== $SOAK_SECONDS s of traffic, requests per second: reads $SOAK_READ_RATE," \
		"writes $SOAK_WRITE_RATE, orders $SOAK_BILL_RATE, hostile $SOAK_HOSTILE_RATE" \
		"(${#HOSTILE_CASES[@]} cases in turn)"
	echo "== the fewest requests of each kind to be answered as expected:" \
		"$(for kind in "${SOAK_KINDS[@]}"; do printf '%s %s, ' "$kind" "$(kind_minimum "$kind")"; done | sed 's/, $//')"
	fault_print_schedule
	[ -z "${SOAK_SKIP_FAULT:-}" ] ||
		echo "   SOAK_SKIP_FAULT=\"$SOAK_SKIP_FAULT\": those faults will not be carried out, and the soak will fail"
	snapshot_rss "$SOAK_DIR/rss-start"
	: >"$SOAK_DIR/faults"
	run_load
	echo "== waiting for $QUEUE_NAME to drain"
	wait_for 180 queue_drained || echo "   $QUEUE_NAME still holds $(queue_count "$QUEUE_NAME") messages"
	soak_report
	if [ "$MISSED" -gt 0 ]; then
		echo "soak: $MISSED target(s) missed" >&2
		exit 1
	fi
	echo "soak: every target met"
}

main "$@"

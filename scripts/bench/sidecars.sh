# shellcheck shell=bash
# Sourced by bench.sh: side gateways beside the stack, for (k) and the transport A/B (t).
# A side gateway is scripts/deploy/gateway.sh (the same lighttpd.conf and settings) with
# its own port and RUN_DIR, and /api/movies sent to the side backends started here:
#   fixed-tcp   tools/fcgi_fixed x INVENTORY_INSTANCES on one TCP port (SO_REUSEPORT)
#   fixed-unix  tools/fcgi_fixed x INVENTORY_INSTANCES, a unix socket each
#   inv-tcp     inventory_app x INVENTORY_INSTANCES on one TCP port, up during (t) alone
#               while the stack's own inventory is stopped: (t) is (a) over TCP, as a
#               remote inventory host is reached, instead of the stack's unix sockets,
#               with as many database connections, beside (a)
# Stopped by teardown.sh (SIDE_PIDS).

SIDE_PIDS=()
declare -A SIDE_PORT=([fixed-tcp]=$((API_GATEWAY_PORT + 1)) [fixed-unix]=$((API_GATEWAY_PORT + 2))
	[inv-tcp]=$((API_GATEWAY_PORT + 3)))
# The TCP addresses of the side backends (the stack's inventory is on unix sockets).
declare -A SIDE_TCP_ADDR=([fixed-tcp]=127.0.0.1:$((TEST_INVENTORY_PORT + 1))
	[inv-tcp]=127.0.0.1:$((TEST_INVENTORY_PORT + 2)))

# side_backend LOG ADDR_VAR ADDR PROGRAM: one backend process, in the background; its
# pid also goes into backend.pids beside LOG.
side_backend() {
	env "$2=$3" FIXED_THREADS="$INVENTORY_THREADS" "$4" >> "$1" 2>&1 &
	SIDE_PIDS+=($!)
	echo $! >> "$(dirname "$1")/backend.pids"
}

# side_backends NAME PROGRAM ADDR_VAR TRANSPORT: INVENTORY_INSTANCES processes of
# PROGRAM on one TCP address (TRANSPORT tcp) or a unix socket each, PATH-N (unix);
# SIDE_LIST is the backend list for the side gateway (unix:PATH stands for them all).
side_backends() {
	local dir=$WORK/side/$1 i list=()
	mkdir -p "$dir"
	for ((i = 0; i < ${INVENTORY_INSTANCES:-2}; i++)); do
		if [ "$4" = tcp ]; then
			side_backend "$dir/backend.log" "$3" "${SIDE_TCP_ADDR[$1]}" "$2"
			list=("${SIDE_TCP_ADDR[$1]}")
		else
			side_backend "$dir/backend.log" "$3" "unix:$dir/backend.sock-$i" "$2"
			list=("unix:$dir/backend.sock")
		fi
	done
	SIDE_LIST=$(IFS=,; echo "${list[*]}")
}

# side_gateway NAME PORT BACKENDS: a gateway on PORT sending /api/movies to BACKENDS,
# without the admin listen (the stack's gateway holds METRICS_PORT).
side_gateway() {
	local run=$WORK/side/$1/run
	mkdir -p "$run"
	RUN_DIR=$run API_GATEWAY_PORT=$2 INVENTORY_FCGI_ADDR=$3 METRICS_PORT=0 \
		"$PROJECT_ROOT/scripts/deploy/gateway.sh" > "$WORK/side/$1/gateway.log" 2>&1 &
	SIDE_PIDS+=($!)
	echo $! > "$WORK/side/$1/gateway.pid"
}

# side_down NAME: stops that side gateway and its backends.
side_down() {
	local pids
	mapfile -t pids < <(cat "$WORK/side/$1/gateway.pid" "$WORK/side/$1/backend.pids")
	kill "${pids[@]}" 2>/dev/null || true
	wait "${pids[@]}" 2>/dev/null || true
}

# side_up NAME PROGRAM ADDR_VAR TRANSPORT PATH: backends, their gateway on SIDE_PORT[NAME],
# and a wait until PATH answers through it.
side_up() {
	side_backends "$1" "$2" "$3" "$4"
	side_gateway "$1" "${SIDE_PORT[$1]}" "$SIDE_LIST"
	wait_for 30 curl -fsS -o /dev/null "http://127.0.0.1:${SIDE_PORT[$1]}$5" ||
		{ echo "side gateway $1 did not come up" >&2; tail -n 20 "$WORK/side/$1"/*.log >&2; return 1; }
}

# sidecars_up: the side gateways of (k), when it is selected.
sidecars_up() {
	selected k || return 0
	side_up fixed-tcp "$TOOLS_DIR/fcgi_fixed" FIXED_FCGI_ADDR tcp /api/movies/1
	side_up fixed-unix "$TOOLS_DIR/fcgi_fixed" FIXED_FCGI_ADDR unix /api/movies/1
}

# (t) (a) through a side gateway whose inventory instances listen on one TCP port, with
# the stack's own inventory stopped meanwhile (the same number of database connections).
scenario_get_by_id_tcp() {
	local status=0
	"$PM2" stop inventory_app > /dev/null
	side_up inv-tcp "$BUILD_DIR/inventory_app" INVENTORY_LISTEN_ADDR tcp "/api/movies/$FIRST_ID" &&
		SIDE_CPU=inv-tcp BASE_URL=http://127.0.0.1:${SIDE_PORT[inv-tcp]} run_wrk t \
			get_by_id.lua "/api/movies/$FIRST_ID" "$FIRST_ID" "$LAST_ID" || status=$?
	side_down inv-tcp
	"$PM2" start inventory_app > /dev/null
	wait_for 30 curl -fsS -o /dev/null "$BASE_URL/api/movies/$FIRST_ID" || status=1
	return "$status"
}

# sidecars_down: every side process, then their leftovers' sockets.
sidecars_down() {
	[ "${#SIDE_PIDS[@]}" -gt 0 ] || return 0
	kill "${SIDE_PIDS[@]}" 2>/dev/null || true
	wait "${SIDE_PIDS[@]}" 2>/dev/null || true
	SIDE_PIDS=()
}

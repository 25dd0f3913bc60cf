# shellcheck shell=bash
# Sourced by bench.sh: (r) rolling restart under load, and its parts of results.md.
# One wrk run on GET /api/movies/:id (rolling.lua counts the 2xx answers of each second)
# during which the inventory tier is restarted one instance at a time (pm2 reload), then
# the gateway gracefully (reload.sh: lighttpd's SIGUSR1, same process, the port stays open).
# Target: no non-2xx answer. lighttpd closes idle keep-alive connections at a graceful
# restart, which wrk counts as a socket error: at most one per connection is expected.

# rolling_line FIELD: a field of the ROLLING line that rolling.lua's done() printed.
rolling_line() { sed -n "s/^ROLLING .*\<$1=\([0-9.,]*\).*/\1/p" "$WORK/raw/r.txt"; }

# at_second START_MS AT NAME CMD...: waits until AT seconds after START_MS, then runs CMD
# (output into the raw folder) and records "NAME begin end" in ms after START_MS.
at_second() {
	local start=$1 at=$2 name=$3 pause begin status=0
	shift 3
	pause=$(calc "$at - ($(now_ms) - $start) / 1000")
	if [ "$(calc "$pause > 0")" = 1 ]; then sleep "$pause"; fi
	echo "== $name at $(($(now_ms) - start)) ms: $*" >> "$WORK/raw/r-operations.txt"
	begin=$(($(now_ms) - start))
	"$@" >> "$WORK/raw/r-operations.txt" 2>&1 || status=$?
	echo "$name $begin $(($(now_ms) - start))" >> "$WORK/rolling-events"
	return "$status"
}

# rolling_operations START_MS: the inventory's rolling restart, then the gateway's reload.
rolling_operations() {
	at_second "$1" "$ROLLING_INVENTORY_AT" inventory "$PM2" reload inventory_app || return
	at_second "$1" "$ROLLING_GATEWAY_AT" gateway "$PROJECT_ROOT/scripts/deploy/reload.sh" \
		api_gateway_app
}

# (r) The load runs ROLLING_SECONDS; the operations start at ROLLING_INVENTORY_AT and
# ROLLING_GATEWAY_AT seconds (the second one waits for the first to end) and must end
# before the load does.
scenario_rolling() {
	local start pid ok=1 gateway_pid end
	: > "$WORK/rolling-events"
	gateway_pid=$(cat "$RUN_DIR/lighttpd.pid")
	wrk_ "$ROLLING_SECONDS" rolling.lua "/api/movies/$FIRST_ID" "$FIRST_ID" "$LAST_ID" \
		> "$WORK/raw/r.txt" &
	pid=$!
	start=$(now_ms)
	echo "$start" > "$WORK/rolling-start"
	if ! rolling_operations "$start"; then
		ok=0
		echo "   a reload failed:" >&2
		cat "$WORK/raw/r-operations.txt" >&2
	fi
	wait "$pid" || ok=0
	cat "$WORK/rolling-events"
	[ "$ok" = 1 ] || return 1
	end=$(tail -n 1 "$WORK/rolling-events" | cut -d' ' -f3)
	if [ "$end" -ge $((ROLLING_SECONDS * 1000)) ]; then
		echo "   the reloads ended at $end ms, after the load ($ROLLING_SECONDS s)" >&2
		return 1
	fi
	if [ "$(cat "$RUN_DIR/lighttpd.pid")" != "$gateway_pid" ]; then
		echo "   lighttpd was replaced instead of restarted gracefully" >&2
		return 1
	fi
	[ -n "$(rolling_line median)" ] || { cat "$WORK/raw/r.txt" >&2; return 1; }
	[ "$(rolling_line median)" != 0 ] || { echo "   no request succeeded" >&2; return 1; }
	save_result r "$(bench_line "$WORK/raw/r.txt" rps)" "$(bench_line "$WORK/raw/r.txt" p50_us)" \
		"$(bench_line "$WORK/raw/r.txt" p99_us)" "$(bench_line "$WORK/raw/r.txt" non2xx)" \
		"$(bench_line "$WORK/raw/r.txt" socket)"
	echo "   (r) 1-s rate: lowest $(thousands "$(rolling_line min)")," \
		"median $(thousands "$(rolling_line median)")"
}

# ---- results.md ------------------------------------------------------------------

# rolling_row: the targets table's row, in the format of targets.sh's rows.
rolling_row() {
	local label="(r) rolling restart under load: failed requests"
	local wanted="0 non-2xx, <= $CONNECTIONS socket errors" non2xx socket
	if [ -z "$(result r rate)" ]; then
		echo "| $label | not measured | $wanted | $(not_measured r) |"
		return
	fi
	non2xx=$(result r non2xx) socket=$(result r socket)
	echo "| $label | $non2xx non-2xx + $socket socket errors | $wanted" \
		"| $(verdict "$([ "$non2xx" -eq 0 ] && [ "$socket" -le "$CONNECTIONS" ] && echo 1)") |"
}

# seconds_after_start MS: "5.2" (seconds, one decimal).
seconds_after_start() { printf '%.1f' "$(calc "$1 / 1000")"; }

# rolling_section: the operations' times, the failed requests and the 1-s rates.
rolling_section() {
	local start first min median counts i lowest_at begin end events=()
	if [ -z "$(result r rate)" ]; then
		if selected r; then echo "Failed to run."; else echo "Not run."; fi
		return
	fi
	read -r start < "$WORK/rolling-start"
	while read -r _ begin end; do
		events+=("$(seconds_after_start "$begin")–$(seconds_after_start "$end") s")
	done < "$WORK/rolling-events"
	first=$(rolling_line first) min=$(rolling_line min) median=$(rolling_line median)
	IFS=, read -r -a counts <<< "$(rolling_line counts)"
	for i in "${!counts[@]}"; do
		if [ "${counts[$i]}" = "$min" ]; then
			lowest_at=$(seconds_after_start $(((first + i) * 1000 - start)))
			break
		fi
	done
	echo "One wrk run of $ROLLING_SECONDS s on GET /api/movies/:id (-t$THREADS -c$CONNECTIONS," \
		"no warm-up). \`pm2 reload inventory_app\` ran at ${events[0]} and"
	echo "\`scripts/deploy/reload.sh api_gateway_app\` at ${events[1]} after the start;" \
		"lighttpd kept its process."
	echo
	echo "| failed: non-2xx + socket errors | lowest 1-s rate | median 1-s rate | lowest / median |"
	echo "|---:|---:|---:|---:|"
	echo "| $(result r non2xx) + $(result r socket) | $(thousands "$min") req/s (from $lowest_at s)" \
		"| $(thousands "$median") req/s | $(printf '%.2f' "$(calc "$min / $median")") |"
	echo
	echo "2xx answers in each whole second: $(printf '%s ' "${counts[@]}" | sed 's/ $//')."
}

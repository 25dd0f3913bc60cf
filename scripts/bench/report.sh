# shellcheck shell=bash
# Sourced by bench.sh: results.md and chart.png.

# results_table: rate, latencies and errors of every scenario.
results_table() {
	local key rate
	echo "| scenario | rate | p50 | p99 | non-2xx + socket errors |"
	echo "|---|---:|---:|---:|---:|"
	for key in "${SCENARIOS[@]}"; do
		rate=$(result "$key" rate)
		if [ -z "$rate" ]; then
			echo "| ${LABEL[$key]} | $(selected "$key" && echo "failed to run" || echo "not run") | | | |"
			continue
		fi
		echo "| ${LABEL[$key]} | $(thousands "$rate") ${UNIT[$key]} | $(ms "$(result "$key" p50)")" \
			"| $(ms "$(result "$key" p99)") | $(result "$key" non2xx) + $(result "$key" socket) |"
	done
}

# cpu_table: the CPU per request of each part (CPU_PARTS), for the scenarios measured in rounds.
cpu_table() {
	local key c columns=("machine busy" "${CPU_PARTS[@]}" "rest (wrk or pgbench, kernel)" total)
	printf '| scenario |'; printf ' %s |' "${columns[@]}"; echo
	printf '|---|'; printf -- '---:|%.0s' "${columns[@]}"; echo
	for key in a t b c d e g h i j k; do
		[ -s "$WORK/result/$key.cpu" ] || continue
		read -r -a c < "$WORK/result/$key.cpu"
		printf '| %s | %s %% |' "${SHORT[$key]}" "${c[0]}"; printf ' %s |' "${c[@]:1}"; echo
	done
}

soak_table() {
	local total
	if [ ! -s "$WORK/soak" ]; then
		if [ "$QUICK" = 1 ]; then echo "Skipped (QUICK mode).";
		elif selected soak; then echo "Failed to run."; else echo "Not run."; fi
		return
	fi
	if [ -s "$WORK/soak-total" ]; then
		read -r -a total < "$WORK/soak-total"
		echo "$(thousands "${total[0]}") requests of GET /api/movies/:id in ${total[1]} s" \
			"($(thousands "$(result soak rate)") req/s; non-2xx + socket errors:" \
			"$(result soak non2xx) + $(result soak socket)). RSS in KB:"
		echo
	fi
	echo "| elapsed (s) | requests served | lighttpd | inventory_app | billing_publisher | billing_app |"
	echo "|---:|---:|---:|---:|---:|---:|"
	while read -r -a s; do
		echo "| ${s[0]} | $(thousands "${s[1]}") | ${s[2]} | ${s[3]} | ${s[4]} | ${s[5]} |"
	done < "$WORK/soak"
}

machine() {
	echo "- nproc: $(nproc)"
	echo "- CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
	echo "- memory: $(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
	echo "- kernel: $(uname -srm)"
	echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
	echo "- load average at start / end: $LOAD_START / $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "- PostgreSQL: $(pg_admin -c 'SELECT version()' | cut -d' ' -f1-2);" \
		"fsync=$(pg_admin -c 'SHOW fsync'), synchronous_commit=$(pg_admin -c 'SHOW synchronous_commit')," \
		"full_page_writes=$(pg_admin -c 'SHOW full_page_writes')"
	echo "- wrk: $(dpkg-query -W -f='${Version}' wrk 2>/dev/null), -t$THREADS -c$CONNECTIONS," \
		"${DURATION} s per round after a ${WARMUP} s warm-up, median of $ROUNDS round(s)," \
		"load generator on the same machine"
	echo "- mode: $([ "$QUICK" = 1 ] && echo "QUICK (smoke)" || echo full)"
}

write_results() {
	local drain="" times
	if [ -s "$WORK/drain-times" ]; then
		read -r -a times < "$WORK/drain-times"
		drain="It took ${times[0]} ms from running \`pm2 start billing_app\` to seeing the last of"
		drain+=" the $(thousands "$ORDERS") rows (polling every 50 ms); \`pm2 start\` itself took ${times[1]} ms"
		drain+=" and the first row's transaction began at ${times[2]} ms, so the consumer's own rate was about"
		drain+=" $(thousands "$(calc "$ORDERS * 1000 / (${times[0]} - ${times[2]} > 0 ? ${times[0]} - ${times[2]} : 1)")") msg/s."
	fi
	{
		echo "# make bench: results"
		echo
		echo "Written by \`scripts/bench/bench.sh\` ($([ "$QUICK" = 1 ] && echo "make bench QUICK=1" || echo "make bench"))."
		echo "1,000 movies seeded; the list answer is $(thousands "$(cat "$WORK/list-bytes")") bytes."
		echo "(e): $(thousands "$ORDERS") orders queued while billing_app was stopped. $drain"
		echo
		results_table
		echo
		echo "## Targets"
		echo
		ratios_table
		echo
		echo "Other ratios:"
		echo
		info_ratios
		echo
		echo "## Ceilings: every way tried"
		echo
		echo "Each way ran once; the best then ran the measured rounds."
		echo
		ways_section
		echo
		echo "## Rolling restart under load"
		echo
		rolling_section
		echo
		echo "## Where the CPU goes"
		echo
		echo "CPU time per request in µs during each measured run ($(nproc) cores =" \
			"$(thousands "$(calc "$(nproc) * 1000000")") µs of CPU per second), from /proc."
		echo "A scenario whose machine busy is near 100 % is bound by CPU: its rate is about"
		echo "$(nproc),000,000 / total."
		echo
		cpu_table
		echo
		echo "## (m) Cost of the counters"
		echo
		counters_section
		echo
		echo "## Resident memory"
		echo
		echo "Before the first scenario and after the last (billing_app is restarted by (e))."
		echo
		rss_table "$WORK/rss-before" "$WORK/rss-after" before after
		echo
		echo "## Memory soak"
		echo
		soak_table
		echo
		echo "## Machine"
		echo
		machine
		if [ "${#FAILED[@]}" -gt 0 ]; then
			echo
			echo "**Failed** (did not run, or no request succeeded): ${FAILED[*]}"
		fi
	} > "$OUT/results.md"
}

draw_chart() {
	local key rate data=$WORK/chart.tsv
	: > "$data"
	for key in "${SCENARIOS[@]}"; do
		rate=$(result "$key" rate)
		# (r) measures failures during restarts, not a speed to set beside the ceilings.
		if [ -z "$rate" ] || [ "$key" = r ]; then continue; fi
		printf '%s\t%s\t%s\n' "${SHORT[$key]}" "$rate" "$([[ $key =~ [ghijk] ]] && echo 2 || echo 1)" >> "$data"
	done
	[ -s "$data" ] || return 0
	gnuplot -e "datafile='$data'; outfile='$OUT/chart.png'; subtitle='$(nproc) cores, $(date -u +%Y-%m-%d), wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s'" \
		"$BENCH_DIR/chart.gp"
}

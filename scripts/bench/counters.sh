# shellcheck shell=bash
# Sourced by bench.sh: (m), the metrics counters' CPU per request against each
# scenario's whole-stack CPU per request (README, Observability; issue: no scenario
# slower by more than 2 %). A wrk run with and without the counters cannot resolve 2 %
# on a shared machine, so the counters' calls are timed alone (tools/metrics_cost.c, the
# programs' own objects, thread CPU time) and divided by what the stack spent per request
# in the scenario (resources.sh: the six parts, without the load generator).

COUNTERS_MAX_PERCENT=2
if [ "$QUICK" = 1 ]; then COUNTERS_CALLS=500000 COUNTERS_PAGES=200
else COUNTERS_CALLS=5000000 COUNTERS_PAGES=2000; fi
# Which counters each scenario's request runs. (d): billing_app consumes each order too.
declare -A COUNTERS_HOOKS=([a]=inventory_app [t]=inventory_app [b]=inventory_app
	[c]=inventory_app [d]="billing_publisher billing_app" [e]=billing_app)
COUNTERS_SCENARIOS=(a t b c d e)

# counters_wanted: whether (m) is to run: named, or one of the scenarios it is about.
counters_wanted() {
	local key
	for key in m "${COUNTERS_SCENARIOS[@]}"; do selected "$key" && return 0; done
	return 1
}

# counters_measure: the hooks' cost, "HOOKS THREADS NS" lines, in $WORK/result/m.cost.
counters_measure() {
	echo "== (m) the counters' CPU per request ($(thousands "$COUNTERS_CALLS") calls of each program's hooks)"
	if ! TMPDIR=$WORK "$TOOLS_DIR/metrics_cost" "$COUNTERS_CALLS" "$COUNTERS_PAGES" \
		> "$WORK/result/m.cost.tmp"; then
		echo "   (m) FAILED to run" >&2
		FAILED+=(m)
		return 0
	fi
	mv "$WORK/result/m.cost.tmp" "$WORK/result/m.cost"
	sed 's/^/   /' "$WORK/result/m.cost"
}

# counters_ns HOOKS: ns per call of those hooks, the worse of 1 and 2 threads.
counters_ns() {
	[ -s "$WORK/result/m.cost" ] || return 0
	awk -v name="$1" '$1 == name && $3 > ns { ns = $3 } END { if (ns != "") print ns }' \
		"$WORK/result/m.cost"
}

# counters_cost KEY: "COUNTERS_NS STACK_US PERCENT" for a scenario, or nothing when it
# or (m) was not measured. billing_app's page write, once a second, is shared out over
# the scenario's messages per second.
counters_cost() {
	local key=$1 hooks ns=0 one c rate page
	[ -s "$WORK/result/$key.cpu" ] && [ -s "$WORK/result/m.cost" ] || return 0
	for hooks in ${COUNTERS_HOOKS[$key]}; do
		one=$(counters_ns "$hooks")
		[ -n "$one" ] || return 0
		ns=$(calc "$ns + $one")
	done
	if [[ " ${COUNTERS_HOOKS[$key]} " == *" billing_app "* ]]; then
		rate=$(result "$key" rate) page=$(counters_ns billing_app_page)
		[ -n "$rate" ] && [ -n "$page" ] || return 0
		ns=$(calc "$ns + $page / $rate")
	fi
	read -r -a c < "$WORK/result/$key.cpu"
	# c: machine busy, then the six parts (CPU_PARTS), then the rest and the total. The
	# share keeps two significant digits (at least two decimals), without an exponent.
	awk -v ns="$ns" -v c="${c[*]:1:${#CPU_PARTS[@]}}" 'BEGIN {
		n = split(c, part, " "); for (i = 1; i <= n; i++) us += part[i]
		if (us <= 0) exit
		share = ns / 10 / us; digits = 2
		if (share > 0) { d = 1 - int(log(share) / log(10) - (share < 1)); if (d > digits) digits = d }
		printf "%.1f %d %.*f\n", ns, us, digits, share }'
}

# counters_rows: the targets table's rows, one per scenario.
counters_rows() {
	local key cost label
	for key in "${COUNTERS_SCENARIOS[@]}"; do
		label="(m) counters' CPU / stack CPU per request, ${SHORT[$key]}"
		read -r -a cost < <(counters_cost "$key"; echo)
		if [ "${#cost[@]}" -eq 0 ]; then
			selected "$key" || continue
			if counters_wanted && [ ! -s "$WORK/result/m.cost" ]; then
				echo "| $label | not measured | <= $COUNTERS_MAX_PERCENT % | FAILED |"
			else
				echo "| $label | not measured | <= $COUNTERS_MAX_PERCENT % | $(not_measured "$key") |"
			fi
			continue
		fi
		echo "| $label | ${cost[2]} % (${cost[0]} ns of $(thousands "${cost[1]}") µs) | <= $COUNTERS_MAX_PERCENT %" \
			"| $(verdict "$(calc "${cost[2]} <= $COUNTERS_MAX_PERCENT")") |"
	done
}

# counters_section: results.md's "(m) cost of the counters".
counters_section() {
	local line key cost hooks
	if [ ! -s "$WORK/result/m.cost" ]; then
		if counters_wanted; then echo "Failed to run."; else echo "Not run."; fi
		return
	fi
	echo "\`metrics_cost\` ($(thousands "$COUNTERS_CALLS") calls" \
		"of each program's hooks, thread CPU time, the programs' own objects): ns per call."
	echo
	echo "| hooks | 1 thread | 2 threads sharing the counters |"
	echo "|---|---:|---:|"
	for line in inventory_app billing_publisher billing_app billing_app_page; do
		echo "| $line$([ "$line" = billing_app_page ] && echo " (per page write, once a second)")" \
			"| $(awk -v n="$line" '$1 == n && $2 == 1 { print $3 }' "$WORK/result/m.cost")" \
			"| $(awk -v n="$line" '$1 == n && $2 == 2 { v = $3 } END { print v == "" ? "—" : v }' "$WORK/result/m.cost") |"
	done
	echo
	echo "Per scenario: the hooks its request runs (the worse of 1 and 2 threads; (d) and (e)"
	echo "add billing_app's page write shared over their messages per second) against the"
	echo "CPU the six parts of the stack spent per request in it (Where the CPU goes)."
	echo
	echo "| scenario | hooks | counters (ns) | stack (µs) | share |"
	echo "|---|---|---:|---:|---:|"
	for key in "${COUNTERS_SCENARIOS[@]}"; do
		read -r -a cost < <(counters_cost "$key"; echo)
		[ "${#cost[@]}" -gt 0 ] || continue
		hooks=${COUNTERS_HOOKS[$key]}
		echo "| ${SHORT[$key]} | ${hooks// / + } | ${cost[0]} | $(thousands "${cost[1]}") | ${cost[2]} % |"
	done
}

# shellcheck shell=bash
# Sourced by bench.sh: the targets table of results.md, and ratios without a target.

# verdict OK: PASS when OK is 1, else MISS.
verdict() { if [ "$1" = 1 ]; then echo PASS; else echo MISS; fi; }

# not_measured KEY...: FAILED when one of the scenarios was to run and has no result,
# else "not run".
not_measured() {
	local key
	for key in "$@"; do
		if selected "$key" && [ -z "$(result "$key" rate)" ]; then echo FAILED; return; fi
	done
	echo "not run"
}

# ratio_row LABEL NUM_KEY DEN_KEY MIN: a ratio of two rates against its minimum.
ratio_row() {
	local num den r
	num=$(result "$2" rate) den=$(result "$3" rate)
	if [ -z "$num" ] || [ -z "$den" ]; then
		echo "| $1 | not measured | >= $4 | $(not_measured "$2" "$3") |"
		return
	fi
	r=$(calc "$num / $den")
	echo "| $1 | $(printf '%.2f' "$r") ($(thousands "$num") / $(thousands "$den")) | >= $4" \
		"| $(verdict "$(calc "$r >= $4")") |"
}

# rate_row LABEL KEY MIN [MAX_ERRORS]: a rate against its minimum (and an error budget).
rate_row() {
	local rate errors ok
	rate=$(result "$2" rate)
	if [ -z "$rate" ]; then
		echo "| $1 | not measured | >= $(thousands "$3") ${UNIT[$2]} | $(not_measured "$2") |"
		return
	fi
	errors=$(($(result "$2" non2xx) + $(result "$2" socket)))
	ok=$(calc "$rate >= $3")
	if [ -n "${4:-}" ]; then
		[ "$errors" -le "$4" ] || ok=0
		echo "| $1 | $(thousands "$rate") ${UNIT[$2]}, $errors non-2xx | >= $(thousands "$3")" \
			"${UNIT[$2]}, $4 non-2xx | $(verdict "$ok") |"
	else
		echo "| $1 | $(thousands "$rate") ${UNIT[$2]} | >= $(thousands "$3") ${UNIT[$2]}" \
			"| $(verdict "$ok") |"
	fi
}

# max_rss_row: the largest RSS any C process had in any sample: the snapshots before and
# after (snapshot_rss: NAME PID RSS_KB) and the memory soak's (ELAPSED SERVED and the
# RSS of each of PROCESSES).
max_rss_row() {
	local max who
	read -r max who < <({
		cat "$WORK/rss-before" "$WORK/rss-after" 2>/dev/null | awk '{ print $3, $1 }'
		[ ! -s "$WORK/soak" ] || awk -v names="${PROCESSES[*]}" '
			BEGIN { n = split(names, name, " ") } { for (i = 1; i <= n; i++) print $(i + 2), name[i] }' "$WORK/soak"
	} | awk '$1 ~ /^[0-9]+$/ && $1 + 0 > max + 0 { max = $1; who = $2 } END { print max + 0, who }')
	echo "| RSS of every C process (before, after, soak) | max $(thousands "$max") KB ($who)" \
		"| < 20,480 KB | $(verdict "$([ "$max" -gt 0 ] && [ "$max" -lt 20480 ] && echo 1)") |"
}

# p99_row LABEL KEY MAX_MS: a scenario's 99th percentile latency against its maximum.
p99_row() {
	local p99
	p99=$(result "$2" p99)
	if [ -z "$p99" ]; then
		echo "| $1 | not measured | <= $3 ms | $(not_measured "$2") |"
		return
	fi
	echo "| $1 | $(ms "$p99") | <= $3 ms | $(verdict "$(calc "$p99 <= $3 * 1000")") |"
}

# ratio_errors_row LABEL NUM_KEY DEN_KEY MIN: ratio_row, and no failed request in NUM_KEY.
ratio_errors_row() {
	local row errors
	row=$(ratio_row "$@")
	[ -n "$(result "$2" rate)" ] || { echo "$row"; return; }
	errors=$(($(result "$2" non2xx) + $(result "$2" socket)))
	[ "$errors" = 0 ] || row=${row/%PASS |/MISS |}
	echo "${row% |*} ($errors non-2xx + socket errors) |${row##* |}"
}

# The list's target: 2,000 req/s or 4.5 x Go + Flask's 413 (REFERENCE.md), the lower.
LIST_TARGET=$(calc "2000 < 4.5 * 413 ? 2000 : 4.5 * 413")

ratios_table() {
	echo "| target | measured | wanted | result |"
	echo "|---|---:|---:|---|"
	ratio_row "(a) / (k): GET by id vs the FastCGI hop alone" a k 0.8
	ratio_row "(a) / (h): GET by id vs primary-key read" a h 0.4
	p99_row "(a) p99 at $CONNECTIONS connections" a 10
	rate_row "(b) GET /api/movies (2,000, or 4.5 x Go + Flask's 413)" b "$LIST_TARGET"
	ratio_row "(c) / (i): POST movie vs INSERT commit" c i 0.6
	p99_row "(c) p99 at $CONNECTIONS connections" c 10
	ratio_errors_row "(d) / (j): POST billing vs the broker alone" d j 0.8
	rate_row "(e) drain" e 15000
	rolling_row
	max_rss_row
	counters_rows
}

# Ratios without a target, to see where time goes.
info_ratios() {
	local pair num den
	for pair in t/a a/g k/g b/g c/g d/g; do
		num=$(result "${pair%/*}" rate) den=$(result "${pair#*/}" rate)
		if [ -z "$num" ] || [ -z "$den" ]; then continue; fi
		echo "- ${SHORT[${pair%/*}]} / ${SHORT[${pair#*/}]}: $(printf '%.3f' "$(calc "$num / $den")")"
	done
}

# ways_section: every way each ceiling was reached in its screen (one round each).
ways_section() {
	local key label rate
	for key in h i j k; do
		[ -s "$WORK/result/$key.ways" ] || continue
		echo "- ${SHORT[$key]}, best: **$(won "$key")**. Screen:"
		while read -r -a way; do
			rate=${way[-1]} label=${way[*]:0:${#way[@]}-1}
			echo "  $label $(thousands "$rate");"
		done < "$WORK/result/$key.ways"
	done
}

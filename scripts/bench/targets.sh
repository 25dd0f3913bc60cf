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

# max_rss_row: the largest RSS any of the four processes had in any sample.
max_rss_row() {
	local max=0 who="" i kb line
	for line in "$WORK"/rss-before "$WORK"/rss-after "$WORK"/soak; do
		[ -s "$line" ] || continue
		while read -r -a kb; do
			[ "${#kb[@]}" -eq 4 ] || kb=("${kb[@]:2}")
			for i in 0 1 2 3; do
				if [[ ${kb[$i]} =~ ^[0-9]+$ ]] && [ "${kb[$i]}" -gt "$max" ]; then
					max=${kb[$i]} who=${PROCESSES[$i]}
				fi
			done
		done < "$line"
	done
	echo "| RSS of every C process (before, after, soak) | max $(thousands "$max") KB ($who)" \
		"| < 20,480 KB | $(verdict "$([ "$max" -gt 0 ] && [ "$max" -lt 20480 ] && echo 1)") |"
}

ratios_table() {
	echo "| target | measured | wanted | result |"
	echo "|---|---:|---:|---|"
	ratio_row "(a) / (h): GET by id vs primary-key read" a h 0.4
	rate_row "(b) GET /api/movies" b 1050
	ratio_row "(c) / (i): POST movie vs INSERT commit" c i 0.5
	rate_row "(d) POST /api/billing" d 10000 0
	rate_row "(e) drain" e 15000
	rolling_row
	max_rss_row
}

# Ratios without a target, to see where time goes.
info_ratios() {
	local pair num den
	for pair in a/g b/g c/g d/g a/h; do
		num=$(result "${pair%/*}" rate) den=$(result "${pair#*/}" rate)
		if [ -z "$num" ] || [ -z "$den" ]; then continue; fi
		echo "- ${SHORT[${pair%/*}]} / ${SHORT[${pair#*/}]}: $(printf '%.3f' "$(calc "$num / $den")")"
	done
}


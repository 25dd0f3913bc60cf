# shellcheck shell=bash
# Sourced by report.sh (and by selftest.sh): whether the soak did what it set out to do,
# read from its files alone. A soak that made too few requests of a kind, or whose fault
# schedule was not carried out, fails however clean its answers were: zero requests
# against zero failures is no pass.
#
#   minimums  each kind of request must be answered as expected (classify.awk's "ok") at
#             least a quarter as many times as its client's rate makes in SOAK_SECONDS:
#             the reader's rate is 3/4 read and 1/4 list, the writer's 1/3 each post, put
#             and delete, the biller's billing, the hostile client's hostile; at least 1
#             each. A quarter leaves room for the faults' windows and for a loaded machine,
#             where a client (a curl process a request) falls well behind its rate: on 2
#             busy cores the reader made about 3 requests a second of its 8.
#   faults    every fault of $SOAK_DIR/schedule is in $SOAK_DIR/faults, in the same order,
#             with STATUS done, and at least one request overlapped its window.
# Each check missed adds one to MISSED.

MISSED=0
SOAK_KINDS=(read list post put delete billing hostile)

# target_row CHECK VALUE WANT: a row of the targets table; VALUE must equal WANT.
target_row() {
	local verdict=ok
	if [ "$2" != "$3" ]; then verdict=MISSED; MISSED=$((MISSED + 1)); fi
	echo "| $1 | $2 | $3 | $verdict |"
}

# kind_minimum KIND: the fewest requests of KIND answered as expected that pass.
kind_minimum() {
	local s=$SOAK_SECONDS min
	case $1 in
	read) min=$((SOAK_READ_RATE * s * 3 / 16)) ;;
	list) min=$((SOAK_READ_RATE * s / 16)) ;;
	post | put | delete) min=$((SOAK_WRITE_RATE * s / 12)) ;;
	billing) min=$((SOAK_BILL_RATE * s / 4)) ;;
	hostile) min=$((SOAK_HOSTILE_RATE * s / 4)) ;;
	*) return 1 ;;
	esac
	echo $((min > 0 ? min : 1))
}

# kinds_table: each kind's requests made and answered as expected, against its minimum
# (from $SOAK_DIR/kinds, written by classify.awk).
kinds_table() {
	local kind made ok min verdict
	echo "| kind | made | answered as expected | minimum | |"
	echo "|---|---:|---:|---:|---|"
	for kind in "${SOAK_KINDS[@]}"; do
		read -r made ok < <(awk -v k="$kind" '$1 == k { print $2, $3 }' "$SOAK_DIR/kinds" 2>/dev/null) || true
		min=$(kind_minimum "$kind")
		verdict=ok
		if [ "${ok:-0}" -lt "$min" ]; then verdict=MISSED; MISSED=$((MISSED + 1)); fi
		echo "| $kind | ${made:-0} | ${ok:-0} | $min | $verdict |"
	done
}

# faults_table: each scheduled fault against what the faults file says was done, and the
# requests that overlapped its window (fault-requests, written by classify.awk).
faults_table() {
	local rows f
	for f in schedule faults fault-requests; do
		[ -e "$SOAK_DIR/$f" ] || : >"$SOAK_DIR/$f"
	done
	echo "| # | fault | scheduled | started | ended | status | requests during | |"
	echo "|---:|---|---:|---:|---:|---|---:|---|"
	rows=$(awk -v s="${START_US:-0}" '
		# the Kth time a fault is named in the schedule is the Kth time it is in the log
		FILENAME == ARGV[1] { n++; at[n] = $1; want[n] = $2; sched[$2 "#" (++ks[$2])] = n; next }
		FILENAME == ARGV[2] {
			m++; key = $1 "#" (++kf[$1])
			if (!(key in sched)) { extra[m] = $1; next }
			i = sched[key]; line[i] = m; begin[i] = $2; end[i] = $3; status[i] = $4
			if (i < last) late[i] = 1
			last = i; next
		}
		{ during[$1] = $2 }
		function t(us) { return us == "" ? "-" : sprintf("t=%.1f s", (us - s) / 1e6) }
		END {
			for (i = 1; i <= n; i++) {
				d = (i in line) ? during[line[i]] + 0 : 0
				if (!(i in line)) verdict = "MISSED: not carried out"
				else if (status[i] != "done") verdict = "MISSED: did not complete"
				else if (i in late) verdict = "MISSED: carried out out of order"
				else if (d == 0) verdict = "MISSED: no request during it"
				else verdict = "ok"
				printf "| %d | %s | t=%s s | %s | %s | %s | %d | %s |\n", i, want[i], at[i],
					t(begin[i]), t(end[i]), (i in line) ? status[i] : "-", d, verdict
			}
			for (j = 1; j <= m; j++)
				if (j in extra) printf "| - | %s | - | - | - | - | - | MISSED: not in the schedule |\n", extra[j]
			if (n == 0) print "| - | (no fault scheduled) | - | - | - | - | 0 | MISSED |"
		}' "$SOAK_DIR/schedule" "$SOAK_DIR/faults" "$SOAK_DIR/fault-requests")
	echo "$rows"
	MISSED=$((MISSED + $(grep -c '| MISSED' <<<"$rows" || true)))
}

# classify_requests: classify.awk over every request line; prints "ok N explained N
# unexplained N wrong N" and writes unexplained, wrong, kinds and fault-requests.
classify_requests() {
	local windows='' name
	for name in "${!FAULT_KINDS[@]}"; do windows+="$name:${FAULT_KINDS[$name]};"; done
	: >"$SOAK_DIR/unexplained"
	: >"$SOAK_DIR/wrong"
	request_lines | awk -v start="$START_US" -v grace="$FAULT_GRACE" -v windows="$windows" \
		-v out="$SOAK_DIR" -f "$SOAK_LIB/classify.awk" "$SOAK_DIR/faults" - | paste -sd ' '
}

# request_lines: every request line of every client (none when no client wrote one).
request_lines() {
	local f
	for f in "$SOAK_DIR"/requests.*; do
		[ ! -e "$f" ] || cat "$f"
	done
}

# shellcheck shell=bash
# Sourced by soak.sh: the C processes' memory, the orders in billing_db, and the table
# printed at the end. Each target missed adds one to MISSED.

MISSED=0

# ---- Memory ---------------------------------------------------------------------------

# c_processes: "NAME PID" of every C process of the stack: lighttpd (a child of this
# stack's PM2 daemon, as app.sh and gateway.sh exec the programs), the billing publisher
# (lighttpd's child), each inventory_app and each billing_app instance, by pid.
c_processes() {
	local daemon gateway name pid i
	daemon=$(cat "$PM2_HOME/pm2.pid" 2>/dev/null || true)
	[[ $daemon =~ ^[1-9][0-9]*$ ]] || return 0
	gateway=$(pgrep -P "$daemon" -x lighttpd | head -n 1 || true)
	[ -z "$gateway" ] || echo "lighttpd $gateway"
	[ -z "$gateway" ] || pgrep -P "$gateway" -f billing_publisher | sed 's/^/billing_publisher /' || true
	for name in inventory_app billing_app; do
		i=0
		for pid in $(pgrep -P "$daemon" -x "$name" | sort -n || true); do
			i=$((i + 1))
			echo "$name#$i $pid"
		done
	done
}

# snapshot_rss FILE: "NAME PID RSS_KB" of each C process.
snapshot_rss() {
	local name pid
	c_processes | while read -r name pid; do
		echo "$name $pid $(rss_kb "$pid")"
	done >"$1"
}

rss_table() {
	echo "| process | pid at start | RSS at start | pid at end | RSS at end |"
	echo "|---|---:|---:|---:|---:|"
	join -a 1 -a 2 -e - -o 0,1.2,1.3,2.2,2.3 <(sort "$SOAK_DIR/rss-start") <(sort "$SOAK_DIR/rss-end") |
		awk '{ printf "| %s | %s | %s | %s | %s |\n", $1, $2, kb($3), $4, kb($5) }
			function kb(v) { return v == "-" ? "-" : sprintf("%.1f MB", v / 1024) }'
}

# ---- Orders ---------------------------------------------------------------------------

queue_drained() {
	[ "$(queue_count "$QUEUE_NAME")" = 0 ]
}

# order_answers: "KEY STATUS MESSAGE_ID" of every request that was or might have been an
# order: POST /api/billing, hostile ones included.
order_answers() {
	local billing_cases
	billing_cases=$(grep -l ' /api/billing ' "$SOAK_DIR"/hostile/*.request | xargs -n 1 basename |
		sed 's/\.request$//' | paste -sd ' ')
	cat "$SOAK_DIR"/requests.* | awk -v cases=" $billing_cases " '
		$3 == "billing" || index(cases, " " substr($3, 9) " ") { print $6, $4, $7 }'
}

# order_check: the orders answered 200 (by the message_id they were answered with)
# against the rows in billing_db; sets the ORDER_* counts. A row no 200 names is counted
# by the answer its Idempotency-Key got (the publisher's message_id begins with the key:
# a 503 after the broker stored the order; the client's retry with that key is one order).
order_check() {
	app_psql POSTGRES_BILLING -c 'SELECT message_id, count(*) FROM orders GROUP BY message_id' |
		tr '|' ' ' >"$SOAK_DIR/rows"
	order_answers >"$SOAK_DIR/order-answers"
	read -r ORDER_ACCEPTED ORDER_ROWS ORDER_FOUND ORDER_MISSING ORDER_DOUBLED ORDER_EXTRA ORDER_EXTRA_BY < <(
		awk 'FILENAME == ARGV[1] { rows += $2; n[$1] = $2; if ($2 > 1) doubled += $2 - 1; next }
			{ answer[$1] = $2 }
			$2 == 200 { accepted++; named[$3]; if ($3 in n) found++; else missing++ }
			END {
				for (m in n) {
					if (m in named) continue
					extra++
					key = m; sub(/:.*/, "", key)
					by[(key in answer) ? answer[key] : "unknown"]++
				}
				for (s in by) { list = list sep s ":" by[s]; sep = "," }
				print accepted + 0, rows + 0, found + 0, missing + 0, doubled + 0, extra + 0, list
			}' "$SOAK_DIR/rows" "$SOAK_DIR/order-answers")
}

# ---- The table ------------------------------------------------------------------------

# requests_table: requests by kind (hostile cases together) and status.
requests_table() {
	local statuses
	statuses=$(cat "$SOAK_DIR"/requests.* | cut -d' ' -f4 | sort -u | paste -sd ' ')
	cat "$SOAK_DIR"/requests.* | awk -v statuses="$statuses" '
		{ kind = $3; sub(/:.*/, "", kind); n[kind, $4]++; n[kind, "total"]++; n["all", $4]++; n["all", "total"]++ }
		END {
			ns = split(statuses " total", st, " ")
			printf "| kind |"; for (i = 1; i <= ns; i++) printf " %s |", st[i]; print ""
			printf "|---|"; for (i = 1; i <= ns; i++) printf "---:|"; print ""
			nk = split("read list post put delete billing hostile all", kinds, " ")
			for (k = 1; k <= nk; k++) {
				printf "| %s |", kinds[k]
				for (i = 1; i <= ns; i++) printf " %d |", n[kinds[k], st[i]]
				print ""
			}
		}'
}

# target_row CHECK VALUE WANT: a row of the targets table; VALUE must equal WANT.
target_row() {
	local verdict=ok
	if [ "$2" != "$3" ]; then verdict=MISSED; MISSED=$((MISSED + 1)); fi
	echo "| $1 | $2 | $3 | $verdict |"
}

windows_table() {
	echo "| fault | started | ended | window until |"
	echo "|---|---:|---:|---:|"
	awk -v s="$START_US" -v g="$FAULT_GRACE" -v w=" ${!FAULT_KINDS[*]} " '{
		printf "| %s | t=%.1f s | t=%.1f s | %s |\n", $1, ($2 - s) / 1e6, ($3 - s) / 1e6,
			index(w, " " $1 " ") ? sprintf("t=%.1f s", ($3 - s) / 1e6 + g) : "no window" }' "$SOAK_DIR/faults"
}

# pm2_crashes: exits PM2 saw that were not its own stop or reload (code 0 on SIGINT).
pm2_crashes() {
	grep -E 'exited with code' "$PM2_HOME/pm2.log" 2>/dev/null |
		grep -vcE 'code \[0\] via signal \[SIG(INT|TERM)\]' || true
}

# soak_report: the whole table; MISSED counts the targets missed.
soak_report() {
	local windows='' name ok explained unexplained wrong
	for name in "${!FAULT_KINDS[@]}"; do windows+="$name:${FAULT_KINDS[$name]};"; done
	: >"$SOAK_DIR/unexplained"
	: >"$SOAK_DIR/wrong"
	read -r _ ok _ explained _ unexplained _ wrong < <(cat "$SOAK_DIR"/requests.* |
		awk -v start="$START_US" -v grace="$FAULT_GRACE" -v windows="$windows" -v out="$SOAK_DIR" \
			-f "$SOAK_LIB/classify.awk" "$SOAK_DIR/faults" - | paste -sd ' ')
	order_check
	echo
	echo "== requests by kind and status"
	requests_table
	echo
	echo "== faults as carried out"
	windows_table
	echo
	echo "== targets"
	echo "| check | value | target | |"
	echo "|---|---:|---:|---|"
	echo "| requests answered as expected | $ok | | |"
	echo "| 503 inside a fault window, for its kinds | $explained | | |"
	target_row "5xx or no answer outside the fault windows" "$unexplained" 0
	target_row "other unexpected answers (hostile body not 4xx problem+json, ...)" "$wrong" 0
	echo "| orders answered 200 | $ORDER_ACCEPTED | | |"
	target_row "... their message_id in billing_db" "$ORDER_FOUND" "$ORDER_ACCEPTED"
	target_row "... missing from billing_db" "$ORDER_MISSING" 0
	target_row "message_ids stored more than once" "$ORDER_DOUBLED" 0
	echo "| rows in billing_db | $ORDER_ROWS | | |"
	echo "| ... named by no 200 (by the answer their key got) | $ORDER_EXTRA${ORDER_EXTRA_BY:+ ($ORDER_EXTRA_BY)} | | |"
	target_row "messages left in $QUEUE_NAME and $QUEUE_NAME.dead" \
		"$(($(queue_count "$QUEUE_NAME") + $(queue_count "$QUEUE_NAME.dead")))" 0
	target_row "process exits PM2 did not cause (crashes)" "$(pm2_crashes)" 0
	echo
	echo "== resident memory of the C processes (a restarted one has a new pid)"
	rss_table
	if [ -s "$SOAK_DIR/unexplained" ] || [ -s "$SOAK_DIR/wrong" ]; then
		echo
		echo "== unexpected answers (first 20 of each)"
		head -n 20 "$SOAK_DIR/unexplained" "$SOAK_DIR/wrong"
	fi
}

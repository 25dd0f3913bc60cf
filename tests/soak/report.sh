# shellcheck shell=bash
# Sourced by soak.sh: the orders in billing_db and the tables printed at the end. Each
# target missed adds one to MISSED (coverage.sh: the minimums and the faults; the C
# processes' memory: tests/lib/procs.sh).

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
	request_lines | awk -v cases=" $billing_cases " '
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
	statuses=$(request_lines | cut -d' ' -f4 | sort -u | paste -sd ' ')
	request_lines | awk -v statuses="$statuses" '
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

# pm2_crashes: exits PM2 saw that were not its own stop or reload (code 0 on SIGINT).
pm2_crashes() {
	grep -E 'exited with code' "$PM2_HOME/pm2.log" 2>/dev/null |
		grep -vcE 'code \[0\] via signal \[SIG(INT|TERM)\]' || true
}

# soak_report: the whole table; MISSED counts the targets missed.
soak_report() {
	local ok explained unexplained wrong
	read -r _ ok _ explained _ unexplained _ wrong < <(classify_requests) || true
	order_check
	echo
	echo "== requests by kind and status"
	requests_table
	echo
	echo "== requests of each kind answered as expected, against the minimum (a quarter of what"
	echo "   the kind's rate makes in SOAK_SECONDS=$SOAK_SECONDS, at least 1: tests/soak/coverage.sh)"
	kinds_table
	echo
	echo "== faults: each scheduled one carried out, in order, with requests during its window"
	faults_table
	echo
	echo "== targets"
	echo "| check | value | target | |"
	echo "|---|---:|---:|---|"
	echo "| requests answered as expected | ${ok:-0} | | |"
	echo "| 503 inside a fault window, for its kinds | ${explained:-0} | | |"
	target_row "5xx or no answer outside the fault windows" "${unexplained:-0}" 0
	target_row "other unexpected answers (hostile body not 4xx problem+json, ...)" "${wrong:-0}" 0
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
	rss_table "$SOAK_DIR/rss-start" "$SOAK_DIR/rss-end" "at start" "at end"
	if [ -s "$SOAK_DIR/unexplained" ] || [ -s "$SOAK_DIR/wrong" ]; then
		echo
		echo "== unexpected answers (first 20 of each)"
		head -n 20 "$SOAK_DIR/unexplained" "$SOAK_DIR/wrong"
	fi
}

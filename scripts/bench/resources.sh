# shellcheck shell=bash
# Sourced by bench.sh: the CPU ticks the stack's processes use, read from /proc, and the
# summary of a perf profile. Which processes they are, and their memory: tests/lib/procs.sh.

# ---- CPU -------------------------------------------------------------------------
# Where a scenario's CPU goes: ticks each part of the stack used during the measured
# run, per request. "rest" is the machine's busy time the parts do not account for:
# the load generator (wrk or pgbench), PM2 and kernel work not charged to a process.

CPU_PARTS=(lighttpd inventory_app billing_publisher billing_app PostgreSQL RabbitMQ)
CLK_TCK=$(getconf CLK_TCK)

# proc_ticks PID: CPU ticks of PID and of its children it has reaped.
proc_ticks() {
	local t
	t=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $12 + $13 + $14 + $15 }' || true)
	echo "${t:-0}"
}

# tree_ticks PID: proc_ticks of PID and of its living children (server processes).
tree_ticks() {
	local sum child
	[[ $1 =~ ^[1-9][0-9]*$ ]] || { echo 0; return; }
	sum=$(proc_ticks "$1")
	for child in $(pgrep -P "$1" || true); do sum=$((sum + $(proc_ticks "$child"))); done
	echo "$sum"
}

# sum_ticks PID...: tree_ticks of several processes, added up.
sum_ticks() {
	local sum=0 pid
	for pid in "$@"; do sum=$((sum + $(tree_ticks "$pid"))); done
	echo "$sum"
}

# cpu_sample: "busy total" ticks of the machine, then the ticks of each of CPU_PARTS.
# Every inventory instance counts; with SIDE_CPU naming a side gateway (sidecars.sh), its
# lighttpd and backends stand in for the stack's lighttpd and inventory.
cpu_sample() {
	local pids pg rabbit inventory=() side=$WORK/side/${SIDE_CPU:-}
	read -r -a pids < <(process_pids "${PROCESSES[@]}")
	if [ -n "${SIDE_CPU:-}" ]; then
		pids[0]=$(cat "$side/gateway.pid")
		mapfile -t inventory < "$side/backend.pids"
	else
		mapfile -t inventory < <(pgrep -P "$(cat "$PM2_HOME/pm2.pid")" -x inventory_app || true)
	fi
	pg=$(head -n 1 "$STACK_DIR/pg/postmaster.pid" 2>/dev/null || true)
	rabbit=$(cat "$STACK_DIR/rabbit/pid" 2>/dev/null || true)
	awk '/^cpu / { b = $2 + $3 + $4 + $7 + $8 + $9; printf "%d %d", b, b + $5 + $6 }' /proc/stat
	# lighttpd alone: the publisher, its child, is a part of its own
	echo " $(proc_ticks "${pids[0]}") $(sum_ticks "${inventory[@]}") $(tree_ticks "${pids[2]}")" \
		"$(tree_ticks "${pids[3]}") $(tree_ticks "$pg") $(tree_ticks "$rabbit")"
}

# save_cpu KEY REQUESTS BEFORE AFTER: machine busy % and CPU µs per request of each
# part and of the rest, from two cpu_sample lines.
save_cpu() {
	awk -v n="$2" -v hz="$CLK_TCK" -v a="$3" -v b="$4" -v nparts="${#CPU_PARTS[@]}" 'BEGIN {
		split(a, x, " "); split(b, y, " ")
		printf "%.0f", 100 * (y[1] - x[1]) / (y[2] - x[2])
		parts = 0
		for (i = 3; i < 3 + nparts; i++) {
			d = y[i] - x[i]; parts += d
			printf " %.0f", d * 1e6 / hz / n
		}
		printf " %.0f %.0f\n", (y[1] - x[1] - parts) * 1e6 / hz / n, (y[1] - x[1]) * 1e6 / hz / n
	}' > "$WORK/result/$1.cpu"
}

# profile_summary KEY: from the whole-machine perf record of a scenario, the share of
# each process, then the hottest functions of each of our C programs and of lighttpd.
profile_summary() {
	local data=$WORK/raw/$1.perf comm
	echo "perf record -a -g -F 499 during the measured run of ${LABEL[$1]}."
	echo
	echo "== share of all samples, by process (swapper = idle)"
	perf report -i "$data" --no-children --sort comm --stdio -g none 2>/dev/null |
		grep -v '^#' | grep -v '^$' > "$data.comms" || true
	head -n 15 "$data.comms"
	# perf truncates process names to 15 characters
	for comm in lighttpd inventory_app billing_publish; do
		grep -q " $comm *\$" "$data.comms" || continue
		perf report -i "$data" --no-children --comm "$comm" --percentage relative \
			--sort dso,sym --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' \
			> "$data.$comm" || true
		echo
		echo "== $comm: hottest functions, share of its own samples" \
			"(in the kernel: $(awk '$3 == "[k]" { k += $1 } END { printf "%.0f", k }' "$data.$comm") %)"
		head -n 15 "$data.$comm"
	done
}

# shellcheck shell=bash
# The private stack's processes, for the soak (tests/soak), the benchmark (scripts/bench)
# and the bats suites (through tests/lib/helpers.bash): which they are, what memory they
# hold, and stopping what `pm2 kill` left behind. Needs PM2_HOME (tests/lib/stack.sh's
# private_stack_env) and, for pm2_online_pids, PM2 (scripts/deploy/lib/pm2.sh).

# ---- Which processes ------------------------------------------------------------------

# stack_pm2_pid: the pid of this stack's PM2 daemon, nothing when it is not running.
stack_pm2_pid() {
	local pid
	pid=$(cat "$PM2_HOME/pm2.pid" 2>/dev/null || true)
	[[ $pid =~ ^[1-9][0-9]*$ ]] && echo "$pid"
	return 0
}

# c_processes: "NAME PID" of every C process of the stack, read from /proc rather than
# asked of the pm2 CLI (slow): lighttpd (a child of the PM2 daemon, as app.sh and
# gateway.sh exec the programs), the billing publisher (lighttpd's child), and each
# inventory_app and billing_app instance, numbered by pid (inventory_app#1, ...).
c_processes() {
	local daemon gateway name pid i
	daemon=$(stack_pm2_pid)
	[ -n "$daemon" ] || return 0
	gateway=$(pgrep -P "$daemon" -x lighttpd | head -n 1 || true)
	if [ -n "$gateway" ]; then
		echo "lighttpd $gateway"
		pgrep -P "$gateway" -f billing_publisher | sed 's/^/billing_publisher /' || true
	fi
	for name in inventory_app billing_app; do
		i=0
		for pid in $(pgrep -P "$daemon" -x "$name" | sort -n || true); do
			i=$((i + 1))
			echo "$name#$i $pid"
		done
	done
}

# process_pids NAME...: the pid of the first process of each NAME (lighttpd,
# inventory_app, billing_publisher, billing_app), on one line, "-" for one not running.
process_pids() {
	c_processes | awk -v names="$*" '
		{ name = $1; sub(/#.*/, "", name); if (!(name in pid)) pid[name] = $2 }
		END { n = split(names, want, " "); for (i = 1; i <= n; i++) printf "%s%s", (i > 1 ? " " : ""), (want[i] in pid ? pid[want[i]] : "-"); print "" }'
}

# pm2_online_pids NAME: the pids of NAME's instances PM2 reports online, one a line.
pm2_online_pids() {
	"$PM2" jlist | jq -r --arg n "$1" '.[] | select(.name == $n and .pm2_env.status == "online") | .pid'
}

# instances_online NAME N: at least N of NAME's instances are online (PM2's view).
instances_online() {
	[ "$(pm2_online_pids "$1" | grep -c .)" -ge "$2" ]
}

# ---- Memory ---------------------------------------------------------------------------

# rss_kb PID...: resident memory in KB of each, on one line ("-" for a process that is gone).
rss_kb() {
	local pid kb values=()
	for pid in "$@"; do
		kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
		values+=("${kb:--}")
	done
	echo "${values[*]}"
}

# snapshot_rss FILE: "NAME PID RSS_KB" of each C process (c_processes) into FILE.
snapshot_rss() {
	local name pid
	c_processes | while read -r name pid; do
		echo "$name $pid $(rss_kb "$pid")"
	done >"$1"
}

# rss_table FIRST SECOND LABEL1 LABEL2: a markdown table of two snapshot_rss files side by
# side, by process name (a restarted process has a new pid; "-" where one is missing).
rss_table() {
	echo "| process | pid $3 | RSS $3 | pid $4 | RSS $4 |"
	echo "|---|---:|---:|---:|---:|"
	join -a 1 -a 2 -e - -o 0,1.2,1.3,2.2,2.3 <(sort "$1" 2>/dev/null) <(sort "$2" 2>/dev/null) |
		awk '{ printf "| %s | %s | %s | %s | %s |\n", $1, $2, kb($3), $4, kb($5) }
			function kb(v) { return v == "-" ? "-" : sprintf("%.1f MB", v / 1024) }'
}

# ---- Stopping -------------------------------------------------------------------------

# stop_leftovers PID...: the stack's processes that `pm2 kill` left running, if any: they
# get 3 s (pm2 kill returns while its daemon may still be exiting), then SIGTERM.
stop_leftovers() {
	local pid left=() tries=0
	while [ "$tries" -lt 30 ]; do
		left=()
		for pid in "$@"; do
			if [[ $pid =~ ^[1-9][0-9]*$ ]] && [ "$pid" != $$ ] && kill -0 "$pid" 2>/dev/null; then
				left+=("$pid")
			fi
		done
		[ "${#left[@]}" -gt 0 ] || return 0
		sleep 0.1 # polling the pids themselves: nothing else tells when they are gone
		tries=$((tries + 1))
	done
	echo "${0##*/}: stopping processes pm2 kill left behind: ${left[*]}" >&2
	kill "${left[@]}" 2>/dev/null || true
}

# stack_pids: the PM2 daemon's pid and every C process's, on one line (for stop_leftovers,
# read before the stack is stopped).
stack_pids() {
	echo "$(stack_pm2_pid) $(c_processes | cut -d' ' -f2 | paste -sd ' ')"
}

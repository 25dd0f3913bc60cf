# shellcheck shell=bash
# Sourced by bench.sh: stopping the private stack on exit, and whatever it left running.

# cleanup: the EXIT trap. Stops the stack; keeps its folder and shows the logs after a
# failure, keeps the results of a QUICK run, removes everything after a full one.
cleanup() {
	local status=$? pids
	read -r -a pids <<< "$(cat "$PM2_HOME/pm2.pid" 2>/dev/null || true) $(process_pids)"
	sidecars_down
	private_stack_down
	stop_leftovers "${pids[@]}"
	if [ "$status" = 1 ] || [ "$status" -gt 2 ]; then
		echo "--- logs of the failed run (kept in $STACK_DIR)"
		tail -n 30 "$PM2_HOME"/logs/*.log 2>/dev/null || true
	elif [ "$QUICK" = 1 ]; then
		rm -rf "$STACK_DIR/pg" "$STACK_DIR/rabbit" "$STACK_DIR/pm2" "$STACK_DIR/run"
	else
		rm -rf "$STACK_DIR"
	fi
}

# stop_leftovers PID...: the stack's processes that `pm2 kill` left running, if any.
stop_leftovers() {
	local pid left=() tries=0
	# pm2 kill returns while its daemon may still be exiting: give it 3 s.
	while [ "$tries" -lt 30 ]; do
		left=()
		for pid in "$@"; do
			if [[ $pid =~ ^[1-9][0-9]*$ ]] && kill -0 "$pid" 2>/dev/null; then left+=("$pid"); fi
		done
		[ "${#left[@]}" -gt 0 ] || return 0
		sleep 0.1
		tries=$((tries + 1))
	done
	left=()
	for pid in "$@"; do
		if [[ $pid =~ ^[1-9][0-9]*$ ]] && [ "$pid" != $$ ] && kill -0 "$pid" 2>/dev/null; then
			left+=("$pid")
		fi
	done
	[ "${#left[@]}" -gt 0 ] || return 0
	echo "bench: stopping processes pm2 kill left behind: ${left[*]}" >&2
	kill "${left[@]}" 2>/dev/null || true
}

# shellcheck shell=bash
# Sourced by bench.sh: stopping the private stack on exit, and whatever it left running
# (stop_leftovers: tests/lib/procs.sh).

# cleanup: the EXIT trap. Stops the stack; keeps its folder and shows the logs after a
# failure, keeps the results of a QUICK run, removes everything after a full one.
cleanup() {
	local status=$? pids
	read -r -a pids <<< "$(stack_pids)"
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

# shellcheck shell=bash
# Sourced: PM2, root's process manager for the three apps. A call that registers apps or
# hands them the caller's environment (start of the ecosystem file, startOrRestart,
# reload --update-env) goes through pm2_, so that no value from .env is stored in PM2.
# Calls on apps PM2 already knows by name (list, jlist, stop, start, reload, scale,
# delete, kill, logs) keep the environment the app was registered with: $PM2 itself.

# pm2_ ARGS...: PM2 without the values that came from .env unchanged, so that every app
# reads .env afresh each time it starts (app.sh, gateway.sh) and no password from it is
# kept in PM2's process list or dump. What the caller set itself (a test's private
# ports, a VM's hosts) still reaches the apps, except a password: PM2 would store it,
# so that is refused (put it in ENV_FILE).
pm2_() {
	local name unset=()
	for name in $(compgen -e); do
		if [ "${ENV_FILE_VALUES[$name]+set}" ] && [ "${!name}" = "${ENV_FILE_VALUES[$name]}" ]; then
			unset+=(-u "$name")
		elif is_secret "$name" || [ "$name" = RABBITMQ_URL ]; then
			echo "pm2_: $name is set outside $ENV_FILE; PM2 would store it" >&2
			return 1
		fi
	done
	env "${unset[@]}" "$PM2" "$@"
}

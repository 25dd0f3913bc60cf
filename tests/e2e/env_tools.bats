#!/usr/bin/env bats
# The settings file collides with no tool: a sysadmin who loads it into a shell
# (`set -a; . ./.env; set +a`) can still run rabbitmqctl, psql and pm2 as the README shows
# them, against the services of this stack. The file is the one the stack runs on, written
# from .env.example as `make run` writes it.
bats_require_minimum_version 1.5.0

load ../lib/helpers

setup() {
	common_setup
}

# with_env_loaded CMD...: CMD in a shell that has loaded the settings file with set -a,
# as a sysadmin does; the stack's own variables (ports, node name) stay as they are.
with_env_loaded() {
	ENV_FILE_LOADED=$ENV_FILE bash -c 'set -a; . "$ENV_FILE_LOADED"; set +a; "$@"' with_env "$@"
}

@test "the settings file names no variable that rabbitmqctl, libpq or PM2 read" {
	local names
	names=$(sed -n 's/^[[:space:]]*\([A-Za-z_][A-Za-z0-9_]*\)=.*/\1/p' \
		"$ENV_FILE" "$PROJECT_ROOT/.env.example" | sort -u)
	[ -n "$names" ] || fail "no settings found in $ENV_FILE"
	# libpq reads PG*; PM2 PM2_*; RabbitMQ's scripts RABBITMQ_ plus the names of its
	# rabbitmq-env.conf (rabbitmq-env(8)) and Erlang's ERL_*.
	run grep -E '^(PG[A-Z]+|PM2_[A-Z_]+|ERL_[A-Z_]+|RABBITMQ_(ERLANG_COOKIE|NODENAME|NODE_[A-Z_]+|USE_LONGNAME|CONFIG_FILE|ADVANCED_CONFIG_FILE|CONF_ENV_FILE|MNESIA_[A-Z_]+|LOG_[A-Z_]+|PID_FILE|ENABLED_PLUGINS[A-Z_]*|PLUGINS_DIR|SERVER_[A-Z_]+|CTL_[A-Z_]+|DIST_PORT|SCHEMA_DIR|HOME|BASE|KEEP_PID_FILE_ON_EXIT|FEATURE_FLAGS[A-Z_]*|DEFAULT_[A-Z_]+|LOGS|SASL_LOGS|MAX_NUMBER_OF_[A-Z_]+|IO_THREAD_POOL_SIZE|QUORUM_DIR|STREAM_DIR|MOTD_FILE|ALLOW_INPUT|DEV_SIGNATURES))$' <<<"$names"
	assert_output ""
}

@test "after loading the settings file, rabbitmqctl status reaches the node" {
	# The node and the CLI read the cookie from HOME's .erlang.cookie (the private node's
	# folder here, /var/lib/rabbitmq on Debian's node).
	run with_env_loaded env HOME="$STACK_DIR/rabbit" ERL_CRASH_DUMP_SECONDS=0 \
		/usr/lib/rabbitmq/bin/rabbitmqctl -n "$RABBITMQ_NODENAME" status
	assert_success
	assert_output --partial "$RABBITMQ_NODENAME"
}

@test "after loading the settings file, psql as the README shows it reads orders and movies" {
	local where=(-h "$STACK_DIR/pg" -p "$POSTGRES_PORT")
	run with_env_loaded runuser -u postgres -- psql "${where[@]}" -X "$POSTGRES_BILLING_DB" -c 'TABLE orders;'
	assert_success
	assert_output --partial message_id
	run with_env_loaded runuser -u postgres -- psql "${where[@]}" -X "$POSTGRES_DB" -c 'TABLE movies;'
	assert_success
	assert_output --partial title
}

@test "after loading the settings file, pm2 list shows the three apps online" {
	run with_env_loaded "$PM2" list
	assert_success
	assert_output --partial inventory_app
	run with_env_loaded "$PM2" jlist
	assert_success
	run jq -r '[.[] | select(.pm2_env.status == "online") | .name] | unique | join(" ")' <<<"$output"
	assert_output "api_gateway_app billing_app inventory_app"
}

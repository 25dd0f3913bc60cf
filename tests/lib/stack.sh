# shellcheck shell=bash
# Sourced by the test runners, the soak and the benchmark: a whole private stack
# (PostgreSQL, RabbitMQ, the three apps under their own PM2) on private ports and folders
# under a temporary STACK_DIR, and sample_ps, which the tests grep for passwords.

source "$PROJECT_ROOT/scripts/deploy/lib/postgres.sh"
source "$PROJECT_ROOT/scripts/deploy/lib/rabbitmq.sh"
source "$PROJECT_ROOT/scripts/deploy/lib/pm2.sh"

# sample_ps FILE CMD...: runs CMD while the arguments of every process on the machine are
# appended to FILE, again and again, until CMD ends (the tests look there for passwords).
sample_ps() {
	local file=$1 sampler status=0
	shift
	while :; do
		ps -eo args >>"$file"
		sleep 0.02 # sampling: each ps is a snapshot, so take many
	done 3>&- &
	sampler=$!
	"$@" || status=$?
	kill "$sampler"
	wait "$sampler" 2>/dev/null || true
	return "$status"
}

# private_stack_env NAME: a temporary STACK_DIR and private ports and folders, over
# .env's settings. Credentials stay .env's: the private services are set up with them.
private_stack_env() {
	STACK_DIR=$(mktemp -d "/tmp/movies-$1.XXXXXX")
	chmod 755 "$STACK_DIR"
	export STACK_DIR
	load_env
	ensure_erlang_cookie
	export API_GATEWAY_PORT=${TEST_GATEWAY_PORT:-18080} GATEWAY_BIND=127.0.0.1
	export METRICS_BIND=127.0.0.1 METRICS_PORT=${TEST_METRICS_PORT:-$((API_GATEWAY_PORT + 10))}
	# Like make run, the inventory is reached over unix sockets, or over TCP (as a
	# remote host is) with TEST_INVENTORY_TRANSPORT=tcp.
	if [ "${TEST_INVENTORY_TRANSPORT:-unix}" = tcp ]; then
		export INVENTORY_LISTEN_ADDR=127.0.0.1:${TEST_INVENTORY_PORT:-19000}
		export INVENTORY_METRICS_PORT=$((${TEST_INVENTORY_PORT:-19000} + 10))
	else
		export INVENTORY_LISTEN_ADDR=unix:$STACK_DIR/inventory/inventory.sock
	fi
	export INVENTORY_FCGI_ADDR=$INVENTORY_LISTEN_ADDR
	export POSTGRES_HOST=127.0.0.1 POSTGRES_PORT=${TEST_PG_PORT:-15432}
	export POSTGRES_BILLING_HOST=127.0.0.1 POSTGRES_BILLING_PORT=$POSTGRES_PORT
	export RABBITMQ_ADDR=127.0.0.1:${TEST_RABBIT_PORT:-16672}
	export RUN_DIR=$STACK_DIR/run PM2_HOME=$STACK_DIR/pm2
	export BUILD_DIR=$PROJECT_ROOT/${BUILD:-build/release}
	derive_env
}

private_stack_up() {
	allow_listener_handover
	ensure_app_users inventory_app billing_app
	private_pg_start
	pg_allow_only POSTGRES POSTGRES_BILLING
	db_setup
	private_rabbit_start
	rabbit_setup
	pm2_ start "$PROJECT_ROOT/scripts/deploy/ecosystem.config.js" >/dev/null
	wait_for 30 curl -fsS -o /dev/null "http://127.0.0.1:$API_GATEWAY_PORT/api/movies" ||
		{ echo "the gateway did not come up" >&2; return 1; }
}

private_stack_down() {
	"$PM2" kill >/dev/null 2>&1 || true
	private_rabbit_stop >/dev/null 2>&1 || true
	private_pg_stop >/dev/null 2>&1 || true
}

# shellcheck shell=bash
# Sourced: the optional database tier (issue 20). With DB_HOSTS (a comma list of the DB
# hosts, db-vm-1,db-vm-2,db-vm-3) movies_db and billing_db live on one Patroni cluster:
# each DB host runs one etcd member (Patroni's consensus store) and one Patroni, which
# runs PostgreSQL 15 itself; both under PM2 (scripts/deploy/db.config.js, db.sh), as
# the unprivileged users etcd and postgres. Debian's packages: patroni 3.0.2, etcd 3.4.
# Unset DB_HOSTS (the default) changes nothing: each role keeps its own PostgreSQL.
#
# Ports on each DB host: PostgreSQL POSTGRES_PORT, Patroni's REST API DB_API_PORT (8008),
# etcd 2379 (clients) and 2380 (peers).
#
# Failover timing (Patroni's dcs settings, written at bootstrap; see docs/deployment.md):
# the leader key lives DB_TTL seconds (6) unless renewed; each Patroni acts every
# DB_LOOP_WAIT (1) and gives up on etcd or PostgreSQL after DB_RETRY_TIMEOUT (2), so a
# primary that lost etcd demotes itself before its key can expire (loop_wait + 2 *
# retry_timeout <= ttl, Patroni's rule). A dead primary is replaced within ttl + loop_wait,
# plus etcd's election when etcd's leader died with it (a new etcd leader gives every
# lease its whole ttl again, plus etcd's election timeout).

source "$PROJECT_ROOT/scripts/deploy/lib/host.sh"
source "$PROJECT_ROOT/scripts/deploy/lib/postgres_exporter.sh"

DB_API_PORT=${DB_API_PORT:-8008}
DB_TTL=${DB_TTL:-6}
DB_LOOP_WAIT=${DB_LOOP_WAIT:-1}
DB_RETRY_TIMEOUT=${DB_RETRY_TIMEOUT:-2}
DB_SCOPE=movies
DB_SECRETS=(DB_REPLICATION_PASSWORD DB_REWIND_PASSWORD DB_API_PASSWORD)

# db_dir: this host's folder of the tier (etcd's data, PostgreSQL's, patroni.yml).
db_dir() {
	if [ -n "${STACK_DIR:-}" ]; then echo "$STACK_DIR/db"; else echo /var/lib/movies-db; fi
}

# db_cluster_env: the apps' connection settings point at every DB host (libpq's
# multi-host form finds the primary; fcgi/common/db.c). Nothing without DB_HOSTS.
db_cluster_env() {
	[ -n "${DB_HOSTS:-}" ] || return 0
	export POSTGRES_HOST=$DB_HOSTS POSTGRES_BILLING_HOST=$DB_HOSTS
	export POSTGRES_BILLING_PORT=${POSTGRES_PORT:-5432}
}

# ensure_db_secrets: the tier's own passwords (replication, pg_rewind, Patroni's REST API
# for changes), random ones appended to the hosts' shared .env when missing, as
# ensure_erlang_cookie does for the broker cluster.
ensure_db_secrets() {
	local name value
	[ -n "${DB_HOSTS:-}" ] && [ -O "$ENV_FILE" ] || return 0
	for name in "${DB_SECRETS[@]}"; do
		grep -q "^[[:space:]]*$name=" "$ENV_FILE" && continue
		value=$(random_secret)
		printf '%s=%s\n' "$name" "$value" >>"$ENV_FILE"
		[ -n "${!name-}" ] || derive_value "$name" "$value"
		echo "added a random $name to $ENV_FILE" >&2
	done
}

# db_hosts_ips: the DB hosts' addresses, one a line.
db_hosts_ips() {
	local h
	for h in $(list_words "$DB_HOSTS"); do
		must_resolve "$h"
	done
}

# etcd_endpoints [SKIP]: the etcd client URLs of every DB host but SKIP, comma-separated.
etcd_endpoints() {
	local h urls=()
	for h in $(list_words "$DB_HOSTS"); do
		[ "$h" = "${1-}" ] || urls+=("http://$(must_resolve "$h"):2379")
	done
	(IFS=,; echo "${urls[*]}")
}

# etcd_ctl ENDPOINTS ARGS...: etcdctl (v3 API) on those endpoints, quickly giving up.
etcd_ctl() {
	local endpoints=$1
	shift
	ETCDCTL_API=3 etcdctl --endpoints="$endpoints" --dial-timeout=2s --command-timeout=5s "$@"
}

# etcd_member_add ENDPOINTS NAME PEER_URL FILE: adds the member, etcdctl's answer (the
# ETCD_INITIAL_CLUSTER it is to start with) in FILE. etcd refuses ("unhealthy cluster")
# until its leader has been connected to a quorum for 5 s, as it is right after the
# previous DB host joined, so callers retry it.
etcd_member_add() {
	etcd_ctl "$1" member add "$2" --peer-urls="$3" >"$4"
}

# etcd_join_or_create SELF IP: writes DIR/etcd.args, how this member starts. A member with
# data restarts as it was. Otherwise: when another DB host's etcd answers, the cluster
# exists, so this member is added to it (a stale member of the same name, a dead node
# being replaced, is removed first); when none answers, this one starts a new cluster
# of one, which the others join as they are provisioned.
etcd_join_or_create() {
	local self=$1 ip=$2 dir others state=new initial id
	dir=$(db_dir)
	others=$(etcd_endpoints "$self")
	initial="$self=http://$ip:2380"
	if [ -d "$dir/etcd/member" ]; then
		state=existing
		initial=$(cat "$dir/etcd.initial" 2>/dev/null || echo "$initial")
	elif [ -n "$others" ] && etcd_ctl "$others" member list >/dev/null 2>&1; then
		state=existing
		id=$(etcd_ctl "$others" member list | awk -F', ' -v n="$self" '$3 == n { print $1 }')
		[ -z "$id" ] || etcd_ctl "$others" member remove "$id" >/dev/null
		# A member added but never started has no name yet: it is ours if its URL is.
		id=$(etcd_ctl "$others" member list | awk -F', ' -v u="http://$ip:2380" '$3 == "" && $4 == u { print $1 }')
		[ -z "$id" ] || etcd_ctl "$others" member remove "$id" >/dev/null
		wait_for 60 etcd_member_add "$others" "$self" "http://$ip:2380" "$dir/etcd.added" ||
			{ echo "etcd on $others did not add $self" >&2; return 1; }
		initial=$(sed -n 's/^ETCD_INITIAL_CLUSTER="\(.*\)"$/\1/p' "$dir/etcd.added")
	fi
	echo "$initial" >"$dir/etcd.initial"
	{
		echo "--name=$self"
		echo "--data-dir=$dir/etcd"
		echo "--listen-client-urls=http://$ip:2379,http://127.0.0.1:2379"
		echo "--advertise-client-urls=http://$ip:2379"
		echo "--listen-peer-urls=http://$ip:2380"
		echo "--initial-advertise-peer-urls=http://$ip:2380"
		echo "--initial-cluster=$initial"
		echo "--initial-cluster-state=$state"
		echo "--initial-cluster-token=$DB_SCOPE-db"
		# etcd's defaults, 100 ms / 1 s: when etcd's leader dies with the primary, its loss
		# is noticed after one to two election timeouts, and the new leader extends every
		# lease by one more; with 2 s here a crash cost 10.4-15.7 s of failed writes.
		echo "--heartbeat-interval=100"
		echo "--election-timeout=1000"
		# A member back from a partition asks before it calls an election (pre-vote), so
		# its rejoining does not depose the leader and stall Patroni's leader key.
		echo "--pre-vote=true"
	} >"$dir/etcd.args"
}

# db_max_connections: room for every inventory_app thread (one instance more per host
# during a rolling reload), billing_app and a few for Patroni and provisioning.
db_max_connections() {
	local n
	n=$(list_words "${INVENTORY_HOST:-localhost}" | grep -c .)
	echo $((n * (${INVENTORY_INSTANCES:-2} + 1) * ${INVENTORY_THREADS:-32} + 40))
}

# db_hba_lines: who PostgreSQL admits, Patroni's pg_hba list: the superuser from the
# postgres OS user on the local socket; the other DB hosts for replication and pg_rewind;
# each database's own role from loopback (provisioning) and from its app hosts (movies_db
# from INVENTORY_HOST, billing_db from BILLING_HOST); PostgreSQL's exporter, when on, from
# loopback to database postgres. All by scram. Nobody else.
db_hba_lines() {
	local ip h
	echo "local all postgres peer"
	for ip in $(db_hosts_ips); do
		echo "host replication replicator $ip/32 scram-sha-256"
		echo "host postgres rewind_user $ip/32 scram-sha-256"
	done
	echo "host $POSTGRES_DB $POSTGRES_USER 127.0.0.1/32 scram-sha-256"
	echo "host $POSTGRES_BILLING_DB $POSTGRES_BILLING_USER 127.0.0.1/32 scram-sha-256"
	for h in $(list_words "${INVENTORY_HOST:-}"); do
		echo "host $POSTGRES_DB $POSTGRES_USER $(must_resolve "$h")/32 scram-sha-256"
	done
	for h in $(list_words "${BILLING_HOST:-}"); do
		echo "host $POSTGRES_BILLING_DB $POSTGRES_BILLING_USER $(must_resolve "$h")/32 scram-sha-256"
	done
	! postgres_exporter_enabled ||
		echo "host postgres ${POSTGRES_EXPORTER_USER:-metrics_reader} 127.0.0.1/32 scram-sha-256"
}

# patroni_write_config SELF IP: DIR/patroni.yml (root:postgres, 640: it holds the tier's
# passwords), rewritten on each provisioning; Patroni reads it at start.
patroni_write_config() {
	local self=$1 ip=$2 dir tmp line
	dir=$(db_dir)
	tmp=$(mktemp "$dir/patroni.yml.XXXXXX")
	cat >"$tmp" <<YAML
# Written by provisioning (scripts/deploy/lib/patroni.sh): edit that, not this.
scope: $DB_SCOPE
name: $self
log:
  level: WARNING
restapi:
  listen: $ip:$DB_API_PORT
  connect_address: $ip:$DB_API_PORT
  authentication:
    username: patroni
    password: "$DB_API_PASSWORD"
etcd3:
  hosts: $(etcd_endpoints | sed 's,http://,,g')
  protocol: http
bootstrap:
  dcs:
    ttl: $DB_TTL
    loop_wait: $DB_LOOP_WAIT
    retry_timeout: $DB_RETRY_TIMEOUT
    maximum_lag_on_failover: 1048576
    synchronous_mode: true
    postgresql:
      use_pg_rewind: true
      use_slots: true
      parameters:
        wal_log_hints: "on"
        max_connections: $(db_max_connections)
        max_wal_senders: 10
        max_replication_slots: 10
        hot_standby: "on"
  initdb:
    - encoding: UTF8
    - locale: C.UTF-8
    - data-checksums
postgresql:
  listen: "$ip,127.0.0.1:$POSTGRES_PORT"
  connect_address: "$ip:$POSTGRES_PORT"
  data_dir: $dir/pg
  bin_dir: /usr/lib/postgresql/15/bin
  pgpass: $dir/run/pgpass
  use_unix_socket: true
  authentication:
    superuser:
      username: postgres
    replication:
      username: replicator
      password: "$DB_REPLICATION_PASSWORD"
    rewind:
      username: rewind_user
      password: "$DB_REWIND_PASSWORD"
  # A new replica's copy starts at once: pg_basebackup's default spread checkpoint
  # writes one dirty buffer per 100 ms (3 minutes after the databases were set up).
  basebackup:
    - checkpoint: fast
  parameters:
    unix_socket_directories: "$dir/run"
    password_encryption: scram-sha-256
  pg_hba:
YAML
	db_hba_lines | while IFS= read -r line; do echo "    - $line"; done >>"$tmp"
	chown root:postgres "$tmp"
	chmod 640 "$tmp"
	mv -f "$tmp" "$dir/patroni.yml"
}

# db_api PATH: GET PATH of this host's Patroni REST API (no credentials: reads only).
db_api() {
	curl -fsS --max-time 3 "http://$DB_SELF_IP:$DB_API_PORT$1"
}

# db_leader: the cluster's leader, as this host's Patroni sees it.
db_leader() {
	db_api /cluster | jq -er '.members[] | select(.role == "leader") | .name'
}

# db_tier_start: this DB host's etcd member and Patroni, under PM2, started or left running.
db_tier_start() {
	local dir
	dir=$(db_dir)
	DB_SELF=$(this_host_in "$DB_HOSTS") || { echo "this host is not one of DB_HOSTS ($DB_HOSTS)" >&2; exit 1; }
	DB_SELF_IP=$(must_resolve "$DB_SELF")
	install -d -m 755 "$dir"
	install -d -m 700 -o etcd -g etcd "$dir/etcd"
	install -d -m 700 -o postgres -g postgres "$dir/pg" "$dir/run"
	patroni_write_config "$DB_SELF" "$DB_SELF_IP"
	if ! "$PM2" describe etcd >/dev/null 2>&1; then
		etcd_join_or_create "$DB_SELF" "$DB_SELF_IP"
	fi
	DB_DIR=$dir pm2_ startOrRestart "$PROJECT_ROOT/scripts/deploy/db.config.js" >/dev/null
	wait_for 60 etcd_ctl "http://$DB_SELF_IP:2379" endpoint health ||
		{ echo "etcd on $DB_SELF did not become healthy" >&2; return 1; }
	wait_for 120 db_leader || { echo "the database cluster has no leader" >&2; return 1; }
}

# db_setup_on_leader: movies_db and billing_db with their roles and schemas
# (lib/postgres.sh's db_setup), and the exporter's role when it is on, done by the
# leader's provisioning; a replica gets them by replication. The first DB host
# provisioned bootstraps the cluster, so it leads then.
db_setup_on_leader() {
	local leader
	leader=$(db_leader)
	if [ "$leader" != "$DB_SELF" ]; then
		echo "databases: set up on the leader ($leader); this host replicates them"
		return 0
	fi
	export PG_SOCKET_DIR
	PG_SOCKET_DIR=$(db_dir)/run
	wait_for 60 pg_admin -c 'SELECT 1'
	POSTGRES_HOST=127.0.0.1 POSTGRES_BILLING_HOST=127.0.0.1 db_setup
	! postgres_exporter_enabled || pg_ensure_metrics_role
}

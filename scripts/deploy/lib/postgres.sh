# shellcheck shell=bash
# Sourced: PostgreSQL. "system_" functions drive Debian's cluster 15/main (make run,
# provisioning); "private_" ones a throw-away cluster under $STACK_DIR on its own port
# (tests, bench, the namespace hosts); pg_up picks by whether STACK_DIR is set. Then the
# applications' roles, databases and schemas, and who may log in.

source "$PROJECT_ROOT/scripts/deploy/lib/host.sh"

PG_BIN=/usr/lib/postgresql/15/bin

# Set by provisioning on the first of several inventory hosts: PG_EXTRA_LISTEN, an
# address PostgreSQL listens on besides loopback, for the other inventory hosts, and
# PG_MAX_CONNECTIONS, room for all their inventory_app connections.

# pg_server_settings LOOPBACK: NAME=VALUE, a line each, of the server settings that
# provisioning chooses: where it listens (LOOPBACK and PG_EXTRA_LISTEN) and, when set,
# max_connections.
pg_server_settings() {
	echo "listen_addresses=$1${PG_EXTRA_LISTEN:+,$PG_EXTRA_LISTEN}"
	[ -z "${PG_MAX_CONNECTIONS:-}" ] || echo "max_connections=$PG_MAX_CONNECTIONS"
}

# pg_has_settings NAME=VALUE...: the running server has these settings already.
pg_has_settings() {
	local kv
	for kv in "$@"; do
		[ "$(pg_admin -c "SHOW ${kv%%=*}")" = "${kv#*=}" ] || return 1
	done
}

# system_pg_start: Debian's cluster; with PG_EXTRA_LISTEN, pg_server_settings too (set
# with ALTER SYSTEM, applied by a restart when they changed). Unset: left as it is.
system_pg_start() {
	local settings kv
	pg_lsclusters -h | grep -q '^15 *main' || pg_createcluster 15 main
	pg_ctlcluster 15 main status >/dev/null 2>&1 || pg_ctlcluster 15 main start
	wait_for 30 runuser -u postgres -- psql -qAtc 'SELECT 1'
	[ -n "${PG_EXTRA_LISTEN:-}" ] || return 0
	mapfile -t settings < <(pg_server_settings localhost)
	! pg_has_settings "${settings[@]}" || return 0
	for kv in "${settings[@]}"; do
		pg_admin -v v="${kv#*=}" <<<"ALTER SYSTEM SET ${kv%%=*} = :'v'"
	done
	pg_ctlcluster 15 main restart
	wait_for 30 runuser -u postgres -- psql -qAtc 'SELECT 1'
}

private_pg_start() {
	local dir=$STACK_DIR/pg settings kv opts=''
	mapfile -t settings < <(pg_server_settings 127.0.0.1)
	if [ -f "$dir/postmaster.pid" ] && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
		! pg_has_settings "${settings[@]}" || return 0
		private_pg_stop
	fi
	for kv in "${settings[@]}"; do
		opts+=" -c $kv"
	done
	if [ ! -f "$dir/PG_VERSION" ]; then
		mkdir -p "$dir"
		chown postgres: "$STACK_DIR" "$dir"
		# As on Debian's cluster: the superuser is postgres, by peer on the socket only.
		runuser -u postgres -- "$PG_BIN/initdb" -D "$dir" -U postgres --auth-local=peer \
			--auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$STACK_DIR/initdb.log"
	fi
	runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$dir" -l "$STACK_DIR/pg.log" -w -t 30 \
		-o "-p $POSTGRES_PORT -k $dir$opts" start >/dev/null 3>&-
}

private_pg_stop() {
	runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$STACK_DIR/pg" -m fast -w stop >/dev/null
}

# pg_admin_on DB [psql args...]: admin SQL as the postgres superuser, from the postgres OS
# user on the local socket (the system cluster's, or a private one's).
pg_admin_on() {
	local db=$1 where=()
	shift
	[ -z "${STACK_DIR:-}" ] || where=(-h "$STACK_DIR/pg" -p "$POSTGRES_PORT")
	# A Patroni node's socket (lib/patroni.sh).
	[ -z "${PG_SOCKET_DIR:-}" ] || where=(-h "$PG_SOCKET_DIR" -p "$POSTGRES_PORT")
	runuser -u postgres -- psql -qAtX -v ON_ERROR_STOP=1 "${where[@]}" -d "$db" "$@"
}

pg_admin() {
	pg_admin_on postgres "$@"
}

# pg_ensure_role USER PASSWORD: a login role with no other attribute (not a superuser, no
# CREATEDB, CREATEROLE, REPLICATION or BYPASSRLS). The password reaches psql in its
# environment and the server in one statement that no setting of this session logs.
pg_ensure_role() {
	if [ "$1" = postgres ]; then
		echo "the applications' role cannot be postgres, the superuser: name another in $ENV_FILE" >&2
		return 1
	fi
	ROLE_PASSWORD=$2 pg_admin -v u="$1" <<'SQL'
SET log_statement = 'none';
SET log_min_duration_statement = -1;
SET log_min_error_statement = 'panic';
\getenv p ROLE_PASSWORD
SELECT format('CREATE ROLE %I', :'u') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'u')\gexec
SELECT format('ALTER ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD %L', :'u', :'p')\gexec
SQL
}

# pg_ensure_db DB OWNER: DB owned by OWNER, which alone (and the superuser) may connect to
# it; tables left in it by an older provisioning, as another role, become OWNER's too.
pg_ensure_db() {
	pg_admin -v d="$1" -v o="$2" <<'SQL'
SELECT format('CREATE DATABASE %I OWNER %I TEMPLATE template0 ENCODING ''UTF8'' LOCALE ''C.UTF-8''', :'d', :'o') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'d')\gexec
SELECT format('ALTER DATABASE %I OWNER TO %I', :'d', :'o')\gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'d')\gexec
SQL
	pg_admin_on "$1" -v o="$2" <<'SQL'
SELECT format('ALTER TABLE %I.%I OWNER TO %I', n.nspname, c.relname, :'o')
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND pg_get_userbyid(c.relowner) <> :'o'\gexec
SQL
}

# pg_allow_only PREFIX...: who the cluster lets in (its pg_hba.conf, then a reload): the
# postgres superuser from the postgres OS user on the local socket (its password, if an
# older provisioning set one, is removed), and each PREFIX's role (POSTGRES,
# POSTGRES_BILLING) over loopback TCP with its password, and from the addresses in
# PREFIX_CLIENT_ADDRS (provisioning lists the inventory hosts' in POSTGRES_CLIENT_ADDRS).
# Nobody else, from nowhere else.
pg_allow_only() {
	local hba prefix user clients addr
	hba=$(pg_admin -c 'SHOW hba_file')
	{
		echo "# Written by provisioning (scripts/deploy/lib/postgres.sh, pg_allow_only): edit that, not this."
		echo "local all postgres peer"
		for prefix in "$@"; do
			user=${prefix}_USER clients=${prefix}_CLIENT_ADDRS
			for addr in 127.0.0.1/32 ::1/128 ${!clients:-}; do
				[[ $addr == */* ]] || addr=$addr/32
				printf 'host all "%s" %s scram-sha-256\n' "${!user}" "$addr"
			done
		done
	} >"$hba"
	pg_admin -c 'ALTER ROLE postgres PASSWORD NULL' -c 'SELECT pg_reload_conf()' >/dev/null
}

# app_psql PREFIX [psql args...]: psql as an application's own user, over TCP with its
# password, on the database that PREFIX names (POSTGRES: movies, POSTGRES_BILLING: orders).
# The password travels in the environment of psql alone, never on a command line.
app_psql() {
	local p=$1
	shift
	local host=${p}_HOST port=${p}_PORT user=${p}_USER pass=${p}_PASSWORD db=${p}_DB
	PGPASSWORD=${!pass} psql -qAtX -v ON_ERROR_STOP=1 -h "${!host}" -p "${!port}" \
		-U "${!user}" -d "${!db}" "$@"
}

# pg_apply_schema PREFIX FILE: runs FILE as the application's own user, which also
# proves the credentials in .env work.
pg_apply_schema() {
	app_psql "$1" -f "$2"
}

db_setup_movies() {
	pg_ensure_role "$POSTGRES_USER" "$POSTGRES_PASSWORD"
	pg_ensure_db "$POSTGRES_DB" "$POSTGRES_USER"
	pg_apply_schema POSTGRES "$PROJECT_ROOT/sql/movies.sql"
}

db_setup_billing() {
	pg_ensure_role "$POSTGRES_BILLING_USER" "$POSTGRES_BILLING_PASSWORD"
	pg_ensure_db "$POSTGRES_BILLING_DB" "$POSTGRES_BILLING_USER"
	pg_apply_schema POSTGRES_BILLING "$PROJECT_ROOT/sql/billing.sql"
}

db_setup() {
	db_setup_movies
	db_setup_billing
}

pg_up() {
	if [ -n "${STACK_DIR:-}" ]; then private_pg_start; else system_pg_start; fi
}

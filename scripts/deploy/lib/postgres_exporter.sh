# shellcheck shell=bash
# Sourced: PostgreSQL's own metrics (README, Observability). Opt-in: with
# POSTGRES_EXPORTER_PORT set (0, the default: off; 9187 is the exporter's usual port), a
# host whose inventory or billing role runs a PostgreSQL also runs Debian's
# prometheus-postgres-exporter, under PM2 (scripts/deploy/postgres_exporter.config.js and
# postgres_exporter.sh) as the package's unprivileged prometheus user, listening on
# METRICS_BIND:POSTGRES_EXPORTER_PORT. It logs in to the local cluster over loopback TCP
# as POSTGRES_EXPORTER_USER, a role granted pg_monitor and nothing else: it reads the
# statistics views, no table. Its password is a random one that provisioning appends to
# .env (ensure_postgres_exporter_secret). Each DB host of the database tier runs one too,
# beside its Patroni's PostgreSQL (lib/patroni.sh), primary or standby alike.

# postgres_exporter_enabled: POSTGRES_EXPORTER_PORT asks for the exporter.
postgres_exporter_enabled() {
	[ "${POSTGRES_EXPORTER_PORT:-0}" != 0 ]
}

# postgres_exporter_listen: METRICS_BIND:POSTGRES_EXPORTER_PORT, or a message.
postgres_exporter_listen() {
	if [[ ! ${POSTGRES_EXPORTER_PORT:-0} =~ ^[0-9]{1,5}$ ]] || [ "$((10#${POSTGRES_EXPORTER_PORT:-0}))" -gt 65535 ]; then
		echo "POSTGRES_EXPORTER_PORT=$POSTGRES_EXPORTER_PORT: expected a port number (0: off)" >&2
		return 1
	fi
	echo "${METRICS_BIND:-127.0.0.1}:$((10#$POSTGRES_EXPORTER_PORT))"
}

# ensure_postgres_exporter_secret: with the exporter on, a .env without
# POSTGRES_EXPORTER_PASSWORD gets a random one appended (as ensure_db_secrets does).
ensure_postgres_exporter_secret() {
	local value
	postgres_exporter_enabled && [ -O "$ENV_FILE" ] || return 0
	grep -q '^[[:space:]]*POSTGRES_EXPORTER_PASSWORD=' "$ENV_FILE" && return 0
	value=$(random_secret)
	printf 'POSTGRES_EXPORTER_PASSWORD=%s\n' "$value" >>"$ENV_FILE"
	[ -n "${POSTGRES_EXPORTER_PASSWORD-}" ] || derive_value POSTGRES_EXPORTER_PASSWORD "$value"
	echo "added a random POSTGRES_EXPORTER_PASSWORD to $ENV_FILE" >&2
}

# pg_ensure_metrics_role: POSTGRES_EXPORTER_USER, a login role (pg_ensure_role: no other
# attribute) that is a member of pg_monitor and of no other role, and owns nothing. It
# must not be an application's role: those own the tables.
pg_ensure_metrics_role() {
	local user=${POSTGRES_EXPORTER_USER:-metrics_reader}
	if [ "$user" = "$POSTGRES_USER" ] || [ "$user" = "$POSTGRES_BILLING_USER" ]; then
		echo "POSTGRES_EXPORTER_USER=$user is an application's role: name a role of its own in $ENV_FILE" >&2
		return 1
	fi
	pg_ensure_role "$user" "${POSTGRES_EXPORTER_PASSWORD:?POSTGRES_EXPORTER_PASSWORD is not set}"
	pg_admin -v u="$user" <<'SQL'
SELECT format('REVOKE %I FROM %I', r.rolname, :'u')
  FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member
 WHERE u.rolname = :'u' AND r.rolname <> 'pg_monitor'\gexec
SELECT format('GRANT pg_monitor TO %I', :'u')\gexec
SQL
}

# pg_conninfo_value VALUE: VALUE quoted for a libpq key=value connection string.
pg_conninfo_value() {
	local v=${1//\\/\\\\}
	printf "'%s'" "${v//\'/\\\'}"
}

# postgres_exporter_dsn: the exporter's connection string to this host's cluster (on
# POSTGRES_PORT, over loopback, its database postgres: pg_stat_database lists them all).
postgres_exporter_dsn() {
	printf 'host=127.0.0.1 port=%s dbname=postgres sslmode=disable user=%s password=%s' \
		"${POSTGRES_PORT:-5432}" "$(pg_conninfo_value "${POSTGRES_EXPORTER_USER:-metrics_reader}")" \
		"$(pg_conninfo_value "$POSTGRES_EXPORTER_PASSWORD")"
}

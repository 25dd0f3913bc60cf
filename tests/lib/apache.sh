# shellcheck shell=bash
# Sourced by tests/lib/test-apache.sh: a private Apache httpd serving the shared-hosting
# site (cgi-bin/apache-*.conf): Debian's packages, the site as a customer uploads it, the host's
# server config, start and stop. Needs PROJECT_ROOT, BUILD_DIR and wait_for (lib/host.sh).

APACHE_USER=www-data
APACHE_MODULES=/usr/lib/apache2/modules

# apache_install: apache2 and mod_fcgid from Debian. Their maintainer scripts would start
# the system Apache on port 80: a policy-rc.d that refuses every start stops that (one
# already there is left alone).
apache_install() {
	local policy=/usr/sbin/policy-rc.d made=0
	[ "$(dpkg-query -W -f='${Status}\n' apache2 libapache2-mod-fcgid 2>/dev/null |
		grep -c '^install ok installed$')" -ne 2 ] || return 0
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy"
		chmod 755 "$policy"
		made=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q \
		--no-install-recommends apache2 libapache2-mod-fcgid >/dev/null || {
		[ "$made" -eq 0 ] || rm -f "$policy"
		return 1
	}
	[ "$made" -eq 0 ] || rm -f "$policy"
}

# site_upload DIR: what a customer uploads (README, Shared hosting), owned by the user the
# programs run as (suEXEC's customer; www-data here), and .env written from this stack's
# settings, mode 600.
site_upload() {
	local dir=$1 f name
	mkdir -p "$dir/build/release" "$dir/cgi-bin" "$dir/scripts/deploy/lib" "$dir/scripts/gateway"
	cp "$BUILD_DIR/inventory_app" "$BUILD_DIR/billing_publisher" "$dir/build/release/"
	cp "$PROJECT_ROOT/cgi-bin/movies" "$PROJECT_ROOT/cgi-bin/billing" "$dir/cgi-bin/"
	cp "$PROJECT_ROOT/scripts/deploy/lib/env.sh" "$PROJECT_ROOT/scripts/deploy/lib/amqp_url.sh" \
		"$dir/scripts/deploy/lib/"
	cp -r "$PROJECT_ROOT/scripts/gateway/errors" "$dir/scripts/gateway/"
	cp "$PROJECT_ROOT/.env.example" "$dir/"
	sed "s/65536/$((REQUEST_BODY_MAX_KB * 1024))/g" \
		"$PROJECT_ROOT/cgi-bin/apache-htaccess.conf" >"$dir/.htaccess"
	f=$dir/.env
	: >"$f"
	chmod 600 "$f"
	for name in POSTGRES_USER POSTGRES_PASSWORD POSTGRES_DB POSTGRES_HOST POSTGRES_PORT \
		RABBITMQ_URL QUEUE_NAME RABBITMQ_QUEUE_TYPE BILLING_CONFIRM_TIMEOUT_MS REQUEST_BODY_MAX_KB; do
		printf '%s=%s\n' "$name" "${!name}" >>"$f"
	done
	chown -R "$APACHE_USER:$APACHE_USER" "$dir"
}

# site_private_env SITE DIR: the vhost's way: the site's .env moves to DIR (not served,
# readable by the programs' user only), where MOVIES_ENV_FILE names it, beside an empty
# htpasswd file, MOVIES_HTPASSWD.
site_private_env() {
	local site=$1 dir=$2
	mkdir -p "$dir"
	chmod 700 "$dir"
	mv "$site/.env" "$dir/.env"
	export MOVIES_ENV_FILE=$dir/.env MOVIES_HTPASSWD=$dir/htpasswd
	: >"$MOVIES_HTPASSWD"
	chmod 600 "$MOVIES_HTPASSWD"
	chown -R "$APACHE_USER:$APACHE_USER" "$dir"
}

# apache_conf DIR PORT MODE SITE: the host's server config for one private Apache serving
# the uploaded SITE; MODE is cgid (plain CGI), fcgid (mod_fcgid) or vhost
# (cgi-bin/apache-vhost.conf, with mod_fcgid). The site's .htaccess is allowed only what
# cgi-bin/apache-htaccess.conf says a host must allow.
apache_conf() {
	local dir=$1 port=$2 mode=$3 site=$4 m
	APACHE_SITE=$site
	mkdir -p "$dir/run" "$dir/fcgid"
	chown "$APACHE_USER:$APACHE_USER" "$dir/run" "$dir/fcgid"
	{
		for m in mpm_event authz_core authz_host authn_core authn_file auth_basic authz_user \
			mime rewrite alias env headers; do
			echo "LoadModule ${m}_module $APACHE_MODULES/mod_$m.so"
		done
		case $mode in
		cgid) echo "LoadModule cgid_module $APACHE_MODULES/mod_cgid.so" ;;
		*) echo "LoadModule fcgid_module $APACHE_MODULES/mod_fcgid.so" ;;
		esac
		cat <<-EOF
			ServerName 127.0.0.1
			Listen 127.0.0.1:$port
			PidFile $dir/run/httpd.pid
			DefaultRuntimeDir $dir/run
			Mutex file:$dir/run default
			ScoreBoardFile $dir/run/scoreboard
			ErrorLog $dir/error.log
			LogLevel warn
			User $APACHE_USER
			Group $APACHE_USER
			ServerTokens Prod
			ServerSignature Off
			TraceEnable Off
			TypesConfig /etc/mime.types
			AccessFileName .htaccess
			<IfModule cgid_module>
				ScriptSock $dir/run/cgid.sock
			</IfModule>
			<IfModule fcgid_module>
				FcgidIPCDir $dir/fcgid
				FcgidProcessTableFile $dir/run/fcgid_shm
			</IfModule>
			<Directory />
				AllowOverride None
				Require all denied
			</Directory>
			<Files ".ht*">
				Require all denied
			</Files>
		EOF
		if [ "$mode" = vhost ]; then
			echo "Define MOVIES_ROOT $site"
			echo "Define MOVIES_ENV_FILE $MOVIES_ENV_FILE"
			echo "Define MOVIES_HTPASSWD $MOVIES_HTPASSWD"
			echo "<VirtualHost 127.0.0.1:$port>"
			sed "s/65536/$((REQUEST_BODY_MAX_KB * 1024))/g" "$PROJECT_ROOT/cgi-bin/apache-vhost.conf"
			echo "</VirtualHost>"
		else
			cat <<-EOF
				DocumentRoot $site
				<Directory $site>
					AllowOverride FileInfo AuthConfig Limit Options=ExecCGI,Indexes
					Require all granted
				</Directory>
			EOF
		fi
	} >"$dir/httpd.conf"
}

# apache_start DIR: Apache in the foreground, in the background; waits for it to answer.
apache_start() {
	local dir=$1 port=$2
	/usr/sbin/apache2 -d "$dir" -f "$dir/httpd.conf" -DFOREGROUND >>"$dir/error.log" 2>&1 3>&- &
	APACHE_PID=$!
	wait_for 60 curl -sS -o /dev/null "http://127.0.0.1:$port/api/movies" || {
		echo "Apache did not come up on $port:"
		tail -n 20 "$dir/error.log"
		return 1
	}
}

# apache_stop: stops Apache, which stops the programs mod_fcgid started (SIGTERM); one
# still running from the site after that counts as a failure.
apache_stop() {
	[ -n "${APACHE_PID:-}" ] || return 0
	kill "$APACHE_PID" 2>/dev/null || true
	wait "$APACHE_PID" 2>/dev/null || true
	APACHE_PID=
	if ! wait_for 30 site_programs_gone; then
		echo "programs still running after Apache stopped:"
		pgrep -af "$APACHE_SITE/build/" || true
		failed=$((failed + 1))
	fi
}

site_programs_gone() {
	! pgrep -f "$APACHE_SITE/build/" >/dev/null
}

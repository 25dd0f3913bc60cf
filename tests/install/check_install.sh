#!/usr/bin/env bash
# make install into temporary DESTDIRs: lists what landed, checks it is what the gateway,
# the daemons and the cgi-bin entries need (programs in sbin, the rest under
# share/movie-platform laid out as in the repository, every file the lighttpd configs
# name, a sample .env in etc/movie-platform, lib/installed.sh pointing the scripts at
# them), that PREFIX, sysconfdir, localstatedir and DESTDIR are honoured, that each program
# links only the libraries and code it uses, and that make uninstall takes away what
# install-manifest lists, and nothing else. Running the installed tree is
# tests/install/run_installed.sh's part. Uses the programs in BUILD (default
# build/release). Last line: "N passed, N failed".
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build/release}
source "$ROOT/tests/install/check.sh"
PREFIX=/opt/movies
PROGRAMS=(inventory_app billing_publisher billing_app)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT


# make_into DESTDIR [VAR=value...]: make install (or uninstall) with this build's programs.
make_into() {
	local dest=$1
	shift
	make -s -C "$ROOT" BUILD="$BUILD" DESTDIR="$dest" "$@"
}

# installed_as MODE PATH: PATH is a regular file with permissions MODE.
installed_as() {
	[ -f "$2" ] && [ "$(stat -c %a "$2")" = "$1" ]
}

# same_files SRC_DIR DEST_DIR: every file of SRC_DIR is in DEST_DIR with the same bytes.
same_files() {
	local f
	for f in "$1"/*; do
		cmp -s "$f" "$2/${f##*/}" || return 1
	done
}

# links PROGRAM LIBRARY: PROGRAM is dynamically linked against LIBRARY (libpq, ...).
links() {
	readelf -d "$1" | grep -q "NEEDED.*\[$2\.so"
}

# defines PROGRAM PATTERN: PROGRAM's own code has a function matching PATTERN. grep reads
# all of nm's list: with -q it would stop at the first match, nm would die of SIGPIPE, and
# pipefail would turn a match into "not defined".
defines() {
	nm --defined-only "$1" | grep -E " [Tt] $2" >/dev/null
}

# only_under DESTDIR DIR: every file installed under DESTDIR lies below DIR.
only_under() {
	! find "$1" -type f | grep -v "^$1$2/"
}

# no_files DIR: DIR holds no file, at any depth.
no_files() {
	[ -z "$(find "$1" -type f)" ]
}

# lighttpd_paths CONF: every path CONF names under env.PROJECT_ROOT, one a line.
lighttpd_paths() {
	grep -o 'env\.PROJECT_ROOT + "[^"]*"' "$1" | sed 's/^[^"]*"//; s/"$//' | sort -u
}

# all_present ROOT PATH...: each PATH exists under ROOT.
all_present() {
	local root=$1 p
	shift
	[ $# -gt 0 ] || return 1
	for p in "$@"; do
		[ -e "$root$p" ] || { echo "missing: $p" >&2; return 1; }
	done
}

# swagger_files: the files of scripts/node_modules/swagger-ui-dist that lighttpd.conf
# serves (those whose /api/docs/ URL matches the condition above its alias), one a line.
swagger_files() {
	local re f
	# shellcheck disable=SC2016 # lighttpd's $HTTP, matched as it is
	re=$(grep -B3 'node_modules/swagger-ui-dist' "$ROOT/lighttpd.conf" |
		sed -n 's/^ *\$HTTP\["url"\] =~ "\(.*\)" {$/\1/p' | tail -n 1)
	[ -n "$re" ] || return 1
	for f in "$ROOT"/scripts/node_modules/swagger-ui-dist/*; do
		if grep -Eq "$re" <<<"/api/docs/${f##*/}"; then echo "${f##*/}"; fi
	done
}

# settings_from ENV_SH: "BUILD_DIR|ENV_FILE|RUN_DIR|PM2" as a clean shell sees them once
# it has sourced ENV_SH (an installed lib/env.sh, or the repository's).
settings_from() {
	# shellcheck disable=SC2016 # expanded by the clean shell
	env -i PATH="$PATH" bash -c 'source "$1" && echo "${BUILD_DIR-unset}|$ENV_FILE|${RUN_DIR-unset}|${PM2-unset}"' _ "$1"
}

# manifest_matches DESTDIR MANIFEST: MANIFEST lists exactly the files under DESTDIR.
manifest_matches() {
	diff <(sort "$2") <(find "$1" -type f -printf '/%P\n' | sort) >&2
}

# not CMD...: CMD fails.
not() {
	! "$@"
}

dest=$work/dest
share=$dest$PREFIX/share/movie-platform
sbin=$dest$PREFIX/sbin
etc=$dest$PREFIX/etc/movie-platform
check "make install PREFIX=$PREFIX DESTDIR=..." make_into "$dest" install PREFIX="$PREFIX"
echo "installed with PREFIX=$PREFIX:"
(cd "$dest" && find . -type f -printf '  %m %P\n' | sort)

for p in "${PROGRAMS[@]}"; do
	check "$p in sbin, executable" installed_as 755 "$sbin/$p"
done
check "lighttpd.conf" installed_as 644 "$share/lighttpd.conf"
check ".env.example (the defaults under .env)" installed_as 644 "$share/.env.example"
check "env.example, the sample .env, in etc/movie-platform" cmp "$ROOT/.env.example" "$etc/env.example"
check "no .env installed" test ! -e "$etc/.env"
check "sql/ complete" same_files "$ROOT/sql" "$share/sql"
check "cgi-bin/ complete" same_files "$ROOT/cgi-bin" "$share/cgi-bin"
for f in "$ROOT"/cgi-bin/*; do
	[[ $f == *.conf ]] || check "cgi-bin/${f##*/} executable" installed_as 755 "$share/cgi-bin/${f##*/}"
done
for f in app.sh gateway.sh reload.sh status.sh stop.sh postgres_exporter.sh; do
	check "scripts/deploy/$f executable" installed_as 755 "$share/scripts/deploy/$f"
done
for f in ecosystem.config.js postgres_exporter.config.js; do
	check "scripts/deploy/$f" installed_as 644 "$share/scripts/deploy/$f"
done
check "scripts/deploy/lib/ complete" same_files "$ROOT/scripts/deploy/lib" "$share/scripts/deploy/lib"
check "gateway error pages complete" same_files "$ROOT/scripts/gateway/errors" \
	"$share/scripts/gateway/errors"
check "the API page complete" same_files "$ROOT/scripts/gateway/api-docs" "$share/scripts/gateway/api-docs"
mapfile -t swagger < <(swagger_files)
check "lighttpd.conf serves Swagger UI files (found ${#swagger[@]})" test "${#swagger[@]}" -ge 5
for f in "${swagger[@]}"; do
	check "swagger-ui-dist/$f" installed_as 644 "$share/scripts/node_modules/swagger-ui-dist/$f"
done
for conf in lighttpd.conf cgi-bin/lighttpd-cgi.conf; do
	mapfile -t paths < <(lighttpd_paths "$ROOT/$conf")
	check "every file $conf names under PROJECT_ROOT is installed (${paths[*]})" \
		all_present "$share" "${paths[@]}"
done
check "the cgi-bin entries' env.sh is installed" all_present "$share" \
	/cgi-bin/../scripts/deploy/lib/env.sh
check "install-manifest lists every installed file" manifest_matches "$dest" \
	"$share/install-manifest"
check "the installed env.sh finds the installed programs, .env, RUN_DIR, PM2" \
	test "$(settings_from "$share/scripts/deploy/lib/env.sh")" = \
	"$PREFIX/sbin|$PREFIX/etc/movie-platform/.env|$PREFIX/var/run/movie-platform|pm2"
check "the repository's env.sh keeps its defaults" \
	test "$(settings_from "$ROOT/scripts/deploy/lib/env.sh")" = "unset|$ROOT/.env|unset|unset"
check "nothing outside PREFIX" only_under "$dest" "$PREFIX"

check "inventory_app does not link librabbitmq" not links "$sbin/inventory_app" librabbitmq
check "inventory_app carries no billing code" not defines "$sbin/inventory_app" \
	'(broker|order|publish|message_id)_'
check "inventory_app links libpq" links "$sbin/inventory_app" libpq
check "billing_publisher does not link libpq" not links "$sbin/billing_publisher" libpq
check "billing_publisher carries no inventory code" not defines "$sbin/billing_publisher" \
	'(movies?|routes|db)_'
# billing_app answers one FastCGI request, its metrics page on a billing host of its own
# (fcgi/common/metrics_listener.h): libfcgi and http_, but no request-serving pool or body.
check "billing_app serves no requests but its metrics page" not defines "$sbin/billing_app" \
	'(fcgi_server|json_body|json_input)_'
check "billing_app's metrics page is the listener's" defines "$sbin/billing_app" metrics_listener_start

# An administrator's .env beside the sample stays; everything installed goes.
echo "SECRET=mine" >"$etc/.env"
check "make uninstall" make_into "$dest" uninstall PREFIX="$PREFIX"
check "uninstall leaves the administrator's .env alone" test "$(find "$dest" -type f)" = "$etc/.env"
check "no share/movie-platform folder left" test ! -e "$share"
rm -r "$etc"
check "make uninstall with nothing installed fails" not make_into "$dest" uninstall PREFIX="$PREFIX"

check "make install without PREFIX uses /usr/local" make_into "$work/default" install
check "default: programs in /usr/local/sbin" installed_as 755 "$work/default/usr/local/sbin/inventory_app"
check "default: files in /usr/local/share/movie-platform" \
	installed_as 644 "$work/default/usr/local/share/movie-platform/lighttpd.conf"
check "default: the sample .env in /usr/local/etc/movie-platform" \
	installed_as 644 "$work/default/usr/local/etc/movie-platform/env.example"

# A Debian package's layout.
deb=$work/deb
deb_vars=(PREFIX=/usr sysconfdir=/etc localstatedir=/var)
check "make install ${deb_vars[*]} DESTDIR=..." make_into "$deb" install "${deb_vars[@]}"
check "debian: programs in /usr/sbin" installed_as 755 "$deb/usr/sbin/billing_app"
check "debian: files in /usr/share/movie-platform" installed_as 644 "$deb/usr/share/movie-platform/lighttpd.conf"
check "debian: the sample .env in /etc/movie-platform" installed_as 644 "$deb/etc/movie-platform/env.example"
check "debian: env.sh finds /usr/sbin, /etc/movie-platform/.env, /var/run/movie-platform" \
	test "$(settings_from "$deb/usr/share/movie-platform/scripts/deploy/lib/env.sh")" = \
	"/usr/sbin|/etc/movie-platform/.env|/var/run/movie-platform|pm2"
check "debian: make uninstall" make_into "$deb" uninstall "${deb_vars[@]}"
check "debian: nothing left after uninstall" no_files "$deb"
check "debian: no movie-platform folder left" test -z "$(find "$deb" -name movie-platform)"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

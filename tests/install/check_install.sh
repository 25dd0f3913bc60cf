#!/usr/bin/env bash
# make install into temporary DESTDIRs: lists what landed, checks it is what the gateway
# and provisioning need (programs in sbin, the rest under share/movie-platform laid out as
# in the repository), that PREFIX and DESTDIR are honoured, that each program links only
# the libraries and code it uses, and that make uninstall takes it all away again.
# Uses the programs in BUILD (default build/release). Last line: "N passed, N failed".
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build/release}
PREFIX=/opt/movies
PROGRAMS=(inventory_app billing_publisher billing_app)
passed=0
failed=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# check DESCRIPTION CMD...: runs CMD quietly and counts the outcome.
check() {
	local what=$1
	shift
	if "$@" >/dev/null 2>&1; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "not ok: $what"
	fi
}

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

# defines PROGRAM PATTERN: PROGRAM's own code has a function matching PATTERN.
defines() {
	nm --defined-only "$1" | grep -Eq " [Tt] $2"
}

# only_under DESTDIR DIR: every file installed under DESTDIR lies below DIR.
only_under() {
	! find "$1" -type f | grep -v "^$1$2/"
}

# no_files DIR: DIR holds no file, at any depth.
no_files() {
	[ -z "$(find "$1" -type f)" ]
}

# not CMD...: CMD fails.
not() {
	! "$@"
}

dest=$work/dest
share=$dest$PREFIX/share/movie-platform
sbin=$dest$PREFIX/sbin
check "make install PREFIX=$PREFIX DESTDIR=..." make_into "$dest" install PREFIX="$PREFIX"
echo "installed with PREFIX=$PREFIX:"
(cd "$dest" && find . -type f -printf '  %m %P\n' | sort)

for p in "${PROGRAMS[@]}"; do
	check "$p in sbin, executable" installed_as 755 "$sbin/$p"
done
check "lighttpd.conf" installed_as 644 "$share/lighttpd.conf"
check "sql/ complete" same_files "$ROOT/sql" "$share/sql"
check "cgi-bin/ complete" same_files "$ROOT/cgi-bin" "$share/cgi-bin"
for f in "$ROOT"/cgi-bin/*; do
	[[ $f == *.conf ]] || check "cgi-bin/${f##*/} executable" installed_as 755 "$share/cgi-bin/${f##*/}"
done
check "gateway error pages complete" same_files "$ROOT/scripts/gateway/errors" \
	"$share/scripts/gateway/errors"
check "nothing outside PREFIX" only_under "$dest" "$PREFIX"

check "inventory_app does not link librabbitmq" not links "$sbin/inventory_app" librabbitmq
check "inventory_app carries no billing code" not defines "$sbin/inventory_app" \
	'(broker|order|publish|message_id)_'
check "inventory_app links libpq" links "$sbin/inventory_app" libpq
check "billing_publisher does not link libpq" not links "$sbin/billing_publisher" libpq
check "billing_publisher carries no inventory code" not defines "$sbin/billing_publisher" \
	'(movies?|routes|db)_'
check "billing_app does not link libfcgi" not links "$sbin/billing_app" libfcgi
check "billing_app carries no HTTP code" not defines "$sbin/billing_app" '(http|fcgi_server|json_body)_'

check "make uninstall" make_into "$dest" uninstall PREFIX="$PREFIX"
check "nothing left after uninstall" no_files "$dest"
check "make install without PREFIX uses /usr/local" make_into "$work/default" install
check "default: programs in /usr/local/sbin" installed_as 755 "$work/default/usr/local/sbin/inventory_app"
check "default: files in /usr/local/share/movie-platform" \
	installed_as 644 "$work/default/usr/local/share/movie-platform/lighttpd.conf"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

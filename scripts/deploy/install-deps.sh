#!/usr/bin/env bash
# Installs what building, running and testing need: Debian packages with apt-get, and
# the Node tools (PM2, the OpenAPI linter) pinned in scripts/package-lock.json.
# Does nothing that is already done, so every make target can call it.
# Extra Debian packages a target needs can be named as arguments (e.g. vagrant).
set -euo pipefail
source "$(dirname "$0")/lib/env.sh"

PACKAGES=(
	build-essential pkg-config
	libfcgi-dev libfcgi-bin libpq-dev libjson-c-dev librabbitmq-dev amqp-tools
	lighttpd lighttpd-modules-lua postgresql rabbitmq-server openssl
	bats bats-support bats-assert shellcheck curl jq iproute2 bc
	wrk gnuplot-nox
	# HTTPS at the gateway (README, HTTPS).
	lighttpd-mod-openssl
	"$@"
)

# Development hosts only, not the platform's VMs: the browser test's Chromium, an HTTP/2
# client for tests/tls (nghttp), and Prometheus with promtool for tests/e2e/metrics.bats.
[ "${NODE_RUNTIME_ONLY:-0}" = 1 ] || PACKAGES+=(chromium nghttp2-client prometheus)
# PostgreSQL's exporter for tests/e2e/postgres_exporter.bats (provisioning names it itself).
[ "${NODE_RUNTIME_ONLY:-0}" = 1 ] || PACKAGES+=(prometheus-postgres-exporter)

missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
command -v npm >/dev/null || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
	[ "$(id -u)" = 0 ] || { echo "install as root: ${missing[*]}" >&2; exit 1; }
	echo "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# Debian starts services from postinst; this project starts its own, so block that.
	printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
	chmod +x /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# prometheus-postgres-exporter's own service would start at boot on every address with
# Debian's empty config; PM2 runs it here when asked (lib/postgres_exporter.sh).
if [ -e /etc/init.d/prometheus-postgres-exporter ] && [ "$(id -u)" = 0 ] &&
	compgen -G '/etc/rc[2-5].d/S*prometheus-postgres-exporter' >/dev/null; then
	update-rc.d prometheus-postgres-exporter disable >/dev/null 2>&1 || true
	[ ! -d /run/systemd/system ] || systemctl disable --now prometheus-postgres-exporter >/dev/null 2>&1 || true
fi

# The Node tools, as locked. Hosts that only run the platform (provisioning sets
# NODE_RUNTIME_ONLY=1) skip the development tools such as the OpenAPI linter.
# A full install also serves a runtime-only host: no npm call (the three-host test
# runs provisioning in network namespaces that cannot reach npm).
cd "$PROJECT_ROOT/scripts"
lock=$(sha256sum package-lock.json | cut -d' ' -f1)
want="$lock runtime-only=${NODE_RUNTIME_ONLY:-0}"
have=$(cat node_modules/.installed 2>/dev/null || true)
if [ "$have" != "$want" ] && [ "$have" != "$lock runtime-only=0" ]; then
	omit=()
	[ "${NODE_RUNTIME_ONLY:-0}" = 1 ] && omit=(--omit=dev)
	npm ci --no-audit --no-fund --loglevel=error "${omit[@]}" >/dev/null
	echo "$want" > node_modules/.installed
fi
# `pm2 list`, `pm2 stop billing_app`: the pinned PM2 on root's PATH.
if [ "$(id -u)" = 0 ] && ! command -v pm2 >/dev/null; then
	ln -sfn "$PROJECT_ROOT/scripts/node_modules/.bin/pm2" /usr/local/bin/pm2
fi

#!/usr/bin/env bash
# Lints docs/openapi.yaml with Redocly's recommended rules, offline.
# The linter comes from scripts/package.json (`npm ci --prefix scripts`).
# Usage: tests/lint_openapi.sh [FILE]   Prints "N passed, N failed" last, like the unit tests.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
spec=${1:-$root/docs/openapi.yaml}
redocly=$root/scripts/node_modules/.bin/redocly

if [ ! -x "$redocly" ]; then
	echo "lint_openapi: $redocly is missing; run: npm ci --prefix scripts" >&2
	echo "0 passed, 1 failed"
	exit 1
fi

# No telemetry or update check: the linter must not need the network.
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
# DELETE /api/movies has no client error to document, so the 4xx rule is off.
if "$redocly" lint --format=stylish --skip-rule=operation-4xx-response "$spec"; then
	echo "1 passed, 0 failed"
else
	echo "0 passed, 1 failed"
	exit 1
fi

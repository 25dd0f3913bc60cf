#!/usr/bin/env bash
# Runs shellcheck (following sourced files, -x) over every shell file git tracks: *.sh,
# *.bash, the bats suites (shellcheck reads their @test blocks itself), and any other
# file whose first line names bash or sh (cgi-bin's entries, .ci/run). Settings for all
# of them: .shellcheckrc at the repository root.
# Usage: tests/lint_shell.sh   Prints each file with findings, then "N passed, N failed".
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

if ! command -v shellcheck >/dev/null; then
	echo "lint_shell: shellcheck is missing; run: scripts/deploy/install-deps.sh" >&2
	echo "0 passed, 1 failed"
	exit 1
fi

# shell_files: the tracked shell files, one per line.
shell_files() {
	local f first
	git ls-files -z | while IFS= read -r -d '' f; do
		[ -f "$f" ] || continue
		case $f in
		*.sh | *.bash | *.bats) echo "$f" ;;
		*.*) ;;
		*)
			IFS= read -r first <"$f" || true
			[[ $first =~ ^\#!.*[/\ ](ba)?sh$ ]] && echo "$f"
			;;
		esac
	done
}

mapfile -t files < <(shell_files)
# In batches on every core: following the sourced files (-x) makes one run take a while.
report=$(printf '%s\0' "${files[@]}" |
	xargs -0 -n 12 -P "$(nproc)" shellcheck -x -f gcc | sort -u || true)
[ -z "$report" ] || printf '%s\n' "$report"
# A finding in a sourced file is reported under that file's name.
failing=$(cut -d: -f1 <<<"$report" | sort -u | grep -c . || true)
echo "$((${#files[@]} - failing)) passed, $failing failed"
[ "$failing" -eq 0 ]

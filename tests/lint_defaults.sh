#!/usr/bin/env bash
# One default per setting: every default the C programs fall back on (env_long, env_str,
# a listen address) equals the value .env.example gives the setting, and every default
# the README's configuration table states equals .env.example's too. A setting that only
# one of them names is not compared.
# Usage: tests/lint_defaults.sh   Prints each disagreement, then "N passed, N failed".
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

# example_defaults: NAME<TAB>VALUE for each setting line of .env.example (commented-out
# settings, like "# NAME=", are optional ones without a default and are left out).
example_defaults() {
	sed -n 's/^\([A-Z][A-Z0-9_]*\)=\(.*\)$/\1\t\2/p' .env.example
}

# c_defaults: NAME<TAB>VALUE for each env_long/env_str call with a literal default (a
# macro is looked up among the #defines) and each .listen_var/.listen_default pair.
c_defaults() {
	cat fcgi/*/*.c fcgi/*/*.h | perl -0777 -ne '
		my %def;
		while (/^#define[ \t]+(\w+)[ \t]+(.+?)[ \t]*(?:\/[*\/].*)?$/mg) { $def{$1} = $2 }
		while (/env_(?:long|str)\(\s*"([A-Z][A-Z0-9_]+)"\s*,\s*("[^"]*"|(?:[^,()]|\([^()]*\))+)/sg) {
			my ($n, $v) = ($1, $2);
			next if $v =~ /^\s*NULL\s*$/;
			if ($v !~ s/^"(.*)"$/$1/s) {
				# A number, or arithmetic over #defined numbers.
				$v =~ s/\b([A-Z_][A-Z0-9_]*)\b/exists $def{$1} ? $def{$1} : $1/ge;
				$v = eval $v if $v =~ /^[\d\s()+*\/-]+$/;
			}
			print "$n\t$v\n";
		}
		while (/\.listen_var\s*=\s*"(\w+)"\s*,\s*\.listen_default\s*=\s*"([^"]*)"/sg) {
			print "$1\t$2\n";
		}'
}

# readme_defaults: NAME<TAB>VALUE for each configuration table row whose first cell is one
# `NAME` and whose second cell is a plain value ("empty" stands for an empty one).
readme_defaults() {
	perl -ne '
		next unless /^\|\s*`([A-Z][A-Z0-9_]+)`\s*\|\s*([^|]*?)\s*\|/;
		my ($n, $v) = ($1, $2);
		$v =~ s/^`(.*)`$/$1/;
		$v = "" if $v eq "empty";
		next if $v =~ /[ (]/;   # a sentence, not a value
		print "$n\t$v\n";' README.md docs/*.md
}

declare -A example=()
while IFS=$'\t' read -r name value; do example[$name]=$value; done < <(example_defaults)

passed=0 failed=0
# compare SOURCE: each NAME<TAB>VALUE on stdin against .env.example's value.
compare() {
	local name value
	while IFS=$'\t' read -r name value; do
		[ "${example[$name]+set}" ] || continue
		if [ "${example[$name]}" = "$value" ]; then
			passed=$((passed + 1))
		else
			echo "$name: $1 says '$value', .env.example '${example[$name]}'"
			failed=$((failed + 1))
		fi
	done
}

compare "the C code" < <(c_defaults | sort -u)
compare "the docs" < <(readme_defaults | sort -u)
[ "$passed" -gt 0 ] || { echo "no default compared: is the parsing broken?"; failed=$((failed + 1)); }
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

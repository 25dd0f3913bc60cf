# shellcheck shell=bash
# Sourced by bench.sh: arithmetic and the formats of numbers in the output.

# calc EXPR: floating-point arithmetic.
calc() { awk "BEGIN { print ($1) }"; }

# thousands N: 12345.6 -> 12,346
thousands() { printf '%.0f' "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }

# ms MICROSECONDS: "1.23 ms", or "—" when not measured.
ms() { if [ "$1" = - ]; then echo —; else awk -v us="$1" 'BEGIN { printf "%.2f ms", us / 1000 }'; fi; }

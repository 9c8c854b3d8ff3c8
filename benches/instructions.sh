#!/usr/bin/env bash
# Instructions per churn operation, offset-alloc vs offset-allocator 0.2.0, counted by
# callgrind on the benchmark's own 2-million-operation stream (repeatable, unlike time).
# Only the replay loop is counted; the harness alone (`null`) is subtracted.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)" >&2; exit 1; }
bench=$(cargo bench --bench allocator --no-run --message-format=json 2>/dev/null \
    | sed -n 's/.*"executable":"\([^"]*allocator-[^"]*\)".*/\1/p' | tail -n 1)
out=$(mktemp -d)
count() {
    valgrind --tool=callgrind --toggle-collect='*replay*' --callgrind-out-file="$out/$1" \
        "$bench" --replay "$1" >/dev/null 2>"$out/$1.log"
    sed -n 's/^summary: //p' "$out/$1"
}
null=$(count null)
ours=$(count ours)
theirs=$(count theirs)
ops=2000000
awk -v n="$null" -v o="$ours" -v t="$theirs" -v ops="$ops" 'BEGIN {
    printf "instructions per operation: offset-alloc %.1f, offset-allocator %.1f, ratio %.3f\n",
        (o - n) / ops, (t - n) / ops, (o - n) / (t - n)
}'

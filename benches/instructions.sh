#!/usr/bin/env bash
# Instruction counts by callgrind: repeatable for the same binary and inputs, unlike time.
#
#   benches/instructions.sh [allocator]   instructions per churn operation, offset-alloc vs
#       offset-allocator 0.2.0, on the allocator benchmark's own 2-million-operation stream;
#       only the replay loop is counted and the harness alone (`null`) is subtracted.
#   benches/instructions.sh inserts       instructions per mesh of a reused pool's refill
#       (`clear`, then one `insert` per mesh of the GPU benchmark's 10,000, on lavapipe
#       unless WGPU_BACKEND says otherwise): all of them, and without libc's memset and
#       memcpy (wgpu zeroing the new mapped buffer, and the data's own copy), which is
#       the bookkeeping.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)" >&2; exit 1; }
out=$(mktemp -d)
executable() {
    cargo bench --bench "$1" --no-run --message-format=json 2>/dev/null \
        | sed -n "s/.*\"executable\":\"\([^\"]*$1-[^\"]*\)\".*/\1/p" | tail -n 1
}

allocator() {
    local bench
    bench=$(executable allocator)
    count() {
        valgrind --tool=callgrind --toggle-collect='*replay*' --callgrind-out-file="$out/$1" \
            "$bench" --replay "$1" >/dev/null 2>"$out/$1.log"
        sed -n 's/^summary: //p' "$out/$1"
    }
    local null ours theirs
    null=$(count null)
    ours=$(count ours)
    theirs=$(count theirs)
    awk -v n="$null" -v o="$ours" -v t="$theirs" -v ops=2000000 'BEGIN {
        printf "instructions per operation: offset-alloc %.1f, offset-allocator %.1f, ratio %.3f\n",
            (o - n) / ops, (t - n) / ops, (o - n) / (t - n)
    }'
}

inserts() {
    local bench runs=2 meshes=10000
    bench=$(executable gpu)
    if [ -z "${XDG_RUNTIME_DIR:-}" ]; then
        XDG_RUNTIME_DIR=$(mktemp -d)
        chmod 700 "$XDG_RUNTIME_DIR"
        export XDG_RUNTIME_DIR
    fi
    WGPU_BACKEND="${WGPU_BACKEND:-vulkan}" valgrind --tool=callgrind \
        --toggle-collect='*counted_refill*' --callgrind-out-file="$out/inserts" \
        "$bench" --count-refills "$runs" >"$out/inserts.out" 2>"$out/inserts.log"
    local total bytes
    total=$(sed -n 's/^summary: //p' "$out/inserts")
    # Self cost of libc's memset and memcpy/memmove variants (the bytes, not the bookkeeping).
    bytes=$(callgrind_annotate --threshold=100 "$out/inserts" 2>/dev/null \
        | awk '/libc\.so/ && /mem(set|cpy|move)/ { gsub(",", "", $1); s += $1 } END { print s + 0 }')
    awk -v t="$total" -v b="$bytes" -v n=$((runs * meshes)) 'BEGIN {
        printf "instructions per mesh refilled: %.0f in all, %.0f without memset/memcpy (bookkeeping)\n",
            t / n, (t - b) / n
    }'
}

case "${1:-allocator}" in
    allocator) allocator ;;
    inserts) inserts ;;
    *) echo "usage: $0 [allocator|inserts]" >&2; exit 2 ;;
esac

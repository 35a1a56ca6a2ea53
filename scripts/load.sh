#!/usr/bin/env bash
# Load test of `nlpd serve` on loopback: requests/s and p50/p99 latency at concurrency
# 1, 4, 16 and 64, each for DURATION seconds (default 10), with one 40-word English
# paragraph (scripts/wrk/paragraph.lua). Bounded in time; loopback only.
#
# Usage: scripts/load.sh [--no-build]
#   DURATION=10   seconds per concurrency level
#   LEVELS="1 4 16 64"
#   NLPD=target/release/nlpd   the binary (built with `cargo build --release` unless --no-build)
# Extra server settings go through the environment (NLPD_LIMITS__CONCURRENCY=2 …).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

DURATION="${DURATION:-10}"
LEVELS="${LEVELS:-1 4 16 64}"

ensure_wrk
ensure_binary "${1:-}"
start_server
curl -sf -o /dev/null -H 'content-type: application/json' \
    -d '{"text": "warm up"}' "http://$ADDR/parse"

printf '%-12s %10s %10s %10s %10s %8s\n' concurrency requests "req/s" "p50_ms" "p99_ms" errors
for connections in $LEVELS; do
    threads=$(( connections < 2 ? connections : 2 ))
    line="$(wrk -t"$threads" -c"$connections" -d"${DURATION}s" --timeout 10s \
        -s scripts/wrk/paragraph.lua "http://$ADDR/parse" | grep '^RESULT')"
    IFS=$'\t' read -r _ requests rps p50 p99 errors <<<"$line"
    printf '%-12s %10s %10s %10s %10s %8s\n' "$connections" "$requests" "$rps" "$p50" "$p99" "$errors"
done
snapshot "after load:"
stop_server

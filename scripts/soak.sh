#!/usr/bin/env bash
# Soak test of `nlpd serve` on loopback: REQUESTS (default 200,000) requests, each with ten
# never-seen tokens (scripts/wrk/unique.lua), after a warm-up of WARMUP (default 20,000).
# Prints resident memory and the vocabulary gauges at start, after warm-up and at the
# end, and the RSS growth per 100,000 requests after warm-up. Bounded: each wrk run stops
# at its request count or after MAX_SECONDS (default 900), whichever comes first. (wrk runs
# for a duration, so this script watches the server's request counter and interrupts wrk
# once the count is reached; wrk then prints its summary.)
#
# Usage: scripts/soak.sh [--no-build]
#   REQUESTS=200000 WARMUP=20000 CONNECTIONS=16 MAX_SECONDS=900 NLPD=target/release/nlpd
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

REQUESTS="${REQUESTS:-200000}"
WARMUP="${WARMUP:-20000}"
CONNECTIONS="${CONNECTIONS:-16}"
MAX_SECONDS="${MAX_SECONDS:-900}"
THREADS=2

ensure_wrk
ensure_binary "${1:-}"
start_server

# Successful /parse requests so far, from the server's own counter.
parsed() {
    local n
    n="$(metric nlpd_http_requests_total 'method="POST",route="/parse",status="2xx"')"
    [ "$n" = absent ] && n=0
    echo "$n"
}

# Sends $1 requests; prints "requests seconds p50_ms p99_ms errors".
run() {
    local target out started finished
    target=$(( $(parsed) + $1 ))
    out="$(mktemp)"
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${MAX_SECONDS}s" --timeout 10s \
        -s scripts/wrk/unique.lua "http://$ADDR/parse" -- "$1" "$THREADS" >"$out" &
    local wrk_pid=$!
    started="$(date +%s.%N)"
    while kill -0 "$wrk_pid" 2>/dev/null; do
        if [ "$(parsed)" -ge "$target" ]; then
            finished="$(date +%s.%N)"
            kill -INT "$wrk_pid"
            break
        fi
        sleep 0.2
    done
    wait "$wrk_pid" || true
    finished="${finished:-$(date +%s.%N)}"
    IFS=$'\t' read -r _ requests _ p50 p99 errors < <(grep '^RESULT' "$out")
    awk -v n="$requests" -v a="$started" -v b="$finished" -v p50="$p50" -v p99="$p99" -v e="$errors" \
        'BEGIN { printf "%d %.1f %s %s %s\n", n, b - a, p50, p99, e }'
    rm -f "$out"
}

snapshot "start:"
run "$WARMUP" >/dev/null
snapshot "after warm-up:"
warm_rss="$(metric nlpd_process_resident_memory_bytes)"
read -r requests seconds p50 p99 errors < <(run "$REQUESTS")
snapshot "end:"
end_rss="$(metric nlpd_process_resident_memory_bytes)"
awk -v n="$requests" -v s="$seconds" -v p50="$p50" -v p99="$p99" -v e="$errors" 'BEGIN {
    printf "soak: requests=%d seconds=%.1f req/s=%.0f p50_ms=%s p99_ms=%s errors=%s\n",
        n, s, n / s, p50, p99, e }'
awk -v a="$warm_rss" -v b="$end_rss" -v n="$requests" 'BEGIN {
    printf "rss growth after warm-up: %.1f KiB total, %.1f KiB per 100,000 requests\n",
        (b - a) / 1024, (b - a) / 1024 / n * 100000 }'
stop_server

# Shared helpers for scripts/load.sh and scripts/soak.sh (sourced, not run).
# Everything stays on loopback: the server binds 127.0.0.1:0 and wrk targets that address.

NLPD="${NLPD:-target/release/nlpd}"

# Installs wrk from Debian's packages if it is missing.
ensure_wrk() {
    command -v wrk >/dev/null && return
    echo "installing wrk (Debian package)" >&2
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && apt-get install -y -qq wrk
    else
        sudo apt-get update -qq && sudo apt-get install -y -qq wrk
    fi
}

# Builds the release binary unless NLPD points at an existing one or --no-build was given.
ensure_binary() {
    if [ "${1:-}" != "--no-build" ]; then
        cargo build --release --locked --bin nlpd >&2
    fi
    [ -x "$NLPD" ] || { echo "no binary at $NLPD" >&2; exit 1; }
}

# Starts `nlpd serve` on 127.0.0.1:0 with any extra arguments; sets ADDR and SERVER_PID.
# The port is read from the server's `listening` log event (`"addr":"HOST:PORT"`).
start_server() {
    SERVER_LOG="$(mktemp)"
    "$NLPD" serve --listen 127.0.0.1:0 --log-format json --log-level warn,nlpd::service=info \
        "$@" 2>"$SERVER_LOG" &
    SERVER_PID=$!
    trap stop_server EXIT
    ADDR=""
    for _ in $(seq 1 100); do
        ADDR="$(grep '"listening"' "$SERVER_LOG" | sed -n 's/.*"addr":"\([^"]*\)".*/\1/p' | head -n1 || true)"
        [ -n "$ADDR" ] && break
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$SERVER_LOG" >&2; exit 1; }
        sleep 0.1
    done
    [ -n "$ADDR" ] || { echo "server did not report its address" >&2; cat "$SERVER_LOG" >&2; exit 1; }
    echo "nlpd (pid $SERVER_PID) listening on $ADDR" >&2
}

# Stops the server this script started (SIGTERM, graceful), by its pid only.
stop_server() {
    if [ -n "${SERVER_PID:-}" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID"
        wait "$SERVER_PID" || true
    fi
    SERVER_PID=""
}

# Prints one sample from /metrics: metric NAME [LABELS], e.g. metric nlpd_vocab_lexemes 'kind="transient"'.
metric() {
    local series="$1"
    [ -n "${2:-}" ] && series="$1{$2}"
    curl -sf "http://$ADDR/metrics" | awk -v s="$series" '$1 == s { print $2; found = 1 } END { if (!found) print "absent" }'
}

# Prints RSS and the vocabulary gauges on one line, prefixed with a label.
snapshot() {
    printf '%-14s rss_bytes=%s lexemes{permanent}=%s lexemes{transient}=%s strings{permanent}=%s strings{transient}=%s active_zones=%s zone_bytes=%s tensor_bytes=%s\n' \
        "$1" \
        "$(metric nlpd_process_resident_memory_bytes)" \
        "$(metric nlpd_vocab_lexemes 'kind="permanent"')" \
        "$(metric nlpd_vocab_lexemes 'kind="transient"')" \
        "$(metric nlpd_vocab_strings 'kind="permanent"')" \
        "$(metric nlpd_vocab_strings 'kind="transient"')" \
        "$(metric nlpd_vocab_active_zones)" \
        "$(metric nlpd_vocab_zone_bytes)" \
        "$(metric nlpd_doc_tensor_bytes)"
}

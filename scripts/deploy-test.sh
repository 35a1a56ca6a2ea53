#!/usr/bin/env bash
# The docker-compose topology without Docker: three `nlpd serve` replicas on loopback ports
# behind nginx running the very config/nginx.conf the compose file uses, then checks
#   1. spread:   requests reach every replica (X-Upstream header, cross-checked against
#                each replica's nlpd_http_requests_total);
#   2. kill:     SIGKILL one replica under load; the balancer retries what it sent there,
#                so no request may fail;
#   3. rolling:  SIGTERM each replica in turn under steady load, wait for it to exit 0,
#                restart it, wait for /readyz and for the balancer to send it traffic
#                again, next; no request may fail;
#   4. metrics:  every replica's /metrics parses as Prometheus text.
# and prints the figures on one summary line. Loopback only; every wait has a deadline.
#
# Usage: scripts/deploy-test.sh [NLPD_BINARY]     (or NLPD_BIN=...; default: cargo build)
# Runs as root on Debian (installs nginx, curl, envsubst and a Python venv if missing).
set -euo pipefail
shopt -s inherit_errexit

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/deploy/lib.sh
source "$ROOT/scripts/deploy/lib.sh"

SPREAD_REQUESTS=300
LOAD_WORKERS=6
# Sentences per text under load: about 33k characters, so that a replica killed or
# stopped has requests in flight (which nginx must re-send) rather than idle connections.
LOAD_REPEAT=400
READY_DEADLINE_SECS=60
# The service's drain grace (config/default.toml: shutdown_grace_secs) plus a margin.
EXIT_DEADLINE_SECS=35

BIN="${1:-${NLPD_BIN:-}}"
if [[ -z $BIN ]]; then
    log "no binary given: cargo build --locked --bin nlpd (debug)"
    (cd "$ROOT" && cargo build --locked --bin nlpd >&2)
    BIN="$ROOT/target/debug/nlpd"
fi
[[ -x $BIN ]] || die "not an executable: $BIN"
BIN="$(realpath "$BIN")"

ensure_commands nginx:nginx curl:curl envsubst:gettext-base
ensure_venv
PY="$DEPLOY_VENV/bin/python"
LOADGEN=("$PY" "$ROOT/scripts/deploy/loadgen.py")
PROMCHECK=("$PY" "$ROOT/scripts/deploy/promcheck.py")

WORK="$(mktemp -d /tmp/nlpd-deploy-test.XXXXXX)"
declare -a PORT PID PEAK_RSS_KB EXIT_CODE
LB_PID="" LOAD_PID=""

cleanup() {
    local status=$?
    local pid
    # Replicas have no children: SIGKILL is enough. nginx's master must stop its workers
    # itself, so it gets SIGTERM (fast shutdown), as does the load generator.
    for pid in "${PID[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    for pid in "$LB_PID" "$LOAD_PID"; do [[ -z $pid ]] || kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PID[@]}" "$LB_PID" "$LOAD_PID"; do
        [[ -z $pid ]] || wait "$pid" 2>/dev/null || true # (silences bash's "Killed" report)
    done
    if [[ $status -eq 0 ]]; then
        rm -rf "$WORK"
    else
        log "logs kept in $WORK"
        tail -n 5 "$WORK"/*.log >&2 2>/dev/null || true
    fi
}
trap cleanup EXIT

# Four free loopback ports: the balancer's, then one per replica.
read -r LB_PORT 'PORT[1]' 'PORT[2]' 'PORT[3]' < <("$PY" -c '
import socket
socks = [socket.socket() for _ in range(4)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))
')
LB_URL="http://127.0.0.1:$LB_PORT"

replica_url() { printf 'http://127.0.0.1:%s' "${PORT[$1]}"; }

start_replica() {
    local i=$1
    NLPD_SERVER__LISTEN="127.0.0.1:${PORT[$i]}" NLPD_LOG__FORMAT=json \
        "$BIN" serve >>"$WORK/replica-$i.log" 2>&1 &
    PID[i]=$!
}

wait_ready() {
    local i=$1 deadline=$((SECONDS + READY_DEADLINE_SECS))
    until curl -fsS -o /dev/null --max-time 1 "$(replica_url "$i")/readyz" 2>/dev/null; do
        kill -0 "${PID[$i]}" 2>/dev/null || die "replica $i exited during start-up"
        ((SECONDS < deadline)) || die "replica $i not ready after ${READY_DEADLINE_SECS}s"
        sleep 0.1
    done
}

# stop_replica I SIGNAL: signals replica I, waits for it to exit, records its exit code
# and the peak resident memory it reached (VmHWM) just before.
stop_replica() {
    local i=$1 signal=$2 pid=${PID[$1]} deadline=$((SECONDS + EXIT_DEADLINE_SECS))
    local hwm
    hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status")
    ((hwm > ${PEAK_RSS_KB[$i]:-0})) && PEAK_RSS_KB[i]=$hwm
    kill "-$signal" "$pid"
    # bash reaps its children as they exit; until it does, an exited one is a zombie (Z).
    while kill -0 "$pid" 2>/dev/null && [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) != Z ]]; do
        ((SECONDS < deadline)) || die "replica $i still running ${EXIT_DEADLINE_SECS}s after SIG$signal"
        sleep 0.1
    done
    EXIT_CODE[i]=0
    wait "$pid" 2>/dev/null || EXIT_CODE[i]=$? # (silences bash's "Killed" job report)
}

# parse_requests I: replica I's count of answered POST /parse requests.
parse_requests() {
    curl -fsS --max-time 5 "$(replica_url "$1")/metrics" >"$WORK/metrics-$1.txt"
    "${PROMCHECK[@]}" sum "$WORK/metrics-$1.txt" \
        --metric nlpd_http_requests_total --label method=POST route=/parse
}

# wait_in_rotation I: waits until the balancer sends replica I requests again. nginx only
# learns passively that a restarted replica is back (after its fail_timeout), so "ready"
# is not enough before the next replica may go.
wait_in_rotation() {
    local i=$1 before deadline=$((SECONDS + 15))
    before=$(parse_requests "$i")
    until (($(parse_requests "$i") > before)); do
        ((SECONDS < deadline)) || die "replica $i gets no traffic 15s after it became ready"
        sleep 0.2
    done
}

# answered_by FILE I: requests of a loadgen summary answered by replica I.
answered_by() {
    "$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["by_upstream"].get(sys.argv[2], 0))' \
        "$1" "127.0.0.1:${PORT[$2]}"
}

# --- the topology -----------------------------------------------------------------------
log "binary: $BIN; balancer on $LB_PORT, replicas on ${PORT[*]:1}; work dir $WORK"
for i in 1 2 3; do start_replica "$i"; done
for i in 1 2 3; do wait_ready "$i"; done

export NLPD_LB_LISTEN="127.0.0.1:$LB_PORT" NLPD_LB_UPSTREAM_1="127.0.0.1:${PORT[1]}" \
    NLPD_LB_UPSTREAM_2="127.0.0.1:${PORT[2]}" NLPD_LB_UPSTREAM_3="127.0.0.1:${PORT[3]}"
# Substitute exactly the placeholders the template has, as docker-compose.yml does; each
# must be set here (an unset one would silently render empty).
# shellcheck disable=SC2016 # the pattern matches a literal ${...}
mapfile -t LB_VARS < <(grep -o '\${NLPD_LB_[A-Z0-9_]*}' "$ROOT/config/nginx.conf" | sort -u)
for var in "${LB_VARS[@]}"; do
    var=${var#\$\{}
    var=${var%\}}
    [[ -n ${!var:-} ]] || die "config/nginx.conf uses \${$var}, which this test does not set"
done
envsubst "${LB_VARS[*]}" <"$ROOT/config/nginx.conf" >"$WORK/nginx.conf"
NGINX_GLOBALS="daemon off; pid $WORK/nginx.pid; error_log $WORK/nginx-error.log;"
nginx -t -q -c "$WORK/nginx.conf" -g "$NGINX_GLOBALS" || die "nginx rejects the rendered config"
nginx -c "$WORK/nginx.conf" -g "$NGINX_GLOBALS" >"$WORK/nginx-access.log" 2>&1 &
LB_PID=$!
deadline=$((SECONDS + 10))
until curl -fsS -o /dev/null --max-time 1 "$LB_URL/lb/healthz" 2>/dev/null; do
    ((SECONDS < deadline)) || die "nginx did not start"
    sleep 0.1
done

# --- 1. spread --------------------------------------------------------------------------
log "1/4 spread: $SPREAD_REQUESTS requests"
declare -a BEFORE
for i in 1 2 3; do BEFORE[i]=$(parse_requests "$i"); done
"${LOADGEN[@]}" --url "$LB_URL/parse" --workers 3 --max-requests "$SPREAD_REQUESTS" \
    --max-seconds 60 >"$WORK/spread.json"
[[ $(field "$WORK/spread.json" ok) -eq $SPREAD_REQUESTS ]] \
    || die "spread: not every request succeeded: $(cat "$WORK/spread.json")"
declare -a SPREAD
for i in 1 2 3; do
    SPREAD[i]=$(answered_by "$WORK/spread.json" "$i")
    # Round robin gives each replica a third; require at least half of that.
    ((SPREAD[i] * 6 >= SPREAD_REQUESTS)) || die "spread: replica $i answered only ${SPREAD[i]}"
    # The replica's own counter agrees with the balancer (it may lag a response briefly).
    deadline=$((SECONDS + 5))
    until [[ $(($(parse_requests "$i") - BEFORE[i])) -eq ${SPREAD[i]} ]]; do
        ((SECONDS < deadline)) || die "spread: replica $i counted $(($(parse_requests "$i") - BEFORE[i])) /parse requests, the balancer sent ${SPREAD[i]}"
        sleep 0.2
    done
done

# --- 2. SIGKILL under load --------------------------------------------------------------
log "2/4 kill: SIGKILL replica 3 under load"
start_load "$LB_URL/parse" kill 60
stop_replica 3 KILL
sleep 3
stop_load
KILL_SENT=$(field "$WORK/kill.json" sent) KILL_FAILED=$(field "$WORK/kill.json" failed)
KILL_RETRIED=$(field "$WORK/kill.json" retried)
[[ $KILL_FAILED -eq 0 ]] || die "kill: $KILL_FAILED of $KILL_SENT requests failed: $(cat "$WORK/kill.json")"
start_replica 3
wait_ready 3

# --- 3. rolling restart -----------------------------------------------------------------
log "3/4 rolling restart under load"
start_load "$LB_URL/parse" rolling 180
for i in 1 2 3; do
    stop_replica "$i" TERM
    [[ ${EXIT_CODE[$i]} -eq 0 ]] || die "rolling: replica $i exited ${EXIT_CODE[$i]} after SIGTERM"
    start_replica "$i"
    wait_ready "$i"
    wait_in_rotation "$i"
done
stop_load
ROLL_SENT=$(field "$WORK/rolling.json" sent) ROLL_FAILED=$(field "$WORK/rolling.json" failed)
ROLL_RETRIED=$(field "$WORK/rolling.json" retried)
[[ $ROLL_FAILED -eq 0 ]] || die "rolling: $ROLL_FAILED of $ROLL_SENT requests failed: $(cat "$WORK/rolling.json")"

# --- 4. metrics -------------------------------------------------------------------------
log "4/4 metrics: every replica's /metrics parses"
for i in 1 2 3; do
    curl -fsS --max-time 5 "$(replica_url "$i")/metrics" >"$WORK/metrics-$i.txt"
done
"${PROMCHECK[@]}" check "$WORK"/metrics-{1,2,3}.txt --require \
    nlpd_http_requests_total nlpd_http_request_duration_seconds nlpd_vocab_lexemes >&2 \
    || die "metrics: a replica's /metrics is not valid Prometheus text"

PEAK_KB=$(printf '%s\n' "${PEAK_RSS_KB[@]}" | sort -n | tail -n 1)
echo "deploy-test: PASS binary=$(basename "$(dirname "$BIN")")" \
    "| spread ${SPREAD[1]}/${SPREAD[2]}/${SPREAD[3]} of $SPREAD_REQUESTS" \
    "| SIGKILL under load: $KILL_FAILED failed of $KILL_SENT ($KILL_RETRIED retried by nginx)" \
    "| rolling restart: $ROLL_FAILED failed of $ROLL_SENT ($ROLL_RETRIED retried), exits ${EXIT_CODE[1]}/${EXIT_CODE[2]}/${EXIT_CODE[3]}" \
    "| metrics parse 3/3 | peak RSS $((PEAK_KB / 1024)) MiB" \
    "| p99 $(field "$WORK/rolling.json" p99_ms) ms during rolling"

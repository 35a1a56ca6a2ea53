#!/usr/bin/env bash
# openapi.yaml against the live server: schemathesis (PyPI, pinned) generates requests from
# the spec, sends them to a real `nlpd serve` on a loopback port, and checks every answer
# against the spec (status codes, content types, schemas, that a schema-valid request is
# accepted and an invalid one refused). Any finding fails.
#
# Usage: scripts/api-fuzz.sh [NLPD_BINARY] [EXAMPLES]   (default: target/release/nlpd, 200)
# The seed is fixed so that CI is repeatable; SEED=… explores other requests.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/deploy/lib.sh
source "$ROOT/scripts/deploy/lib.sh"

BIN="${1:-$ROOT/target/release/nlpd}"
EXAMPLES="${2:-200}"
SEED="${SEED:-20261206}"
VENV="${NLPD_FUZZ_VENV:-/tmp/nlpd-api-fuzz-venv}"
[[ -x $BIN ]] || die "not an executable: $BIN"

ensure_commands python3:python3 curl:curl
python3 -c 'import ensurepip, venv' 2>/dev/null || apt_install python3-venv
[[ -x $VENV/bin/st ]] || {
    python3 -m venv "$VENV" && "$VENV/bin/pip" install -q --disable-pip-version-check \
        "schemathesis==4.32.5"
} >&2 || die "cannot install schemathesis into $VENV"

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
LOG="$(mktemp /tmp/nlpd-api-fuzz.XXXXXX.log)"
NLPD_SERVER__LISTEN="127.0.0.1:$PORT" "$BIN" serve >"$LOG" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true' EXIT
deadline=$((SECONDS + 30))
until curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$PORT/readyz" 2>/dev/null; do
    kill -0 "$SERVER" 2>/dev/null || { cat "$LOG" >&2; die "the server exited"; }
    ((SECONDS < deadline)) || die "the server is not ready after 30 s"
    sleep 0.1
done

log "schemathesis: $EXAMPLES examples per operation, seed $SEED, every check"
"$VENV/bin/st" run "$ROOT/openapi.yaml" --url "http://127.0.0.1:$PORT" \
    --max-examples "$EXAMPLES" --seed "$SEED" --checks all --no-color

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

ensure_tool_venv "$VENV" 'import schemathesis' "schemathesis==4.32.5"
start_server "$BIN" "$(mktemp /tmp/nlpd-api-fuzz.XXXXXX.log)"

log "schemathesis: $EXAMPLES examples per operation, seed $SEED, every check"
"$VENV/bin/st" run "$ROOT/openapi.yaml" --url "$SERVER_URL" \
    --max-examples "$EXAMPLES" --seed "$SEED" --checks all --no-color

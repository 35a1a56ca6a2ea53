#!/usr/bin/env bash
# Every deployment check, for .ci/run:
#   1. docker-compose.yml validates (`docker-compose config -q`, offline, no engine needed);
#   2. the Kubernetes manifests validate against the Kubernetes JSON schemas (strict: an
#      unknown field fails) of the oldest and newest supported versions, offline;
#   3. the deployment files agree with each other (scripts/deploy/consistency.py);
#   4. the compose topology works: scripts/deploy-test.sh.
#
# Usage: scripts/deploy-checks.sh [NLPD_BINARY]   (passed on to scripts/deploy-test.sh)
# Runs as root on Debian; installs docker-compose and a Python venv in /tmp if missing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/deploy/lib.sh
source "$ROOT/scripts/deploy/lib.sh"
cd "$ROOT"

# The manifests use autoscaling/v2 and policy/v1 (GA since 1.23 and 1.21); 1.27 is the
# oldest schema set the validator ships, its default (currently 1.37) the newest.
K8S_MIN_VERSION=1.27.0

PASSED=0 FAILED=0
run_check() {
    local name=$1
    shift
    log "check: $name"
    if "$@"; then
        PASSED=$((PASSED + 1))
    else
        FAILED=$((FAILED + 1))
        log "FAILED: $name"
    fi
}

ensure_commands docker-compose:docker-compose
ensure_venv

run_check "docker-compose config" docker-compose -f docker-compose.yml config -q
run_check "kubernetes schemas ($K8S_MIN_VERSION)" "$DEPLOY_VENV/bin/kubernetes-validate" \
    --strict --quiet -k "$K8S_MIN_VERSION" deploy/kubernetes/*.yaml
run_check "kubernetes schemas (latest)" "$DEPLOY_VENV/bin/kubernetes-validate" \
    --strict --quiet deploy/kubernetes/*.yaml
run_check "cross-file consistency" "$DEPLOY_VENV/bin/python" scripts/deploy/consistency.py .
run_check "deploy-test (compose topology on loopback)" scripts/deploy-test.sh "$@"

echo "deploy-checks: $PASSED passed, $FAILED failed"
[[ $FAILED -eq 0 ]]

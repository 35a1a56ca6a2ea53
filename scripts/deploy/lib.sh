# shellcheck shell=bash
# Shared by scripts/deploy-test.sh and scripts/deploy-checks.sh (sourced, not run).
#
# CI runs them as root on a fresh Debian machine, so they install what they use: Debian
# packages with apt-get, Python packages into a virtualenv outside the repository.

# Python packages, pinned: the Kubernetes validator ships the schemas it validates
# against (no network at validation time); prometheus_client parses the text format.
DEPLOY_PY_REQUIREMENTS=("kubernetes-validate==1.37.0" "prometheus_client==0.26.0")
DEPLOY_VENV="${NLPD_DEPLOY_VENV:-/tmp/nlpd-deploy-venv}"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

# apt_install PACKAGE... installs Debian packages without starting their services.
apt_install() {
    log "installing $* with apt-get"
    # Keep packages such as nginx from starting their system service on install: a
    # policy-rc.d that answers 101 ("action forbidden") while apt-get runs.
    local policy=/usr/sbin/policy-rc.d ours=0 status=0
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && ours=1
    fi
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "$@"; } >&2 || status=$?
    [[ $ours -eq 1 ]] && rm -f "$policy"
    [[ $status -eq 0 ]] || die "apt-get install $* failed"
}

# ensure_commands COMMAND:PACKAGE... installs the Debian package of every missing command.
ensure_commands() {
    local pair missing=()
    for pair in "$@"; do
        command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
    done
    [[ ${#missing[@]} -eq 0 ]] || apt_install "${missing[@]}"
}

# ensure_venv creates $DEPLOY_VENV with DEPLOY_PY_REQUIREMENTS (a no-op once they are there).
ensure_venv() {
    ensure_commands python3:python3
    # Debian's python3 needs python3-venv for `-m venv` (ensurepip).
    python3 -c 'import ensurepip, venv' 2>/dev/null || apt_install python3-venv
    [[ -x $DEPLOY_VENV/bin/pip ]] || python3 -m venv "$DEPLOY_VENV" \
        || die "cannot create a Python virtualenv in $DEPLOY_VENV"
    "$DEPLOY_VENV/bin/pip" install -q --disable-pip-version-check \
        "${DEPLOY_PY_REQUIREMENTS[@]}" >&2 || die "pip install ${DEPLOY_PY_REQUIREMENTS[*]} failed"
}

# The load helpers below expect WORK (a scratch folder), LOAD_WORKERS and LOAD_REPEAT (see
# scripts/deploy/loadgen.py) and, once ensure_venv has run, write LOAD_PID.

# start_load URL NAME SECONDS: steady POST /parse load on URL in the background, for at
# most SECONDS or until stop_load; loadgen's JSON summary goes to $WORK/NAME.json.
start_load() {
    rm -f "$WORK/stop"
    "$DEPLOY_VENV/bin/python" "$ROOT/scripts/deploy/loadgen.py" --url "$1" \
        --workers "$LOAD_WORKERS" --max-seconds "$3" --repeat "$LOAD_REPEAT" \
        --stop-file "$WORK/stop" >"$WORK/$2.json" &
    LOAD_PID=$!
    sleep 2 # the load is flowing before anything happens to the servers
}

# stop_load ends the load start_load began and waits for its summary.
stop_load() {
    touch "$WORK/stop"
    wait "$LOAD_PID" || die "load generator failed"
    LOAD_PID=""
}

# field FILE KEY: one value of a loadgen JSON summary.
field() { "$DEPLOY_VENV/bin/python" -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

# ensure_tool_venv VENV PROBE PACKAGE...: a scratch virtualenv at VENV holding PACKAGEs
# (pip), unless `VENV/bin/python -c PROBE` already succeeds there.
ensure_tool_venv() {
    local venv=$1 probe=$2
    shift 2
    "$venv/bin/python" -c "$probe" 2>/dev/null && return
    ensure_commands python3:python3
    python3 -c 'import ensurepip, venv' 2>/dev/null || apt_install python3-venv
    log "installing $* into $venv"
    { python3 -m venv "$venv" && "$venv/bin/pip" install -q --disable-pip-version-check "$@"; } >&2 \
        || die "cannot install $* into $venv"
}

# start_server BINARY LOG: `BINARY serve` on a free loopback port, logging to LOG, killed
# when the calling script exits; sets SERVER_URL once /readyz answers.
start_server() {
    local bin=$1 log_file=$2 port deadline
    ensure_commands python3:python3 curl:curl
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    NLPD_SERVER__LISTEN="127.0.0.1:$port" "$bin" serve >"$log_file" 2>&1 &
    SERVER_PID=$!
    trap 'kill "$SERVER_PID" 2>/dev/null || true' EXIT
    SERVER_URL="http://127.0.0.1:$port"
    deadline=$((SECONDS + 30))
    until curl -fsS -o /dev/null --max-time 1 "$SERVER_URL/readyz" 2>/dev/null; do
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$log_file" >&2; die "the server exited"; }
        ((SECONDS < deadline)) || die "the server is not ready after 30 s"
        sleep 0.1
    done
}

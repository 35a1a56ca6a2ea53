#!/usr/bin/env bash
# The real container: builds the image from the project's Dockerfile with podman, runs it,
# then runs docker-compose.yml's topology (three replicas, nginx, Prometheus), and checks
#
#   image:     the build succeeds, unchanged Dockerfile, no registry; size <= 110 MB;
#   container: /healthz, /readyz and POST /parse answer; the process runs as uid 10001 on a
#              read-only root filesystem; the image's own HEALTHCHECK passes
#              (`podman healthcheck run`); SIGTERM under load drains and exits 0;
#   trf:       the `trf` target (the transformer pipeline's image) builds; its container logs
#              a pipeline with the transformer, is ready and healthy, and idles at most at
#              400 MiB RSS; POST /parse tags, parses and finds entities, and the tensor gauge
#              is back at 0 after it;
#   compose:   `docker-compose up` honours `depends_on: service_healthy`; under steady load
#              through the balancer, SIGKILL of one replica and then a rolling restart of
#              all three fail no client request; Prometheus has all three targets up and
#              returns nlpd_vocab_lexemes for each; the balancer hides /metrics.
#
# and prints the figures on one summary line. Base images are made locally from Debian
# packages (scripts/container/engine.sh). docker-compose drives podman through its Docker
# API socket; podman schedules no health checks without systemd, so this script runs
# `podman healthcheck run` for every container while it works, as an engine would.
#
# Usage: scripts/container-test.sh [images|container|trf|compose|all]   (default: all)
# Runs as root on Debian; installs podman, runc, debootstrap, docker-compose if missing.
set -euo pipefail
shopt -s inherit_errexit

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/deploy/lib.sh
source "$ROOT/scripts/deploy/lib.sh"
# shellcheck source=scripts/container/engine.sh
source "$ROOT/scripts/container/engine.sh"

PHASE="${1:-all}"
IMAGE=docker.io/library/nlpd:local # docker-compose.yml's `image: nlpd:local`
TRF_IMAGE=docker.io/library/nlpd:trf # the Dockerfile's `trf` target
MAX_TRF_IDLE_RSS_KB=$((400 * 1024))
MAX_IMAGE_BYTES=$((110 * 1000 * 1000))
PROJECT=nlpdci # docker-compose project name: containers are nlpdci_<service>_1
LB_URL=http://127.0.0.1:8080     # docker-compose.yml publishes the balancer on 8080
PROMETHEUS_URL=http://127.0.0.1:9090
SINGLE=nlpd-container-test
SINGLE_PORT=18480
LOAD_WORKERS=6
# Sentences per text under load (about 8k characters): enough that a stopped replica has
# requests in flight.
LOAD_REPEAT=100
# Sentences per text of the drain check (about 88k characters, under limits.max_text_chars).
DRAIN_REPEAT=1000
# Seconds each drain-check request takes to upload its body: the six requests stay in flight
# that long whatever the machine's speed, so the in-flight gauge is seen at six and SIGTERM
# comes while they are mid-body (a fast machine parses the text alone in about a second,
# quicker than the gauge is polled). Each piece comes well inside server.body_timeout_secs.
DRAIN_UPLOAD_SECS=8
DEADLINE_SECS=90

WORK="$(mktemp -d /tmp/nlpd-container-test.XXXXXX)"
HEALTH_LOOP_PID="" SERVICE_PID="" LOAD_PID=""
declare -A FIGURE
T0=$SECONDS
lap() {
    FIGURE[$1]="$((SECONDS - T0))s"
    log "$1 took ${FIGURE[$1]}"
    T0=$SECONDS
}

compose() { DOCKER_HOST="unix://$PODMAN_SOCKET" docker-compose -p "$PROJECT" -f "$ROOT/docker-compose.yml" "$@"; }

cleanup() {
    local status=$?
    [[ -z $LOAD_PID ]] || kill "$LOAD_PID" 2>/dev/null || true
    if [[ $PHASE == compose || $PHASE == all ]] && [[ -S $PODMAN_SOCKET ]]; then
        if [[ $status -ne 0 ]]; then
            compose logs --no-color >"$WORK/compose.log" 2>&1 || true
            tail -n 40 "$WORK/compose.log" >&2
        fi
        compose down -v -t 5 >/dev/null 2>&1 || true
    fi
    podman rm -f -t 2 "$SINGLE" >/dev/null 2>&1 || true
    for pid in "$HEALTH_LOOP_PID" "$SERVICE_PID"; do
        [[ -z $pid ]] || kill "$pid" 2>/dev/null || true
    done
    if [[ $status -eq 0 ]]; then rm -rf "$WORK"; else log "logs kept in $WORK"; fi
}
trap cleanup EXIT

# wait_for DESCRIPTION COMMAND...: retries COMMAND every 0.5 s until it succeeds.
wait_for() {
    local what=$1 deadline=$((SECONDS + DEADLINE_SECS))
    shift
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || die "$what: not within ${DEADLINE_SECS}s"
        sleep 0.5
    done
}

# load_figures NAME: "F failed of N (R retried)" from a loadgen summary.
load_figures() {
    printf '%s failed of %s (%s retried)' "$(field "$WORK/$1.json" failed)" \
        "$(field "$WORK/$1.json" sent)" "$(field "$WORK/$1.json" retried)"
}

# -------------------------------------------------------------------------------------------
phase_images() {
    log "images: engine and base images"
    engine_setup
    base_images
    lap "base images"
    log "images: the project's Dockerfile (podman build --format docker keeps HEALTHCHECK)"
    podman build --format docker --pull=never --network host -t "$IMAGE" "$ROOT" \
        >"$WORK/build.log" 2>&1 || { tail -n 40 "$WORK/build.log" >&2; die "image build failed"; }
    lap "image build"
    local size
    size=$(podman image inspect "$IMAGE" --format '{{.Size}}')
    FIGURE[size]="$((size / 1000 / 1000)) MB"
    log "image size: $size bytes (${FIGURE[size]})"
    ((size <= MAX_IMAGE_BYTES)) || die "image is $size bytes, above $MAX_IMAGE_BYTES"
}

# run_single IMAGE: starts IMAGE as the single container, as docker-compose.yml runs a
# replica (read-only root, no capabilities), and waits until it is ready.
run_single() {
    podman rm -f -t 2 "$SINGLE" >/dev/null 2>&1 || true
    podman run -d --name "$SINGLE" -p "127.0.0.1:$SINGLE_PORT:8080" --read-only \
        --cap-drop ALL --security-opt no-new-privileges "$1" >/dev/null
    wait_for "$1 /readyz" curl -fsS --max-time 1 "http://127.0.0.1:$SINGLE_PORT/readyz"
}

# check_parse URL: POST /parse of one sentence gives its words, every token tagged, parsed
# and lemmatized, and the place as a LOC entity.
check_parse() {
    curl -fsS --max-time 30 "$1/parse" -H 'content-type: application/json' \
        -d '{"text":"Dr. Smith flew to Paris on Monday."}' >"$WORK/parse.json"
    "$PY" - "$WORK/parse.json" <<'EOF' || die "POST /parse gave an unexpected document"
import json, sys
doc = json.load(open(sys.argv[1]))
words = [doc["text"][t["start"]:t["end"]] for t in doc["tokens"]]
assert words[:3] == ["Dr.", "Smith", "flew"], words
assert all(t["tag"] and t["pos"] and t["dep"] and t["lemma"] for t in doc["tokens"]), doc
assert any(e["label"] == "LOC" for e in doc["ents"]), doc["ents"]
EOF
}

# in_flight_at_least URL N: whether the service at URL has N requests in flight (the scrape
# that asks is one of them).
in_flight_at_least() {
    curl -fsS --max-time 5 "$1/metrics" >"$WORK/in-flight.txt"
    local count
    count=$("$PY" "$ROOT/scripts/deploy/promcheck.py" sum "$WORK/in-flight.txt" \
        --metric nlpd_http_requests_in_flight)
    ((${count%.*} >= $2))
}

# -------------------------------------------------------------------------------------------
phase_container() {
    engine_setup
    podman image exists "$IMAGE" || die "no image $IMAGE: run the images phase first"
    local url="http://127.0.0.1:$SINGLE_PORT"
    log "container: run as docker-compose.yml runs a replica (read-only, no capabilities)"
    run_single "$IMAGE"
    curl -fsS --max-time 5 "$url/healthz" | grep -q '"alive"' || die "/healthz did not answer alive"
    curl -fsS --max-time 5 "$url/readyz" | grep -q '"ready"' || die "/readyz did not answer ready"
    check_parse "$url"
    local uid
    uid=$(podman exec "$SINGLE" awk '/^Uid:/ {print $2}' /proc/1/status)
    [[ $uid == 10001 ]] || die "the service runs as uid $uid, not 10001"
    [[ $(podman inspect "$SINGLE" --format '{{.HostConfig.ReadonlyRootfs}}') == true ]] \
        || die "the root filesystem is not read-only"
    # As root inside the container, so that only the read-only mount can refuse the write.
    if podman exec --user 0 "$SINGLE" touch /probe 2>"$WORK/touch.err"; then
        die "the root filesystem accepted a write"
    fi
    grep -q 'Read-only file system' "$WORK/touch.err" || die "write refused for another reason: $(cat "$WORK/touch.err")"
    podman healthcheck run "$SINGLE" >/dev/null || die "the image's HEALTHCHECK failed"
    [[ $(podman inspect "$SINGLE" --format '{{.State.Health.Status}}') == healthy ]] \
        || die "podman does not report the container healthy"
    log "container: uid 10001, read-only root, /healthz /readyz /parse and HEALTHCHECK pass"

    log "container: SIGTERM with $LOAD_WORKERS requests in flight"
    "$PY" "$ROOT/scripts/deploy/loadgen.py" --url "$url/parse" --workers "$LOAD_WORKERS" \
        --max-requests "$LOAD_WORKERS" --max-seconds 120 --repeat "$DRAIN_REPEAT" \
        --upload-seconds "$DRAIN_UPLOAD_SECS" >"$WORK/drain.json" &
    LOAD_PID=$!
    wait_for "$LOAD_WORKERS requests in flight" in_flight_at_least "$url" $((LOAD_WORKERS + 1))
    podman stop -t 30 "$SINGLE" >/dev/null
    wait "$LOAD_PID" || die "load generator failed"
    LOAD_PID=""
    local code
    code=$(podman inspect "$SINGLE" --format '{{.State.ExitCode}}')
    [[ $code == 0 ]] || die "exit code $code after SIGTERM"
    podman logs "$SINGLE" 2>&1 | grep -q 'drained; exiting' || die "no drain in the log"
    [[ $(field "$WORK/drain.json" ok) -eq $LOAD_WORKERS ]] \
        || die "requests in flight at SIGTERM were lost: $(cat "$WORK/drain.json")"
    FIGURE[drain]="SIGTERM with $LOAD_WORKERS requests in flight: all answered 200, exit 0"
    podman rm "$SINGLE" >/dev/null
    lap "container checks"
}

# -------------------------------------------------------------------------------------------
phase_trf() {
    engine_setup
    podman image exists "$IMAGE" || die "no image $IMAGE: run the images phase first"
    log "trf: the Dockerfile's trf target (its builder stage comes from the cache)"
    podman build --format docker --pull=never --network host --target trf -t "$TRF_IMAGE" \
        "$ROOT" >"$WORK/build-trf.log" 2>&1 \
        || { tail -n 40 "$WORK/build-trf.log" >&2; die "trf image build failed"; }
    local size
    size=$(podman image inspect "$TRF_IMAGE" --format '{{.Size}}')
    FIGURE[trf size]="$((size / 1000 / 1000)) MB"
    lap "trf image build"
    local url="http://127.0.0.1:$SINGLE_PORT"
    run_single "$TRF_IMAGE"
    podman logs "$SINGLE" 2>&1 | grep 'pipeline loaded' | grep -q 'transformer' \
        || die "the trf container did not load a pipeline with a transformer"
    podman healthcheck run "$SINGLE" >/dev/null || die "the trf image's HEALTHCHECK failed"
    local idle_kb
    idle_kb=$(podman exec "$SINGLE" awk '/^VmRSS:/ {print $2}' /proc/1/status)
    FIGURE[trf idle RSS]="$((idle_kb / 1024)) MiB"
    ((idle_kb <= MAX_TRF_IDLE_RSS_KB)) || die "trf idle RSS is ${idle_kb} kB, above 400 MiB"
    check_parse "$url"
    curl -fsS --max-time 5 "$url/metrics" >"$WORK/metrics-trf.txt"
    local tensor
    tensor=$("$PY" "$ROOT/scripts/deploy/promcheck.py" sum "$WORK/metrics-trf.txt" \
        --metric nlpd_doc_tensor_bytes)
    [[ ${tensor%.*} == 0 ]] || die "nlpd_doc_tensor_bytes is $tensor after the request, not 0"
    log "trf: transformer loaded, ready, healthy, /parse annotated, tensor gauge 0, idle RSS ${FIGURE[trf idle RSS]}"
    podman rm -f -t 5 "$SINGLE" >/dev/null
    lap "trf container"
}

# -------------------------------------------------------------------------------------------
# replica_ip N: the compose network address of replica N.
replica_ip() {
    podman inspect "$(compose ps -q "nlpd-$1")" \
        --format '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}'
}

# parse_requests N: replica N's count of answered POST /parse (scraped on its own address).
parse_requests() {
    curl -fsS --max-time 5 "http://$(replica_ip "$1"):8080/metrics" >"$WORK/metrics-$1.txt"
    "$PY" "$ROOT/scripts/deploy/promcheck.py" sum "$WORK/metrics-$1.txt" \
        --metric nlpd_http_requests_total --label method=POST route=/parse
}

replica_ready() { curl -fsS --max-time 1 "http://$(replica_ip "$1"):8080/readyz"; }

# in_rotation N BEFORE: whether replica N answered more /parse than BEFORE.
in_rotation() { (($(parse_requests "$1") > $2)); }

# health_loop: what a container engine with a scheduler does, every 2 s for every container
# that has a HEALTHCHECK (podman needs systemd timers for that, which CI does not have).
health_loop() {
    while true; do
        for id in $(podman ps -q); do
            podman healthcheck run "$id" >/dev/null 2>&1 || true
        done
        sleep 2
    done
}

all_targets_up() {
    curl -fsS --max-time 5 "$PROMETHEUS_URL/api/v1/targets" >"$WORK/targets.json"
    "$PY" - "$WORK/targets.json" <<'EOF'
import json, sys
targets = json.load(open(sys.argv[1]))["data"]["activeTargets"]
up = sorted(t["labels"]["instance"] for t in targets if t["health"] == "up")
sys.exit(0 if up == ["nlpd-1:8080", "nlpd-2:8080", "nlpd-3:8080"] else 1)
EOF
}

vocab_gauge_for_each() {
    curl -fsS --max-time 5 "$PROMETHEUS_URL/api/v1/query?query=nlpd_vocab_lexemes" >"$WORK/query.json"
    "$PY" - "$WORK/query.json" <<'EOF'
import json, sys
result = json.load(open(sys.argv[1]))["data"]["result"]
instances = sorted({r["metric"]["instance"] for r in result})
sys.exit(0 if instances == ["nlpd-1:8080", "nlpd-2:8080", "nlpd-3:8080"] else 1)
EOF
}

phase_compose() {
    engine_setup
    podman image exists "$IMAGE" || die "no image $IMAGE: run the images phase first"
    log "compose: podman's Docker API on $PODMAN_SOCKET"
    rm -f "$PODMAN_SOCKET"
    podman system service --time=0 "unix://$PODMAN_SOCKET" >"$WORK/podman-service.log" 2>&1 &
    SERVICE_PID=$!
    wait_for "podman API socket" curl -fsS --unix-socket "$PODMAN_SOCKET" http://d/_ping
    health_loop &
    HEALTH_LOOP_PID=$!
    compose down -v -t 5 >/dev/null 2>&1 || true

    log "compose: up (the balancer waits for three healthy replicas)"
    compose up -d --no-build >"$WORK/compose-up.log" 2>&1 \
        || { cat "$WORK/compose-up.log" >&2; die "docker-compose up failed"; }
    wait_for "balancer /lb/healthz" curl -fsS --max-time 1 "$LB_URL/lb/healthz"
    for i in 1 2 3; do
        [[ $(podman inspect "$(compose ps -q "nlpd-$i")" --format '{{.State.Health.Status}}') == healthy ]] \
            || die "replica $i is not healthy although the balancer started"
    done
    curl -fsS --max-time 10 "$LB_URL/parse" -H 'content-type: application/json' \
        -d '{"text":"Hello from the balancer."}' | grep -q '"tokens"' || die "POST /parse through the balancer failed"
    local status
    status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$LB_URL/metrics")
    [[ $status == 404 ]] || die "the balancer shows /metrics ($status), it must hide it"
    lap "compose up"

    log "compose: SIGKILL replica 3 under load"
    start_load "$LB_URL/parse" kill 120
    podman kill --signal KILL "$(compose ps -q nlpd-3)" >/dev/null
    sleep 5
    stop_load
    [[ $(field "$WORK/kill.json" failed) -eq 0 ]] || die "kill: $(load_figures kill): $(cat "$WORK/kill.json")"
    FIGURE[kill]=$(load_figures kill)
    compose start nlpd-3 >/dev/null 2>&1
    wait_for "replica 3 ready after the kill" replica_ready 3
    lap "replica kill"

    log "compose: rolling restart under load"
    start_load "$LB_URL/parse" rolling 300
    local i code before
    for i in 1 2 3; do
        compose stop -t 30 "nlpd-$i" >/dev/null 2>&1
        code=$(podman inspect "$(compose ps -q "nlpd-$i")" --format '{{.State.ExitCode}}')
        [[ $code == 0 ]] || die "rolling: replica $i exited $code after SIGTERM"
        compose start "nlpd-$i" >/dev/null 2>&1
        wait_for "replica $i ready" replica_ready "$i"
        before=$(parse_requests "$i")
        wait_for "replica $i back in the balancer's rotation" in_rotation "$i" "$before"
    done
    stop_load
    [[ $(field "$WORK/rolling.json" failed) -eq 0 ]] \
        || die "rolling: $(load_figures rolling): $(cat "$WORK/rolling.json")"
    FIGURE[rolling]=$(load_figures rolling)
    lap "rolling restart"

    log "compose: Prometheus scrapes every replica"
    wait_for "Prometheus: three targets up" all_targets_up
    wait_for "Prometheus: nlpd_vocab_lexemes for each replica" vocab_gauge_for_each
    lap "prometheus"
}

# -------------------------------------------------------------------------------------------
ensure_venv
PY="$DEPLOY_VENV/bin/python"
case $PHASE in
images) phase_images ;;
container) phase_container ;;
trf) phase_trf ;;
compose) phase_compose ;;
all) phase_images && phase_container && phase_trf && phase_compose ;;
*) die "unknown phase $PHASE (images, container, trf, compose or all)" ;;
esac

summary="container-test: PASS ($PHASE)"
for key in size "base images" "image build" drain "trf size" "trf idle RSS" "trf image build" \
    "trf container" kill rolling "compose up" "replica kill" \
    "rolling restart" prometheus "container checks"; do
    [[ -z ${FIGURE[$key]:-} ]] || summary+=" | $key: ${FIGURE[$key]}"
done
echo "$summary"

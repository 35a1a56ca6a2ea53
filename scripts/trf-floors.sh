#!/usr/bin/env bash
# The transformer pipeline's accuracy floors (issue 17), enforced: scores
# models/en_ewt_trf.nlpd on EWT test and UNER test with scripts/evaluate-model.sh (gold
# tokenization, raw text one paragraph per line, NER) and fails listing every metric below
# its floor. It runs the release binary, as the model's speed needs (a debug build would
# take most of an hour), so `.ci/run` calls it after the release build; missing data or a
# missing model fail it, they never skip it.
#
# The floors are the issue's targets where the shipped model reaches them; where it does not
# yet, they sit just under what it measures (as tests/api/accuracy.rs does for the default
# model), so a regression still fails. The issue's target is beside each floor.
#
# Usage: scripts/trf-floors.sh [NLPD_BINARY]   (default: target/release/nlpd)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/deploy/lib.sh
source "$ROOT/scripts/deploy/lib.sh"

BIN="${1:-$ROOT/target/release/nlpd}"
MODEL="$ROOT/models/en_ewt_trf.nlpd"
[[ -f $MODEL ]] || die "no transformer model at $MODEL"

# setting metric floor   # the issue's target; what the shipped model measures on test
FLOORS="
gold UPOS 96.7        # target 96.8; measures 96.76 (not reached: docs/transformer.md)
gold LAS 87.6         # target 88.0; measures 87.80 (not reached)
gold Lemmas 97.5      # target 97.5; measures 97.68
raw Tokens 99.5       # target 99.5; measures 99.56
raw Sentences 89.2    # target 89.5; measures 89.35 (not reached; 89.72 with the f32 encoder)
raw UPOS 96.3         # target 96.3; measures 96.34
raw LAS 86.0          # target 86.5; measures 86.24 (not reached)
NER F1 77.7           # target 78; measures 77.93 (not reached)
"

SCORES="$(NLPD="$BIN" bash "$ROOT/scripts/evaluate-model.sh" "$MODEL" test)"
echo "$SCORES"
python3 - "$SCORES" "$FLOORS" <<'EOF'
import re, sys
lines = {}
for line in sys.argv[1].splitlines():
    setting, _, rest = line.partition(":")
    key = {"gold tokenization": "gold", "raw text": "raw", "NER": "NER"}.get(setting.strip())
    if key == "NER":
        # The overall figures come first: "overall P .. R .. F1 ..".
        rest = rest.split("PER")[0]
    if key:
        lines[key] = dict(re.findall(r"(\w+) (\d+\.\d+)", rest))
failures = []
for floor in sys.argv[2].splitlines():
    floor = floor.split("#")[0].split()
    if not floor:
        continue
    setting, metric, value = floor
    score = float(lines[setting][metric])
    if score < float(value):
        failures.append(f"{setting} {metric} {score:.2f} < {value}")
if failures:
    sys.exit("trf-floors: FAIL: " + ", ".join(failures))
print("trf-floors: PASS (every metric at or above its floor)")
EOF

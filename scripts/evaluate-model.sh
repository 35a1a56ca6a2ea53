#!/usr/bin/env bash
# Scores a model file on UD English EWT and Universal NER, as the data README prescribes:
#
#   gold tokenization  the treebank's words re-annotated (nlpd parse --input conllu);
#   raw text           one paragraph per line (the shared corpora's paragraphs.py), scored
#                      by character alignment;
#   NER                the UNER tokens re-annotated (nlpd parse --input iob2), exact spans.
#
# Prints one line per setting: the CoNLL 2018 F1 scores, then NER P/R/F1 per type.
# Choose models on `dev`; report `test`.
#
# Usage: scripts/evaluate-model.sh [MODEL] [dev|test]
#   MODEL   a model file (default: the model embedded in the binary)
#   NLPD    the binary (default: target/release/nlpd)
#   PRECISION  int8 or f32 (default: the binary's default, int8)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/deploy/lib.sh
source "$ROOT/scripts/deploy/lib.sh"

MODEL="${1:-}"
SPLIT="${2:-dev}"
BIN="${NLPD:-$ROOT/target/release/nlpd}"
DATA="$ROOT/../shared/data"
TREEBANK="$DATA/ud-english-ewt/en_ewt-ud-$SPLIT.conllu"
NER_GOLD="$DATA/uner-english-ewt/en_ewt-ud-$SPLIT.iob2"
[[ $SPLIT == dev || $SPLIT == test ]] || die "the split is dev or test, not $SPLIT"
[[ -x $BIN ]] || die "not an executable: $BIN (cargo build --release --locked --bin nlpd)"
[[ -f $TREEBANK && -f $NER_GOLD ]] || die "no EWT/UNER $SPLIT files under $DATA"
MODEL_ARGS=()
[[ -z $MODEL ]] || MODEL_ARGS=(--model "$MODEL")
[[ -z ${PRECISION:-} ]] || MODEL_ARGS+=(--precision "$PRECISION")

WORK="$(mktemp -d /tmp/nlpd-evaluate.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
python3 "$ROOT/../shared/tools/paragraphs.py" "$TREEBANK" >"$WORK/paragraphs.txt"
"$BIN" parse "${MODEL_ARGS[@]}" --input conllu --output conllu "$TREEBANK" >"$WORK/gold-tok.conllu"
"$BIN" parse "${MODEL_ARGS[@]}" --input lines --output conllu "$WORK/paragraphs.txt" >"$WORK/raw.conllu"
"$BIN" parse "${MODEL_ARGS[@]}" --input iob2 --output iob2 "$NER_GOLD" >"$WORK/ner.iob2"

# scores SYSTEM METRIC...: the named metrics' F1 from `nlpd evaluate --json`.
scores() {
    local system="$1"
    shift
    "$BIN" evaluate --gold "$TREEBANK" --system "$system" --json | python3 -c '
import json, sys
scores = json.load(sys.stdin)["conllu"]
print("  ".join(f"{name} {100 * scores[name]['"'"'f1'"'"']:.2f}" for name in sys.argv[1:]))' "$@"
}

echo "model: ${MODEL:-embedded default}   split: $SPLIT   precision: ${PRECISION:-default}"
echo "gold tokenization: $(scores "$WORK/gold-tok.conllu" UPOS XPOS UFeats Lemmas UAS LAS)"
echo "raw text:          $(scores "$WORK/raw.conllu" Tokens Sentences UPOS XPOS UFeats Lemmas UAS LAS)"
"$BIN" evaluate --ner-gold "$NER_GOLD" --ner-system "$WORK/ner.iob2" --json | python3 -c '
import json, sys
s = json.load(sys.stdin)["ner"]
print("NER:               " + "  ".join(
    f"{k} P {100 * v['"'"'precision'"'"']:.2f} R {100 * v['"'"'recall'"'"']:.2f} F1 {100 * v['"'"'f1'"'"']:.2f}"
    for k, v in s.items()))'

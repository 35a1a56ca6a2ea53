#!/usr/bin/env bash
# Proves nlpd's WordPiece identical to Hugging Face's `tokenizers` (the reference
# implementation of the encoder's tokenizer.json): piece ids compared on every word form of
# EWT train, on every Unicode code point (alone and between two letters) and on strings
# written for their edge cases; see scripts/encoder/check_wordpiece.py. Fails on any
# mismatch. Fetches the encoder first (scripts/fetch-encoder.sh) and installs `tokenizers`
# into a scratch virtualenv outside the repository. Takes about 35 s (50 s the first time).
#
# Usage: scripts/check-wordpiece.sh
#   NLPD              the binary (default: target/release/nlpd)
#   NLPD_ENCODER_DIR  the encoder directory (default: fetch-encoder.sh's)
#   NLPD_TOOL_VENV    the virtualenv (default: /tmp/nlpd-wordpiece-venv)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/deploy/lib.sh
source "$ROOT/scripts/deploy/lib.sh"

BIN="${NLPD:-$ROOT/target/release/nlpd}"
VENV="${NLPD_TOOL_VENV:-/tmp/nlpd-wordpiece-venv}"
TREEBANK="$ROOT/../shared/data/ud-english-ewt/en_ewt-ud-train.conllu"
[[ -x $BIN ]] || die "not an executable: $BIN (cargo build --release --locked --bin nlpd)"
[[ -f $TREEBANK ]] || die "no EWT train file at $TREEBANK"

DIR="$("$ROOT/scripts/fetch-encoder.sh")"
ensure_tool_venv "$VENV" "import tokenizers; assert tokenizers.__version__ == '0.23.3'" \
    "tokenizers==0.23.3"
log "comparing word pieces with tokenizers 0.23.3"
"$VENV/bin/python" "$ROOT/scripts/encoder/check_wordpiece.py" "$DIR/tokenizer.json" "$BIN" \
    "$DIR" "$TREEBANK"

#!/usr/bin/env bash
# Where `nlpd parse` spends its time: per component, per step and per kernel (leaf
# function), from `perf record` call graphs over UD English EWT train as raw text (one
# paragraph per line, as scripts/bench-vs-spacy.sh makes it), one thread on core 0.
#
# The binary is built with frame pointers and line tables (its own target directory, so
# the ordinary build stays as it is); perf walks the frame pointers. docs/performance.md
# holds the results and how to read them.
#
# Usage: scripts/profile.sh [NLPD PARSE OPTION...]    e.g. scripts/profile.sh --precision f32
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/deploy/lib.sh
source "$ROOT/scripts/deploy/lib.sh"

TREEBANK="$ROOT/../shared/data/ud-english-ewt/en_ewt-ud-train.conllu"
PARAGRAPHS_TOOL="$ROOT/../shared/tools/paragraphs.py"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}-profile"
[[ -f $TREEBANK ]] || die "no treebank at $TREEBANK"
ensure_commands perf:linux-perf taskset:util-linux

log "building nlpd with frame pointers into $TARGET"
(cd "$ROOT" && CARGO_PROFILE_RELEASE_DEBUG=line-tables-only \
    RUSTFLAGS="-C force-frame-pointers=yes" \
    cargo build --release --locked --bin nlpd --target-dir "$TARGET" >&2)

WORK="$(mktemp -d /tmp/nlpd-profile.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
python3 "$PARAGRAPHS_TOOL" "$TREEBANK" >"$WORK/paragraphs.txt"
log "perf record: nlpd parse --threads 1 $* on core 0"
perf record --quiet --call-graph fp -F 1999 -o "$WORK/perf.data" -- \
    taskset -c 0 "$TARGET/release/nlpd" parse --threads 1 --input lines --output conllu "$@" \
    "$WORK/paragraphs.txt" >/dev/null
perf script -i "$WORK/perf.data" 2>/dev/null | python3 "$ROOT/scripts/perf-breakdown.py"

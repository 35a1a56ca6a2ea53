#!/usr/bin/env bash
# spaCy interoperability, proven: the JSON of POST /parse loads into real spaCy
# (`Doc(nlp.vocab).from_json(d, validate=True)`, spaCy 3.8 from PyPI in a scratch virtual
# environment) with the same words, spaces, tags, POS, morphology, lemmas, heads, labels,
# sentences and entities. Texts of our own: names, contractions, a URL, odd Unicode, a batch.
#
# Usage: scripts/spacy-roundtrip.sh [NLPD_BINARY]     (default: target/release/nlpd)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/deploy/lib.sh
source "$ROOT/scripts/deploy/lib.sh"

BIN="${1:-$ROOT/target/release/nlpd}"
VENV="${NLPD_SPACY_VENV:-/tmp/nlpd-spacy-venv}"
[[ -x $BIN ]] || die "not an executable: $BIN"
ensure_tool_venv "$VENV" 'import spacy' "spacy>=3.8,<3.9"
start_server "$BIN" "$(mktemp /tmp/nlpd-spacy-roundtrip.XXXXXX.log)"

"$VENV/bin/python" - "$SERVER_URL/parse" <<'EOF'
import json
import sys
import urllib.request

import spacy
from spacy.tokens import Doc

TEXTS = [
    "Dr. Smith didn't go to Paris on Monday. He stayed in London with Apple's lawyers.",
    "E-mail info@example.com or see https://example.org/a?b=1 before 5:30 p.m., please!",
    "Zoë  Müller\tmet Ōsaka's mayor — twice. 🙂 Then she left.",
    "I can't believe it's not butter.",
]


def parse(body):
    request = urllib.request.Request(
        sys.argv[1], data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


nlp = spacy.blank("en")
docs = [parse({"text": text}) for text in TEXTS] + parse({"texts": TEXTS})["docs"]
for d in docs:
    doc = Doc(nlp.vocab).from_json(d, validate=True)
    tokens = d["tokens"]
    assert doc.text == d["text"], (doc.text, d["text"])
    assert len(doc) == len(tokens), (len(doc), len(tokens))
    for token, t in zip(doc, tokens):
        got = (token.text, token.whitespace_, token.tag_, token.pos_, str(token.morph),
               token.lemma_, token.head.i, token.dep_)
        want = (d["text"][t["start"]:t["end"]], t.get("whitespace", ""), t["tag"], t["pos"],
                t.get("morph", ""), t["lemma"], t["head"], t["dep"])
        assert got == want, f"{d['text']!r}: spaCy has {got}, nlpd said {want}"
    sents = [(s.start_char, s.end_char) for s in doc.sents]
    assert sents == [(s["start"], s["end"]) for s in d["sents"]], (sents, d["sents"])
    ents = [(e.start_char, e.end_char, e.label_) for e in doc.ents]
    assert ents == [(e["start"], e["end"], e["label"]) for e in d["ents"]], (ents, d["ents"])
words = sum(len(d["tokens"]) for d in docs)
ents = sum(len(d["ents"]) for d in docs)
print(f"spacy-roundtrip: PASS | spaCy {spacy.__version__} | {len(docs)} documents, "
      f"{words} tokens, {ents} entities, every field equal")
EOF

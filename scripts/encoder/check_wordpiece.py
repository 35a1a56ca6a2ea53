"""Compares nlpd's WordPiece with Hugging Face `tokenizers` on the same inputs.

Usage: check_wordpiece.py TOKENIZER_JSON NLPD_BINARY ENCODER_DIR CONLLU...

The inputs, in three groups: every distinct word form (column 2) of the CoNLL-U files;
every Unicode scalar value but CR and LF (which end a line of `nlpd encoder pieces`'s
input), alone and between two letters; and strings written for their edge cases. Prints the
number compared and of mismatches per group, and the first mismatches; exits 1 on any
mismatch but one kind: the reference's character tables (crate unicode_categories) predate
the Unicode version of nlpd's, so a character assigned since as a mark, format character or
punctuation is one the reference keeps as an unknown letter (`[UNK]` alone and between two
letters) where nlpd drops or splits it. Those are counted apart and do not fail the check.
"""

import subprocess
import sys

from tokenizers import Tokenizer

TRICKY = [
    "Naïve café RÉSUMÉ", "Ångström façade", "İstanbul", "ΣΊΣΥΦΟΣ", "Straße", "ﬁnance",
    "ǅemal", "東京タワー", "北京大学", "한국어 텍스트", "مرحبا بالعالم", "नमस्ते", "ไทย",
    "😀 🥲 👍🏽 👩‍👩‍👧", "🇺🇸", "a\u0000b", "a\ufffdb", "a\u200bb", "a\u00adb", "a\u0085b",
    "a\u2028b", "a\u3000b", "a\tb", "x\u0301", "\u0301", "e\u0301\u0327", "a" * 99,
    "a" * 100, "a" * 101, "a" * 150, "é" * 100, "é" * 101, "pneumonoultramicroscopic" * 4,
    "[CLS]", "[SEP] [PAD]", "a[MASK]b", "[mask]", "[UNK][UNK]", "[CLS", "x[CLS]]", "$100,000.50",
    "e-mail", "U.S.A.", "don't", "can't've", "#hashtag", "@user", "http://example.com/a?b=c",
    "1/2", "3½", "²", "Ⅻ", "℃", "™", "…", "—", "«»", "¿Qué?", "¡Hola!", "  ", "",
    "\u00a0", "\U000f0000", "\ue000", "\u0378", "\U0010ffff", "Ϊ́", "ﬀ", "ŉ", "ǰ",
]

# Characters whose general category Unicode has changed since the reference's tables
# (punctuation become a symbol or a mark, or a mark's spacing): U+166D CANADIAN SYLLABICS
# CHI SIGN, U+1734 HANUNOO SIGN PAMUDPOD, U+111C9 SHARADA SANDHI MARK, U+1171E AHOM
# CONSONANT SIGN MEDIAL RA.
RECATEGORIZED = {0x166D, 0x1734, 0x111C9, 0x1171E}


def words(paths):
    seen = set()
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.startswith("#") or not line.strip():
                    continue
                form = line.rstrip("\n").split("\t")[1]
                if form not in seen:
                    seen.add(form)
                    yield form


def code_points():
    for c in range(0x110000):
        if 0xD800 <= c <= 0xDFFF or c in (0x0A, 0x0D):
            continue
        ch = chr(c)
        yield ch
        yield "a" + ch + "b"


def main():
    tokenizer_json, binary, encoder_dir, *conllu = sys.argv[1:]
    tokenizer = Tokenizer.from_file(tokenizer_json)
    tokenizer.no_truncation()
    tokenizer.no_padding()
    groups = [
        ("EWT word forms", list(words(conllu))),
        ("code points", list(code_points())),
        ("tricky strings", TRICKY),
    ]
    unk = tokenizer.token_to_id("[UNK]")
    failed = 0
    for name, texts in groups:
        assert all("\n" not in t and "\r" not in t for t in texts)
        want = [e.ids for e in tokenizer.encode_batch(texts, add_special_tokens=False)]
        run = subprocess.run(
            [binary, "encoder", "pieces", encoder_dir],
            input="".join(t + "\n" for t in texts).encode("utf-8"),
            capture_output=True,
            check=True,
        )
        got = [
            [int(i) for i in line.split()] for line in run.stdout.decode().split("\n")[:-1]
        ]
        if len(got) != len(texts):
            sys.exit(f"{name}: {len(texts)} lines in, {len(got)} out")
        bad = [(t, w, g) for t, w, g in zip(texts, want, got) if w != g]
        if name == "code points":
            # Code point c comes as c, then a c b (texts[2k], texts[2k+1]).
            newer = set()
            for i in range(0, len(texts), 2):
                if want[i : i + 2] != got[i : i + 2]:
                    c = texts[i]
                    # [UNK] both ways: the reference treats c as an unassigned character.
                    if want[i] == want[i + 1] == [unk] or ord(c) in RECATEGORIZED:
                        newer.add(c)
            bad = [b for b in bad if b[0] not in newer and b[0][1:-1] not in newer]
            print(
                f"{name}: {len(newer)} characters differ, all unassigned or of another"
                " category in the reference's Unicode tables"
            )
        print(f"{name}: {len(texts)} compared, {len(bad)} mismatches")
        for text, w, g in bad[:20]:
            print(f"  {text!r}: reference {w}, nlpd {g}")
        failed += len(bad)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

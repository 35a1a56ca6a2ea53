//! BERT's uncased WordPiece tokenization, as a Hugging Face `tokenizer.json` defines it.
//!
//! # Overview
//!
//! [`WordPiece`] turns text into [`PieceId`]s in four steps, each the one `tokenizer.json`
//! names:
//!
//! 1. **Added tokens** (`added_tokens`, e.g. `[CLS]`, `[MASK]`) are found in the raw text,
//!    leftmost and longest first, and become their ids; the text between them goes on.
//! 2. **`BertNormalizer`**: drop NUL, U+FFFD and control characters (general category Cc,
//!    Cf or Co, but tab, newline and carriage return) and map whitespace to a space
//!    (`clean_text`); put spaces around CJK ideographs (`handle_chinese_chars`); decompose
//!    (NFD) and drop non-spacing marks (`strip_accents`, which defaults to `lowercase`);
//!    lowercase each character.
//! 3. **`BertPreTokenizer`**: split on whitespace (dropped) and around every punctuation
//!    character (ASCII punctuation, or general category P*), which stands alone.
//! 4. **`WordPiece`**: a word of more than `max_input_chars_per_word` characters is
//!    `[UNK]`; otherwise it is cut greedily into the longest pieces in the vocabulary, all
//!    but the first looked up with the continuation prefix (`##`); a word that cannot be
//!    cut entirely is a single `[UNK]`.
//!
//! `scripts/check-wordpiece.sh` compares the ids with Hugging Face's `tokenizers` on every
//! word form of EWT train, every code point and a set of tricky strings. Encoding reuses a
//! caller's [`PieceScratch`], so a token costs no allocation.

use rustc_hash::FxHashMap;
use serde::Deserialize;
use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, GeneralCategoryGroup, UnicodeGeneralCategory};

use super::EncoderError;

/// A word piece: its row in the encoder's embedding table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(transparent)]
pub struct PieceId(u32);

impl PieceId {
    /// The piece with row `index`.
    pub const fn new(index: u32) -> Self {
        Self(index)
    }

    /// The row of the piece.
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

/// `BertNormalizer`'s switches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Normalization {
    /// Drop control characters and map whitespace to a space.
    pub clean_text: bool,
    /// Put spaces around CJK ideographs, so each is a word.
    pub handle_chinese_chars: bool,
    /// Decompose (NFD) and drop non-spacing marks.
    pub strip_accents: bool,
    /// Lowercase every character.
    pub lowercase: bool,
}

impl Normalization {
    /// The switches as bits 0–3 (clean text, Chinese characters, strip accents, lowercase),
    /// as model files store them.
    pub(crate) fn bits(self) -> u8 {
        [self.clean_text, self.handle_chinese_chars, self.strip_accents, self.lowercase]
            .iter()
            .enumerate()
            .map(|(i, &on)| u8::from(on) << i)
            .sum()
    }

    /// The switches from [`Normalization::bits`], if no other bit is set.
    pub(crate) fn from_bits(bits: u8) -> Option<Self> {
        (bits >> 4 == 0).then_some(Self {
            clean_text: bits & 1 != 0,
            handle_chinese_chars: bits & 2 != 0,
            strip_accents: bits & 4 != 0,
            lowercase: bits & 8 != 0,
        })
    }
}

/// Buffers reused from one call of [`WordPiece::encode`] to the next.
#[derive(Debug, Default)]
pub struct PieceScratch {
    cleaned: String,
    normalized: String,
}

/// The WordPiece tokenizer of a BERT encoder: added tokens, `BertNormalizer`,
/// `BertPreTokenizer` and greedy longest-match pieces, as its `tokenizer.json` defines them.
#[derive(Clone, Debug, PartialEq)]
pub struct WordPiece {
    /// Every piece by id, continuations with their prefix, as the vocabulary lists them.
    pieces: Vec<String>,
    /// Pieces that may start a word.
    first: FxHashMap<Box<str>, PieceId>,
    /// Pieces that may continue a word, without the prefix.
    rest: FxHashMap<Box<str>, PieceId>,
    /// Added tokens matched in the raw text, with their ids.
    added: Vec<(String, PieceId)>,
    normalization: Normalization,
    prefix: String,
    max_chars: usize,
    unk: PieceId,
    cls: PieceId,
    sep: PieceId,
}

/// The parts of a WordPiece tokenizer, as [`WordPiece::from_parts`] takes them.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct WordPieceParts {
    pub(crate) pieces: Vec<String>,
    pub(crate) added: Vec<(String, PieceId)>,
    pub(crate) normalization: Normalization,
    pub(crate) prefix: String,
    pub(crate) max_chars: usize,
    pub(crate) unk: PieceId,
    pub(crate) cls: PieceId,
    pub(crate) sep: PieceId,
}

impl WordPiece {
    /// A tokenizer from its parts, or why they do not fit together.
    pub(crate) fn from_parts(parts: WordPieceParts) -> Result<Self, String> {
        let WordPieceParts { pieces, added, normalization, prefix, max_chars, unk, cls, sep } =
            parts;
        let n = pieces.len();
        if let Some(id) =
            [unk, cls, sep].into_iter().chain(added.iter().map(|a| a.1)).find(|id| id.index() >= n)
        {
            return Err(format!("piece id {} is past the vocabulary of {n}", id.0));
        }
        if prefix.is_empty() {
            return Err("the continuation prefix is empty".into());
        }
        if added.iter().any(|(text, _)| text.is_empty()) {
            return Err("an added token is empty".into());
        }
        let mut first = FxHashMap::default();
        let mut rest = FxHashMap::default();
        for (i, piece) in pieces.iter().enumerate() {
            let id = PieceId(u32::try_from(i).map_err(|_| "too many pieces")?);
            let (map, key) = match piece.strip_prefix(prefix.as_str()) {
                Some(tail) => (&mut rest, tail),
                None => (&mut first, piece.as_str()),
            };
            // The first of two equal entries wins, as when the vocabulary is read in order.
            map.entry(key.into()).or_insert(id);
        }
        Ok(Self { pieces, first, rest, added, normalization, prefix, max_chars, unk, cls, sep })
    }

    /// The tokenizer a Hugging Face `tokenizer.json` describes.
    ///
    /// # Errors
    ///
    /// Returns [`EncoderError::Unsupported`] if the file is not JSON, or its normalizer,
    /// pre-tokenizer, model, added tokens or template are not the BERT ones this module
    /// implements.
    pub fn from_tokenizer_json(json: &str) -> Result<Self, EncoderError> {
        let bad = |what: String| EncoderError::Unsupported { file: "tokenizer.json", what };
        let file: TokenizerJson = serde_json::from_str(json).map_err(|e| bad(e.to_string()))?;
        let n = &file.normalizer;
        if n.kind != "BertNormalizer" {
            return Err(bad(format!("normalizer {:?}", n.kind)));
        }
        if file.pre_tokenizer.kind != "BertPreTokenizer" {
            return Err(bad(format!("pre-tokenizer {:?}", file.pre_tokenizer.kind)));
        }
        let m = &file.model;
        if m.kind != "WordPiece" {
            return Err(bad(format!("model {:?}", m.kind)));
        }
        let normalization = Normalization {
            clean_text: n.clean_text,
            handle_chinese_chars: n.handle_chinese_chars,
            strip_accents: n.strip_accents.unwrap_or(n.lowercase),
            lowercase: n.lowercase,
        };
        let mut pieces = vec![None; m.vocab.len()];
        for (piece, &id) in &m.vocab {
            let slot = pieces.get_mut(id as usize).ok_or_else(|| bad(format!("piece id {id}")))?;
            *slot = Some(piece.clone());
        }
        let pieces: Vec<String> = pieces
            .into_iter()
            .enumerate()
            .map(|(i, p)| p.ok_or_else(|| bad(format!("no piece has id {i}"))))
            .collect::<Result<_, _>>()?;
        let mut added = Vec::with_capacity(file.added_tokens.len());
        for token in &file.added_tokens {
            if token.normalized || token.single_word || token.lstrip || token.rstrip {
                return Err(bad(format!("added token {:?} with options", token.content)));
            }
            added.push((token.content.clone(), PieceId(token.id)));
        }
        let id_of = |piece: &str| {
            m.vocab.get(piece).map(|&id| PieceId(id)).ok_or_else(|| bad(format!("no {piece:?}")))
        };
        let template = &file.post_processor;
        let (cls, sep) = match (template.kind.as_str(), &template.single[..]) {
            (
                "TemplateProcessing",
                [Template::SpecialToken(cls), Template::Sequence(a), Template::SpecialToken(sep)],
            ) if a.id == "A" && [cls.type_id, a.type_id, sep.type_id] == [0; 3] => {
                (id_of(&cls.id)?, id_of(&sep.id)?)
            }
            _ => return Err(bad("a post-processor other than [CLS] A [SEP]".into())),
        };
        Self::from_parts(WordPieceParts {
            pieces,
            added,
            normalization,
            prefix: m.continuing_subword_prefix.clone(),
            max_chars: m.max_input_chars_per_word,
            unk: id_of(&m.unk_token)?,
            cls,
            sep,
        })
        .map_err(bad)
    }

    /// The parts, for saving.
    pub(crate) fn parts(&self) -> WordPieceParts {
        WordPieceParts {
            pieces: self.pieces.clone(),
            added: self.added.clone(),
            normalization: self.normalization,
            prefix: self.prefix.clone(),
            max_chars: self.max_chars,
            unk: self.unk,
            cls: self.cls,
            sep: self.sep,
        }
    }

    /// Number of pieces in the vocabulary.
    pub(crate) fn len(&self) -> usize {
        self.pieces.len()
    }

    /// The text of piece `id`, continuations with their prefix (`##ing`).
    ///
    /// # Panics
    ///
    /// Panics if `id` is not in the vocabulary.
    pub fn piece(&self, id: PieceId) -> &str {
        &self.pieces[id.index()]
    }

    /// The piece that opens every input to the encoder.
    pub fn cls(&self) -> PieceId {
        self.cls
    }

    /// The piece that closes every input to the encoder.
    pub fn sep(&self) -> PieceId {
        self.sep
    }

    /// Appends the pieces of `text` to `out` (none for text that is all whitespace or
    /// control characters).
    pub fn encode(&self, text: &str, scratch: &mut PieceScratch, out: &mut Vec<PieceId>) {
        let mut rest = text;
        while let Some((at, len, id)) = self.next_added(rest) {
            self.encode_plain(&rest[..at], scratch, out);
            out.push(id);
            rest = &rest[at + len..];
        }
        self.encode_plain(rest, scratch, out);
    }

    /// The leftmost added token in `text` (the longest of those starting there): its byte
    /// offset, length and id.
    fn next_added(&self, text: &str) -> Option<(usize, usize, PieceId)> {
        let mut best: Option<(usize, usize, PieceId)> = None;
        for (token, id) in &self.added {
            if let Some(at) = text.find(token.as_str()) {
                let better =
                    best.is_none_or(|(b, len, _)| at < b || (at == b && token.len() > len));
                if better {
                    best = Some((at, token.len(), *id));
                }
            }
        }
        best
    }

    /// Steps 2–4 of the [module docs](self) on text with no added tokens.
    fn encode_plain(&self, text: &str, scratch: &mut PieceScratch, out: &mut Vec<PieceId>) {
        if text.is_empty() {
            return;
        }
        let Normalization { clean_text, handle_chinese_chars, strip_accents, lowercase } =
            self.normalization;
        let PieceScratch { cleaned, normalized } = scratch;
        cleaned.clear();
        for c in text.chars() {
            if clean_text && (c == '\0' || c == '\u{fffd}' || is_control(c)) {
                continue;
            }
            let c = if clean_text && is_whitespace(c) { ' ' } else { c };
            if handle_chinese_chars && is_chinese(c) {
                cleaned.extend([' ', c, ' ']);
            } else {
                cleaned.push(c);
            }
        }
        normalized.clear();
        let mut push = |c: char| {
            if lowercase {
                normalized.extend(c.to_lowercase());
            } else {
                normalized.push(c);
            }
        };
        if strip_accents {
            cleaned
                .nfd()
                .filter(|c| c.general_category() != GeneralCategory::NonspacingMark)
                .for_each(&mut push);
        } else {
            cleaned.chars().for_each(push);
        }
        for chunk in normalized.split(char::is_whitespace) {
            let mut start = 0;
            for (at, c) in chunk.char_indices().filter(|&(_, c)| is_punctuation(c)) {
                self.encode_word(&chunk[start..at], out);
                self.encode_word(&chunk[at..at + c.len_utf8()], out);
                start = at + c.len_utf8();
            }
            self.encode_word(&chunk[start..], out);
        }
    }

    /// Step 4 of the [module docs](self): the pieces of one normalised word.
    fn encode_word(&self, word: &str, out: &mut Vec<PieceId>) {
        if word.is_empty() {
            return;
        }
        if word.chars().nth(self.max_chars).is_some() {
            out.push(self.unk);
            return;
        }
        let before = out.len();
        let mut start = 0;
        while start < word.len() {
            let pieces = if start == 0 { &self.first } else { &self.rest };
            // The longest piece starting at `start`: try every end, from the word's end.
            let tail = &word[start..];
            let found = std::iter::once(tail.len())
                .chain(tail.char_indices().rev().map(|(at, _)| at).filter(|&at| at > 0))
                .find_map(|end| pieces.get(&tail[..end]).map(|&id| (end, id)));
            let Some((end, id)) = found else {
                out.truncate(before);
                out.push(self.unk);
                return;
            };
            out.push(id);
            start += end;
        }
    }
}

/// Whitespace as `clean_text` sees it.
fn is_whitespace(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || c.is_whitespace()
}

/// Control characters as `clean_text` drops them: general category Cc, Cf or Co, but the
/// three whitespace controls. (Unassigned code points are kept: the reference's category
/// table does not count them.)
fn is_control(c: char) -> bool {
    !matches!(c, '\t' | '\n' | '\r')
        && matches!(
            c.general_category(),
            GeneralCategory::Control | GeneralCategory::Format | GeneralCategory::PrivateUse
        )
}

/// Punctuation as `BertPreTokenizer` splits around it: ASCII punctuation (which includes
/// symbols such as `$` and `^`) or general category P*.
fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation() || c.general_category_group() == GeneralCategoryGroup::Punctuation
}

/// The CJK ideograph blocks `handle_chinese_chars` isolates.
fn is_chinese(c: char) -> bool {
    matches!(
        u32::from(c),
        0x4E00..=0x9FFF
            | 0x3400..=0x4DBF
            | 0x20000..=0x2A6DF
            | 0x2A700..=0x2B73F
            | 0x2B740..=0x2B81F
            | 0x2B920..=0x2CEAF
            | 0xF900..=0xFAFF
            | 0x2F800..=0x2FA1F
    )
}

/// The parts of `tokenizer.json` the tokenizer reads; everything else is ignored.
#[derive(Deserialize)]
struct TokenizerJson {
    added_tokens: Vec<AddedToken>,
    normalizer: NormalizerJson,
    pre_tokenizer: Typed,
    post_processor: PostProcessorJson,
    model: ModelJson,
}

#[derive(Deserialize)]
struct Typed {
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize)]
struct AddedToken {
    id: u32,
    content: String,
    single_word: bool,
    lstrip: bool,
    rstrip: bool,
    normalized: bool,
}

#[derive(Deserialize)]
struct NormalizerJson {
    #[serde(rename = "type")]
    kind: String,
    clean_text: bool,
    handle_chinese_chars: bool,
    strip_accents: Option<bool>,
    lowercase: bool,
}

#[derive(Deserialize)]
struct PostProcessorJson {
    #[serde(rename = "type")]
    kind: String,
    single: Vec<Template>,
}

#[derive(Deserialize)]
enum Template {
    SpecialToken(TemplatePiece),
    Sequence(TemplatePiece),
}

#[derive(Deserialize)]
struct TemplatePiece {
    id: String,
    type_id: u32,
}

#[derive(Deserialize)]
struct ModelJson {
    #[serde(rename = "type")]
    kind: String,
    unk_token: String,
    continuing_subword_prefix: String,
    max_input_chars_per_word: usize,
    vocab: FxHashMap<String, u32>,
}

#[cfg(test)]
pub(crate) mod tests {
    use proptest::prelude::*;

    use super::*;

    /// A small uncased tokenizer over a vocabulary of our own.
    pub(crate) fn tiny() -> WordPiece {
        WordPiece::from_parts(tiny_parts()).unwrap()
    }

    /// The parts of [`tiny`].
    fn tiny_parts() -> WordPieceParts {
        let pieces = [
            "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "un", "##aff", "##able", "cafe",
            "!", ",", "'", "s", "t", "don", "a", "##a", "中", "$", "##s", "x", "##y", "hello",
        ];
        WordPieceParts {
            pieces: pieces.iter().map(|p| p.to_string()).collect(),
            added: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
                .iter()
                .enumerate()
                .map(|(i, t)| (t.to_string(), PieceId(i as u32)))
                .collect(),
            normalization: Normalization {
                clean_text: true,
                handle_chinese_chars: true,
                strip_accents: true,
                lowercase: true,
            },
            prefix: "##".into(),
            max_chars: 5,
            unk: PieceId(1),
            cls: PieceId(2),
            sep: PieceId(3),
        }
    }

    fn pieces<'w>(wp: &'w WordPiece, text: &str) -> Vec<&'w str> {
        let mut ids = Vec::new();
        wp.encode(text, &mut PieceScratch::default(), &mut ids);
        ids.into_iter().map(|id| wp.piece(id)).collect()
    }

    #[test]
    fn text_is_normalized_split_and_cut_into_the_longest_pieces() {
        let wp = tiny();
        let cases: [(&str, &[&str]); 14] = [
            ("The", &["the"]),
            ("UNAFFABLE", &["[UNK]"]), // 9 characters: past max_chars
            ("unaff", &["un", "##aff"]),
            ("Café!", &["cafe", "!"]),
            ("CAFÉ", &["cafe"]),
            ("don't", &["don", "'", "t"]),
            ("aaaa", &["a", "##a", "##a", "##a"]),
            ("the\u{200b}", &["the"]), // a format character is dropped
            ("x\u{00a0}y", &["x", "[UNK]"]), // no-break space splits; y alone is unknown
            ("xy zz", &["x", "##y", "[UNK]"]), // one unknown word is one [UNK]
            ("中中", &["中", "中"]),   // ideographs stand alone
            ("a[MASK]$s", &["a", "[MASK]", "$", "s"]),
            (" \t\n", &[]),
            ("\u{0}\u{fffd}", &[]),
        ];
        for (text, want) in cases {
            assert_eq!(pieces(&wp, text), want, "{text:?}");
        }
    }

    #[test]
    fn the_longest_added_token_wins_where_two_start() {
        let mut parts = tiny_parts();
        parts.added.push(("[MASK]S".into(), PieceId(13)));
        let wp = WordPiece::from_parts(parts).unwrap();
        assert_eq!(pieces(&wp, "x[MASK]S[MASK]"), ["x", "s", "[MASK]"]);
    }

    #[test]
    fn normalization_bits_round_trip() {
        for bits in 0..16 {
            assert_eq!(Normalization::from_bits(bits).unwrap().bits(), bits);
        }
        assert_eq!(Normalization::from_bits(16), None);
    }

    #[test]
    fn tokenizer_json_is_read_and_other_models_are_refused() {
        let json = r###"{
            "added_tokens": [{"id": 0, "content": "[UNK]", "single_word": false,
                "lstrip": false, "rstrip": false, "normalized": false, "special": true}],
            "normalizer": {"type": "BertNormalizer", "clean_text": true,
                "handle_chinese_chars": true, "strip_accents": null, "lowercase": true},
            "pre_tokenizer": {"type": "BertPreTokenizer"},
            "post_processor": {"type": "TemplateProcessing", "single": [
                {"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                {"Sequence": {"id": "A", "type_id": 0}},
                {"SpecialToken": {"id": "[SEP]", "type_id": 0}}]},
            "model": {"type": "WordPiece", "unk_token": "[UNK]",
                "continuing_subword_prefix": "##", "max_input_chars_per_word": 100,
                "vocab": {"[UNK]": 0, "[CLS]": 1, "[SEP]": 2, "ok": 3, "##ay": 4}}
        }"###;
        let wp = WordPiece::from_tokenizer_json(json).unwrap();
        assert_eq!((wp.len(), wp.cls(), wp.sep(), wp.unk), (5, PieceId(1), PieceId(2), PieceId(0)));
        assert_eq!(pieces(&wp, "Okay ÖK"), ["ok", "##ay", "ok"]);
        for (from, to) in [
            ("\"WordPiece\"", "\"BPE\""),
            ("BertPreTokenizer", "Whitespace"),
            ("\"normalized\": false", "\"normalized\": true"),
            ("\"ok\": 3", "\"ok\": 7"),
            ("\"id\": \"A\"", "\"id\": \"B\""),
        ] {
            let err = WordPiece::from_tokenizer_json(&json.replace(from, to)).unwrap_err();
            assert!(matches!(err, EncoderError::Unsupported { .. }), "{to}: {err}");
        }
    }

    /// Characters that exercise every step: pieces of the tiny vocabulary, punctuation,
    /// ideographs, accents and combining marks, controls, whitespace, added-token parts.
    fn interesting_char() -> impl Strategy<Value = char> {
        prop::sample::select(vec![
            'a', 'u', 'n', 'f', 'b', 'l', 'e', 't', 'h', 's', 'x', 'y', 'A', 'T', 'É', 'é',
            '\u{301}', '中', '!', ',', '\'', '$', '[', ']', 'M', 'K', '\u{0}', '\u{200b}',
            '\u{fffd}', '\t', '\u{a0}', '😀', 'İ',
        ])
    }

    proptest! {
        #[test]
        fn any_text_encodes_and_whitespace_separates_what_it_separates(
            a in prop::collection::vec(interesting_char(), 0..24),
            b in prop::collection::vec(interesting_char(), 0..24),
        ) {
            // Why each token can be cut on its own: wherever the text has whitespace
            // between two tokens, their pieces are those of the whole text.
            let wp = tiny();
            let (a, b): (String, String) = (a.into_iter().collect(), b.into_iter().collect());
            let ids = |text: &str| {
                let mut ids = Vec::new();
                wp.encode(text, &mut PieceScratch::default(), &mut ids);
                ids
            };
            let whole = ids(&format!("{a} {b}"));
            prop_assert!(whole.iter().all(|id| id.index() < wp.len()));
            prop_assert_eq!(whole, [ids(&a), ids(&b)].concat());
        }
    }
}

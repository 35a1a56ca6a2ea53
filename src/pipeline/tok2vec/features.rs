//! Feature keys: the token attributes an encoder embeds, hashed, and the words it knows.
//!
//! # Overview
//!
//! An [`Attr`] names what a hash-embedding table reads of a token (norm, shape, an affix,
//! the spacing around it) and turns it into a 64-bit key; [`Encoder::push_keys`] lays out a
//! document's keys, one per token and attribute, with the identity of words the encoder
//! does not know replaced by one shared key (see the [tok2vec docs](super)).

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::Encoder;
use crate::doc::Doc;
use crate::pipeline::nn::Rng;
use crate::vocab::LexFlags;

/// A token attribute that a hash-embedding table reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Attr {
    /// The lexeme's norm (lowercase with English norm exceptions).
    Norm,
    /// The lexeme's lowercase form.
    Lower,
    /// The lexeme's word shape ("Xxxxx", "dd").
    Shape,
    /// The first `n` characters, ASCII-lowercased.
    Prefix(u8),
    /// The last `n` characters, ASCII-lowercased.
    Suffix(u8),
    /// Whether whitespace (or the edge of the document) comes before and after the token:
    /// it tells an opening quote (`` `` ``) from a closing one (`''`), a hyphen from a dash.
    Spacing,
}

/// The key every unknown word's norm and lowercase features read (not the xxh3 hash of a
/// likely string; a clash would only make that string read as unknown).
pub(crate) const UNKNOWN_WORD: u64 = 0x756e_6b6e_6f77_6e21;

impl Attr {
    /// Whether the attribute carries word identity (read as [`UNKNOWN_WORD`] for words a
    /// tok2vec does not know).
    pub(crate) fn is_identity(self) -> bool {
        matches!(self, Attr::Norm | Attr::Lower)
    }

    /// The attribute's key for token `i` of `doc`.
    fn key(self, doc: &Doc<'_>, i: usize) -> u64 {
        let data = &doc.tokens()[i];
        let lex = data.lex();
        match self {
            Attr::Norm => lex.norm.as_u64(),
            Attr::Lower => lex.lower.as_u64(),
            Attr::Shape => lex.shape.as_u64(),
            Attr::Prefix(n) => affix_key(&doc.text()[data.span().bytes()], n, true),
            Attr::Suffix(n) => affix_key(&doc.text()[data.span().bytes()], n, false),
            Attr::Spacing => spacing_key(doc, i),
        }
    }

    /// A stable numeric code for model files.
    pub(crate) fn code(self) -> u16 {
        match self {
            Attr::Norm => 1,
            Attr::Lower => 2,
            Attr::Shape => 3,
            Attr::Prefix(n) => 0x100 | u16::from(n),
            Attr::Suffix(n) => 0x200 | u16::from(n),
            Attr::Spacing => 4,
        }
    }

    /// The attribute with numeric code `code`, if it is one.
    pub(crate) fn from_code(code: u16) -> Option<Attr> {
        let n = (code & 0xff) as u8;
        match code >> 8 {
            0 if code == 1 => Some(Attr::Norm),
            0 if code == 2 => Some(Attr::Lower),
            0 if code == 3 => Some(Attr::Shape),
            0 if code == 4 => Some(Attr::Spacing),
            1 if n > 0 => Some(Attr::Prefix(n)),
            2 if n > 0 => Some(Attr::Suffix(n)),
            _ => None,
        }
    }
}

/// The [`Attr::Spacing`] key of token `i`: one of four, for whitespace before and after.
fn spacing_key(doc: &Doc<'_>, i: usize) -> u64 {
    let tokens = doc.tokens();
    let is_space = |j: usize| tokens[j].lex().is(LexFlags::IS_SPACE);
    let before = i == 0 || tokens[i - 1].space_after() || is_space(i - 1);
    let after = tokens[i].space_after() || i + 1 == tokens.len() || is_space(i + 1);
    SPACING_KEYS[usize::from(before) << 1 | usize::from(after)]
}

/// The four [`Attr::Spacing`] keys (neither, after, before, both), arbitrary constants.
const SPACING_KEYS: [u64; 4] =
    [0x7370_6163_696e_6730, 0x7370_6163_696e_6731, 0x7370_6163_696e_6732, 0x7370_6163_696e_6733];

/// Hash of the first (or last) `n` characters of `text`, ASCII-lowercased, without
/// allocating.
fn affix_key(text: &str, n: u8, prefix: bool) -> u64 {
    let n = usize::from(n);
    let affix = if prefix {
        let end = text.char_indices().nth(n).map_or(text.len(), |(i, _)| i);
        &text[..end]
    } else {
        let start = text.char_indices().rev().nth(n - 1).map_or(0, |(i, _)| i);
        &text[start..]
    };
    let mut buf = [0_u8; 32];
    match buf.get_mut(..affix.len()) {
        Some(dst) => {
            dst.copy_from_slice(affix.as_bytes());
            dst.make_ascii_lowercase();
            xxhash_rust::xxh3::xxh3_64(dst)
        }
        None => xxhash_rust::xxh3::xxh3_64(affix.as_bytes()),
    }
}

impl Encoder {
    /// Appends the feature keys of every token of `doc` (token-major, one per attribute),
    /// unknown words' identities replaced by [`UNKNOWN_WORD`].
    pub(crate) fn push_keys(&self, doc: &Doc<'_>, keys: &mut Vec<u64>) {
        keys.reserve(doc.len() * self.attrs.len());
        for i in 0..doc.len() {
            keys.extend(self.attrs.iter().map(|&attr| {
                let key = attr.key(doc, i);
                match &self.known {
                    Some(known) if attr.is_identity() && !known.contains(&key) => UNKNOWN_WORD,
                    _ => key,
                }
            }));
        }
    }

    /// Learns which words to know: those of `docs` seen at least `min_count` times (every
    /// word when `min_count` is 0). Counts raw keys, whatever the tok2vec knew before.
    pub(crate) fn learn_known_words<'z>(
        &mut self,
        docs: impl IntoIterator<Item = Doc<'z>>,
        min_count: usize,
    ) {
        if min_count == 0 {
            self.known = None;
            return;
        }
        let mut counts: FxHashMap<u64, usize> = FxHashMap::default();
        let identities: Vec<Attr> =
            self.attrs.iter().copied().filter(|a| a.is_identity()).collect();
        for doc in docs {
            for i in 0..doc.len() {
                for attr in &identities {
                    *counts.entry(attr.key(&doc, i)).or_default() += 1;
                }
            }
        }
        let known = counts.into_iter().filter(|&(_, n)| n >= min_count).map(|(key, _)| key);
        self.known = Some(known.collect());
    }

    /// Hides the identity of each token of `keys` (from [`Self::push_keys`]) with
    /// probability `rate`, as if it were unknown (word dropout in training).
    pub(crate) fn hide_words(&self, keys: &mut [u64], rate: f32, rng: &mut Rng) {
        if rate <= 0.0 {
            return;
        }
        for token in keys.chunks_exact_mut(self.attrs.len()) {
            if rng.unit() < rate {
                for (key, attr) in token.iter_mut().zip(&self.attrs) {
                    if attr.is_identity() {
                        *key = UNKNOWN_WORD;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::tok2vec::{EmbedConfig, Tok2VecConfig};
    use crate::vocab::{StringKey, Vocab};

    #[test]
    fn affixes_fold_ascii_case_and_respect_char_boundaries() {
        let cases = [
            ("Running", 3, false, "ing"),
            ("RUNNING", 3, false, "ing"),
            ("Über", 2, true, "Üb"),
            ("naïve", 3, false, "ïve"),
            ("a", 3, false, "a"),
            ("a", 2, true, "a"),
        ];
        for (text, n, prefix, want) in cases {
            assert_eq!(
                affix_key(text, n, prefix),
                xxhash_rust::xxh3::xxh3_64(want.as_bytes()),
                "{text}"
            );
        }
    }

    #[test]
    fn attr_codes_round_trip() {
        let attrs =
            [Attr::Norm, Attr::Lower, Attr::Shape, Attr::Spacing, Attr::Prefix(1), Attr::Suffix(4)];
        for attr in attrs {
            assert_eq!(Attr::from_code(attr.code()), Some(attr));
        }
        for bad in [0, 5, 0x100, 0x300 | 1] {
            assert_eq!(Attr::from_code(bad), None);
        }
    }

    #[test]
    fn spacing_tells_opening_quotes_from_closing_ones() {
        let vocab = Vocab::new();
        let zone = vocab.zone();
        // `She said "hi" .\n"` : the first quote opens, the second closes, the last follows
        // a line break.
        let words = ["She", "said", "\"", "hi", "\"", ".", "\n", "\""];
        let spaces = [true, true, false, false, true, false, false, false];
        let doc = Doc::from_words(&zone, &words, &spaces);
        let keys: Vec<u64> = (0..doc.len()).map(|i| Attr::Spacing.key(&doc, i)).collect();
        let [neither, after, before, both] = SPACING_KEYS;
        assert_eq!(keys[0], both, "the start of the text counts as space");
        assert_eq!(keys[2], before, "an opening quote");
        assert_eq!(keys[4], after, "a closing quote");
        assert_eq!(keys[3], neither);
        assert_eq!(keys[7], both, "after a whitespace token, at the end of the text");
    }

    #[test]
    fn words_seen_often_enough_keep_their_identity_and_others_read_unknown() {
        let embed = |attr| EmbedConfig { attr, rows: 10, width: 2 };
        let config = Tok2VecConfig {
            embed: vec![embed(Attr::Norm), embed(Attr::Suffix(2))],
            width: 4,
            depth: 1,
            window: 1,
            dilations: Vec::new(),
            pieces: 2,
            min_word_count: 2,
        };
        let mut tok2vec = Encoder::new(&config, 0, &mut Rng::new(1));
        let vocab = Vocab::new();
        let zone = vocab.zone();
        let doc = |text: &str| {
            let words: Vec<&str> = text.split(' ').collect();
            Doc::from_words(&zone, &words, &vec![true; words.len()])
        };
        let docs = [doc("the cat sat"), doc("The dog sat")];
        tok2vec.learn_known_words(docs, config.min_word_count);
        let norm = |w: &str| StringKey::of(w).as_u64();
        let known = [norm("the"), norm("sat")].into_iter().collect();
        assert_eq!(tok2vec.known, Some(known));

        let mut keys = Vec::new();
        tok2vec.push_keys(&doc("the cat"), &mut keys);
        assert_eq!(keys[0], norm("the"), "a known word keeps its norm");
        assert_eq!(keys[2], UNKNOWN_WORD, "an unknown word reads the shared key");
        assert_ne!(keys[3], UNKNOWN_WORD, "affixes are never hidden");

        let mut hidden = keys.clone();
        tok2vec.hide_words(&mut hidden, 1.0, &mut Rng::new(2));
        assert_eq!((hidden[0], hidden[1]), (UNKNOWN_WORD, keys[1]), "word dropout hides identity");
    }
}

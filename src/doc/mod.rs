//! Documents: tokens with their annotations, borrowed from a memory zone.
//!
//! # Overview
//!
//! A [`Doc`] owns its text and an array of [`TokenData`] (one per syntactic word), plus an
//! optional [`Tensor`] and named intermediate arrays written by pipeline components. Each
//! token refers to its [`Lexeme`](crate::vocab::Lexeme) by reference into the
//! [`Zone`] the Doc was made in, so a Doc cannot outlive its zone:
//!
//! ```compile_fail
//! use nlpd::doc::Doc;
//! use nlpd::vocab::Vocab;
//!
//! let vocab = Vocab::new();
//! let doc = {
//!     let zone = vocab.zone();
//!     Doc::from_words(&zone, &["Hello", "world"], &[true, false])
//! };
//! println!("{}", doc.len());
//! ```
//!
//! [`Token`] is a cheap borrowed view of one token; [`Span`] a range of tokens.
//!
//! Docs are read and written in two line-based formats: [`conllu`] (UD annotations) and
//! [`iob2`] (Universal NER entities); both readers fail with [`ReadError`]. [`DocWriter`]
//! writes Docs in every output format ([`DocFormat`]: JSON, JSON Lines, CoNLL-U, IOB2) for
//! the command line and the HTTP service alike.

pub mod conllu;
pub mod iob2;
mod json;
mod read_error;
mod sentence_reader;
mod sentence_writer;
mod span;
mod tensor;
mod token;
mod writer;

use std::collections::BTreeMap;

pub use json::{DocJson, SpanJson, TokenJson, TokensJson};
pub use read_error::ReadError;
pub use sentence_reader::{DocumentSentence, Documents, ReadSentence, SentenceReader};
pub use sentence_writer::{RenderedSentences, SentenceWords, SentenceWriter, WriteSentence};
pub use span::{Span, TextSpan};
pub use tensor::{Tensor, live_tensor_bytes};
pub use token::{EntIob, Pos, Token, TokenData, TokenIdx};
pub use writer::{DocFormat, DocRenderer, DocWriter, JsonLayout, RenderedDoc};

use crate::vocab::Zone;

/// A processed text: its tokens, their annotations and intermediate arrays.
#[derive(Debug)]
pub struct Doc<'z> {
    zone: &'z Zone<'z>,
    text: String,
    tokens: Vec<TokenData<'z>>,
    tensor: Option<Tensor>,
    user_data: BTreeMap<String, Tensor>,
}

impl<'z> Doc<'z> {
    /// A document over `text` with the given tokens, filling in their character offsets.
    ///
    /// # Panics
    ///
    /// Panics if the tokens are not in order, overlap, do not lie on character boundaries of
    /// `text`, or if `text` is 4 GiB or longer. Tokenizers guarantee all of this; a panic here
    /// is a bug in the caller.
    pub fn new(zone: &'z Zone<'z>, text: String, mut tokens: Vec<TokenData<'z>>) -> Self {
        assert!(u32::try_from(text.len()).is_ok(), "documents must be under 4 GiB");
        let mut byte = 0;
        let mut chars = 0;
        for token in &mut tokens {
            let span = token.span();
            assert!(
                span.byte_start >= byte && span.byte_end >= span.byte_start,
                "tokens out of order"
            );
            chars += text[byte..span.byte_start].chars().count();
            let len = text[span.bytes()].chars().count();
            token.set_chars(chars, chars + len);
            chars += len;
            byte = span.byte_end;
        }
        Self { zone, text, tokens, tensor: None, user_data: BTreeMap::new() }
    }

    /// A document from pre-tokenised words, as spaCy's `Doc(vocab, words, spaces)`: the text
    /// is the words joined with a space wherever `spaces[i]` is true.
    ///
    /// # Panics
    ///
    /// Panics if `words` and `spaces` differ in length.
    pub fn from_words(zone: &'z Zone<'z>, words: &[&str], spaces: &[bool]) -> Self {
        assert_eq!(words.len(), spaces.len(), "one space flag per word");
        let mut text = String::with_capacity(words.iter().map(|w| w.len() + 1).sum());
        let mut tokens = Vec::with_capacity(words.len());
        for (word, &space) in words.iter().zip(spaces) {
            let start = text.len();
            text.push_str(word);
            tokens.push(TokenData::new(zone.lexeme(word), start, text.len(), space));
            if space {
                text.push(' ');
            }
        }
        Self::new(zone, text, tokens)
    }

    /// The zone the document lives in (resolves its string keys).
    pub fn zone(&self) -> &'z Zone<'z> {
        self.zone
    }

    /// The full text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Whether the document has no tokens.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The token data, in order.
    pub fn tokens(&self) -> &[TokenData<'z>] {
        &self.tokens
    }

    /// The token data, for components to annotate.
    pub fn tokens_mut(&mut self) -> &mut [TokenData<'z>] {
        &mut self.tokens
    }

    /// Token `i`.
    ///
    /// # Panics
    ///
    /// Panics if `i >= len()`.
    pub fn token(&self, i: usize) -> Token<'_, 'z> {
        assert!(i < self.tokens.len(), "token {i} out of range");
        Token::new(self, i)
    }

    /// Every token, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Token<'_, 'z>> {
        (0..self.tokens.len()).map(|i| Token::new(self, i))
    }

    /// The sentences, from the tokens' `sent_start` flags (the whole document is one
    /// sentence when no token starts one).
    pub fn sents(&self) -> Vec<Span> {
        let mut sents = Vec::new();
        let mut start = 0;
        for (i, token) in self.tokens.iter().enumerate().skip(1) {
            if token.sent_start == Some(true) {
                sents.push(Span::new(start, i));
                start = i;
            }
        }
        if start < self.tokens.len() {
            sents.push(Span::new(start, self.tokens.len()));
        }
        sents
    }

    /// The named entities, from the tokens' IOB codes and types.
    pub fn ents(&self) -> Vec<Span> {
        let mut ents: Vec<Span> = Vec::new();
        let mut open: Option<(usize, crate::vocab::StringKey)> = None;
        for (i, token) in self.tokens.iter().enumerate() {
            let continues = token.ent_iob == EntIob::Inside
                && open.map(|(_, label)| Some(label)) == Some(token.ent_type);
            if continues {
                continue;
            }
            if let Some((start, label)) = open.take() {
                ents.push(Span::new(start, i).with_label(label));
            }
            if matches!(token.ent_iob, EntIob::Begin | EntIob::Inside) {
                open = token.ent_type.map(|label| (i, label));
            }
        }
        if let Some((start, label)) = open {
            ents.push(Span::new(start, self.tokens.len()).with_label(label));
        }
        ents
    }

    /// Where a span of tokens lies in the text (empty at the end for an empty span).
    pub fn text_span(&self, span: Span) -> TextSpan {
        match (
            self.tokens.get(span.start()),
            span.end().checked_sub(1).and_then(|i| self.tokens.get(i)),
        ) {
            (Some(first), Some(last)) if !span.is_empty() => TextSpan {
                byte_start: first.span().byte_start,
                byte_end: last.span().byte_end,
                char_start: first.span().char_start,
                char_end: last.span().char_end,
            },
            _ => TextSpan::default(),
        }
    }

    /// The tensor written by `tok2vec` (tokens × width), if any.
    pub fn tensor(&self) -> Option<&Tensor> {
        self.tensor.as_ref()
    }

    /// Sets or clears the tensor.
    pub fn set_tensor(&mut self, tensor: Option<Tensor>) {
        self.tensor = tensor;
    }

    /// Named intermediate arrays attached by components (spaCy's `doc._.trf_data`).
    pub fn user_data(&self) -> &BTreeMap<String, Tensor> {
        &self.user_data
    }

    /// Named intermediate arrays, mutably.
    pub fn user_data_mut(&mut self) -> &mut BTreeMap<String, Tensor> {
        &mut self.user_data
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::{StringKey, Vocab};

    #[test]
    fn from_words_builds_text_and_offsets() {
        let vocab = Vocab::new();
        let zone = vocab.zone();
        let doc = Doc::from_words(&zone, &["Naïve", "café", "!"], &[true, false, false]);
        assert_eq!(doc.text(), "Naïve café!");
        let spans: Vec<_> =
            doc.iter().map(|t| (t.text(), t.span().chars(), t.whitespace())).collect();
        assert_eq!(spans, [("Naïve", 0..5, " "), ("café", 6..10, ""), ("!", 10..11, "")]);
    }

    #[test]
    fn sentences_and_entities_follow_token_flags() {
        let vocab = Vocab::new();
        let zone = vocab.zone();
        let words = ["Ada", "Lovelace", "wrote", ".", "Paris", "waits", "."];
        let mut doc =
            Doc::from_words(&zone, &words, &[true, true, false, true, true, false, false]);
        let (per, loc) = (StringKey::of("PER"), StringKey::of("LOC"));
        let tokens = doc.tokens_mut();
        tokens[4].sent_start = Some(true);
        for (i, (iob, label)) in
            [(EntIob::Begin, per), (EntIob::Inside, per)].into_iter().enumerate()
        {
            tokens[i].ent_iob = iob;
            tokens[i].ent_type = Some(label);
        }
        tokens[4].ent_iob = EntIob::Begin;
        tokens[4].ent_type = Some(loc);
        assert_eq!(doc.sents(), [Span::new(0, 4), Span::new(4, 7)]);
        assert_eq!(doc.ents(), [Span::new(0, 2).with_label(per), Span::new(4, 5).with_label(loc)]);
        assert_eq!(doc.text_span(doc.ents()[1]).chars(), 20..25);
    }

    #[test]
    fn tensors_leave_with_their_doc() {
        let vocab = Vocab::new();
        let zone = vocab.zone();
        let mut doc = Doc::from_words(&zone, &["a"], &[false]);
        doc.set_tensor(Some(Tensor::zeros(1, 8)));
        doc.user_data_mut().insert("scores".into(), Tensor::zeros(1, 2));
        assert_eq!(doc.tensor().map(Tensor::bytes), Some(32));
        drop(doc);
    }
}

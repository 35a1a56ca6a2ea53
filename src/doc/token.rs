//! Per-token data and the borrowed [`Token`] view.

use serde::{Deserialize, Serialize};

use super::{Doc, TextSpan};
use crate::vocab::{Lexeme, StringKey};

/// Universal POS tags (UD v2), plus `SPACE` for whitespace tokens as in spaCy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
#[allow(missing_docs)] // The UD names are the documentation.
pub enum Pos {
    Adj,
    Adp,
    Adv,
    Aux,
    Cconj,
    Det,
    Intj,
    Noun,
    Num,
    Part,
    Pron,
    Propn,
    Punct,
    Sconj,
    Sym,
    Verb,
    X,
    Space,
}

impl Pos {
    /// Every tag, in declaration order.
    pub const ALL: [Pos; 18] = [
        Pos::Adj,
        Pos::Adp,
        Pos::Adv,
        Pos::Aux,
        Pos::Cconj,
        Pos::Det,
        Pos::Intj,
        Pos::Noun,
        Pos::Num,
        Pos::Part,
        Pos::Pron,
        Pos::Propn,
        Pos::Punct,
        Pos::Sconj,
        Pos::Sym,
        Pos::Verb,
        Pos::X,
        Pos::Space,
    ];

    /// The UD name ("NOUN").
    pub fn as_str(self) -> &'static str {
        match self {
            Pos::Adj => "ADJ",
            Pos::Adp => "ADP",
            Pos::Adv => "ADV",
            Pos::Aux => "AUX",
            Pos::Cconj => "CCONJ",
            Pos::Det => "DET",
            Pos::Intj => "INTJ",
            Pos::Noun => "NOUN",
            Pos::Num => "NUM",
            Pos::Part => "PART",
            Pos::Pron => "PRON",
            Pos::Propn => "PROPN",
            Pos::Punct => "PUNCT",
            Pos::Sconj => "SCONJ",
            Pos::Sym => "SYM",
            Pos::Verb => "VERB",
            Pos::X => "X",
            Pos::Space => "SPACE",
        }
    }

    /// Parses a UD name.
    pub fn from_name(name: &str) -> Option<Pos> {
        Pos::ALL.into_iter().find(|pos| pos.as_str() == name)
    }
}

/// Entity IOB code of a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum EntIob {
    /// Not annotated.
    #[default]
    #[serde(rename = "")]
    Missing,
    /// Begins an entity.
    #[serde(rename = "B")]
    Begin,
    /// Inside an entity.
    #[serde(rename = "I")]
    Inside,
    /// Outside any entity.
    #[serde(rename = "O")]
    Outside,
}

impl EntIob {
    /// The one-letter code ("B", "I", "O", or "" when missing).
    pub fn as_str(self) -> &'static str {
        match self {
            EntIob::Missing => "",
            EntIob::Begin => "B",
            EntIob::Inside => "I",
            EntIob::Outside => "O",
        }
    }
}

/// The position of a token in its document (what a head points at).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(transparent)]
pub struct TokenIdx(u32);

impl TokenIdx {
    /// The token at `index`.
    ///
    /// # Panics
    ///
    /// Panics if `index` does not fit in 32 bits (no document has that many tokens).
    pub fn new(index: usize) -> Self {
        Self(u32::try_from(index).expect("a document has fewer than 2^32 tokens"))
    }

    /// The index into the document's tokens.
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

/// Everything a Doc stores about one token (a syntactic word). The text offsets are fixed by
/// the tokenizer; the annotations are filled in by pipeline components.
#[derive(Clone, Copy, Debug)]
pub struct TokenData<'z> {
    lex: &'z Lexeme,
    span: TextSpan,
    space_after: bool,
    fused_with_next: bool,
    /// Fine-grained tag (Penn Treebank XPOS).
    pub tag: Option<StringKey>,
    /// Universal POS tag.
    pub pos: Option<Pos>,
    /// UD morphological features, as the canonical FEATS string ("Number=Sing|Person=3").
    pub morph: Option<StringKey>,
    /// Lemma.
    pub lemma: Option<StringKey>,
    /// The syntactic head (the token itself for a root).
    pub head: Option<TokenIdx>,
    /// Dependency label.
    pub dep: Option<StringKey>,
    /// Entity IOB code.
    pub ent_iob: EntIob,
    /// Entity type, set on `B` and `I` tokens.
    pub ent_type: Option<StringKey>,
    /// Whether the token starts a sentence (`None`: not decided yet).
    pub sent_start: Option<bool>,
}

impl<'z> TokenData<'z> {
    /// A token for `lex` at byte range `[byte_start, byte_end)` of its document, followed by
    /// one space if `space_after`. Character offsets are filled in by [`Doc::new`].
    pub fn new(lex: &'z Lexeme, byte_start: usize, byte_end: usize, space_after: bool) -> Self {
        Self {
            lex,
            span: TextSpan { byte_start, byte_end, char_start: 0, char_end: 0 },
            space_after,
            fused_with_next: false,
            tag: None,
            pos: None,
            morph: None,
            lemma: None,
            head: None,
            dep: None,
            ent_iob: EntIob::Missing,
            ent_type: None,
            sent_start: None,
        }
    }

    /// Marks this word and the next as parts of one surface token ("do" + "n't" in "don't").
    #[must_use]
    pub fn fused(self) -> Self {
        Self { fused_with_next: true, ..self }
    }

    /// The lexeme.
    pub fn lex(&self) -> &'z Lexeme {
        self.lex
    }

    /// Where the token lies in the document text.
    pub fn span(&self) -> TextSpan {
        self.span
    }

    /// Whether a single space follows the token.
    pub fn space_after(&self) -> bool {
        self.space_after
    }

    /// Whether this word and the next form one surface token.
    pub fn fused_with_next(&self) -> bool {
        self.fused_with_next
    }

    pub(super) fn set_chars(&mut self, char_start: usize, char_end: usize) {
        self.span.char_start = char_start;
        self.span.char_end = char_end;
    }
}

/// A borrowed view of token `i` of a [`Doc`].
#[derive(Clone, Copy, Debug)]
pub struct Token<'d, 'z> {
    doc: &'d Doc<'z>,
    i: usize,
}

impl<'d, 'z> Token<'d, 'z> {
    pub(super) fn new(doc: &'d Doc<'z>, i: usize) -> Self {
        Self { doc, i }
    }

    /// The token's index in its document.
    pub fn i(&self) -> usize {
        self.i
    }

    /// The stored data.
    pub fn data(&self) -> &'d TokenData<'z> {
        &self.doc.tokens()[self.i]
    }

    /// The lexeme.
    pub fn lex(&self) -> &'z Lexeme {
        self.data().lex
    }

    /// The token's text.
    pub fn text(&self) -> &'d str {
        &self.doc.text()[self.data().span.bytes()]
    }

    /// The whitespace after the token: `" "` or `""`.
    pub fn whitespace(&self) -> &'static str {
        if self.data().space_after { " " } else { "" }
    }

    /// Where the token lies in the document text.
    pub fn span(&self) -> TextSpan {
        self.data().span
    }

    /// The text of a string key (tag, lemma, label…) as the document's zone resolves it.
    /// Returns `""` for a missing annotation.
    pub fn resolve(&self, key: Option<StringKey>) -> &'d str {
        key.and_then(|key| self.doc.zone().string(key)).unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pos_names_round_trip() {
        for pos in Pos::ALL {
            assert_eq!(Pos::from_name(pos.as_str()), Some(pos));
        }
        assert_eq!(Pos::from_name("NOPE"), None);
    }
}

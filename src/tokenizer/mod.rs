//! The English tokenizer.
//!
//! # Overview
//!
//! [`Tokenizer`] splits text into syntactic words inside a memory zone and returns a
//! [`Doc`], with spaCy's algorithm and the conventions of UD English EWT:
//!
//! 1. The text is cut at whitespace into chunks. A single space after a chunk becomes its
//!    last token's `space_after`; any other whitespace (runs of spaces, newlines, tabs,
//!    leading whitespace, other Unicode spaces) is a token of its own, so every character
//!    belongs to exactly one token or trailing space and the text is always reproduced.
//! 2. Each chunk is cut by the rules in `split`: special cases from a table
//!    (`exceptions`), prefixes and suffixes (`affixes`), whole-token patterns such as URLs
//!    (`patterns`), and infixes (`infixes`).
//!
//! Words that EWT writes as one surface token ("do" + "n't", "Google" + "'s", "gon" +
//! "na") are marked with [`TokenData::fused`], so CoNLL-U output can carry range lines.
//!
//! ```
//! use nlpd::tokenizer::Tokenizer;
//! use nlpd::vocab::Vocab;
//!
//! let tokenizer = Tokenizer::english();
//! let vocab = Vocab::new();
//! let zone = vocab.zone();
//! let doc = tokenizer.tokenize(&zone, "I don't know (yet).");
//! let words: Vec<_> = doc.iter().map(|t| t.text()).collect();
//! assert_eq!(words, ["I", "do", "n't", "know", "(", "yet", ")", "."]);
//! assert!(doc.tokens()[1].fused_with_next());
//! ```
//!
//! The tokenizer holds only immutable tables built by [`Tokenizer::english`]; it shares no
//! cache across calls, so it is `Sync` and leaves every zone exactly as it found it.

mod affixes;
mod chars;
mod exceptions;
mod infixes;
mod patterns;
mod split;

use crate::doc::{Doc, TokenData};
use crate::vocab::Zone;
use exceptions::{Exceptions, Following};
use patterns::TokenPatterns;
use split::Pieces;

/// Splits English text into tokens.
#[derive(Debug)]
pub struct Tokenizer {
    exceptions: Exceptions,
    patterns: TokenPatterns,
}

/// A word found in a chunk: its byte range in the text, and whether it forms one surface
/// token with the next word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Piece {
    start: usize,
    end: usize,
    fused: bool,
}

impl Piece {
    fn new(start: usize, end: usize) -> Self {
        Self { start, end, fused: false }
    }
}

impl Default for Tokenizer {
    fn default() -> Self {
        Self::english()
    }
}

impl Tokenizer {
    /// The English tokenizer.
    pub fn english() -> Self {
        Self { exceptions: Exceptions::english(), patterns: TokenPatterns::english() }
    }

    /// Every word the special-case table can yield ("do" and "nt" from "dont", "Dr.",
    /// ":-)"), in no particular order and possibly repeated: words a model's vocabulary
    /// should know.
    pub fn special_case_words(&self) -> impl Iterator<Item = &str> {
        self.exceptions.words()
    }

    /// Tokenizes `text` into a document living in `zone`.
    pub fn tokenize<'z>(&self, zone: &'z Zone<'z>, text: &str) -> Doc<'z> {
        let mut tokens = Vec::with_capacity(text.len() / 6 + 1);
        let mut pieces = Pieces::default();
        let mut push = |start: usize, end: usize, space_after: bool, fused: bool| {
            let token = TokenData::new(zone.lexeme(&text[start..end]), start, end, space_after);
            tokens.push(if fused { token.fused() } else { token });
        };
        let mut i = 0;
        while i < text.len() {
            let chunk_end = i + chunk_len(&text[i..]);
            let space_end = chunk_end + whitespace_len(&text[chunk_end..]);
            let mut space_start = chunk_end;
            if i < chunk_end {
                let space_after = text.as_bytes().get(chunk_end) == Some(&b' ');
                let following = Following::Text(&text[space_end..]);
                self.split_chunk(text, i, chunk_end, following, &mut pieces);
                let n = pieces.out.len();
                for (k, piece) in pieces.out.iter().enumerate() {
                    push(piece.start, piece.end, space_after && k + 1 == n, piece.fused);
                }
                space_start += usize::from(space_after);
            }
            if space_start < space_end {
                push(space_start, space_end, false, false);
            }
            i = space_end;
        }
        Doc::new(zone, text.to_owned(), tokens)
    }
}

/// Whether an ASCII byte is whitespace (`char::is_whitespace`).
const fn is_ascii_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// Whether a byte may start a non-ASCII whitespace character (U+0085, U+00A0, U+1680,
/// U+2000–U+200A, U+2028, U+2029, U+202F, U+205F, U+3000).
const fn may_start_space(b: u8) -> bool {
    matches!(b, 0xc2 | 0xe1 | 0xe2 | 0xe3)
}

/// The byte length of the whitespace character at the start of `text` (0 if there is none).
#[inline]
fn space_at(text: &str) -> usize {
    match text.as_bytes().first() {
        Some(&b) if is_ascii_space(b) => 1,
        Some(&b) if may_start_space(b) => {
            text.chars().next().filter(|c| c.is_whitespace()).map_or(0, char::len_utf8)
        }
        _ => 0,
    }
}

/// The byte length of the text before its first whitespace character.
fn chunk_len(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        // Bytes that may start a space are always lead bytes, so `i` is a char boundary.
        if (is_ascii_space(b) || may_start_space(b)) && space_at(&text[i..]) > 0 {
            return i;
        }
        i += 1;
    }
    bytes.len()
}

/// The byte length of the whitespace run at the start of `text`.
fn whitespace_len(text: &str) -> usize {
    let mut i = 0;
    loop {
        match space_at(&text[i..]) {
            0 => return i,
            n => i += n,
        }
    }
}

#[cfg(test)]
mod tests;

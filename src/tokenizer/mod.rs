//! The English tokenizer.
//!
//! # Overview
//!
//! [`Tokenizer`] splits text into syntactic words inside a memory zone and returns a
//! [`Doc`]. (Placeholder: splits on whitespace only; the rule-based English tokenizer
//! replaces it.)

use crate::doc::{Doc, TokenData};
use crate::vocab::Zone;

/// Splits text into tokens.
#[derive(Debug, Default)]
pub struct Tokenizer {}

impl Tokenizer {
    /// The English tokenizer.
    pub fn english() -> Self {
        Self {}
    }

    /// Tokenizes `text` into a document living in `zone`.
    pub fn tokenize<'z>(&self, zone: &'z Zone<'z>, text: &str) -> Doc<'z> {
        let mut tokens = Vec::new();
        let mut start = None;
        for (i, c) in text.char_indices().chain([(text.len(), ' ')]) {
            match (c.is_whitespace(), start) {
                (true, Some(s)) => {
                    tokens.push(TokenData::new(
                        zone.lexeme(&text[s..i]),
                        s,
                        i,
                        text[i..].starts_with(' '),
                    ));
                    start = None;
                }
                (false, None) => start = Some(i),
                _ => {}
            }
        }
        Doc::new(zone, text.to_owned(), tokens)
    }
}

//! The per-chunk algorithm: special cases, then prefixes and suffixes, then infixes.
//!
//! # Overview
//!
//! [`Tokenizer::split_chunk`] cuts one whitespace-free chunk into [`Piece`]s the way
//! spaCy's tokenizer does. Until nothing changes it tries, on what is left of the chunk: a
//! special case or an abbreviation (which ends the search), a suffix whose removal leaves
//! a special case, a prefix, a suffix. What
//! remains is kept whole if it is a URL, address or other whole-token pattern, or a handle,
//! and is otherwise split at its infixes. Suffixes are collected from the end and put back
//! in text order; a clitic suffix is fused to the word before it.
//!
//! Each step looks at a bounded part of the text (special cases are short, affixes are
//! consumed as they are examined), so a chunk is split in time linear in its length.

use super::affixes::{Suffix, prefix, suffix};
use super::exceptions::{Special, is_initialism};
use super::infixes::split_infixes;
use super::{Piece, Tokenizer};

/// Scratch space reused across the chunks of one text.
#[derive(Debug, Default)]
pub(super) struct Pieces {
    /// The pieces of the current chunk, in text order.
    pub(super) out: Vec<Piece>,
    /// Suffixes split off the current chunk, last one first.
    suffixes: Vec<(Piece, bool)>,
}

impl Tokenizer {
    /// Splits `text[start..end]` (no whitespace) into `pieces.out`. `last` tells whether
    /// the chunk ends the text, where a lone capital and a period ("A.") is not an initial.
    pub(super) fn split_chunk(
        &self,
        text: &str,
        start: usize,
        end: usize,
        last: bool,
        pieces: &mut Pieces,
    ) {
        pieces.out.clear();
        pieces.suffixes.clear();
        let chunk = &text[start..end];
        // Fast path: a plain word is one token unless it is a special case.
        if chunk.bytes().all(|b| b.is_ascii_alphabetic()) {
            match self.exceptions.get(chunk) {
                Some(special) => push_special(&mut pieces.out, start, end, special),
                None => pieces.out.push(Piece::new(start, end)),
            }
            return;
        }
        let (mut lo, mut hi) = (start, end);
        let mut quoted = false;
        while lo < hi {
            let rest = &text[lo..hi];
            let at_end = last && hi == end;
            if let Some(special) = self.exceptions.get(rest) {
                push_special(&mut pieces.out, lo, hi, special);
                lo = hi;
            } else if is_initialism(rest, at_end) {
                pieces.out.push(Piece::new(lo, hi));
                lo = hi;
            } else if let Some(s) = self.suffix_before_special(rest, quoted, at_end) {
                hi -= s.len;
                pieces.suffixes.push((Piece::new(hi, hi + s.len), s.clitic));
            } else if let Some(p) = prefix(rest) {
                pieces.out.push(Piece::new(lo, lo + p.len));
                quoted |= p.opens_quote;
                lo += p.len;
            } else if let Some(s) = self.suffix(rest, quoted, at_end) {
                hi -= s.len;
                pieces.suffixes.push((Piece::new(hi, hi + s.len), s.clitic));
            } else {
                break;
            }
        }
        if lo < hi {
            let rest = &text[lo..hi];
            if is_handle(rest) || self.patterns.matches(rest) {
                pieces.out.push(Piece::new(lo, hi));
            } else {
                split_infixes(text, lo, hi, &mut pieces.out);
            }
        }
        while let Some((piece, clitic)) = pieces.suffixes.pop() {
            if let (true, Some(previous)) = (clitic, pieces.out.last_mut()) {
                previous.fused = true;
            }
            pieces.out.push(piece);
        }
    }

    /// The suffix of a short `rest` if what it leaves is a special case (":)." → ":)" +
    /// "."), which then wins over a prefix (":"), as in spaCy.
    fn suffix_before_special(&self, rest: &str, quoted: bool, at_end: bool) -> Option<Suffix> {
        if rest.len() > self.exceptions.max_len() + 4 {
            return None;
        }
        let found = self.suffix(rest, quoted, at_end)?;
        self.exceptions.get(&rest[..rest.len() - found.len]).map(|_| found)
    }

    /// The suffix of `rest`, leaving the period of an abbreviation in place when a run of
    /// periods follows it ("U.S.." → "U.S." + ".").
    fn suffix(&self, rest: &str, quoted: bool, at_end: bool) -> Option<Suffix> {
        let mut found = suffix(rest, quoted)?;
        let run = &rest[rest.len() - found.len..];
        if found.len >= 2 && found.len < rest.len() && run.bytes().all(|b| b == b'.') {
            let word = &rest[..rest.len() - found.len + 1];
            if self.exceptions.get(word).is_some() || is_initialism(word, at_end) {
                found.len -= 1;
            }
        }
        Some(found)
    }
}

/// Pushes the words of a special case; all but the last are fused to the next.
fn push_special(out: &mut Vec<Piece>, start: usize, end: usize, special: Special) {
    let mut from = start;
    for &cut in special.cuts() {
        let to = start + usize::from(cut);
        out.push(Piece { fused: true, ..Piece::new(from, to) });
        from = to;
    }
    out.push(Piece::new(from, end));
}

/// A social-media handle or hashtag ("@Ryan", "#audiobooks").
fn is_handle(text: &str) -> bool {
    let mut chars = text.chars();
    matches!(chars.next(), Some('@' | '#')) && chars.next().is_some_and(super::chars::is_word)
}

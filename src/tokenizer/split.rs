//! The per-chunk algorithm: special cases, then prefixes and suffixes, then infixes.
//!
//! # Overview
//!
//! [`Tokenizer::split_chunk`] cuts one whitespace-free chunk into [`Piece`]s the way
//! spaCy's tokenizer does. Until nothing changes it tries, on what is left of the chunk: a
//! special case or an abbreviation (which ends the search), a suffix whose removal leaves
//! a special case, a prefix, a suffix. What remains is kept whole if it is a URL, address
//! or other whole-token pattern, or a handle; it is otherwise cut at brackets and quotes,
//! each segment going through the algorithm again, and then split at its infixes.
//! Suffixes are collected from the end and put back in text order; a clitic suffix is
//! fused to the word before it.
//!
//! Each step looks at a bounded part of the text (special cases are short, affixes are
//! consumed as they are examined), so a chunk is split in time linear in its length.

use super::affixes::{Suffix, prefix, suffix};
use super::chars::{always_splits, run_len};
use super::exceptions::{Following, Next, Special, is_initialism};
use super::infixes::split_infixes;
use super::{Piece, Tokenizer};

/// What the loop has learnt about the chunk so far.
#[derive(Debug, Default)]
struct State {
    /// An opening quotation mark was split off.
    quoted: bool,
    /// Whether the chunk, up to a final slash, is a URL (asked once: every pattern that can
    /// end in a slash accepts anything after its start, so the answer does not change as
    /// suffixes come off, and asking again could make a chunk quadratic).
    url: Option<bool>,
}

/// Scratch space reused across the chunks of one text.
#[derive(Debug, Default)]
pub(super) struct Pieces {
    /// The pieces of the current chunk, in text order.
    pub(super) out: Vec<Piece>,
    /// Suffixes split off the current chunk, last one first, with their clitic flag.
    suffixes: Vec<(Piece, bool)>,
}

impl Tokenizer {
    /// Splits `text[start..end]` (no whitespace) into `pieces.out`; `following` is what
    /// follows the chunk.
    pub(super) fn split_chunk(
        &self,
        text: &str,
        start: usize,
        end: usize,
        following: Following<'_>,
        pieces: &mut Pieces,
    ) {
        pieces.out.clear();
        pieces.suffixes.clear();
        let chunk = &text[start..end];
        // Fast path: a plain word is one token unless it is a special case.
        if chunk.bytes().all(|b| b.is_ascii_alphabetic()) {
            match self.exceptions.get(chunk).filter(|s| s.applies(following)) {
                Some(special) => push_special(&mut pieces.out, start, end, special),
                None => pieces.out.push(Piece::new(start, end)),
            }
            return;
        }
        self.split_span(text, start, end, following, pieces);
    }

    /// Splits `text[start..end]` by the affix loop, then [`Self::split_rest`].
    fn split_span(
        &self,
        text: &str,
        start: usize,
        end: usize,
        following: Following<'_>,
        pieces: &mut Pieces,
    ) {
        let base = pieces.suffixes.len();
        let (mut lo, mut hi) = (start, end);
        let mut state = State::default();
        while lo < hi {
            let rest = &text[lo..hi];
            let following = if hi == end { following } else { Following::Punctuation };
            let special = self.exceptions.get(rest);
            if let Some(special) = special.filter(|s| s.applies(following)) {
                push_special(&mut pieces.out, lo, hi, special);
                lo = hi;
            } else if special.is_none() && is_initialism(rest, following.next()) {
                pieces.out.push(Piece::new(lo, hi));
                lo = hi;
            } else if let Some(s) = self.suffix_before_special(rest, &mut state) {
                hi -= s.len;
                pieces.suffixes.push((Piece::new(hi, hi + s.len), s.clitic));
            } else if let Some(p) = prefix(rest) {
                pieces.out.push(Piece::new(lo, lo + p.len));
                state.quoted |= p.opens_quote;
                lo += p.len;
            } else if let Some(s) = self.suffix(rest, &mut state) {
                hi -= s.len;
                pieces.suffixes.push((Piece::new(hi, hi + s.len), s.clitic));
            } else {
                break;
            }
        }
        if lo < hi {
            let following = if hi == end { following } else { Following::Punctuation };
            self.split_rest(text, lo, hi, following, pieces);
        }
        while pieces.suffixes.len() > base {
            let (piece, clitic) = pieces.suffixes.pop().expect("above the base");
            if let (true, Some(previous)) = (clitic, pieces.out.last_mut()) {
                previous.fused = true;
            }
            pieces.out.push(piece);
        }
    }

    /// Splits what the affix loop left: whole if it is a pattern or a handle; else at its
    /// brackets, quotes and other hard separators, each segment then going through the
    /// whole algorithm again ("(989)755-1109", "file.pdf)(See"); else at its infixes.
    fn split_rest(
        &self,
        text: &str,
        lo: usize,
        hi: usize,
        following: Following<'_>,
        pieces: &mut Pieces,
    ) {
        let rest = &text[lo..hi];
        if is_handle(rest) || self.patterns.matches(rest) {
            pieces.out.push(Piece::new(lo, hi));
            return;
        }
        if !rest.contains(always_splits) {
            split_infixes(text, lo, hi, &mut pieces.out);
            return;
        }
        // Segments hold no hard separator, so the recursion ends at the next level.
        let mut i = lo;
        while i < hi {
            let segment_end = text[i..hi].find(always_splits).map_or(hi, |at| i + at);
            if i < segment_end {
                let following =
                    if segment_end == hi { following } else { Following::Punctuation };
                self.split_span(text, i, segment_end, following, pieces);
            }
            if let Some(c) = text[segment_end..hi].chars().next() {
                let run = run_len(&text[segment_end..hi], |d| d == c);
                pieces.out.push(Piece::new(segment_end, segment_end + run));
                i = segment_end + run;
            } else {
                i = segment_end;
            }
        }
    }

    /// The suffix of a short `rest` if what it leaves is a special case (":)." → ":)" +
    /// "."), which then wins over a prefix (":"), as in spaCy.
    fn suffix_before_special(&self, rest: &str, state: &mut State) -> Option<Suffix> {
        if rest.len() > self.exceptions.max_len() + 4 {
            return None;
        }
        let found = self.suffix(rest, state)?;
        self.exceptions.get(&rest[..rest.len() - found.len]).map(|_| found)
    }

    /// The suffix of `rest`. Beyond the rules of [`suffix`]: an emoticon after a word is
    /// one suffix ("great:)"); a URL keeps its final slash; and an abbreviation keeps its
    /// period when more punctuation follows ("U.S.." → "U.S." + ".", "T.V.?" → "T.V." + "?").
    fn suffix(&self, rest: &str, state: &mut State) -> Option<Suffix> {
        if let Some(len) = self.exceptions.emoticon_suffix(rest) {
            return Some(Suffix { len, clitic: false });
        }
        let mut found = suffix(rest, state.quoted)?;
        let run = &rest[rest.len() - found.len..];
        if run.starts_with('/') && *state.url.get_or_insert_with(|| self.patterns.matches(rest)) {
            return None;
        }
        if found.len >= 2 && found.len < rest.len() && run.starts_with('.') {
            let word = &rest[..rest.len() - found.len + 1];
            let special = self.exceptions.get(word);
            let inside = Following::Punctuation;
            if special.map_or_else(|| is_initialism(word, Next::Other), |s| s.applies(inside)) {
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

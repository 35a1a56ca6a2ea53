//! Character classes the tokenizer's rules are written in.
//!
//! # Overview
//!
//! Every rule looks at characters through these predicates, so the tokenizer agrees with
//! itself on what a word character, an apostrophe or a dash is. ASCII is answered from the
//! byte value; other characters from their Unicode properties.

use unicode_properties::{GeneralCategory, GeneralCategoryGroup, UnicodeGeneralCategory};

/// A character that continues a word: a letter, a digit, or a combining mark (which must
/// stay with the letter it modifies).
#[inline]
pub(super) fn is_word(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric()
    } else {
        c.is_alphanumeric() || c.general_category_group() == GeneralCategoryGroup::Mark
    }
}

/// An apostrophe as it appears inside contractions ("don't", "Bush’s", "mama`s").
#[inline]
pub(super) fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '’' | '`' | 'ʼ')
}

/// Sentence-final punctuation; a run of these ("?!", "...", "!!!") is one token.
#[inline]
pub(super) fn is_terminal(c: char) -> bool {
    matches!(c, '.' | '!' | '?' | '…')
}

/// A dash or hyphen.
#[inline]
pub(super) fn is_dash(c: char) -> bool {
    matches!(c, '-' | '‐' | '‑' | '‒' | '–' | '—' | '―')
}

/// An opening quotation mark. After one is stripped, a word's final apostrophe closes the
/// quotation rather than marking a plural possessive.
#[inline]
pub(super) fn is_opening_quote(c: char) -> bool {
    matches!(c, '\'' | '"' | '`' | '‘' | '“' | '„' | '«' | '‹')
}

/// A character that always stands alone inside a chunk: brackets, quotation marks (but not
/// apostrophes), semicolons, dashes other than the hyphen, pictographs.
pub(super) fn always_splits(c: char) -> bool {
    if c.is_ascii() || is_apostrophe(c) {
        return matches!(c, '(' | ')' | '[' | ']' | '{' | '}' | '"' | ';' | '<' | '>' | '|');
    }
    matches!(
        c.general_category(),
        GeneralCategory::OpenPunctuation
            | GeneralCategory::ClosePunctuation
            | GeneralCategory::InitialPunctuation
            | GeneralCategory::FinalPunctuation
            | GeneralCategory::DashPunctuation
            | GeneralCategory::OtherSymbol
    ) || c == '…'
}

/// The first character of `text`.
#[inline]
pub(super) fn first(text: &str) -> Option<char> {
    text.chars().next()
}

/// The last character of `text`.
#[inline]
pub(super) fn last(text: &str) -> Option<char> {
    text.chars().next_back()
}

/// Byte length of the longest prefix of `text` whose characters satisfy `pred`.
#[inline]
pub(super) fn run_len(text: &str, pred: impl Fn(char) -> bool) -> usize {
    text.char_indices().find(|&(_, c)| !pred(c)).map_or(text.len(), |(i, _)| i)
}

/// Byte length of the longest suffix of `text` whose characters satisfy `pred`.
#[inline]
pub(super) fn run_len_back(text: &str, pred: impl Fn(char) -> bool) -> usize {
    text.len()
        - text.char_indices().rev().find(|&(_, c)| !pred(c)).map_or(0, |(i, c)| i + c.len_utf8())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_characters_include_marks_but_not_punctuation() {
        let cases = [
            ('a', true),
            ('Z', true),
            ('7', true),
            ('é', true),
            ('\u{301}', true),
            ('ß', true),
            ('٣', true),
            ('-', false),
            ('\'', false),
            ('_', false),
            ('😀', false),
            ('\0', false),
        ];
        for (c, expected) in cases {
            assert_eq!(is_word(c), expected, "{c:?}");
        }
    }

    #[test]
    fn runs_are_measured_in_bytes() {
        assert_eq!(run_len("...abc", is_terminal), 3);
        assert_eq!(run_len("……a", is_terminal), 6);
        assert_eq!(run_len("abc", is_terminal), 0);
        assert_eq!(run_len("!!", is_terminal), 2);
        assert_eq!(run_len_back("abc?!", is_terminal), 2);
        assert_eq!(run_len_back("abc…", is_terminal), 3);
        assert_eq!(run_len_back("?", is_terminal), 1);
        assert_eq!(run_len_back("abc", is_terminal), 0);
    }

    #[test]
    fn splitting_classes() {
        for c in ['(', ']', '"', '“', '»', '😀', '–', ';'] {
            assert!(always_splits(c), "{c:?}");
        }
        for c in ['a', '&', '\'', '’', '.', '-', '@', '_'] {
            assert!(!always_splits(c), "{c:?}");
        }
    }
}

//! Lexemes: the context-independent attributes of one token text, computed once.
//!
//! # Overview
//!
//! A [`Lexeme`] holds the string keys of a text's lowercase form, norm, shape, prefix and
//! suffix, plus [`LexFlags`] (is_alpha, like_num, is_stop, …). [`LexemeAttrs`] computes them
//! from the text; the vocabulary interns the derived strings and stores the lexeme, either
//! permanently or in a zone's overlay.

use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory};

use super::StringKey;
use super::english::{
    BRACKETS, LEFT_PUNCT, NORM_EXCEPTIONS, NUMBER_WORDS, ORDINAL_WORDS, QUOTES, RIGHT_PUNCT,
    STOP_WORDS, URL_TLDS,
};

/// Position of a lexeme in the permanent vocabulary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(transparent)]
pub struct LexemeId(u32);

impl LexemeId {
    /// Wraps an index into the permanent lexeme table.
    pub const fn new(index: u32) -> Self {
        Self(index)
    }

    /// The index into the permanent lexeme table.
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

/// Boolean lexical attributes, one bit each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[repr(transparent)]
pub struct LexFlags(u32);

macro_rules! lex_flags {
    ($($(#[$doc:meta])* $name:ident = $bit:expr;)*) => {
        impl LexFlags {
            $($(#[$doc])* pub const $name: LexFlags = LexFlags(1 << $bit);)*

            /// Every flag with its spaCy attribute name, in bit order.
            pub const ALL: &'static [(&'static str, LexFlags)] = &[
                $((stringify!($name), LexFlags::$name),)*
            ];
        }
    };
}

lex_flags! {
    /// Every character is alphabetic.
    IS_ALPHA = 0;
    /// Every character is ASCII.
    IS_ASCII = 1;
    /// Every character is a decimal digit.
    IS_DIGIT = 2;
    /// Has a cased character and every cased character is lowercase.
    IS_LOWER = 3;
    /// Has a cased character and every cased character is uppercase.
    IS_UPPER = 4;
    /// Titlecase: each cased run starts upper and continues lower.
    IS_TITLE = 5;
    /// Every character is punctuation.
    IS_PUNCT = 6;
    /// An opening punctuation mark (bracket or quote).
    IS_LEFT_PUNCT = 7;
    /// A closing punctuation mark (bracket or quote).
    IS_RIGHT_PUNCT = 8;
    /// Every character is whitespace.
    IS_SPACE = 9;
    /// A bracket.
    IS_BRACKET = 10;
    /// A quotation mark.
    IS_QUOTE = 11;
    /// Every character is a currency symbol.
    IS_CURRENCY = 12;
    /// Looks like a URL.
    LIKE_URL = 13;
    /// Looks like a number ("10", "1,000.5", "3/4", "ten", "1st").
    LIKE_NUM = 14;
    /// Looks like an e-mail address.
    LIKE_EMAIL = 15;
    /// An English stop word (case-insensitive).
    IS_STOP = 16;
    /// Not in the permanent vocabulary.
    IS_OOV = 17;
}

impl LexFlags {
    /// Whether every flag in `other` is set.
    #[inline]
    pub const fn contains(self, other: LexFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// `self` with the flags of `other` set to `on`.
    #[must_use]
    pub const fn with(self, other: LexFlags, on: bool) -> LexFlags {
        if on { LexFlags(self.0 | other.0) } else { LexFlags(self.0 & !other.0) }
    }

    /// The raw bits (model files store them).
    pub const fn bits(self) -> u32 {
        self.0
    }
}

/// The lexical attributes of one token text. Strings are referenced by key; their texts live
/// in the permanent string store or in the zone that created the lexeme.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Lexeme {
    /// The text itself.
    pub orth: StringKey,
    /// Lowercase form.
    pub lower: StringKey,
    /// Normalised form (lowercase, with English norm exceptions such as "n't" → "not").
    pub norm: StringKey,
    /// Word shape ("Xxxxx", "dd", "xxxx'x"), runs capped at four characters.
    pub shape: StringKey,
    /// First character.
    pub prefix: StringKey,
    /// Last three characters.
    pub suffix: StringKey,
    /// Boolean attributes.
    pub flags: LexFlags,
}

impl Lexeme {
    /// Whether `flag` is set.
    #[inline]
    pub fn is(&self, flag: LexFlags) -> bool {
        self.flags.contains(flag)
    }
}

/// The derived strings and flags of a text, before they are interned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LexemeAttrs {
    /// Lowercase form.
    pub lower: String,
    /// Normalised form.
    pub norm: String,
    /// Word shape.
    pub shape: String,
    /// First character.
    pub prefix: String,
    /// Last three characters.
    pub suffix: String,
    /// Boolean attributes (without `IS_OOV`, which depends on where the lexeme lives).
    pub flags: LexFlags,
}

impl LexemeAttrs {
    /// Computes every attribute of `text`.
    pub fn of(text: &str) -> Self {
        let lower = text.to_lowercase();
        let norm = norm_exception(&lower).map_or_else(|| lower.clone(), str::to_owned);
        let flags = LexFlags::default()
            .with(LexFlags::IS_ALPHA, all_chars(text, char::is_alphabetic))
            .with(LexFlags::IS_ASCII, text.is_ascii())
            .with(LexFlags::IS_DIGIT, all_chars(text, |c| c.is_ascii_digit() || is_decimal(c)))
            .with(LexFlags::IS_LOWER, is_cased(text, char::is_lowercase, char::is_uppercase))
            .with(LexFlags::IS_UPPER, is_cased(text, char::is_uppercase, char::is_lowercase))
            .with(LexFlags::IS_TITLE, is_title(text))
            .with(LexFlags::IS_PUNCT, all_chars(text, is_punct_char))
            .with(LexFlags::IS_LEFT_PUNCT, LEFT_PUNCT.contains(&text))
            .with(LexFlags::IS_RIGHT_PUNCT, RIGHT_PUNCT.contains(&text))
            .with(LexFlags::IS_SPACE, all_chars(text, char::is_whitespace))
            .with(LexFlags::IS_BRACKET, BRACKETS.contains(&text))
            .with(LexFlags::IS_QUOTE, QUOTES.contains(&text))
            .with(LexFlags::IS_CURRENCY, all_chars(text, is_currency_char))
            .with(LexFlags::LIKE_URL, like_url(text))
            .with(LexFlags::LIKE_NUM, like_num(text))
            .with(LexFlags::LIKE_EMAIL, like_email(text))
            .with(LexFlags::IS_STOP, STOP_WORDS.binary_search(&lower.as_str()).is_ok());
        Self {
            shape: word_shape(text),
            prefix: text.chars().take(1).collect(),
            suffix: last_chars(text, 3).to_owned(),
            lower,
            norm,
            flags,
        }
    }
}

fn all_chars(text: &str, pred: impl Fn(char) -> bool) -> bool {
    !text.is_empty() && text.chars().all(pred)
}

fn is_decimal(c: char) -> bool {
    c.general_category() == unicode_properties::GeneralCategory::DecimalNumber
}

fn is_punct_char(c: char) -> bool {
    c.general_category_group() == GeneralCategoryGroup::Punctuation
}

fn is_currency_char(c: char) -> bool {
    c.general_category() == unicode_properties::GeneralCategory::CurrencySymbol
}

/// Python's `str.islower()`/`isupper()`: at least one cased character, none of the other case.
fn is_cased(text: &str, this: fn(char) -> bool, other: fn(char) -> bool) -> bool {
    text.chars().any(this) && !text.chars().any(other)
}

/// Python's `str.istitle()`: uppercase letters only start cased runs, lowercase only follow.
fn is_title(text: &str) -> bool {
    let mut previous_cased = false;
    let mut any_cased = false;
    for c in text.chars() {
        if c.is_uppercase() {
            if previous_cased {
                return false;
            }
            previous_cased = true;
            any_cased = true;
        } else if c.is_lowercase() {
            if !previous_cased {
                return false;
            }
            previous_cased = true;
            any_cased = true;
        } else {
            previous_cased = false;
        }
    }
    any_cased
}

/// The last `n` characters of `text` (all of it when shorter).
pub(crate) fn last_chars(text: &str, n: usize) -> &str {
    let start = text.char_indices().rev().nth(n.saturating_sub(1)).map_or(0, |(i, _)| i);
    &text[start..]
}

/// spaCy's word shape: letters become `X`/`x`, digits `d`, other characters stay; a run of
/// the same shape character is cut after four. Texts of 100 characters or more are "LONG".
pub fn word_shape(text: &str) -> String {
    if text.chars().nth(99).is_some() {
        return "LONG".to_owned();
    }
    let mut shape = String::with_capacity(text.len());
    let mut last = '\0';
    let mut run = 0;
    for c in text.chars() {
        let mapped = if c.is_alphabetic() {
            if c.is_uppercase() { 'X' } else { 'x' }
        } else if c.is_numeric() {
            'd'
        } else {
            c
        };
        run = if mapped == last { run + 1 } else { 0 };
        last = mapped;
        if run < 4 {
            shape.push(mapped);
        }
    }
    shape
}

fn norm_exception(lower: &str) -> Option<&'static str> {
    NORM_EXCEPTIONS.iter().find(|(from, _)| *from == lower).map(|(_, to)| *to)
}

fn like_num(text: &str) -> bool {
    let text = text.trim_start_matches(['+', '-', '±', '~']);
    let digits: String = text.chars().filter(|c| !matches!(c, ',' | '.')).collect();
    if all_chars(&digits, |c| c.is_ascii_digit()) {
        return true;
    }
    if let Some((num, den)) = text.split_once('/')
        && all_chars(num, |c| c.is_ascii_digit())
        && all_chars(den, |c| c.is_ascii_digit())
    {
        return true;
    }
    let lower = text.to_lowercase();
    if NUMBER_WORDS.binary_search(&lower.as_str()).is_ok()
        || ORDINAL_WORDS.binary_search(&lower.as_str()).is_ok()
    {
        return true;
    }
    // Numeric ordinals: "1st", "22nd", "3rd", "4th".
    ["st", "nd", "rd", "th"].iter().any(|suffix| {
        lower.strip_suffix(suffix).is_some_and(|head| all_chars(head, |c| c.is_ascii_digit()))
    })
}

fn like_url(text: &str) -> bool {
    if text.len() < 4 || text.chars().any(char::is_whitespace) {
        return false;
    }
    let lower = text.to_ascii_lowercase();
    if ["http://", "https://", "ftp://", "www."].iter().any(|p| lower.starts_with(p)) {
        return true;
    }
    if lower.contains('@') || !lower.contains('.') || lower.starts_with('.') {
        return false;
    }
    let host = lower.split(['/', '?', '#', ':']).next().unwrap_or("");
    let tld = host.rsplit('.').next().unwrap_or("");
    URL_TLDS.binary_search(&tld).is_ok() && host.len() > tld.len() + 1
}

fn like_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    let local_ok = all_chars(local, |c| c.is_alphanumeric() || "._%+-".contains(c));
    let Some((name, tld)) = domain.rsplit_once('.') else {
        return false;
    };
    local_ok
        && all_chars(name, |c| c.is_alphanumeric() || ".-".contains(c))
        && tld.chars().count() >= 2
        && all_chars(tld, char::is_alphabetic)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_lists_are_sorted_for_binary_search() {
        for list in [STOP_WORDS, NUMBER_WORDS, ORDINAL_WORDS, URL_TLDS] {
            assert!(list.windows(2).all(|w| w[0] < w[1]), "unsorted near {:?}", list.first());
        }
    }

    #[test]
    fn shapes() {
        let cases = [
            ("Apple", "Xxxxx"),
            ("apples", "xxxx"),
            ("1999", "dddd"),
            ("U.S.", "X.X."),
            ("don't", "xxx'x"),
            ("C3PO", "XdXX"),
            ("$12.50", "$dd.dd"),
            ("naïve", "xxxx"),
            ("", ""),
        ];
        for (text, shape) in cases {
            assert_eq!(word_shape(text), shape, "shape of {text:?}");
        }
        assert_eq!(word_shape(&"a".repeat(120)), "LONG");
    }

    #[test]
    fn affixes_and_norms() {
        let attrs = LexemeAttrs::of("Running");
        assert_eq!((attrs.prefix.as_str(), attrs.suffix.as_str()), ("R", "ing"));
        assert_eq!(attrs.lower, "running");
        assert_eq!(LexemeAttrs::of("n't").norm, "not");
        assert_eq!(LexemeAttrs::of("”").norm, "\"");
        assert_eq!(LexemeAttrs::of("é").suffix, "é");
        assert_eq!(last_chars("naïveté", 3), "eté");
    }

    #[test]
    fn flags() {
        use LexFlags as F;
        let cases: &[(&str, &[LexFlags], &[LexFlags])] = &[
            (
                "Hello",
                &[F::IS_ALPHA, F::IS_ASCII, F::IS_TITLE],
                &[F::IS_LOWER, F::IS_UPPER, F::IS_STOP],
            ),
            ("the", &[F::IS_ALPHA, F::IS_LOWER, F::IS_STOP], &[F::IS_TITLE, F::IS_PUNCT]),
            ("NASA", &[F::IS_UPPER, F::IS_ALPHA], &[F::IS_LOWER, F::IS_TITLE]),
            ("42", &[F::IS_DIGIT, F::LIKE_NUM], &[F::IS_ALPHA]),
            ("1,000.50", &[F::LIKE_NUM], &[F::IS_DIGIT]),
            ("3/4", &[F::LIKE_NUM], &[]),
            ("twenty", &[F::LIKE_NUM], &[]),
            ("22nd", &[F::LIKE_NUM], &[]),
            ("...", &[F::IS_PUNCT], &[F::IS_ALPHA]),
            ("(", &[F::IS_PUNCT, F::IS_LEFT_PUNCT, F::IS_BRACKET], &[F::IS_RIGHT_PUNCT]),
            ("”", &[F::IS_PUNCT, F::IS_RIGHT_PUNCT, F::IS_QUOTE], &[F::IS_ASCII]),
            ("$", &[F::IS_CURRENCY], &[F::IS_PUNCT]),
            ("€", &[F::IS_CURRENCY], &[]),
            (" \n", &[F::IS_SPACE], &[F::IS_PUNCT]),
            ("https://example.com/a", &[F::LIKE_URL], &[F::LIKE_EMAIL]),
            ("google.com", &[F::LIKE_URL], &[]),
            ("e.g.", &[], &[F::LIKE_URL]),
            ("jane.doe@example.org", &[F::LIKE_EMAIL], &[F::LIKE_URL]),
            ("@handle", &[], &[F::LIKE_EMAIL]),
            ("DON'T", &[F::IS_UPPER], &[F::IS_ALPHA]),
            ("Ünïcödé", &[F::IS_ALPHA, F::IS_TITLE], &[F::IS_ASCII]),
            ("٣", &[F::IS_DIGIT], &[F::IS_ASCII]),
        ];
        for (text, on, off) in cases {
            let flags = LexemeAttrs::of(text).flags;
            for flag in *on {
                assert!(flags.contains(*flag), "{text:?} should have {}", name(*flag));
            }
            for flag in *off {
                assert!(!flags.contains(*flag), "{text:?} should not have {}", name(*flag));
            }
        }
    }

    fn name(flag: LexFlags) -> &'static str {
        LexFlags::ALL.iter().find(|(_, f)| *f == flag).map_or("?", |(n, _)| n)
    }
}

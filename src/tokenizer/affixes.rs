//! Prefix and suffix rules: what may be split off the start or the end of a chunk.
//!
//! # Overview
//!
//! [`prefix`] finds punctuation to split off the front of a text ("(", "\"", "$", "...");
//! [`suffix`] finds what to split off its end: punctuation (")", ",", "?!"), a clitic that
//! forms one surface token with the word before it ("n't", "'s", "'ll", the apostrophe of
//! "parents'"), or a unit after a number ("5pm", "10km"). A run of one punctuation
//! character ("!!!", "--", "<<") or of sentence-final marks ("?!", "...") is one token, as
//! in UD English EWT.

use super::chars::{
    first, is_apostrophe, is_opening_quote, is_terminal, is_word, last, run_len, run_len_back,
};

/// A prefix to split off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Prefix {
    /// Byte length.
    pub(super) len: usize,
    /// Whether it opens a quotation (so a final apostrophe closes it).
    pub(super) opens_quote: bool,
}

/// A suffix to split off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Suffix {
    /// Byte length.
    pub(super) len: usize,
    /// Whether it is a clitic: a word of the same surface token as the word before it.
    pub(super) clitic: bool,
}

/// Stems that take the clitic "'d" ("I'd", "who'd"); after other words it is more often a
/// past tense ("OK'd").
const D_STEMS: &[&str] =
    &["i", "you", "he", "she", "it", "we", "they", "who", "that", "there", "what", "how", "u"];

/// Units written straight after a number, whatever their case.
const UNITS: &[&str] = &[
    "am", "pm", "k", "m", "b", "bn", "mn", "tn", "kg", "mg", "lb", "lbs", "oz", "ft", "cm", "mm",
    "km", "mi", "hh", "hz", "khz", "mhz", "ghz", "kb", "mb", "gb", "tb", "kw", "mw", "kwh",
    "mwh", "mph", "kph", "hr", "hrs", "min", "mins", "sec", "secs", "yr", "yrs", "ml", "percent",
    "x", "day", "days", "minutes", "hours", "watt", "watts", "sq", "dpi", "px",
];

/// Units that count only in the case written ("70p", "24C", but not "4G", "4g" or "3D").
const CASED_UNITS: &[&str] = &["p", "C", "F", "t"];

/// The prefix of `text` to split off, if any.
pub(super) fn prefix(text: &str) -> Option<Prefix> {
    let c = first(text)?;
    if is_word(c) {
        return None;
    }
    let after = &text[c.len_utf8()..];
    let next = first(after);
    let keep = match c {
        // Handles and hashtags; "#3" and "@2.975" still split.
        '@' | '#' => next.is_some_and(|n| n.is_alphabetic() || n == '_'),
        // Decimals without a leading zero (".04").
        '.' => next.is_some_and(|n| n.is_ascii_digit()),
        // Phone prefixes ("+44").
        '+' => next.is_some_and(|n| n.is_ascii_digit()),
        // Elided years ("'72", "'60s").
        _ if is_apostrophe(c) => after.as_bytes().get(..2).is_some_and(|two| {
            two.iter().all(u8::is_ascii_digit)
        }),
        _ => false,
    };
    if keep {
        return None;
    }
    let len = if is_terminal(c) {
        terminal_run(text)
    } else {
        punct_run(text, c, false)
    };
    Some(Prefix { len, opens_quote: is_opening_quote(c) })
}

/// The suffix of `text` to split off, if any. `quoted` tells whether an opening quotation
/// mark was split off the same chunk.
pub(super) fn suffix(text: &str, quoted: bool) -> Option<Suffix> {
    let c = last(text)?;
    if is_word(c) {
        return clitic(text).or_else(|| unit(text));
    }
    if is_apostrophe(c) && !quoted && is_plural_possessive(text) {
        return Some(Suffix { len: c.len_utf8(), clitic: true });
    }
    let len = if is_terminal(c) {
        terminal_run_back(text)
    } else {
        punct_run(text, c, true)
    };
    Some(Suffix { len, clitic: false })
}

/// Characters drawn in rows ("-----", "===>", "|----+---->"); a run of them is one token.
fn is_line_art(c: char) -> bool {
    matches!(c, '-' | '=' | '*' | '~' | '+' | '_' | '<' | '>' | '|')
}

/// Byte length of the punctuation run of `c` at the start (or the end, `from_end`) of
/// `text`: a run of line art if `c` is one and the run draws a line (not just angle
/// brackets: "<>" is two tokens), else a run of `c` alone ("!!", "((", "''").
fn punct_run(text: &str, c: char, from_end: bool) -> usize {
    let measure = |pred: &dyn Fn(char) -> bool| {
        if from_end { run_len_back(text, pred) } else { run_len(text, pred) }
    };
    if is_line_art(c) {
        let run = measure(&is_line_art);
        let drawn = if from_end { &text[text.len() - run..] } else { &text[..run] };
        if drawn.contains(|d: char| !matches!(d, '<' | '>')) {
            return run;
        }
    }
    measure(&|d| d == c)
}

/// Byte length of the sentence-final marks at the start of `text`: an ellipsis alone
/// ("...?" → "..." + "?"), or other marks up to an ellipsis (".?", "!!!", "?!").
fn terminal_run(text: &str) -> usize {
    let dots = run_len(text, |c| c == '.');
    if dots >= 2 {
        return dots;
    }
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let ellipsis_starts = c == '.' && matches!(chars.peek(), Some((_, '.')));
        if !is_terminal(c) || ellipsis_starts {
            return i;
        }
    }
    text.len()
}

/// Byte length of the sentence-final marks at the end of `text`, as [`terminal_run`].
fn terminal_run_back(text: &str) -> usize {
    let dots = run_len_back(text, |c| c == '.');
    if dots >= 2 {
        return dots;
    }
    let mut start = text.len();
    let mut chars = text.char_indices().rev().peekable();
    while let Some((i, c)) = chars.next() {
        let ellipsis_ends = c == '.' && matches!(chars.peek(), Some((_, '.')));
        if !is_terminal(c) || ellipsis_ends {
            break;
        }
        start = i;
    }
    text.len() - start
}

/// A clitic at the end of `text`: "n't", "'s", "'m", "'re", "'ve", "'ll" or "'d", with any
/// apostrophe and in any case, after a word that can take it.
fn clitic(text: &str) -> Option<Suffix> {
    // The apostrophe is at most three characters from the end ("'ll").
    let (at, apostrophe) =
        text.char_indices().rev().take(3).find(|&(_, c)| !c.is_ascii_alphabetic())?;
    if !is_apostrophe(apostrophe) {
        return None;
    }
    let tail = &text[at + apostrophe.len_utf8()..];
    let stem = &text[..at];
    let mut buf = [0u8; 2];
    let tail = lowercase(tail, &mut buf)?;
    let start = match tail {
        "t" => {
            let stem = stem.strip_suffix(['n', 'N'])?;
            ends_alphabetic(stem).then_some(stem.len())?
        }
        "s" | "re" | "ve" => ends_alphabetic(stem).then_some(at)?,
        "m" => stem.eq_ignore_ascii_case("i").then_some(at)?,
        "ll" => (ends_alphabetic(stem)
            && !stem.eq_ignore_ascii_case("y")
            && !stem.eq_ignore_ascii_case("ya"))
        .then_some(at)?,
        "d" => D_STEMS.iter().any(|d| stem.eq_ignore_ascii_case(d)).then_some(at)?,
        _ => return None,
    };
    Some(Suffix { len: text.len() - start, clitic: true })
}

/// Whether `text` ends in the apostrophe of a plural possessive ("parents'", "Essex'").
fn is_plural_possessive(text: &str) -> bool {
    let mut chars = text.chars().rev().skip(1);
    let Some(before) = chars.next() else { return false };
    matches!(before, 's' | 'S' | 'x' | 'z') && chars.next().is_some_and(char::is_alphabetic)
}

/// A unit straight after a number ("5pm", "7:30PM", "13.9M", "10km"); the whole of `text`
/// must be the number and the unit.
pub(super) fn unit(text: &str) -> Option<Suffix> {
    let letters = text
        .char_indices()
        .rev()
        .take(8)
        .find(|&(_, c)| !c.is_ascii_alphabetic())
        .map(|(i, c)| text.len() - i - c.len_utf8())?;
    let (number, unit) = text.split_at(text.len() - letters);
    let known = CASED_UNITS.contains(&unit) || UNITS.iter().any(|u| unit.eq_ignore_ascii_case(u));
    (known && is_number(number)).then_some(Suffix { len: letters, clitic: false })
}

/// A number as written before a unit: digits with ",", "." or ":" between them.
fn is_number(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.first().is_some_and(u8::is_ascii_digit)
        && bytes.last().is_some_and(u8::is_ascii_digit)
        && bytes.iter().all(|&b| b.is_ascii_digit() || matches!(b, b',' | b'.' | b':'))
}

fn ends_alphabetic(text: &str) -> bool {
    last(text).is_some_and(char::is_alphabetic)
}

/// `text` in ASCII lowercase if it is one or two ASCII letters.
fn lowercase<'b>(text: &str, buf: &'b mut [u8; 2]) -> Option<&'b str> {
    let bytes = text.as_bytes();
    if bytes.is_empty() || bytes.len() > 2 || !bytes.iter().all(u8::is_ascii_alphabetic) {
        return None;
    }
    let out = &mut buf[..bytes.len()];
    out.copy_from_slice(bytes);
    out.make_ascii_lowercase();
    std::str::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes() {
        let cases: &[(&str, Option<(usize, bool)>)] = &[
            ("(hello", Some((1, false))),
            ("\"hello", Some((1, true))),
            ("“hello", Some((3, true))),
            ("...and", Some((3, false))),
            ("?!wow", Some((2, false))),
            ("...?", Some((3, false))),
            ("?...", Some((1, false))),
            (".?x", Some((2, false))),
            ("---->x", Some((5, false))),
            ("<>", Some((1, false))),
            ("<<x", Some((2, false))),
            (".04", None),
            ("@2", Some((1, false))),
            ("--x", Some((2, false))),
            ("$5", Some((1, false))),
            ("'cause", Some((1, true))),
            ("'72", None),
            ("’60s", None),
            ("@handle", None),
            ("#tag", None),
            ("#3", Some((1, false))),
            ("+44", None),
            ("-5", Some((1, false))),
            ("word", None),
            ("", None),
        ];
        for &(text, expected) in cases {
            let got = prefix(text).map(|p| (p.len, p.opens_quote));
            assert_eq!(got, expected, "{text:?}");
        }
    }

    #[test]
    fn suffixes() {
        let cases: &[(&str, bool, Option<(usize, bool)>)] = &[
            ("hello)", false, Some((1, false))),
            ("hello,", false, Some((1, false))),
            ("what?!", false, Some((2, false))),
            ("wait...", false, Some((3, false))),
            ("what...?", false, Some((1, false))),
            ("what?...", false, Some((3, false))),
            ("fixed!.", false, Some((2, false))),
            ("ok!!..", false, Some((2, false))),
            ("x==----", false, Some((6, false))),
            ("don't", false, Some((3, true))),
            ("DON'T", false, Some((3, true))),
            ("can’t", false, Some((5, true))),
            ("Bush's", false, Some((2, true))),
            ("mama`s", false, Some((2, true))),
            ("I'm", false, Some((2, true))),
            ("ma'm", false, None),
            ("you're", false, Some((3, true))),
            ("could've", false, Some((3, true))),
            ("they'll", false, Some((3, true))),
            ("Ya'll", false, None),
            ("he'd", false, Some((2, true))),
            ("OK'd", false, None),
            ("80's", false, None),
            ("n't", false, None),
            ("o'clock", false, None),
            ("parents'", false, Some((1, true))),
            ("parents'", true, Some((1, false))),
            ("cookin'", false, Some((1, false))),
            ("5pm", false, Some((2, false))),
            ("7:30PM", false, Some((2, false))),
            ("13.9M", false, Some((1, false))),
            ("70p", false, Some((1, false))),
            ("4G", false, None),
            ("1990s", false, None),
            ("21st", false, None),
            ("pm", false, None),
            ("word", false, None),
        ];
        for &(text, quoted, expected) in cases {
            let got = suffix(text, quoted).map(|s| (s.len, s.clitic));
            assert_eq!(got, expected, "{text:?} quoted={quoted}");
        }
    }
}

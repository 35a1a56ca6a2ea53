//! Infix rules: where a text with no prefix or suffix left is split inside.
//!
//! # Overview
//!
//! [`split_infixes`] walks the text once. At each run of punctuation between words it asks
//! [`splits`] whether the run becomes a token of its own, looking only at the run and at
//! the words on either side. Following UD English EWT: hyphens between words split
//! ("well - known") unless the first word is a prefix such as "non" or "e" ("non-stop",
//! "e-mail"); slashes split ("and / or") except in dates and short forms ("9/11", "b/c");
//! commas, colons and periods inside numbers stay ("1,000.5", "10:30"); ellipses split.
//! Brackets and quotes never reach these rules: the caller cuts at them first.

use super::Piece;
use super::affixes::unit;
use super::chars::{first, is_apostrophe, is_dash, is_terminal, is_word, last, run_len};

/// Words before a hyphen that stay attached to the word after it ("non-stop", "e-mail").
const HYPHEN_PREFIXES: &[&str] = &[
    "e", "non", "mid", "anti", "pre", "re", "co", "over", "post", "pro", "multi", "ex", "semi",
    "sub", "neo", "psycho", "cross", "counter", "micro", "mis", "un", "arch", "socio", "intra",
    "ultra", "hyper", "macro", "mini", "pseudo", "quasi",
];

/// Splits `text[lo..hi]` at its infixes, appending the pieces to `out`.
pub(super) fn split_infixes(text: &str, lo: usize, hi: usize, out: &mut Vec<Piece>) {
    let mut piece_start = lo;
    let mut word_start = lo;
    let mut i = lo;
    while i < hi {
        let rest = &text[i..hi];
        let c = first(rest).expect("i < hi lies on a character boundary. This is a bug.");
        if is_word(c) {
            i += c.len_utf8();
            continue;
        }
        let run = if is_dash(c) {
            run_len(rest, is_dash)
        } else if is_terminal(c) {
            run_len(rest, is_terminal)
        } else {
            run_len(rest, |d| d == c)
        };
        let run_end = i + run;
        let right_end = run_end + run_len(&text[run_end..hi], is_word);
        if splits(&text[i..run_end], &text[word_start..i], &text[run_end..right_end]) {
            push_word(text, piece_start, i, out);
            out.push(Piece::new(i, run_end));
            piece_start = run_end;
        }
        i = run_end;
        word_start = run_end;
    }
    push_word(text, piece_start, hi, out);
}

/// Pushes `text[start..end]` if it is not empty, splitting a unit off a number ("80k" in
/// "75-80k").
fn push_word(text: &str, start: usize, end: usize, out: &mut Vec<Piece>) {
    if start == end {
        return;
    }
    match unit(&text[start..end]) {
        Some(unit) => {
            out.push(Piece::new(start, end - unit.len));
            out.push(Piece::new(end - unit.len, end));
        }
        None => out.push(Piece::new(start, end)),
    }
}

/// Whether the punctuation `run` between the words `left` and `right` (either may be
/// empty) is a token of its own.
fn splits(run: &str, left: &str, right: &str) -> bool {
    let c = first(run).expect("runs are not empty. This is a bug.");
    let digits_around = last(left).is_some_and(|l| l.is_ascii_digit())
        && first(right).is_some_and(|r| r.is_ascii_digit());
    if is_apostrophe(c) {
        // Feet and inches ("5'10") split; "O'Brien" does not.
        return digits_around;
    }
    if is_dash(c) {
        return run != "-" || left.is_empty() || right.is_empty() || !is_hyphen_prefix(left);
    }
    match c {
        '.' if run.len() == 1 => is_letters(left, 2) && is_letters(right, 2),
        '.' | '!' | '?' => true,
        ',' | ':' => !digits_around,
        '/' => slash_splits(left, right),
        // "job#0000108806", but not "ld2d-#69366".
        '#' => !left.is_empty() && first(right).is_some_and(|r| r.is_ascii_digit()),
        _ => false,
    }
}

fn is_hyphen_prefix(word: &str) -> bool {
    word.len() <= 7 && HYPHEN_PREFIXES.iter().any(|p| word.eq_ignore_ascii_case(p))
}

/// Whether `word` has at least `min` characters, all letters.
fn is_letters(word: &str, min: usize) -> bool {
    word.chars().count() >= min && word.chars().all(char::is_alphabetic)
}

/// Slashes split, except in a month/day date ("9/11", "12/27" but not the fraction "1/2")
/// and in short forms with a one-letter first part ("b/c", "w/o", "w/out").
fn slash_splits(left: &str, right: &str) -> bool {
    match (small_number(left), small_number(right)) {
        (Some(month), Some(day)) => {
            let date = (1..=12).contains(&month) && (1..=31).contains(&day);
            let fraction = day <= 5 && month < day;
            !date || fraction
        }
        _ => {
            let short_form = left.chars().count() == 1
                && right.chars().count() <= 3
                && is_letters(left, 1)
                && is_letters(right, 1);
            !short_form
        }
    }
}

/// The value of `word` if it is one to four ASCII digits.
fn small_number(word: &str) -> Option<u32> {
    (1..=4).contains(&word.len()).then(|| word.parse().ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str) -> Vec<&str> {
        let mut out = Vec::new();
        split_infixes(text, 0, text.len(), &mut out);
        out.iter().map(|p| &text[p.start..p.end]).collect()
    }

    #[test]
    fn infixes_follow_ewt() {
        let cases: &[(&str, &[&str])] = &[
            ("well-known", &["well", "-", "known"]),
            ("e-mail", &["e-mail"]),
            ("Non-stop", &["Non-stop"]),
            ("one-on-one", &["one", "-", "on", "-", "one"]),
            ("anti-war-protest", &["anti-war", "-", "protest"]),
            ("1969-1970", &["1969", "-", "1970"]),
            ("word--word", &["word", "--", "word"]),
            ("yes—no", &["yes", "—", "no"]),
            ("and/or", &["and", "/", "or"]),
            ("b/c", &["b/c"]),
            ("w/out", &["w/out"]),
            ("9/11", &["9/11"]),
            ("1/2", &["1", "/", "2"]),
            ("20/20", &["20", "/", "20"]),
            ("1,000.50", &["1,000.50"]),
            ("10:30", &["10:30"]),
            ("red,green", &["red", ",", "green"]),
            ("note:this", &["note", ":", "this"]),
            ("end.The", &["end", ".", "The"]),
            ("u.k", &["u.k"]),
            ("wait...what", &["wait", "...", "what"]),
            ("really?!yes", &["really", "?!", "yes"]),
            ("O'Brien", &["O'Brien"]),
            ("AT&T", &["AT&T"]),
            ("sh*t", &["sh*t"]),
            ("x\u{0}y", &["x\u{0}y"]),
            ("75-80k", &["75", "-", "80", "k"]),
            ("9am-12pm", &["9", "am", "-", "12", "pm"]),
            ("5'10", &["5", "'", "10"]),
            ("job#123", &["job", "#", "123"]),
        ];
        for &(text, expected) in cases {
            assert_eq!(split(text), expected, "{text:?}");
        }
    }
}

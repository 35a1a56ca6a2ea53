//! Special cases: texts the tokenizer splits (or keeps whole) by table, not by rule.
//!
//! # Overview
//!
//! [`Exceptions`] maps a whole text to a [`Special`]: where to cut it into words. It holds
//! contractions written without an apostrophe ("dont" → "do" + "nt", "gonna" → "gon" +
//! "na"), abbreviations that end in a period ("Dr.", "etc.", "Sept."), emoticons (":-)"),
//! and clitics written as separate tokens ("'s"). The words of a cut special form one
//! surface token, as in UD English EWT. Contractions with an apostrophe ("don't", "Bush's")
//! are productive and handled by the suffix rules instead.
//!
//! [`is_initialism`] recognises abbreviations that need no table: letters each followed by
//! a period ("U.S.", "a.m.", "W."). Whether an abbreviation keeps its period depends on
//! what follows ([`Next`]): EWT splits the period off when it also ends the sentence.

use rustc_hash::FxHashMap;

use super::chars::{is_one_of, is_word};

/// What a special case is; abbreviations depend on what follows them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(super) enum Kind {
    /// A contraction cut into words ("dont").
    #[default]
    Contraction,
    /// "its" read as "it's": cut only before a word that cannot follow the possessive
    /// ("its a", "its not", but "its own").
    Its,
    /// A text kept whole ("'s", "Yahoo!").
    Whole,
    /// An emoticon (":-)"), also recognised at the end of a word.
    Emoticon,
    /// An abbreviation that keeps its period unless the text ends ("Dr.", "vs.").
    Abbreviation,
    /// An abbreviation that often ends a sentence ("etc.", "p.m."): before a capital, its
    /// period is split off as the sentence's full stop.
    FinalAbbreviation,
}

/// What follows a text inside a chunk, or the chunk in the text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Following<'t> {
    /// More of the same chunk.
    Punctuation,
    /// The text after the chunk and its whitespace (empty at the end of the text).
    Text(&'t str),
}

impl Following<'_> {
    /// The kind of what follows.
    pub(super) fn next(self) -> Next {
        match self {
            Following::Punctuation => Next::Other,
            Following::Text(text) => match text.chars().next() {
                None => Next::End,
                Some(c) if c.is_uppercase() => Next::Capital,
                Some(_) => Next::Other,
            },
        }
    }

    /// Whether the next word is one of the words of `list`, ignoring case.
    fn word_is_one_of(self, list: &str) -> bool {
        let Following::Text(text) = self else { return false };
        let len = text.bytes().take(16).take_while(u8::is_ascii_alphabetic).count();
        len > 0 && is_one_of(&text[..len], list)
    }
}

/// What follows a chunk, as far as an abbreviation at its end is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Next {
    /// A word starting with a capital letter.
    Capital,
    /// Anything else.
    Other,
    /// Nothing: the chunk ends the text.
    End,
}

/// How a special case is cut into words. Cuts are byte offsets into the text; the words
/// between them form one surface token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(super) struct Special {
    cuts: [u8; 2],
    n_cuts: u8,
    kind: Kind,
}

impl Special {
    fn new(kind: Kind) -> Self {
        Self { kind, ..Self::default() }
    }

    /// The byte offsets at which the text is cut, in order.
    pub(super) fn cuts(&self) -> &[u8] {
        &self.cuts[..usize::from(self.n_cuts)]
    }

    /// Whether the special case holds when `following` follows it: an abbreviation at the
    /// end of a sentence gives its period up, and "its" is "it's" only before some words.
    pub(super) fn applies(&self, following: Following<'_>) -> bool {
        match self.kind {
            Kind::Abbreviation => following.next() != Next::End,
            Kind::FinalAbbreviation => following.next() == Next::Other,
            Kind::Its => following.word_is_one_of(AFTER_ITS),
            Kind::Contraction | Kind::Whole | Kind::Emoticon => true,
        }
    }
}

/// The table of special cases.
pub(super) struct Exceptions {
    table: FxHashMap<Box<str>, Special>,
    max_len: usize,
    /// A one-hash Bloom filter over (first byte, last byte, length) of the special cases:
    /// most words are ruled out without hashing them.
    filter: [u64; FILTER_WORDS],
}

impl std::fmt::Debug for Exceptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exceptions").field("special_cases", &self.table.len()).finish()
    }
}

/// Size of [`Exceptions::filter`] in 64-bit words.
const FILTER_WORDS: usize = 32;

/// The filter bit of `text` (not empty).
#[inline]
fn filter_bit(text: &str) -> usize {
    let bytes = text.as_bytes();
    let first = usize::from(bytes[0]);
    let last = usize::from(bytes[bytes.len() - 1]);
    (first.wrapping_mul(0x9e37) ^ last.wrapping_mul(0x85eb) ^ bytes.len().wrapping_mul(0xc2b3))
        % (FILTER_WORDS * 64)
}

/// Contractions without an apostrophe, `|` marking the cuts. Each is also added with an
/// initial capital and, unless it starts with "i|", in capitals ("DONT").
const BARE_CONTRACTIONS: &str = "\
    ai|nt are|nt ar|nt ca|nt could|nt did|nt does|nt do|nt had|nt has|nt have|nt is|nt \
    must|nt should|nt was|nt were|nt wo|nt would|nt can|not gon|na wan|na got|ta out|ta \
    sort|a du|n|no i|m i|ve you|re you|ll they|re it|ll that|s what|s there|s here|s he|s \
    let|s
";

/// Special cases taken exactly as written.
const EXACT_CONTRACTIONS: &str = "c'm|on C'm|on";

/// "its" as a misspelt "it's", in the cases written.
const ITS: &str = "its Its ITS";

/// Words that follow "it's" but hardly ever the possessive "its": function words,
/// adverbs, and adjectives that are mostly predicative.
const AFTER_ITS: &str = "\
    a an the not so too very really just only also still all about always never probably \
    prolly pretty quite actually definitely simply obviously kinda sorta even ever already \
    almost now like been getting going gonna got gotten done nothing called what that this \
    my your his her our their in on at to for from of with by as between because ok okay \
    good bad hard easy nice true worth great fine free cheap important necessary simple rare \
    horrible awesome amazing less more much well over up greatly
";

/// Tokens that stay whole: standalone clitics and elisions.
const WHOLE: &str = "\
    's 'S ’s 'm ’m 're ’re 've ’ve 'll ’ll 'd ’d n't N'T n’t 'em ’em 'n ’n 'til 'cause \
    'Cause #'s Yahoo! ‘’
";

/// Emoticons. Those that could also be a list label or punctuation ("8)", "B)", "):") are
/// left out on purpose.
const EMOTICONS: &str = "\
    :) :-) :)) :))) :( :-( :(( ;) ;-) :D :-D ;D :P :-P :p :-p ;P ;p :/ :-/ :| :-| :o :O :-O \
    :'( :* :] :[ =) =( =D =] (: (= >:( >:) <3 </3 ^_^ ^^ -_- o_O O_o o.O O.o XD xD :-* :^) \
    :3 <_< >_> T_T ;_; :?
";

/// Abbreviations that often end a sentence.
const FINAL_ABBREVIATIONS: &str = "\
    etc. Etc. p.m. a.m. No. info. Inc. Ltd. L.L.C. U.S.A. U.K. C.V. yrs. hrs. mins. Ave. al. \
    rep. misc. approx. esp.
";

/// Other abbreviations that end in a period, as they are written.
const ABBREVIATIONS: &str = "\
    Mr. Mrs. Ms. Messrs. Dr. Drs. Prof. St. Sts. Jr. Sr. Mt. Ft. Gen. Lt. Col. Capt. Sgt. \
    Cpl. Adm. Maj. Cmdr. Gov. Sen. Rep. Reps. Rev. Hon. Pres. Supt. Spec. Pvt. PVT. Jan. \
    Feb. Mar. Apr. Jun. Jul. Aug. Sep. Sept. Oct. Nov. Dec. Mon. Tue. Tues. Wed. Thu. Thur. \
    Thurs. Fri. Sat. Sun. Corp. Co. co. LTD. Bros. Assn. Dept. Univ. Blvd. Rd. Hwy. Ste. \
    Apt. Bldg. Ala. Ariz. Ark. Calif. Colo. Conn. Fla. Ga. Kan. Ky. La. Md. Mich. Minn. \
    Mont. Neb. Nev. Okla. Ore. Pa. Tenn. Tex. Va. Vt. Wis. Wyo. Que. Ont. vs. Vs. v. cf. et. \
    viz. eg. Eg. Ph.D. eds. vol. Vol. vols. Nos. pp. p. para. Para. fig. Fig. ch. Ch. Sec. \
    ext. Ext. min. hr. yr. wk. wks. oz. lb. lbs. ft. sq. qt. tsp. tbsp. doz. Attn. \
    attn. Arrv. arrv. Ass't. Tel. Fax. Mob. Ph. Esp. rec. dom. lv. ps. PS. Conf. Sc. Aplo. \
    Gov't. Dist. Div. Intl. Natl. Mfg. Mgr. Assoc. Dir.
";

impl Exceptions {
    /// The English table.
    pub(super) fn english() -> Self {
        let mut exceptions =
            Self { table: FxHashMap::default(), max_len: 0, filter: [0; FILTER_WORDS] };
        for entry in BARE_CONTRACTIONS.split_ascii_whitespace() {
            exceptions.add(entry);
            exceptions.add(&capitalize(entry));
            if !entry.starts_with("i|") {
                exceptions.add(&entry.to_uppercase());
            }
        }
        for entry in EXACT_CONTRACTIONS.split_ascii_whitespace() {
            exceptions.add(entry);
        }
        for text in ITS.split_ascii_whitespace() {
            let cut = Special { cuts: [2, 0], n_cuts: 1, kind: Kind::Its };
            exceptions.insert(text.into(), cut);
        }
        let tables = [
            (WHOLE, Kind::Whole),
            (EMOTICONS, Kind::Emoticon),
            (ABBREVIATIONS, Kind::Abbreviation),
            (FINAL_ABBREVIATIONS, Kind::FinalAbbreviation),
        ];
        for (texts, kind) in tables {
            for text in texts.split_ascii_whitespace() {
                exceptions.insert(text.into(), Special::new(kind));
            }
        }
        exceptions
    }

    /// Adds `entry`, a text with `|` at each cut (so emoticons such as ":|" are inserted
    /// whole, not through here).
    fn add(&mut self, entry: &str) {
        let mut special = Special::default();
        let mut text = String::with_capacity(entry.len());
        for part in entry.split('|') {
            if !text.is_empty() {
                let cut = u8::try_from(text.len()).expect("special cases are short");
                special.cuts[usize::from(special.n_cuts)] = cut;
                special.n_cuts += 1;
            }
            text.push_str(part);
        }
        self.insert(text.into_boxed_str(), special);
    }

    fn insert(&mut self, text: Box<str>, special: Special) {
        self.max_len = self.max_len.max(text.len());
        let bit = filter_bit(&text);
        self.filter[bit / 64] |= 1 << (bit % 64);
        self.table.insert(text, special);
    }

    /// Every word the special cases are cut into (a text kept whole is one word), in no
    /// particular order and possibly repeated.
    pub(super) fn words(&self) -> impl Iterator<Item = &str> {
        self.table.iter().flat_map(|(text, special)| {
            let ends = special.cuts().iter().map(|&cut| usize::from(cut)).chain([text.len()]);
            let starts = std::iter::once(0).chain(special.cuts().iter().map(|&c| usize::from(c)));
            starts.zip(ends).map(|(start, end)| &text[start..end])
        })
    }

    /// The byte length of the longest special case.
    pub(super) fn max_len(&self) -> usize {
        self.max_len
    }

    /// The length of an emoticon written straight after a word ("great:)"), if `text` ends
    /// in one.
    pub(super) fn emoticon_suffix(&self, text: &str) -> Option<usize> {
        if !text.ends_with([')', '(', 'D', 'P', 'p', '/', '|', ']', '[', '*', '3', '?']) {
            return None;
        }
        (2..=3).rev().find(|&len| {
            let Some(at) = text.len().checked_sub(len) else { return false };
            text.is_char_boundary(at)
                && text[..at].chars().next_back().is_some_and(is_word)
                && self.get(&text[at..]).is_some_and(|s| s.kind == Kind::Emoticon)
        })
    }

    /// The special case for exactly `text`, if there is one.
    #[inline]
    pub(super) fn get(&self, text: &str) -> Option<Special> {
        if text.is_empty() || text.len() > self.max_len {
            return None;
        }
        let bit = filter_bit(text);
        if self.filter[bit / 64] & (1 << (bit % 64)) == 0 {
            return None;
        }
        self.table.get(text).copied()
    }
}

/// `entry` with its first letter in upper case.
fn capitalize(entry: &str) -> String {
    let mut chars = entry.chars();
    chars.next().map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

/// Whether `text` is an initialism that keeps its period when `next` follows: ASCII
/// letters each followed by a period ("U.S.", "a.m.", "i.e.", "F.O.B."), or a single capital
/// and a period ("W.", as in "George W. Bush") other than the pronoun "I.". At the end of
/// the text the period is a full stop.
pub(super) fn is_initialism(text: &str, next: Next) -> bool {
    let bytes = text.as_bytes();
    if bytes.len() < 2 || bytes.len() > 16 || !bytes.len().is_multiple_of(2) {
        return false;
    }
    let letters_and_periods =
        bytes.chunks_exact(2).all(|pair| pair[0].is_ascii_alphabetic() && pair[1] == b'.');
    if !letters_and_periods {
        return false;
    }
    next != Next::End && (bytes.len() > 2 || (bytes[0].is_ascii_uppercase() && bytes[0] != b'I'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_follow_the_table() {
        let exceptions = Exceptions::english();
        let cases: &[(&str, Option<&[u8]>)] = &[
            ("dont", Some(&[2])),
            ("Dont", Some(&[2])),
            ("DONT", Some(&[2])),
            ("cannot", Some(&[3])),
            ("gonna", Some(&[3])),
            ("dunno", Some(&[2, 3])),
            ("Im", Some(&[1])),
            ("IM", None),
            ("Its", Some(&[2])),
            ("its", Some(&[2])),
            ("Dr.", Some(&[])),
            (":-)", Some(&[])),
            ("'s", Some(&[])),
            (":|", Some(&[])),
            ("hello", None),
            ("a-very-long-text-that-is-no-exception", None),
        ];
        for &(text, cuts) in cases {
            assert_eq!(exceptions.get(text).as_ref().map(Special::cuts), cuts, "{text:?}");
        }
    }

    #[test]
    fn words_are_the_pieces_of_every_special_case() {
        let exceptions = Exceptions::english();
        let words: std::collections::HashSet<&str> = exceptions.words().collect();
        let cases = [
            ("du", true),
            ("n", true),
            ("no", true),
            ("gon", true),
            ("na", true),
            ("it", true),
            ("Dr.", true),
            (":-)", true),
            ("n't", true),
            ("dunno", false),
            ("gonna", false),
        ];
        for (word, expected) in cases {
            assert_eq!(words.contains(word), expected, "{word}");
        }
    }

    #[test]
    fn abbreviations_depend_on_what_follows() {
        let exceptions = Exceptions::english();
        let cases = [
            ("Dr.", "Smith", true),
            ("Dr.", "", false),
            ("etc.", "and", true),
            ("etc.", "The", false),
            ("etc.", "", false),
            ("dont", "", true),
            ("its", "a lot", true),
            ("Its", "NOT", true),
            ("its", "own", false),
            ("its", "", false),
        ];
        for (text, after, expected) in cases {
            let special = exceptions.get(text).expect("in the table");
            let following = Following::Text(after);
            assert_eq!(special.applies(following), expected, "{text:?} before {after:?}");
        }
        assert!(exceptions.get("Dr.").is_some_and(|s| s.applies(Following::Punctuation)));
    }

    #[test]
    fn emoticons_after_words() {
        let exceptions = Exceptions::english();
        let cases = [
            ("great:)", Some(2)),
            ("great:-)", Some(3)),
            ("(a)", None),
            (":)", None),
            ("x;D", Some(2)),
        ];
        for (text, expected) in cases {
            assert_eq!(exceptions.emoticon_suffix(text), expected, "{text:?}");
        }
    }

    #[test]
    fn initialisms() {
        let cases = [
            ("U.S.", Next::Capital, true),
            ("U.S.", Next::End, false),
            ("a.m.", Next::Other, true),
            ("F.O.B.", Next::Capital, true),
            ("W.", Next::Capital, true),
            ("W.", Next::End, false),
            ("I.", Next::Capital, false),
            ("w.", Next::Other, false),
            ("U.S", Next::Other, false),
            ("US.", Next::Other, false),
            ("1.", Next::Other, false),
            (".", Next::Other, false),
        ];
        for (text, next, expected) in cases {
            assert_eq!(is_initialism(text, next), expected, "{text:?} before {next:?}");
        }
    }
}

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
//! a period ("U.S.", "a.m.", "W.").

use rustc_hash::FxHashMap;

/// How a special case is cut into words. Cuts are byte offsets into the text; the words
/// between them form one surface token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(super) struct Special {
    cuts: [u8; 2],
    n_cuts: u8,
}

impl Special {
    /// The byte offsets at which the text is cut, in order.
    pub(super) fn cuts(&self) -> &[u8] {
        &self.cuts[..usize::from(self.n_cuts)]
    }
}

/// The table of special cases.
#[derive(Debug)]
pub(super) struct Exceptions {
    table: FxHashMap<Box<str>, Special>,
    max_len: usize,
}

/// Contractions without an apostrophe, `|` marking the cuts. Each is also added with an
/// initial capital and, unless it starts with "i|", in capitals ("DONT").
const BARE_CONTRACTIONS: &[&str] = &[
    "ai|nt", "are|nt", "ar|nt", "ca|nt", "could|nt", "did|nt", "does|nt", "do|nt", "had|nt",
    "has|nt", "have|nt", "is|nt", "must|nt", "should|nt", "was|nt", "were|nt", "wo|nt",
    "would|nt", "can|not", "gon|na", "wan|na", "got|ta", "out|ta", "sort|a", "du|n|no", "i|m",
    "i|ve", "you|re", "you|ll", "they|re", "it|ll", "that|s", "what|s", "there|s", "here|s",
    "he|s", "let|s",
];

/// Special cases taken exactly as written.
const EXACT_CONTRACTIONS: &[&str] = &["It|s", "c'm|on", "C'm|on"];

/// Tokens that stay whole: standalone clitics and elisions.
const WHOLE: &[&str] = &[
    "'s", "'S", "’s", "'m", "’m", "'re", "’re", "'ve", "’ve", "'ll", "’ll", "'d", "’d", "n't",
    "N'T", "n’t", "'em", "’em", "'n", "’n", "'til", "'cause", "'Cause",
];

/// Emoticons. Those that could also be a list label or a closing bracket ("8)", "B)") are
/// left out on purpose.
const EMOTICONS: &[&str] = &[
    ":)", ":-)", ":))", ":)))", ":(", ":-(", ":((", ";)", ";-)", ":D", ":-D", ";D", ":P", ":-P",
    ":p", ":-p", ";P", ";p", ":/", ":-/", ":|", ":-|", ":o", ":O", ":-O", ":'(", ":*", ":]", ":[",
    "=)", "=(", "=D", "=]", "(:", "):", "(=", ">:(", ">:)", "<3", "</3", "^_^", "^^", "-_-",
    "o_O", "O_o", "o.O", "O.o", "XD", "xD", ":-*", ":^)", ":3", "<_<", ">_>", "T_T", ";_;",
];

/// Abbreviations that end in a period, as they are written.
const ABBREVIATIONS: &[&str] = &[
    // Titles.
    "Mr.", "Mrs.", "Ms.", "Messrs.", "Dr.", "Drs.", "Prof.", "St.", "Sts.", "Jr.", "Sr.", "Mt.",
    "Ft.", "Gen.", "Lt.", "Col.", "Capt.", "Sgt.", "Cpl.", "Adm.", "Maj.", "Cmdr.", "Gov.",
    "Sen.", "Rep.", "Reps.", "Rev.", "Hon.", "Pres.", "Supt.", "Spec.", "Pvt.", "PVT.",
    // Months and days.
    "Jan.", "Feb.", "Mar.", "Apr.", "Jun.", "Jul.", "Aug.", "Sep.", "Sept.", "Oct.", "Nov.",
    "Dec.", "Mon.", "Tue.", "Tues.", "Wed.", "Thu.", "Thur.", "Thurs.", "Fri.", "Sat.", "Sun.",
    // Organisations and addresses.
    "Inc.", "Corp.", "Co.", "co.", "Ltd.", "LTD.", "Bros.", "Assn.", "Dept.", "Univ.", "Ave.",
    "Blvd.", "Rd.", "Hwy.", "Ste.", "Apt.", "Bldg.",
    // States and provinces.
    "Ala.", "Ariz.", "Ark.", "Calif.", "Colo.", "Conn.", "Fla.", "Ga.", "Kan.", "Ky.", "La.",
    "Md.", "Mich.", "Minn.", "Mont.", "Neb.", "Nev.", "Okla.", "Ore.", "Pa.", "Tenn.", "Tex.",
    "Va.", "Vt.", "Wis.", "Wyo.", "Que.", "Ont.",
    // Latin and scholarly.
    "etc.", "Etc.", "vs.", "Vs.", "v.", "cf.", "al.", "et.", "viz.", "eg.", "Eg.",
    "approx.", "Ph.D.", "eds.", "vol.", "Vol.", "vols.", "No.", "Nos.", "pp.",
    "p.", "para.", "Para.", "fig.", "Fig.", "ch.", "Ch.", "Sec.", "ext.", "Ext.",
    // Units and other shortenings.
    "min.", "mins.", "hr.", "hrs.", "yr.", "yrs.", "wk.", "wks.", "oz.", "lb.",
    "lbs.", "ft.", "sq.", "qt.", "tsp.", "tbsp.", "doz.", "misc.",
    "info.", "Attn.", "attn.", "Arrv.", "arrv.", "Ass't.", "Tel.", "Fax.", "Mob.", "Ph.",
    "esp.", "Esp.", "rec.", "dom.", "rep.", "lv.", "ps.", "PS.", "Conf.", "Sc.", "Aplo.",
    "Gov't.", "Dist.", "Div.", "Intl.", "Natl.", "Mfg.", "Mgr.", "Assoc.", "Dir.",
];

impl Exceptions {
    /// The English table.
    pub(super) fn english() -> Self {
        let mut exceptions = Self { table: FxHashMap::default(), max_len: 0 };
        for entry in BARE_CONTRACTIONS {
            exceptions.add(entry);
            exceptions.add(&capitalize(entry));
            if !entry.starts_with("i|") {
                exceptions.add(&entry.to_uppercase());
            }
        }
        for entry in EXACT_CONTRACTIONS {
            exceptions.add(entry);
        }
        for text in WHOLE.iter().chain(EMOTICONS).chain(ABBREVIATIONS) {
            exceptions.insert((*text).into(), Special::default());
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
        self.table.insert(text, special);
    }

    /// The byte length of the longest special case.
    pub(super) fn max_len(&self) -> usize {
        self.max_len
    }

    /// The special case for exactly `text`, if there is one.
    #[inline]
    pub(super) fn get(&self, text: &str) -> Option<Special> {
        if text.len() > self.max_len {
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

/// Whether `text` is an initialism: ASCII letters each followed by a period ("U.S.",
/// "a.m.", "i.e.", "F.O.B."), or a single capital and a period ("W.", as in "George W.
/// Bush") unless it ends the text (`last`) or is the pronoun "I.".
pub(super) fn is_initialism(text: &str, last: bool) -> bool {
    let bytes = text.as_bytes();
    if bytes.len() < 2 || bytes.len() > 16 || bytes.len() % 2 != 0 {
        return false;
    }
    let letters_and_periods =
        bytes.chunks_exact(2).all(|pair| pair[0].is_ascii_alphabetic() && pair[1] == b'.');
    if !letters_and_periods {
        return false;
    }
    bytes.len() > 2 || (bytes[0].is_ascii_uppercase() && bytes[0] != b'I' && !last)
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
            ("its", None),
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
    fn initialisms() {
        let cases = [
            ("U.S.", false, true),
            ("a.m.", false, true),
            ("F.O.B.", true, true),
            ("W.", false, true),
            ("W.", true, false),
            ("I.", false, false),
            ("w.", false, false),
            ("U.S", false, false),
            ("US.", false, false),
            ("1.", false, false),
            (".", false, false),
        ];
        for (text, last, expected) in cases {
            assert_eq!(is_initialism(text, last), expected, "{text:?} last={last}");
        }
    }
}

//! Whole-token patterns: texts that are never split inside, although they contain
//! punctuation.
//!
//! # Overview
//!
//! [`TokenPatterns`] recognises URLs, e-mail addresses (and the `user@HOST` form of mail
//! headers), bare domain names, file names, Usenet group names, phone numbers, ZIP+4 codes
//! and numeric dates. The tokenizer asks it about a text once, after stripping prefixes and
//! suffixes and before splitting infixes, just as spaCy's `url_match`. It is one
//! [`regex::Regex`], so matching is linear in the length of the text.

use regex::Regex;

/// Top-level domains accepted in a bare domain name ("example.com", "bbc.co.uk"). Country
/// codes that are also English words ("it", "me", "in", "us", "no") are left out, so
/// "end.It" is not taken for a domain.
const TLDS: &str = "com|org|net|edu|gov|mil|int|info|biz|aero|coop|museum|name|mobi|asia|\
    travel|jobs|io|ly|tv|uk|ca|de|fr|jp|au|ru|cn|nl|ch|se|dk|fi|pl|es|pt|gr|il|kr|tw|hk|sg|nz|\
    ie|za|br|mx|ar|cz|hu|ro|ua|eu";

/// File extensions accepted in a file name ("Lisa_resume.doc").
const FILE_EXTENSIONS: &str = "docx?|xlsx?|pptx?|pdf|txt|rtf|html?|xml|csv|jpe?g|gif|png|\
    bmp|tiff?|zip|exe|mp3|mp4|wav|avi|mov|mpe?g|url|dat|msg|eps|gz|tgz|tar|js|css|php|aspx?|\
    jsp|cgi|ini|log|bat|dll|wpd|vsd|mdb|nsf";

/// Usenet hierarchies ("alt.animals.cat").
const USENET: &str = "alt|comp|misc|rec|sci|soc|talk|news|ba|humanities";

/// Matches whole tokens that must not be split.
#[derive(Debug)]
pub(super) struct TokenPatterns {
    regex: Regex,
}

impl TokenPatterns {
    /// The English patterns.
    pub(super) fn english() -> Self {
        let alternatives = [
            // URLs with a scheme, and scheme-like prefixes of mail and chat clients.
            r"(?i:[a-z][a-z0-9+.\-]{1,9}://)\S+".to_owned(),
            r"(?i:mailto|news|ymsgr|aim|tel|sip|skype):\S+".to_owned(),
            r"(?i:www\d{0,3}\.)\S+".to_owned(),
            // E-mail addresses and mail-header names ("Rice@ENRON").
            r"\w[\w.+%'\-]*@\w[\w\-]*(?:\.[\w\-]+)*".to_owned(),
            // Bare domain names, with an optional port and path.
            format!(r"(?:[\w\-]+\.)+(?i:{TLDS})(?::\d+)?(?:/\S*)?"),
            // File names.
            format!(r"[\w#%!~+\-]+(?:\.[\w#%!~+\-]+)*\.(?i:{FILE_EXTENSIONS})"),
            // Usenet groups.
            format!(r"(?:{USENET})\.[\w\-]+(?:\.[\w\-]+)*"),
            // Phone numbers, extensions and ZIP+4 codes.
            r"\+?(?:\d{1,3}-)?(?:\d{3}[\-/.])?\d{3}[\-.]\d{4}".to_owned(),
            r"x?\d{1,2}-\d{4}|\d{5}-\d{4}".to_owned(),
            // Numeric dates ("11/28/2000", "12-20-00", "2001-01-02").
            r"\d{1,4}[\-/]\d{1,2}[\-/]\d{2,4}".to_owned(),
        ];
        let pattern = format!("^(?:{})$", alternatives.join("|"));
        let regex = Regex::new(&pattern).expect("the token patterns are valid. This is a bug.");
        Self { regex }
    }

    /// Whether all of `text` is one URL, address, file name, phone number or date.
    #[inline]
    pub(super) fn matches(&self, text: &str) -> bool {
        // Every pattern needs one of these characters; most words have none.
        text.bytes().any(|b| matches!(b, b'.' | b'@' | b':' | b'/' | b'-')) && self.regex.is_match(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_tokens() {
        let patterns = TokenPatterns::english();
        let cases = [
            ("http://www.example.com/a/b.html?x=1&y=2", true),
            ("https://example.org", true),
            ("mailto:someone@example.com", true),
            ("www.risk-conferences.com/risk2001aus", true),
            ("jane.doe@example.co.uk", true),
            ("dailyem...@ebs.bbc.co.uk", true),
            ("Rice@ENRON", true),
            ("GlobalSecurity.org", true),
            ("bbc.co.uk", true),
            ("Lisa_resume.doc", true),
            ("12-20-00.doc", true),
            ("alt.animals.cat", true),
            ("713-654-0365", true),
            ("1-800-991-9019", true),
            ("503/464-7927", true),
            ("345-8702", true),
            ("94720-1900", true),
            ("11/28/2000", true),
            ("2001-01-02", true),
            ("1969-1970", false),
            ("400-500", false),
            ("end.It", false),
            ("well-known", false),
            ("U.S.", false),
            ("and/or", false),
            ("hello", false),
        ];
        for (text, expected) in cases {
            assert_eq!(patterns.matches(text), expected, "{text:?}");
        }
    }
}

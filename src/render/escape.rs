//! Escaping of text for HTML and XML (SVG), in content and in quoted attribute values.

use std::fmt;

/// Text written with `&`, `<`, `>`, `"` and `'` replaced by character references, so that
/// it reads as text wherever it lands in HTML or XML: element content or an attribute value
/// in either kind of quotes. Everything else is written as is.
///
/// ```
/// use nlpd::render::Escaped;
///
/// let text = r#""><svg onload=alert(1)>"#;
/// assert_eq!(Escaped(text).to_string(), "&quot;&gt;&lt;svg onload=alert(1)&gt;");
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Escaped<'a>(pub &'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(at) = rest.find(['&', '<', '>', '"', '\'']) {
            f.write_str(&rest[..at])?;
            f.write_str(match rest.as_bytes()[at] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => "&#39;",
            })?;
            rest = &rest[at + 1..];
        }
        f.write_str(rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_characters_become_references() {
        let cases = [
            ("plain text", "plain text"),
            ("", ""),
            ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
            (r#"a "b" & 'c'"#, "a &quot;b&quot; &amp; &#39;c&#39;"),
            ("&amp;", "&amp;amp;"),
            ("Zoë → 🙂 <", "Zoë → 🙂 &lt;"),
        ];
        for (text, escaped) in cases {
            assert_eq!(Escaped(text).to_string(), escaped, "{text}");
        }
    }
}

//! Pictures of a parsed document, in the manner of spaCy's displaCy: dependency arcs and
//! entity marks, as self-contained SVG and HTML with no script and no external asset.
//!
//! # Overview
//!
//! A [`Style`] names a picture: [`Style::Dep`] draws one arc diagram per sentence
//! (`dep.rs`, SVG), [`Style::Ent`] marks the named entities in the text (`ent.rs`, HTML).
//! Every piece of the document's text, and every label, is written through [`Escaped`], so
//! a text such as `<script>` shows as text.
//!
//! A picture comes in three wrappings:
//!
//! - [`fragment`]: the bare `<svg>` or `<div>`, to place in a page that links
//!   [`STYLE_SHEET`] (the page at `GET /` does);
//! - [`standalone`]: a document of its own, with the style sheet inside — an SVG image for
//!   `dep`, an HTML page for `ent` — as `POST /render` answers ([`Style::media_type`]);
//! - [`html_page`]: an HTML page for either style, as `nlpd render` writes.
//!
//! The pictures use classes and SVG presentation attributes only, never a `style`
//! attribute, so a page whose Content-Security-Policy forbids inline styles can show them.
//! The style sheet gives one colour per entity label and adapts to light and dark colour
//! schemes (`prefers-color-scheme`).
//!
//! ```
//! use nlpd::doc::Doc;
//! use nlpd::render::{Style, fragment};
//! use nlpd::vocab::Vocab;
//!
//! let vocab = Vocab::new();
//! let zone = vocab.zone();
//! let doc = Doc::from_words(&zone, &["<b>", "hi"], &[true, false]);
//! let svg = fragment(&doc, Style::Dep);
//! assert!(svg.starts_with("<svg") && svg.contains("&lt;b&gt;") && !svg.contains("<b>"));
//! ```

mod dep;
mod ent;
mod escape;

use std::fmt::Write;

use serde::Deserialize;

pub use escape::Escaped;

use crate::doc::Doc;

/// The style sheet of the pictures: colours per entity label, fonts, light and dark
/// schemes. Standalone pictures carry it inline; the page at `GET /` links it.
pub const STYLE_SHEET: &str = include_str!("../../assets/ui/render.css");

/// Which picture to draw: `"style"` of `POST /render`, `--style` of `nlpd render`.
///
/// It deserializes from its [name](Self::name) only, like [`DocFormat`](crate::doc::DocFormat).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// Dependency arcs, one SVG diagram per sentence, UPOS tags under the words.
    Dep,
    /// The text with named entities highlighted and labelled, as HTML.
    Ent,
}

impl Style {
    /// Every style, in the order help texts list them.
    pub const ALL: [Style; 2] = [Style::Dep, Style::Ent];

    /// The style's name, as `"style"` and `--style` spell it (`"dep"`).
    pub const fn name(self) -> &'static str {
        match self {
            Style::Dep => "dep",
            Style::Ent => "ent",
        }
    }

    /// The media type of the [`standalone`] picture: `image/svg+xml` for `dep`, HTML for
    /// `ent`.
    pub const fn media_type(self) -> &'static str {
        match self {
            Style::Dep => "image/svg+xml",
            Style::Ent => "text/html; charset=utf-8",
        }
    }
}

impl<'de> Deserialize<'de> for Style {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        const NAMES: [&str; Style::ALL.len()] = [Style::Dep.name(), Style::Ent.name()];
        let name = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        Style::ALL
            .into_iter()
            .find(|style| style.name() == name)
            .ok_or_else(|| serde::de::Error::unknown_variant(&name, &NAMES))
    }
}

/// Writes the bare picture of `doc`, `style_sheet` inside the SVG when given.
fn write_picture(out: &mut String, doc: &Doc<'_>, style: Style, style_sheet: Option<&str>) {
    let written = match style {
        Style::Dep => dep::write_svg(out, doc, style_sheet),
        Style::Ent => ent::write_html(out, doc),
    };
    written.expect("writing to a String cannot fail. This is a bug.");
}

/// The picture of `doc` as an element to place in a page that links [`STYLE_SHEET`]: an
/// `<svg>` for [`Style::Dep`], a `<div>` for [`Style::Ent`].
pub fn fragment(doc: &Doc<'_>, style: Style) -> String {
    let mut out = String::with_capacity(doc.text().len() * 16);
    write_picture(&mut out, doc, style, None);
    out
}

/// The picture of `doc` as a document of its own, of type [`Style::media_type`]: an SVG
/// image holding its style sheet for [`Style::Dep`], the [`html_page`] for [`Style::Ent`].
pub fn standalone(doc: &Doc<'_>, style: Style) -> String {
    match style {
        Style::Dep => {
            let mut out = String::with_capacity(doc.text().len() * 16 + STYLE_SHEET.len());
            out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
            write_picture(&mut out, doc, style, Some(STYLE_SHEET));
            out.push('\n');
            out
        }
        Style::Ent => html_page(doc, style),
    }
}

/// A complete HTML page showing the picture of `doc`, its style sheet inline, no script.
pub fn html_page(doc: &Doc<'_>, style: Style) -> String {
    let mut out = String::with_capacity(doc.text().len() * 16 + STYLE_SHEET.len() + 512);
    let title = match style {
        Style::Dep => "nlpd: dependencies",
        Style::Ent => "nlpd: entities",
    };
    write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"color-scheme\" content=\"light dark\">\n\
         <title>{title}</title>\n<style>\n{STYLE_SHEET}</style>\n</head>\n\
         <body class=\"nlpd-page\">\n<div class=\"nlpd-scroll\">"
    )
    .expect("writing to a String cannot fail. This is a bug.");
    write_picture(&mut out, doc, style, None);
    out.push_str("</div>\n</body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::{EntIob, Pos, TokenIdx};
    use crate::vocab::Vocab;

    const XSS: [&str; 2] = ["<script>alert(1)</script>", r#""><svg onload=alert(1)>"#];

    #[test]
    fn names_are_the_serde_names() {
        for style in Style::ALL {
            let parsed: Style = serde_json::from_value(serde_json::json!(style.name())).unwrap();
            assert_eq!(parsed, style);
        }
        for bad in [serde_json::json!("svg"), serde_json::json!(null), serde_json::json!(1)] {
            assert!(serde_json::from_value::<Style>(bad.clone()).is_err(), "{bad}");
        }
    }

    #[test]
    fn pictures_of_a_small_parse() {
        let vocab = Vocab::new();
        let zone = vocab.zone();
        let mut doc = Doc::from_words(
            &zone,
            &["Ada", "slept", ".", "Bo", "woke"],
            &[true, false, true, true, false],
        );
        // (head, relation, UPOS, entity IOB, entity label)
        let rows = [
            (1, "nsubj", Pos::Propn, EntIob::Begin, Some("PER")),
            (1, "root", Pos::Verb, EntIob::Outside, None),
            (1, "punct", Pos::Punct, EntIob::Outside, None),
            (4, "nsubj", Pos::Propn, EntIob::Begin, Some("PER")),
            (4, "root", Pos::Verb, EntIob::Outside, None),
        ];
        for (token, (head, dep, pos, iob, label)) in doc.tokens_mut().iter_mut().zip(rows) {
            token.head = Some(TokenIdx::new(head));
            token.dep = Some(zone.intern(dep));
            token.pos = Some(pos);
            token.ent_iob = iob;
            token.ent_type = label.map(|label| zone.intern(label));
        }
        doc.tokens_mut()[3].sent_start = Some(true);
        let svg = fragment(&doc, Style::Dep);
        assert_eq!(svg.matches("<g class=\"sentence\"").count(), 2);
        assert_eq!(svg.matches("<g class=\"arc\"").count(), 3, "no arc for the roots");
        insta::assert_snapshot!("dep", svg.replace('>', ">\n"));
        insta::assert_snapshot!(fragment(&doc, Style::Ent), @r#"<div class="nlpd-ents" role="figure" aria-label="Named entities, 2 found"><mark class="nlpd-ent" data-label="PER">Ada<span class="nlpd-ent-label">PER</span></mark> slept. <mark class="nlpd-ent" data-label="PER">Bo<span class="nlpd-ent-label">PER</span></mark> woke</div>"#);
    }

    #[test]
    fn user_text_and_labels_are_escaped_in_every_wrapping() {
        let vocab = Vocab::new();
        let zone = vocab.zone();
        let mut doc = Doc::from_words(&zone, &XSS, &[true, false]);
        for (i, token) in doc.tokens_mut().iter_mut().enumerate() {
            token.head = Some(TokenIdx::new(1));
            token.dep = Some(zone.intern("<i>dep"));
            token.ent_iob = if i == 0 { EntIob::Begin } else { EntIob::Outside };
            token.ent_type = Some(zone.intern("<b>PER"));
        }
        for style in Style::ALL {
            for picture in [fragment(&doc, style), standalone(&doc, style), html_page(&doc, style)]
            {
                for raw in ["<script", "<svg onload", "<i>", "<b>"] {
                    assert!(!picture.contains(raw), "{style:?} lets {raw:?} through: {picture}");
                }
                assert!(picture.contains("&lt;script&gt;"), "{style:?}: {picture}");
                assert!(!picture.contains("style=\""), "{style:?} has an inline style");
            }
        }
    }
}

//! The `ent` picture: the text with its named entities marked and labelled, as HTML.
//!
//! # Overview
//!
//! The document's text is written whole, escaped, in a `<div class="nlpd-ents">` whose
//! whitespace is kept (`white-space: pre-wrap` in `assets/ui/render.css`); each entity is a
//! `<mark class="nlpd-ent" data-label="PER">` holding its text and a `<span>` with its
//! label. The colour of a mark comes from its `data-label` through the style sheet, one per
//! label, so the HTML carries no inline style.

use std::fmt::{self, Write};

use super::escape::Escaped;
use crate::doc::Doc;

/// Writes the text of `doc` with its entities marked, as one `<div>` element.
pub(super) fn write_html(out: &mut impl Write, doc: &Doc<'_>) -> fmt::Result {
    let text = doc.text();
    let ents = doc.ents();
    write!(
        out,
        r#"<div class="nlpd-ents" role="figure" aria-label="Named entities, {} found">"#,
        ents.len()
    )?;
    let mut written = 0;
    for span in ents {
        let bytes = doc.text_span(span).bytes();
        let label = span.label().and_then(|key| doc.zone().string(key)).unwrap_or("");
        let label = Escaped(label);
        write!(
            out,
            r#"{}<mark class="nlpd-ent" data-label="{label}">{}<span class="nlpd-ent-label">{label}</span></mark>"#,
            Escaped(&text[written..bytes.start]),
            Escaped(&text[bytes.clone()]),
        )?;
        written = bytes.end;
    }
    write!(out, "{}</div>", Escaped(&text[written..]))
}

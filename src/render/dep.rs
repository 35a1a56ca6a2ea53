//! The `dep` picture: one arc diagram per sentence, as SVG, in the manner of displaCy.
//!
//! # Overview
//!
//! Each sentence is a row of words with their UPOS tags under them and, above, one arc per
//! token that is not a root, from its head to it, labelled with the dependency relation and
//! ending in an arrowhead at the dependent. [`Layout::new`] does the geometry from the
//! words alone (no font metrics: widths are estimated from character counts, generously):
//!
//! - an arc's *level* (its height) is one more than the highest arc it overlaps among
//!   the shorter ones, so nested arcs rise above the arcs they span and arcs that share no
//!   gap between words share a level;
//! - words sit as close as their texts and tags allow, and an arc's words are pushed apart
//!   until its label fits between them. Arcs on one level share no gap, so their labels
//!   never overlap.
//!
//! Sentences are stacked in one `<svg>` as wide as the widest; a page shows it in a
//! container that scrolls horizontally, so long sentences scroll rather than overlap.
//! Colours and fonts come from classes (see `assets/ui/render.css`); the drawing itself
//! uses presentation attributes only, so it obeys a Content-Security-Policy that forbids
//! inline styles.

use std::fmt::{self, Write};

use super::escape::Escaped;
use crate::doc::{Doc, Span};

/// Font size of the words, in pixels.
const WORD_FONT: f32 = 13.0;
/// Font size of the tags and arc labels, in pixels.
const SMALL_FONT: f32 = 10.0;
/// Estimated advance of one character, in ems: about the average of sans-serif letters;
/// [`WORD_GAP`] and [`LABEL_PAD`] absorb a wider font.
const CHAR_EM: f32 = 0.55;
/// Space between the columns of two neighbouring words.
const WORD_GAP: f32 = 10.0;
/// Space around an arc label, between the words its arc joins.
const LABEL_PAD: f32 = 4.0;
/// Vertical distance between two arc levels.
const LEVEL_HEIGHT: f32 = 20.0;
/// Margin around a sentence.
const MARGIN: f32 = 16.0;
/// Space above the highest arc, for its label.
const TOP: f32 = 18.0;
/// Distance from the arrow tips down to the words' baseline.
const WORD_DROP: f32 = 16.0;
/// Distance from the words' baseline down to the tags' baseline.
const TAG_DROP: f32 = 15.0;
/// Half the width and the length of an arrowhead.
const ARROW: (f32, f32) = (4.0, 7.0);

/// The estimated width of `text` at font size `font`.
fn text_width(text: &str, font: f32) -> f32 {
    text.chars().count() as f32 * font * CHAR_EM
}

/// A word as the diagram shows it: its text and tag.
#[derive(Debug, Clone, Copy)]
struct Word<'a> {
    text: &'a str,
    tag: &'a str,
}

/// A dependency in sentence positions: `head` → `dependent`, labelled.
#[derive(Debug, Clone, Copy)]
struct Dependency<'a> {
    head: usize,
    dependent: usize,
    label: &'a str,
}

impl Dependency<'_> {
    /// The leftmost and rightmost word the arc joins.
    fn ends(&self) -> (usize, usize) {
        (self.head.min(self.dependent), self.head.max(self.dependent))
    }
}

/// Where a sentence's words and arcs go.
#[derive(Debug)]
struct Layout {
    /// Horizontal centre of each word.
    xs: Vec<f32>,
    /// Width of each word's column (its text or its tag, the wider).
    columns: Vec<f32>,
    /// The level of each dependency (1 = lowest), in the order given.
    levels: Vec<usize>,
    /// Width of the sentence, margins included.
    width: f32,
}

impl Layout {
    /// Places `words` and the arcs of `deps` (positions must be words of the sentence).
    fn new(words: &[Word<'_>], deps: &[Dependency<'_>]) -> Self {
        let columns: Vec<f32> = words
            .iter()
            .map(|word| text_width(word.text, WORD_FONT).max(text_width(word.tag, SMALL_FONT)))
            .collect();
        // gaps[g]: distance between the centres of words g and g + 1.
        let mut gaps: Vec<f32> =
            columns.windows(2).map(|pair| (pair[0] + pair[1]) / 2.0 + WORD_GAP).collect();
        // Shorter arcs first: each is placed after every arc it could span.
        let mut order: Vec<usize> = (0..deps.len()).collect();
        order.sort_by_key(|&i| {
            let (start, end) = deps[i].ends();
            (end - start, start)
        });
        let mut heights = vec![0; gaps.len()];
        let mut levels = vec![0; deps.len()];
        for i in order {
            let (start, end) = deps[i].ends();
            let spanned = start..end;
            let level = 1 + heights[spanned.clone()].iter().max().copied().unwrap_or(0);
            heights[spanned.clone()].iter_mut().for_each(|height| *height = level);
            levels[i] = level;
            let need = text_width(deps[i].label, SMALL_FONT) + 2.0 * LABEL_PAD;
            let have: f32 = gaps[spanned.clone()].iter().sum();
            if have < need {
                let extra = (need - have) / spanned.len() as f32;
                gaps[spanned].iter_mut().for_each(|gap| *gap += extra);
            }
        }
        let first = MARGIN + columns.first().map_or(0.0, |column| column / 2.0);
        let xs: Vec<f32> = std::iter::once(0.0)
            .chain(gaps)
            .scan(first, |x, gap| {
                *x += gap;
                Some(*x)
            })
            .take(words.len())
            .collect();
        let width =
            xs.last().zip(columns.last()).map_or(2.0 * MARGIN, |(x, col)| x + col / 2.0 + MARGIN);
        Self { xs, columns, levels, width }
    }

    /// The highest level (0 without arcs).
    fn top_level(&self) -> usize {
        self.levels.iter().max().copied().unwrap_or(0)
    }

    /// The y of the arrow tips: everything above is arcs.
    fn arcs_bottom(&self) -> f32 {
        TOP + self.top_level() as f32 * LEVEL_HEIGHT
    }

    /// Height of the sentence, margins included.
    fn height(&self) -> f32 {
        self.arcs_bottom() + WORD_DROP + TAG_DROP + MARGIN / 2.0
    }
}

/// A sentence's words and dependencies, read from its document.
struct Sentence<'d> {
    /// Index of the sentence's first token in the document.
    first: usize,
    /// The sentence's text.
    text: &'d str,
    words: Vec<Word<'d>>,
    deps: Vec<Dependency<'d>>,
}

impl<'d> Sentence<'d> {
    fn new(doc: &'d Doc<'_>, span: Span) -> Self {
        let mut words = Vec::with_capacity(span.len());
        let mut deps = Vec::with_capacity(span.len());
        for i in span.tokens() {
            let token = doc.token(i);
            let data = token.data();
            words
                .push(Word { text: shown(token.text()), tag: data.pos.map_or("", |p| p.as_str()) });
            // A root (no head, or its own head) has no arc; heads outside the sentence do
            // not occur in a well-formed parse and are not drawn.
            if let Some(head) = data.head.map(|head| head.index())
                && head != i
                && span.tokens().contains(&head)
            {
                deps.push(Dependency {
                    head: head - span.start(),
                    dependent: i - span.start(),
                    label: token.resolve(data.dep),
                });
            }
        }
        let text = &doc.text()[doc.text_span(span).bytes()];
        Self { first: span.start(), text, words, deps }
    }

    /// Writes the sentence as a `<g>` at vertical offset `y`.
    fn write(&self, out: &mut impl Write, layout: &Layout, y: f32) -> fmt::Result {
        write!(out, r#"<g class="sentence" transform="translate(0 {y:.1})">"#)?;
        write!(out, "<title>{}</title>", Escaped(self.text))?;
        let bottom = layout.arcs_bottom();
        for (i, (word, x)) in self.words.iter().zip(&layout.xs).enumerate() {
            let (word_y, tag_y) = (bottom + WORD_DROP, bottom + WORD_DROP + TAG_DROP);
            write!(
                out,
                r#"<text class="token" data-i="{i}" text-anchor="middle"><tspan class="word" x="{x:.1}" y="{word_y:.1}" font-size="{WORD_FONT}">{}</tspan><tspan class="tag" x="{x:.1}" y="{tag_y:.1}" font-size="{SMALL_FONT}">{}</tspan></text>"#,
                Escaped(word.text),
                Escaped(word.tag),
                i = self.first + i,
            )?;
        }
        for (dep, &level) in self.deps.iter().zip(&layout.levels) {
            self.write_arc(out, layout, dep, level)?;
        }
        out.write_str("</g>")
    }

    /// Writes one arc: a curve from head to dependent, an arrowhead, a label and a title.
    fn write_arc(
        &self,
        out: &mut impl Write,
        layout: &Layout,
        dep: &Dependency<'_>,
        level: usize,
    ) -> fmt::Result {
        let bottom = layout.arcs_bottom();
        let peak = bottom - level as f32 * LEVEL_HEIGHT;
        // A cubic with both control points straight above its ends peaks at 3/4 of their
        // height.
        let control = bottom - (bottom - peak) / 0.75;
        let to = layout.xs[dep.dependent];
        // Arcs leave their head beside its centre, higher ones farther out, so that they do
        // not merge with each other or with the arrow coming into the head.
        let quarter_span = (layout.xs[dep.head] - layout.xs[dep.dependent]).abs() / 4.0;
        let half_column = (layout.columns[dep.head] / 2.0 - 1.0).max(ARROW.0 + 1.0);
        let offset = (2.0 + 3.5 * level as f32).min(quarter_span).min(half_column);
        let from = if dep.dependent > dep.head {
            layout.xs[dep.head] + offset
        } else {
            layout.xs[dep.head] - offset
        };
        let (head, dependent) = (self.first + dep.head, self.first + dep.dependent);
        let label = Escaped(dep.label);
        write!(
            out,
            r#"<g class="arc" data-head="{head}" data-dependent="{dependent}" data-label="{label}"><title>{label}: {} → {}</title>"#,
            Escaped(self.words[dep.head].text),
            Escaped(self.words[dep.dependent].text),
        )?;
        write!(
            out,
            r#"<path class="arc-line" d="M{from:.1},{bottom:.1} C{from:.1},{control:.1} {to:.1},{control:.1} {to:.1},{bottom:.1}" fill="none" stroke="currentColor" stroke-width="1.5"/>"#
        )?;
        let (half, length) = ARROW;
        write!(
            out,
            r#"<path class="arrow" d="M{to:.1},{bottom:.1} L{:.1},{:.1} L{:.1},{:.1} Z" fill="currentColor"/>"#,
            to - half,
            bottom - length,
            to + half,
            bottom - length,
        )?;
        write!(
            out,
            r#"<text class="arc-label" x="{:.1}" y="{:.1}" text-anchor="middle" font-size="{SMALL_FONT}">{label}</text></g>"#,
            (from + to) / 2.0,
            peak - 3.0,
        )
    }
}

/// What the diagram shows for a token: whitespace tokens get a visible symbol.
fn shown(text: &str) -> &str {
    match text {
        _ if text.contains('\n') => "⏎",
        _ if text.trim().is_empty() => "␣",
        _ => text,
    }
}

/// Writes the arc diagrams of every sentence of `doc` as one `<svg>` element, with
/// `style_sheet` (CSS) inside it when given, for an SVG that stands alone.
pub(super) fn write_svg(
    out: &mut impl Write,
    doc: &Doc<'_>,
    style_sheet: Option<&str>,
) -> fmt::Result {
    let sentences: Vec<Sentence<'_>> =
        doc.sents().into_iter().map(|span| Sentence::new(doc, span)).collect();
    let layouts: Vec<Layout> = sentences.iter().map(|s| Layout::new(&s.words, &s.deps)).collect();
    let width = layouts.iter().map(|layout| layout.width).fold(2.0 * MARGIN, f32::max);
    let height: f32 = layouts.iter().map(Layout::height).sum::<f32>().max(MARGIN);
    write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="nlpd-dep" role="img" aria-label="Dependency parse, {n} sentence{s}" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="sans-serif">"#,
        n = sentences.len(),
        s = if sentences.len() == 1 { "" } else { "s" },
    )?;
    if let Some(css) = style_sheet {
        write!(out, "<style><![CDATA[\n{css}]]></style>")?;
    }
    let mut y = 0.0;
    for (sentence, layout) in sentences.iter().zip(&layouts) {
        sentence.write(out, layout, y)?;
        y += layout.height();
    }
    out.write_str("</svg>")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(texts: &[&'static str]) -> Vec<Word<'static>> {
        texts.iter().map(|text| Word { text, tag: "NOUN" }).collect()
    }

    fn deps(arcs: &[(usize, usize, &'static str)]) -> Vec<Dependency<'static>> {
        arcs.iter().map(|&(head, dependent, label)| Dependency { head, dependent, label }).collect()
    }

    #[test]
    fn levels_rise_over_the_arcs_they_span_and_are_shared_otherwise() {
        // (arcs as (head, dependent), expected levels)
        type Case = (&'static [(usize, usize)], &'static [usize]);
        let cases: [Case; 6] = [
            (&[], &[]),
            (&[(1, 0), (1, 2)], &[1, 1]),
            (&[(2, 0), (2, 1), (2, 3)], &[2, 1, 1]),
            (&[(0, 3), (3, 2), (2, 1)], &[2, 1, 1]),
            (&[(0, 3), (0, 2), (0, 1)], &[3, 2, 1]),
            // Crossing arcs overlap in a gap, so one rises over the other.
            (&[(0, 2), (1, 3)], &[1, 2]),
        ];
        for (arcs, expected) in cases {
            let arcs: Vec<_> = arcs.iter().map(|&(h, d)| (h, d, "dep")).collect();
            let layout = Layout::new(&words(&["a"; 4]), &deps(&arcs));
            assert_eq!(layout.levels, expected, "{arcs:?}");
        }
    }

    #[test]
    fn words_do_not_overlap_and_labels_fit_between_their_words() {
        let words = words(&["Internationalization", "is", "a", "word", "."]);
        let deps = deps(&[(0, 1, "nsubj:outer:long"), (3, 2, "det"), (1, 3, "x"), (1, 4, "punct")]);
        let layout = Layout::new(&words, &deps);
        for i in 1..words.len() {
            let room = layout.xs[i] - layout.xs[i - 1];
            let needed = (text_width(words[i - 1].text, WORD_FONT)
                + text_width(words[i].text, WORD_FONT))
                / 2.0;
            assert!(room >= needed + WORD_GAP - 0.01, "words {} and {i} overlap", i - 1);
        }
        for dep in &deps {
            let (start, end) = dep.ends();
            let room = layout.xs[end] - layout.xs[start];
            assert!(room >= text_width(dep.label, SMALL_FONT), "{dep:?} label does not fit");
        }
        let last = layout.xs.last().expect("words");
        assert!(layout.width > *last && layout.width - last >= MARGIN, "{layout:?}");
    }

    #[test]
    fn a_forty_word_sentence_fits_a_1920_pixel_screen() {
        let text = "When the committee met in London on Monday , its members agreed that the \
                    new railway line should be built before the end of next year , despite \
                    strong objections from angry local farmers living in the far north .";
        let texts: Vec<&str> = text.split(' ').collect();
        assert_eq!(texts.len(), 40);
        let words: Vec<Word<'_>> = texts.iter().map(|text| Word { text, tag: "PROPN" }).collect();
        // A plausible tree: every word hangs on its right neighbour, the last on the first.
        let labels = ["compound", "det", "nsubj", "obl", "case", "punct", "advmod"];
        let deps: Vec<Dependency<'_>> = (0..39)
            .map(|i| Dependency { head: i + 1, dependent: i, label: labels[i % labels.len()] })
            .collect();
        let layout = Layout::new(&words, &deps);
        assert!(layout.width <= 1920.0, "{} pixels wide", layout.width);
    }

    #[test]
    fn whitespace_tokens_are_shown_with_a_symbol() {
        assert_eq!(shown("\n\n"), "⏎");
        assert_eq!(shown("  "), "␣");
        assert_eq!(shown("word"), "word");
    }
}

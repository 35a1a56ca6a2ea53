//! The document writer behind `nlpd parse` and `POST /parse`: one writer, four formats.
//!
//! # Overview
//!
//! [`DocWriter`] writes documents one at a time in a [`DocFormat`], so its caller never holds
//! more than one document (and its tensors) at once: `nlpd parse` streams to standard
//! output, `POST /parse` into the response body.
//!
//! - **JSON** uses the layout of [`Doc::to_json`]. How a body holds its documents is the
//!   caller's [`JsonLayout`]: a pretty-printed array for a file of many documents, one
//!   object or `{"docs": [...]}` for an HTTP answer.
//! - **JSON Lines** writes each document as compact JSON on a line of its own.
//! - **CoNLL-U** and **IOB2** are [`SentenceWriter`]s: each document's `# newdoc`,
//!   `# newpar` and `# sent_id` come from the [`SentenceMeta`]s its caller passes, and
//!   sentences without an id are numbered across everything the writer writes.
//!
//! A document may be rendered ahead of its turn ([`DocRenderer`], on any thread) and
//! written later ([`DocWriter::write_rendered`]): the writer adds what depends on the
//! documents before it (JSON separators, running sentence numbers), so documents rendered in
//! parallel and written in input order make the same bytes as [`DocWriter::write`].
//!
//! ```
//! use nlpd::doc::{Doc, DocFormat, DocWriter, JsonLayout};
//! use nlpd::doc::conllu::SentenceMeta;
//! use nlpd::vocab::Vocab;
//!
//! let vocab = Vocab::new();
//! let zone = vocab.zone();
//! let doc = Doc::from_words(&zone, &["Hi", "!"], &[false, false]);
//! let mut out = DocWriter::new(Vec::new(), DocFormat::Jsonl, JsonLayout::PrettyArray);
//! out.write(&doc, [&SentenceMeta::new_document()])?;
//! let line = String::from_utf8(out.finish()?).unwrap();
//! assert!(line.starts_with(r#"{"text":"Hi!","tokens":["#) && line.ends_with("]}\n"));
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io::{self, Write};

use serde::Deserialize;

use super::conllu::{ConlluWriter, SentenceMeta};
use super::iob2::Iob2Writer;
use super::{Doc, RenderedSentences, SentenceWriter};

/// A format documents are written in: `--output` of `nlpd parse`, `"output"` of
/// `POST /parse`.
///
/// It deserializes from its [name](Self::name) only: serde's derived enum would also take
/// `{"conllu": null}`, and report `null` or a number as a JSON syntax error.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DocFormat {
    /// JSON in the layout of spaCy's `Doc.to_json()`, held as the [`JsonLayout`] says.
    #[default]
    Json,
    /// JSON Lines: one document per line, as compact JSON.
    Jsonl,
    /// CoNLL-U: sentences with `# sent_id` and `# text` comments, range lines for fused
    /// words.
    Conllu,
    /// IOB2 entity tags (`ID<TAB>TOKEN<TAB>TAG`), sentences opened by the same comments as
    /// CoNLL-U.
    Iob2,
}

impl DocFormat {
    /// Every format, in the order help texts list them.
    pub const ALL: [DocFormat; 4] =
        [DocFormat::Json, DocFormat::Jsonl, DocFormat::Conllu, DocFormat::Iob2];

    /// The format's name, as `--output` and `"output"` spell it (`"conllu"`).
    pub const fn name(self) -> &'static str {
        match self {
            DocFormat::Json => "json",
            DocFormat::Jsonl => "jsonl",
            DocFormat::Conllu => "conllu",
            DocFormat::Iob2 => "iob2",
        }
    }
}

impl<'de> Deserialize<'de> for DocFormat {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        const NAMES: [&str; DocFormat::ALL.len()] = {
            let mut names = [""; DocFormat::ALL.len()];
            let mut i = 0;
            while i < names.len() {
                names[i] = DocFormat::ALL[i].name();
                i += 1;
            }
            names
        };
        let name = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        DocFormat::ALL
            .into_iter()
            .find(|format| format.name() == name)
            .ok_or_else(|| serde::de::Error::unknown_variant(&name, &NAMES))
    }
}

/// How a [`DocFormat::Json`] body holds its documents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonLayout {
    /// Exactly one document: its object, compact.
    Object,
    /// `{"docs": [...]}`, compact, documents in the order written.
    Docs,
    /// A pretty-printed array, one document per element, then a newline: for people
    /// reading a terminal or a file.
    PrettyArray,
}

/// Writes documents in one [`DocFormat`]. See the module docs.
#[derive(Debug)]
pub struct DocWriter<W: Write> {
    sink: Sink<W>,
    layout: JsonLayout,
    /// Documents written so far.
    docs: usize,
}

/// A [`DocWriter`]'s output with its format.
#[derive(Debug)]
enum Sink<W: Write> {
    Json(W),
    Jsonl(W),
    Conllu(ConlluWriter<W>),
    Iob2(Iob2Writer<W>),
}

/// Renders documents for a [`DocWriter`] of one format and layout, without the writer: it
/// is `Copy` and `Send`, for worker threads. See the module docs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DocRenderer {
    format: DocFormat,
    layout: JsonLayout,
}

/// One document rendered by a [`DocRenderer`], for [`DocWriter::write_rendered`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderedDoc(Rendered);

/// What a [`RenderedDoc`] holds, by format.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Rendered {
    /// The document's JSON (pretty-printed or compact, as the layout says), no separator.
    Json(Vec<u8>),
    /// The document's compact JSON line, newline included.
    Jsonl(Vec<u8>),
    Conllu(RenderedSentences),
    Iob2(RenderedSentences),
}

impl DocRenderer {
    /// Renders `doc` as [`DocWriter::write`] would write it, taking `metas` as it does.
    ///
    /// # Errors
    ///
    /// Returns an error if rendering fails (a JSON serialisation error comes back as an
    /// [`io::Error`] of kind `InvalidData`).
    pub fn render<'m>(
        self,
        doc: &Doc<'_>,
        metas: impl IntoIterator<Item = &'m SentenceMeta>,
    ) -> io::Result<RenderedDoc> {
        Ok(RenderedDoc(match self.format {
            DocFormat::Json => {
                let mut out = Vec::new();
                match self.layout {
                    JsonLayout::PrettyArray => {
                        serde_json::to_writer_pretty(&mut out, &doc.to_json())?;
                    }
                    JsonLayout::Object | JsonLayout::Docs => {
                        serde_json::to_writer(&mut out, &doc.to_json())?;
                    }
                }
                Rendered::Json(out)
            }
            DocFormat::Jsonl => {
                let mut out = serde_json::to_vec(&doc.to_json())?;
                out.push(b'\n');
                Rendered::Jsonl(out)
            }
            DocFormat::Conllu => Rendered::Conllu(ConlluWriter::<W0>::render(doc, metas)?),
            DocFormat::Iob2 => Rendered::Iob2(Iob2Writer::<W0>::render(doc, metas)?),
        }))
    }
}

/// The writer type naming [`SentenceWriter::render`], which writes nowhere.
type W0 = io::Sink;

impl<W: Write> DocWriter<W> {
    /// A writer of `format` into `out` (wrap files and stdout in a `BufWriter`). `layout`
    /// applies to [`DocFormat::Json`] only.
    pub fn new(out: W, format: DocFormat, layout: JsonLayout) -> Self {
        let sink = match format {
            DocFormat::Json => Sink::Json(out),
            DocFormat::Jsonl => Sink::Jsonl(out),
            DocFormat::Conllu => Sink::Conllu(SentenceWriter::new(out)),
            DocFormat::Iob2 => Sink::Iob2(SentenceWriter::new(out)),
        };
        Self { sink, layout, docs: 0 }
    }

    /// The renderer of this writer's format and layout.
    pub fn renderer(&self) -> DocRenderer {
        let format = match self.sink {
            Sink::Json(_) => DocFormat::Json,
            Sink::Jsonl(_) => DocFormat::Jsonl,
            Sink::Conllu(_) => DocFormat::Conllu,
            Sink::Iob2(_) => DocFormat::Iob2,
        };
        DocRenderer { format, layout: self.layout }
    }

    /// Writes `doc`. CoNLL-U and IOB2 give the `n`-th sentence the `n`-th item of `metas`,
    /// as [`SentenceWriter::write_doc`] does; JSON formats ignore `metas`.
    ///
    /// # Errors
    ///
    /// Returns an error if writing fails (a JSON serialisation error comes back as an
    /// [`io::Error`] of kind `InvalidData`).
    ///
    /// # Panics
    ///
    /// Panics when a second document is written in [`JsonLayout::Object`].
    pub fn write<'m>(
        &mut self,
        doc: &Doc<'_>,
        metas: impl IntoIterator<Item = &'m SentenceMeta>,
    ) -> io::Result<()> {
        match &mut self.sink {
            // The line formats reuse one rendering buffer.
            Sink::Conllu(writer) => writer.write_doc(doc, metas)?,
            Sink::Iob2(writer) => writer.write_doc(doc, metas)?,
            Sink::Json(_) | Sink::Jsonl(_) => {
                let rendered = self.renderer().render(doc, metas)?;
                return self.write_rendered(&rendered);
            }
        }
        self.docs += 1;
        Ok(())
    }

    /// Writes a document rendered by this writer's [renderer](Self::renderer) as the next
    /// document.
    ///
    /// # Errors
    ///
    /// Returns an error if writing fails.
    ///
    /// # Panics
    ///
    /// Panics if another format rendered the document, or when a second document is
    /// written in [`JsonLayout::Object`].
    pub fn write_rendered(&mut self, rendered: &RenderedDoc) -> io::Result<()> {
        match (&mut self.sink, &rendered.0) {
            (Sink::Json(out), Rendered::Json(json)) => {
                // A body opens with its first document, so a failure before it writes
                // nothing.
                let before: &[u8] = match (self.layout, self.docs) {
                    (JsonLayout::Object, 0) => b"",
                    (JsonLayout::Object, _) => {
                        panic!("a JSON object holds one document. This is a bug.")
                    }
                    (JsonLayout::Docs, 0) => b"{\"docs\":[",
                    (JsonLayout::Docs, _) => b",",
                    (JsonLayout::PrettyArray, 0) => b"[\n",
                    (JsonLayout::PrettyArray, _) => b",\n",
                };
                out.write_all(before)?;
                out.write_all(json)?;
            }
            (Sink::Jsonl(out), Rendered::Jsonl(line)) => out.write_all(line)?,
            (Sink::Conllu(writer), Rendered::Conllu(sentences)) => {
                writer.write_rendered(sentences)?;
            }
            (Sink::Iob2(writer), Rendered::Iob2(sentences)) => writer.write_rendered(sentences)?,
            _ => panic!("a document rendered for another format. This is a bug."),
        }
        self.docs += 1;
        Ok(())
    }

    /// Ends the body (JSON closes its brackets), flushes it and returns the underlying
    /// writer.
    ///
    /// # Errors
    ///
    /// Returns an error if writing or flushing fails.
    pub fn finish(self) -> io::Result<W> {
        let mut out = match self.sink {
            Sink::Json(mut out) => {
                let after: &[u8] = match (self.layout, self.docs) {
                    (JsonLayout::Object, _) => b"",
                    (JsonLayout::Docs, 0) => b"{\"docs\":[]}",
                    (JsonLayout::Docs, _) => b"]}",
                    (JsonLayout::PrettyArray, 0) => b"[]\n",
                    (JsonLayout::PrettyArray, _) => b"\n]\n",
                };
                out.write_all(after)?;
                out
            }
            Sink::Jsonl(out) => out,
            Sink::Conllu(writer) => writer.into_inner(),
            Sink::Iob2(writer) => writer.into_inner(),
        };
        out.flush()?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::Vocab;
    use serde_json::json;

    /// The body `format` and `layout` make of one document per item of `texts` (its words,
    /// space-separated), each opened by `# newdoc id = N`.
    fn body(format: DocFormat, layout: JsonLayout, texts: &[&[&str]]) -> String {
        let vocab = Vocab::new();
        let zone = vocab.zone();
        let mut writer = DocWriter::new(Vec::new(), format, layout);
        for (n, words) in texts.iter().enumerate() {
            let spaces: Vec<bool> = (0..words.len()).map(|i| i + 1 < words.len()).collect();
            let meta = SentenceMeta { newdoc: Some(n.to_string()), ..SentenceMeta::default() };
            writer.write(&Doc::from_words(&zone, words, &spaces), [&meta]).expect("writes");
        }
        String::from_utf8(writer.finish().expect("finishes")).expect("utf-8")
    }

    #[test]
    fn json_layouts_hold_documents_as_they_say() {
        // (layout, texts, body prefix, documents in the body)
        let cases: [(JsonLayout, &[&[&str]], &str, usize); 6] = [
            (JsonLayout::Object, &[&["Hi"]], r#"{"text":"Hi","tokens":["#, 1),
            (JsonLayout::Docs, &[&["a"], &["b"]], r#"{"docs":[{"text":"a","#, 2),
            (JsonLayout::Docs, &[], r#"{"docs":[]}"#, 0),
            (JsonLayout::PrettyArray, &[&["a"], &["b"]], "[\n{\n  \"text\": \"a\",", 2),
            (JsonLayout::PrettyArray, &[], "[]\n", 0),
            (JsonLayout::PrettyArray, &[&["a"]], "[\n{", 1),
        ];
        for (layout, texts, prefix, docs) in cases {
            let json = body(DocFormat::Json, layout, texts);
            assert!(json.starts_with(prefix), "{layout:?}: {json}");
            let value: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
            let written = match layout {
                JsonLayout::Object => 1,
                JsonLayout::Docs => value["docs"].as_array().map_or(0, Vec::len),
                JsonLayout::PrettyArray => value.as_array().map_or(0, Vec::len),
            };
            assert_eq!(written, docs, "{layout:?}: {json}");
            assert_eq!(json.ends_with('\n'), layout == JsonLayout::PrettyArray, "{json}");
        }
    }

    #[test]
    #[should_panic(expected = "one document")]
    fn a_json_object_refuses_a_second_document() {
        body(DocFormat::Json, JsonLayout::Object, &[&["a"], &["b"]]);
    }

    #[test]
    fn jsonl_writes_a_line_per_document_whatever_the_layout() {
        for layout in [JsonLayout::Object, JsonLayout::Docs, JsonLayout::PrettyArray] {
            let lines = body(DocFormat::Jsonl, layout, &[&["a", "b"], &["c"]]);
            assert!(lines.ends_with("]}\n"), "{lines}");
            let texts: Vec<serde_json::Value> = lines
                .lines()
                .map(|line| {
                    serde_json::from_str::<serde_json::Value>(line).expect("JSON")["text"].clone()
                })
                .collect();
            assert_eq!(texts, ["a b", "c"], "{lines}");
        }
        assert_eq!(body(DocFormat::Jsonl, JsonLayout::Docs, &[]), "");
    }

    #[test]
    fn line_formats_take_the_callers_metas_and_number_sentences_across_documents() {
        let conllu = body(DocFormat::Conllu, JsonLayout::Docs, &[&["One"], &["Two"]]);
        assert!(conllu.starts_with("# newdoc id = 0\n# sent_id = 1\n# text = One\n1\tOne\t"));
        assert!(conllu.contains("\n\n# newdoc id = 1\n# sent_id = 2\n# text = Two\n"), "{conllu}");
        let iob2 = body(DocFormat::Iob2, JsonLayout::Docs, &[&["One"], &["Two"]]);
        assert_eq!(
            iob2,
            "# newdoc id = 0\n# sent_id = 1\n# text = One\n1\tOne\tO\n\n\
             # newdoc id = 1\n# sent_id = 2\n# text = Two\n1\tTwo\tO\n\n"
        );
    }

    #[test]
    fn documents_rendered_ahead_write_as_written_directly() {
        let vocab = Vocab::new();
        let zone = vocab.zone();
        let docs = [
            Doc::from_words(&zone, &["One", "."], &[false, false]),
            Doc::from_words(&zone, &["Two"], &[false]),
        ];
        let named = SentenceMeta { sent_id: Some("x".into()), ..SentenceMeta::default() };
        let metas = [&[][..], std::slice::from_ref(&named)];
        for format in DocFormat::ALL {
            let mut direct = DocWriter::new(Vec::new(), format, JsonLayout::Docs);
            let mut later = DocWriter::new(Vec::new(), format, JsonLayout::Docs);
            // Rendered in reverse order, as a worker thread ahead of its turn might.
            let rendered: Vec<RenderedDoc> = docs
                .iter()
                .zip(metas)
                .rev()
                .map(|(doc, metas)| later.renderer().render(doc, metas).expect("renders"))
                .collect();
            for _ in 0..2 {
                for (doc, metas) in docs.iter().zip(metas) {
                    direct.write(doc, metas).expect("writes");
                }
                for rendered in rendered.iter().rev() {
                    later.write_rendered(rendered).expect("writes");
                }
            }
            let (direct, later) = (direct.finish().expect("ends"), later.finish().expect("ends"));
            assert_eq!(String::from_utf8(later), String::from_utf8(direct), "{format:?}");
        }
    }

    #[test]
    #[should_panic(expected = "another format")]
    fn a_document_rendered_for_another_format_is_refused() {
        let vocab = Vocab::new();
        let zone = vocab.zone();
        let doc = Doc::from_words(&zone, &["a"], &[false]);
        let json = DocWriter::new(Vec::new(), DocFormat::Json, JsonLayout::Docs);
        let rendered = json.renderer().render(&doc, []).expect("renders");
        let mut conllu = DocWriter::new(Vec::new(), DocFormat::Conllu, JsonLayout::Docs);
        let _ = conllu.write_rendered(&rendered);
    }

    #[test]
    fn names_are_the_serde_names() {
        for format in DocFormat::ALL {
            let parsed: DocFormat =
                serde_json::from_value(serde_json::json!(format.name())).expect("a format name");
            assert_eq!(parsed, format);
        }
        for not_a_name in [json!(null), json!(5), json!([]), json!({}), json!({"conllu": null})] {
            let err = serde_json::from_value::<DocFormat>(not_a_name.clone()).unwrap_err();
            assert!(err.is_data(), "{not_a_name}: {err}");
        }
    }
}

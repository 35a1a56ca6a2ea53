//! The body of a `/parse` response, written one document at a time.
//!
//! # Overview
//!
//! [`BodyWriter`] serialises each document as soon as it is annotated, so a batch never
//! holds more than one document (and its tensors) at once. JSON uses the document layout
//! of [`Doc::to_json`]: a single text is answered by the document itself, a batch by
//! `{"docs": [...]}`. CoNLL-U uses [`ConlluWriter`]: each document opens with `# newdoc`
//! (with `id = N`, its position, in a batch) and sentence ids run across the whole body.

use super::error::ApiError;
use super::parse::Output;
use crate::doc::Doc;
use crate::doc::conllu::{ConlluWriter, SentenceMeta};

/// Accumulates a response body.
pub(super) enum BodyWriter {
    /// JSON: one document object, or `{"docs": [...]}`.
    Json {
        /// The bytes so far.
        out: Vec<u8>,
        /// Whether the request was a batch.
        batch: bool,
        /// Documents written so far.
        docs: usize,
    },
    /// CoNLL-U text.
    Conllu {
        /// The writer over the bytes so far.
        out: ConlluWriter<Vec<u8>>,
        /// Whether the request was a batch.
        batch: bool,
        /// Documents written so far.
        docs: usize,
    },
}

impl BodyWriter {
    /// An empty body in `output` format, with room for `capacity` bytes.
    pub(super) fn new(output: Output, batch: bool, capacity: usize) -> Self {
        let mut out = Vec::with_capacity(capacity);
        match output {
            Output::Json => {
                if batch {
                    out.extend_from_slice(b"{\"docs\":[");
                }
                Self::Json { out, batch, docs: 0 }
            }
            Output::Conllu => Self::Conllu { out: ConlluWriter::new(out), batch, docs: 0 },
        }
    }

    /// Appends `doc`.
    ///
    /// # Errors
    ///
    /// Returns [`ApiError::Internal`] if the document cannot be serialised.
    pub(super) fn write(&mut self, doc: &Doc<'_>) -> Result<(), ApiError> {
        match self {
            Self::Json { out, docs, .. } => {
                if *docs > 0 {
                    out.push(b',');
                }
                *docs += 1;
                serde_json::to_writer(out, &doc.to_json())
                    .map_err(|err| ApiError::Internal(format!("writing JSON: {err}")))
            }
            Self::Conllu { out, batch, docs } => {
                let meta = if *batch {
                    SentenceMeta { newdoc: Some(docs.to_string()), ..SentenceMeta::default() }
                } else {
                    SentenceMeta::new_document()
                };
                *docs += 1;
                out.write_doc(doc, [&meta])
                    .map_err(|err| ApiError::Internal(format!("writing CoNLL-U: {err}")))
            }
        }
    }

    /// The finished body.
    pub(super) fn finish(self) -> Vec<u8> {
        match self {
            Self::Json { mut out, batch, .. } => {
                if batch {
                    out.extend_from_slice(b"]}");
                }
                out
            }
            Self::Conllu { out, .. } => out.into_inner(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::Vocab;

    fn body(output: Output, batch: bool, texts: &[&[&str]]) -> String {
        let vocab = Vocab::new();
        let zone = vocab.zone();
        let mut writer = BodyWriter::new(output, batch, 0);
        for words in texts {
            let spaces: Vec<bool> = (0..words.len()).map(|i| i + 1 < words.len()).collect();
            writer.write(&Doc::from_words(&zone, words, &spaces)).expect("writes");
        }
        String::from_utf8(writer.finish()).expect("utf-8")
    }

    #[test]
    fn json_single_and_batch_shapes() {
        let cases: [(bool, &[&[&str]], &str); 3] = [
            (false, &[&["Hi"]], r#"{"text":"Hi","tokens":["#),
            (true, &[&["a"], &["b"]], r#"{"docs":[{"text":"a","#),
            (true, &[], r#"{"docs":[]}"#),
        ];
        for (batch, texts, prefix) in cases {
            let json = body(Output::Json, batch, texts);
            assert!(json.starts_with(prefix), "{json}");
            let value: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
            if batch {
                assert_eq!(value["docs"].as_array().map(Vec::len), Some(texts.len()));
            }
        }
    }

    #[test]
    fn conllu_marks_documents_and_numbers_sentences_across_the_body() {
        let single = body(Output::Conllu, false, &[&["Hi", "there"]]);
        assert!(
            single.starts_with("# newdoc\n# sent_id = 1\n# text = Hi there\n1\tHi"),
            "{single}"
        );
        let batch = body(Output::Conllu, true, &[&["One"], &["Two"]]);
        assert!(batch.starts_with("# newdoc id = 0\n# sent_id = 1\n"), "{batch}");
        assert!(batch.contains("\n\n# newdoc id = 1\n# sent_id = 2\n# text = Two\n"), "{batch}");
    }
}

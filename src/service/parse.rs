//! `POST /parse`: validate, then tokenize, annotate and serialise inside the request's zone.
//!
//! # Overview
//!
//! [`ParseRequest`] is the body: `{"text": "..."}` or `{"texts": ["...", ...]}`, with
//! optional `"components"` (run only these and what they need) and `"output"`
//! ([`DocFormat`]). The handler checks it against the limits and the pipeline
//! ([`Job::new`], cheap, on the reactor), then moves the job and the request's
//! [`RequestZone`] into one blocking closure on the [`NlpWorkers`](super::NlpWorkers):
//! documents are made there, borrow the zone, are serialised to bytes there, and the zone
//! is dropped when the closure ends. Nothing that borrows the zone crosses an `.await`.
//!
//! The same [`Job`] draws the pictures of `POST /render` (see `ui.rs`): its [`Output`]
//! says whether documents are written or drawn.
//!
//! Responses are written by a [`DocWriter`] in the requested [`DocFormat`], documents in
//! input order:
//!
//! - `json` (`application/json`, the default): a single text answers one document object,
//!   a batch answers `{"docs": [...]}`; documents use the layout of spaCy's
//!   `Doc.to_json()` ([`crate::doc::DocJson`]).
//! - `jsonl` (`application/x-ndjson`): one document per line, as compact JSON, for a single
//!   text (one line) and a batch alike, with no `{"docs": ...}` around them, so a client
//!   can read the documents line by line.
//! - `conllu` (`text/conllu; charset=utf-8`) and `iob2` (`text/plain; charset=utf-8`): each
//!   document opens with `# newdoc` (`# newdoc id = N`, its position, in a batch) and
//!   sentence ids run across the whole body.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Deserializer};
use tracing::{Span, instrument};

use super::AppState;
use super::error::{ApiError, AppJson};
use super::pool::Cancellation;
use super::zone_layer::RequestZone;
use crate::config::Limits;
use crate::doc::conllu::SentenceMeta;
use crate::doc::{Doc, DocFormat, DocWriter, JsonLayout};
use crate::pipeline::{Pipeline, PipelineError};
use crate::render::{self, Style};
use crate::telemetry::PARSE_WORDS;
use crate::vocab::Zone;

/// The body of `POST /parse`: a JSON object with exactly one of `text` and `texts`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, remote = "Self")]
pub(crate) struct ParseRequest {
    /// One text: the response is one document.
    #[serde(default, deserialize_with = "present")]
    pub(crate) text: Option<String>,
    /// Several texts: the response holds their documents in the same order
    /// (`{"docs": [...]}` in JSON).
    #[serde(default, deserialize_with = "present")]
    pub(crate) texts: Option<Vec<String>>,
    /// Run only these components and those they need (in pipeline order); all of them
    /// when absent.
    #[serde(default, deserialize_with = "present")]
    pub(crate) components: Option<Vec<String>>,
    /// The response format (see the module docs).
    #[serde(default)]
    pub(crate) output: DocFormat,
}

/// Implements `Deserialize` for a request struct declared with
/// `#[serde(deny_unknown_fields, remote = "Self")]` (whose derived deserializer is then an
/// inherent `deserialize`), accepting only a JSON object: serde's derive would otherwise also
/// read the fields from an array.
macro_rules! deserialize_object_only {
    ($request:ident) => {
        impl<'de> serde::Deserialize<'de> for $request {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct ObjectOnly;
                impl<'de> serde::de::Visitor<'de> for ObjectOnly {
                    type Value = $request;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str("a JSON object")
                    }
                    fn visit_map<A: serde::de::MapAccess<'de>>(
                        self,
                        map: A,
                    ) -> Result<$request, A::Error> {
                        $request::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    }
                }
                deserializer.deserialize_map(ObjectOnly)
            }
        }
    };
}
pub(super) use deserialize_object_only;

deserialize_object_only!(ParseRequest);

/// An optional field that, when present, must hold a value: `null` is refused rather than
/// read as absent, as openapi.yaml says.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// The `Content-Type` of a `/parse` response in `format`.
fn content_type(format: DocFormat) -> &'static str {
    match format {
        DocFormat::Json => "application/json",
        DocFormat::Jsonl => "application/x-ndjson",
        DocFormat::Conllu => "text/conllu; charset=utf-8",
        // IOB2 has no media type of its own.
        DocFormat::Iob2 => "text/plain; charset=utf-8",
    }
}

/// What a [`Job`] makes of its documents.
#[derive(Clone, Copy, Debug)]
enum Output {
    /// The documents, written in a format of `POST /parse`.
    Docs(DocFormat),
    /// The picture of the one document (`POST /render`): standalone, or the bare element.
    Picture {
        /// Which picture.
        style: Style,
        /// A document of its own ([`render::standalone`]) rather than the bare element
        /// ([`render::fragment`]).
        standalone: bool,
    },
}

impl Output {
    /// The `Content-Type` of the response body.
    fn content_type(self) -> &'static str {
        match self {
            Output::Docs(format) => content_type(format),
            Output::Picture { style, .. } => style.media_type(),
        }
    }
}

/// A request that passed validation.
#[derive(Debug)]
pub(super) struct Job {
    texts: Vec<String>,
    /// Characters in all texts.
    n_chars: usize,
    batch: bool,
    components: Option<Vec<String>>,
    output: Output,
}

impl Job {
    /// A job drawing `text` in `style` with the whole pipeline, checked as `/parse` checks
    /// `{"text": text}`; a `standalone` picture, or the bare element.
    pub(super) fn picture(
        text: String,
        style: Style,
        standalone: bool,
        limits: &Limits,
        pipeline: &Pipeline,
    ) -> Result<Self, ApiError> {
        let request = ParseRequest { text: Some(text), ..ParseRequest::default() };
        let output = Output::Picture { style, standalone };
        Ok(Self { output, ..Self::new(request, limits, pipeline)? })
    }

    /// Checks `request` against the limits and the pipeline's components.
    fn new(request: ParseRequest, limits: &Limits, pipeline: &Pipeline) -> Result<Self, ApiError> {
        let (texts, batch) = match (request.text, request.texts) {
            (Some(_), Some(_)) => {
                return Err(ApiError::InvalidField(
                    "give either `text` or `texts`, not both".to_owned(),
                ));
            }
            (Some(text), None) => (vec![text], false),
            (None, Some(texts)) if !texts.is_empty() => (texts, true),
            (None, _) => return Err(ApiError::MissingText),
        };
        let limit = limits.max_batch_texts.get();
        if texts.len() > limit {
            return Err(ApiError::TooManyTexts { count: texts.len(), limit });
        }
        let limit = limits.max_text_chars.get();
        let mut n_chars = 0;
        for (i, text) in texts.iter().enumerate() {
            let index = batch.then_some(i);
            let chars = text.chars().count();
            if chars == 0 {
                return Err(ApiError::EmptyText { index });
            }
            if chars > limit {
                return Err(ApiError::TextTooLong { index, chars, limit });
            }
            n_chars += chars;
        }
        if let Some(name) = request
            .components
            .iter()
            .flatten()
            .find(|name| !pipeline.component_names().any(|known| known == name.as_str()))
        {
            return Err(unknown_component(pipeline, name.clone()));
        }
        let output = Output::Docs(request.output);
        Ok(Self { texts, n_chars, batch, components: request.components, output })
    }

    /// Processes every text in `zone` and serialises the response body.
    fn run(
        &self,
        pipeline: &Pipeline,
        zone: &Zone<'_>,
        cancel: &Cancellation,
    ) -> Result<Vec<u8>, ApiError> {
        let format = match self.output {
            Output::Docs(format) => format,
            Output::Picture { style, standalone } => {
                let mut body = String::new();
                self.for_each_doc(pipeline, zone, cancel, |_, doc| {
                    body = if standalone {
                        render::standalone(doc, style)
                    } else {
                        render::fragment(doc, style)
                    };
                    Ok(())
                })?;
                return Ok(body.into_bytes());
            }
        };
        let capacity = self.texts.iter().map(|text| text.len() * 8).sum();
        let layout = if self.batch { JsonLayout::Docs } else { JsonLayout::Object };
        let mut body = DocWriter::new(Vec::with_capacity(capacity), format, layout);
        let written =
            |err: std::io::Error| ApiError::Internal(format!("writing {}: {err}", format.name()));
        self.for_each_doc(pipeline, zone, cancel, |n, doc| {
            let meta = if self.batch {
                SentenceMeta { newdoc: Some(n.to_string()), ..SentenceMeta::default() }
            } else {
                SentenceMeta::new_document()
            };
            body.write(doc, [&meta]).map_err(written)
        })?;
        body.finish().map_err(written)
    }

    /// Makes the document of each text in `zone` and hands it to `each` with its position.
    fn for_each_doc(
        &self,
        pipeline: &Pipeline,
        zone: &Zone<'_>,
        cancel: &Cancellation,
        mut each: impl FnMut(usize, &Doc<'_>) -> Result<(), ApiError>,
    ) -> Result<(), ApiError> {
        for (n, text) in self.texts.iter().enumerate() {
            if cancel.is_cancelled() {
                return Err(ApiError::Internal("request abandoned by the client".to_owned()));
            }
            let mut doc = pipeline.tokenizer().tokenize(zone, text);
            pipeline.annotate(&mut doc, self.components.as_deref()).map_err(|err| match err {
                PipelineError::UnknownComponent { name, .. } => unknown_component(pipeline, name),
                PipelineError::Component(err) => ApiError::Internal(err.to_string()),
            })?;
            metrics::counter!(PARSE_WORDS).increment(doc.len() as u64);
            each(n, &doc)?;
        }
        Ok(())
    }

    /// Runs the job on the NLP workers inside `zone` and answers its body with its
    /// `Content-Type`. The caller's span (an `#[instrument]` with `n_texts` and `n_chars`
    /// fields) records the job's size.
    pub(super) async fn respond(
        self,
        state: &AppState,
        zone: RequestZone,
    ) -> Result<Response, ApiError> {
        let span = Span::current();
        span.record("n_texts", self.texts.len());
        span.record("n_chars", self.n_chars);
        let content_type = self.output.content_type();
        let pipeline = Arc::clone(&state.pipeline);
        let body = state
            .workers
            .run(move |cancel| {
                // The zone is owned by this closure: every Doc borrowing it is dropped first,
                // then the zone itself, on this thread, however the closure exits.
                let zone = zone;
                self.run(&pipeline, zone.zone(), cancel)
            })
            .await??;
        Ok(([(header::CONTENT_TYPE, content_type)], body).into_response())
    }
}

fn unknown_component(pipeline: &Pipeline, name: String) -> ApiError {
    ApiError::UnknownComponent {
        name,
        available: pipeline.component_names().collect::<Vec<_>>().join(", "),
    }
}

/// `POST /parse`. See the module docs.
#[instrument(skip_all, fields(n_texts, n_chars))]
pub(super) async fn parse(
    State(state): State<AppState>,
    zone: RequestZone,
    AppJson(request): AppJson<ParseRequest>,
) -> Result<Response, ApiError> {
    Job::new(request, &state.settings.limits, &state.pipeline)?.respond(&state, zone).await
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroUsize;

    use super::*;
    use crate::config::Settings;

    fn limits() -> Limits {
        let mut limits = Settings::default().limits;
        limits.max_batch_texts = NonZeroUsize::new(2).expect("2");
        limits.max_text_chars = NonZeroUsize::new(5).expect("5");
        limits
    }

    fn request(json: serde_json::Value) -> ParseRequest {
        serde_json::from_value(json).expect("valid request shape")
    }

    #[test]
    fn validation_table() {
        use serde_json::json;
        let pipeline = Pipeline::tokenizer_only();
        let cases = [
            (json!({"text": "hello"}), None),
            (json!({"texts": ["a", "b"], "components": []}), None),
            (json!({"text": "éééé"}), None),
            (json!({}), Some("missing_text")),
            (json!({"texts": []}), Some("missing_text")),
            (json!({"text": "a", "texts": ["b"]}), Some("invalid_field")),
            (json!({"text": ""}), Some("empty_text")),
            (json!({"texts": ["a", ""]}), Some("empty_text")),
            (json!({"text": "ééééééé"}), Some("text_too_long")),
            (json!({"texts": ["a", "b", "c"]}), Some("too_many_texts")),
            (json!({"text": "a", "components": ["tagger"]}), Some("unknown_component")),
        ];
        for (body, expected) in cases {
            let result = Job::new(request(body.clone()), &limits(), &pipeline);
            assert_eq!(result.err().map(|e| e.status_and_code().1), expected, "{body}");
        }
    }

    #[test]
    fn unknown_fields_and_outputs_are_refused_by_serde() {
        let cases = [
            r#"{"txt": "a"}"#,
            r#"{"text": "a", "output": "xml"}"#,
            r#"{"text": 5}"#,
            r#"{"text": null}"#,
            r#"{"text": "a", "texts": null}"#,
            r#"{"text": "a", "components": null}"#,
            r#"["a"]"#,
            r#""a""#,
        ];
        for body in cases {
            assert!(serde_json::from_str::<ParseRequest>(body).is_err(), "{body}");
        }
    }

    #[test]
    fn batch_json_keeps_input_order() {
        let pipeline = Pipeline::tokenizer_only();
        let job = Job::new(
            request(serde_json::json!({"texts": ["one two", "three"]})),
            &Settings::default().limits,
            &pipeline,
        )
        .expect("valid");
        let zone = pipeline.vocab().zone();
        let body = job.run(&pipeline, &zone, &Cancellation::default()).expect("runs");
        let value: serde_json::Value = serde_json::from_slice(&body).expect("json");
        let texts: Vec<_> = value["docs"]
            .as_array()
            .expect("docs")
            .iter()
            .map(|doc| doc["text"].as_str().expect("text"))
            .collect();
        assert_eq!(texts, ["one two", "three"]);
    }
}

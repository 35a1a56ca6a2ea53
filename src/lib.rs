//! nlpd: a fast, memory-bounded English NLP engine.
//!
//! # Overview
//!
//! ```text
//! text ──► Tokenizer ──► Doc<'zone> ──► components ──► DocWriter (JSON, JSONL, CoNLL-U, IOB2)
//! ```
//!
//! - [`vocab`]: strings, lexemes and memory zones.
//! - [`tokenizer`]: the English tokenizer.
//! - [`doc`]: documents, tokens and spans borrowed from a zone.
//! - [`pipeline`]: the pipeline and its components.
//! - [`render`]: pictures of a parsed document (dependency arcs, entity marks) as SVG/HTML.
//! - [`train`]: evaluation (CoNLL 2018, NER) and training of the pipeline's models.
//! - [`service`]: the HTTP service (per-request memory zones, metrics, health).
//! - [`config`]: layered, validated settings; [`telemetry`]: logging and metric names.
//! - [`cli`]: the `nlpd` command line.
//!
//! Layering: `vocab` ← `doc` ← `tokenizer` ← `pipeline` ← {`train`, `service`, `cli`},
//! and `doc` ← `render` ← {`service`, `cli`}
//! (the tokenizer builds Docs, so it sits above them).
//! Lower layers never import higher ones.

pub mod cli;
pub mod config;
pub mod doc;
pub mod pipeline;
pub mod render;
pub mod service;
pub mod telemetry;
pub mod tokenizer;
pub mod train;
pub mod vocab;

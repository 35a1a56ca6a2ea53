//! nlpd: a fast, memory-bounded English NLP engine.
//!
//! # Overview
//!
//! ```text
//! text ──► Tokenizer ──► Doc<'zone> ──► pipeline components ──► JSON | CoNLL-U
//! ```
//!
//! - [`vocab`]: strings, lexemes and memory zones.
//! - [`tokenizer`]: the English tokenizer.
//! - [`doc`]: documents, tokens and spans borrowed from a zone.
//! - [`pipeline`]: the pipeline and its components.
//! - [`train`]: training the pipeline's models.
//! - [`cli`]: the `nlpd` command line.
//!
//! Layering: `vocab` ← `doc` ← `tokenizer` ← `pipeline` ← {`train`, `service`, `cli`}
//! (the tokenizer builds Docs, so it sits above them).
//! Lower layers never import higher ones.

pub mod cli;
pub mod doc;
pub mod pipeline;
pub mod tokenizer;
pub mod train;
pub mod vocab;

//! Model training and evaluation.
//!
//! # Overview
//!
//! - [`evaluate`]: the CoNLL 2018 UD shared-task metrics over CoNLL-U files and exact-span
//!   NER scores over IOB2 files, as `nlpd evaluate` prints them.
//! - [`corpus`]: training paragraphs read from CoNLL-U.
//! - [`trainer`]: `nlpd train`: the configuration and the training loop.
//! - [`schedule`]: the settings and early stopping every training loop shares.
//! - [`ner`]: training the named-entity recogniser on Universal NER.
//! - [`vocab`]: the word forms a trained model ships as its permanent vocabulary.
//!
//! Gold files are read by the document formats [`crate::doc::conllu`] and
//! [`crate::doc::iob2`], which the CLI (and, for CoNLL-U, the service) share.

pub mod corpus;
pub mod evaluate;
pub(crate) mod lemma_rules;
pub mod ner;
mod parser;
pub mod schedule;
pub mod trainer;
pub mod vocab;

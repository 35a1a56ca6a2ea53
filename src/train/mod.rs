//! Model training and evaluation.
//!
//! # Overview
//!
//! - [`iob2`]: the Universal NER IOB2 reader (PER, ORG, LOC; anything else is O).
//! - [`evaluate`]: the CoNLL 2018 UD shared-task metrics over CoNLL-U files and exact-span
//!   NER scores over IOB2 files, as `nlpd evaluate` prints them.
//! - [`corpus`]: training paragraphs read from CoNLL-U.
//! - [`trainer`]: `nlpd train`: the configuration and the training loop.
//! - [`schedule`]: the settings and early stopping every training loop shares.
//! - [`ner`]: training the named-entity recogniser on Universal NER.
//! - [`vocab`]: the word forms a trained model ships as its permanent vocabulary.
//!
//! Gold CoNLL-U comes from [`crate::doc::conllu`], which the CLI and the service share.

pub mod corpus;
pub mod evaluate;
pub mod iob2;
mod lemma_rules;
pub mod ner;
mod parser;
pub mod schedule;
pub mod trainer;
pub mod vocab;

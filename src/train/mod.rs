//! Model training and evaluation.
//!
//! # Overview
//!
//! - [`corpus`]: training paragraphs read from CoNLL-U.
//! - [`trainer`]: `nlpd train`: the configuration and the training loop.

pub mod corpus;
mod lemma_rules;
mod parser;
pub mod trainer;

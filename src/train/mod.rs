//! Model training and evaluation.
//!
//! # Overview
//!
//! - [`evaluate`]: the CoNLL 2018 UD shared-task metrics over CoNLL-U files and exact-span
//!   NER scores over IOB2 files, as `nlpd evaluate` prints them.
//! - [`corpus`]: training paragraphs read from CoNLL-U.
//! - [`trainer`]: `nlpd train`: the configuration, the ensemble members, the recogniser
//!   spliced in and the shipped vocabulary.
//! - `joint`: the joint training of tok2vec, the tagger, the morphologizer and the parser.
//! - [`ner`]: training the named-entity recogniser on Universal NER.
//! - [`schedule`]: the settings and the one epoch loop (batches, optimiser steps, weight
//!   average, dev scores, early stopping) every model trains with.
//! - [`teacher`]: distillation, a trained pipeline (an ensemble) as the members' teacher.
//! - [`features`]: frozen inputs computed once before training: a teacher's tensor, a
//!   pretrained transformer's features (`[transformer]`).
//! - [`word_forms`]: the word forms a trained model ships as its permanent vocabulary.
//!
//! This module holds what they all share: [`TrainError`], the [`TrainObserver`] that
//! reports progress, and the tagger and parser's [`DevScores`].
//!
//! Gold files are read by the document formats [`crate::doc::conllu`] and
//! [`crate::doc::iob2`], which the CLI (and, for CoNLL-U, the service) share.

pub mod corpus;
pub mod evaluate;
pub mod features;
pub mod fine_tune;
mod joint;
pub(crate) mod lemma_rules;
pub mod ner;
mod parser;
pub mod schedule;
pub mod teacher;
pub mod trainer;
pub mod word_forms;

use std::path::PathBuf;

use thiserror::Error;

use self::evaluate::NerScores;
use crate::doc::ReadError;

/// Errors raised by training.
#[derive(Debug, Error)]
pub enum TrainError {
    /// Occurs when a corpus cannot be read or is not valid CoNLL-U.
    #[error("cannot read CoNLL-U corpus {path}")]
    ReadConllu {
        /// The corpus path.
        path: PathBuf,
        /// What went wrong.
        source: ReadError,
    },
    /// Occurs when an IOB2 corpus cannot be read or is malformed.
    #[error("cannot read IOB2 corpus {path}")]
    ReadIob2 {
        /// The corpus path.
        path: PathBuf,
        /// What went wrong.
        source: ReadError,
    },
    /// Occurs when the training corpus has no annotated words.
    #[error("the training corpus {path} has no annotated words")]
    EmptyCorpus {
        /// The corpus path.
        path: PathBuf,
    },
    /// Occurs when the pipeline to distil cannot teach.
    #[error(transparent)]
    Teacher(#[from] teacher::TeacherError),
    /// Occurs when the `[transformer]` encoder cannot be read or does not have the layers
    /// its features come from.
    #[error("cannot use the transformer encoder from {}: {reason}", path.display())]
    Transformer {
        /// The encoder's directory or model file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// Occurs when the model file training starts from (`--init`) cannot be read or does
    /// not hold what the configured pipeline trains.
    #[error("cannot start training from {}: {reason}", path.display())]
    Init {
        /// The model file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// Occurs when a config fine-tunes the transformer in an ensemble (each member would
    /// fine-tune its own, and a model file holds one).
    #[error("fine-tuning the transformer trains one pipeline, not an ensemble of {members}")]
    FineTunedEnsemble {
        /// The configured number of members.
        members: u64,
    },
}

/// Progress callbacks of training, for a progress bar and per-epoch reports.
///
/// Every method does nothing by default, so an observer implements only what it shows.
pub trait TrainObserver {
    /// Ensemble member `member` (counted from 1) of `members`, seeded with `seed`, begins.
    fn member_started(&mut self, _member: u64, _members: u64, _seed: u64) {}
    /// An epoch of `batches` batches begins.
    fn epoch_started(&mut self, _epoch: usize, _batches: usize) {}
    /// A batch finished with this mean loss per word.
    fn batch_finished(&mut self, _loss: f64) {}
    /// An epoch ended with these dev scores; `best` says whether they are the best so far.
    fn epoch_finished(&mut self, _epoch: usize, _scores: &DevScores, _best: bool) {}
    /// A new best model, as a model file (to save it before training ends).
    fn checkpoint(&mut self, _model: &[u8]) {}
    /// An epoch of the named-entity recogniser ended with these dev scores.
    fn ner_epoch_finished(&mut self, _epoch: usize, _scores: &NerScores, _best: bool) {}
}

/// Dev scores of the tagger, morphologizer, lemmatizer and parser after one epoch
/// (percentages over gold-tokenised words).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct DevScores {
    /// UPOS accuracy.
    pub upos: f64,
    /// XPOS accuracy.
    pub xpos: f64,
    /// UFeats accuracy (exact FEATS match).
    pub feats: f64,
    /// Lemma accuracy.
    pub lemma: f64,
    /// Unlabelled attachment score.
    pub uas: f64,
    /// Labelled attachment score.
    pub las: f64,
    /// F1 of sentence starts, parsing whole paragraphs.
    pub sents: f64,
}

impl DevScores {
    /// The score early stopping maximises: the mean of the components' scores.
    pub fn overall(&self) -> f64 {
        (self.upos + self.xpos + self.feats + self.lemma + self.uas + self.las) / 6.0
    }
}

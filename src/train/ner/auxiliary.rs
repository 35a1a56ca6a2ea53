//! Auxiliary tasks: treebank annotations of the training sentences that the recogniser's
//! encoder also learns to predict while it trains.
//!
//! # Overview
//!
//! The Universal NER sentences are the EWT treebank's sentences, so each training sentence
//! can also carry its gold part-of-speech tags and dependency labels (found by `sent_id`,
//! used only where the words are the same). An [`Auxiliary`] softmax head per configured
//! [`Column`] predicts them from the recogniser's token vectors during training, and its
//! gradient flows into the encoder next to the CRF's. Proper-noun tags and name-internal
//! relations (`flat`, `compound`) mark names that the entity labels alone leave out (OTH
//! entities, names of unscored types), which helps the encoder generalise to unseen names.
//! The heads are dropped after training: the shipped recogniser never runs them.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;

use serde::Deserialize;

use crate::doc::conllu::{ConlluSentence, ConlluWord};
use crate::pipeline::classifier::SoftmaxHead;
use crate::pipeline::nn::{Params, Rng};
use crate::train::corpus::Corpus;
use crate::train::iob2::Iob2Sentence;
use crate::train::trainer::TrainError;

/// A CoNLL-U column an auxiliary head predicts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Column {
    /// Universal POS tag.
    Upos,
    /// Language-specific POS tag (Penn Treebank for English).
    Xpos,
    /// Dependency relation to the head.
    Deprel,
}

impl Column {
    fn value(self, word: &ConlluWord) -> Option<&str> {
        match self {
            Column::Upos => word.upos.map(|p| p.as_str()),
            Column::Xpos => word.xpos.as_deref(),
            Column::Deprel => word.deprel.as_deref(),
        }
    }
}

/// The `[ner.auxiliary]` table: which treebank columns to learn alongside entities.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuxiliaryConfig {
    /// The treebank holding the training sentences (CoNLL-U, matched by `sent_id`).
    pub corpus: PathBuf,
    /// The columns to predict, one head each.
    pub columns: Vec<Column>,
    /// Weight of each head's loss relative to the CRF's.
    pub weight: f32,
}

/// The treebank words of each IOB2 sentence, where a sentence with the same id and the same
/// words exists.
pub(super) fn align<'c>(
    corpus: &'c Corpus,
    sentences: &[Iob2Sentence],
) -> Vec<Option<&'c [ConlluWord]>> {
    let by_id: HashMap<&str, &ConlluSentence> = corpus
        .paragraphs
        .iter()
        .flat_map(|p| &p.sentences)
        .filter_map(|s| Some((s.meta.sent_id.as_deref()?, s)))
        .collect();
    sentences
        .iter()
        .map(|sentence| {
            let found = by_id.get(sentence.meta.sent_id.as_deref()?)?;
            let same = found.words.len() == sentence.tokens.len()
                && found.words.iter().zip(&sentence.tokens).all(|(w, t)| &w.form == t);
            same.then_some(found.words.as_slice())
        })
        .collect()
}

/// Softmax heads over the recogniser's token vectors, one per column.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Auxiliary {
    columns: Vec<Column>,
    pub(super) heads: Vec<SoftmaxHead>,
}

impl Auxiliary {
    /// Heads for `columns` over vectors of `width`, with the label sets of `words`.
    pub(super) fn new(
        columns: &[Column],
        words: &[Option<&[ConlluWord]>],
        width: usize,
        rng: &mut Rng,
    ) -> Self {
        let heads = columns
            .iter()
            .map(|&column| {
                let labels: BTreeSet<&str> = words
                    .iter()
                    .flatten()
                    .flat_map(|s| s.iter())
                    .filter_map(|w| column.value(w))
                    .collect();
                SoftmaxHead::new(labels.into_iter().map(str::to_owned).collect(), width, rng)
            })
            .collect();
        Self { columns: columns.to_vec(), heads }
    }

    /// A zeroed copy (a gradient accumulator).
    pub(super) fn zeros_like(&self) -> Self {
        Self {
            columns: self.columns.clone(),
            heads: self.heads.iter().map(SoftmaxHead::zeros_like).collect(),
        }
    }

    /// The gold class of every head for each of `n` tokens (head-major: `heads × n`), `None`
    /// where the sentence has no treebank words or a label is unknown.
    pub(super) fn gold(&self, words: Option<&[ConlluWord]>, n: usize) -> Vec<Option<u32>> {
        let mut gold = Vec::with_capacity(self.heads.len() * n);
        for (column, head) in self.columns.iter().zip(&self.heads) {
            match words {
                Some(words) => gold
                    .extend(words.iter().map(|w| column.value(w).and_then(|v| head.class_of(v)))),
                None => gold.extend(std::iter::repeat_n(None, n)),
            }
        }
        gold
    }
}

impl Params for Auxiliary {
    fn params(&self) -> Vec<&[f32]> {
        self.heads.iter().flat_map(Params::params).collect()
    }

    fn params_mut(&mut self) -> Vec<&mut [f32]> {
        self.heads.iter_mut().flat_map(Params::params_mut).collect()
    }
}

/// Reads the treebank of `config`.
pub(super) fn read(config: &AuxiliaryConfig) -> Result<Corpus, TrainError> {
    Corpus::read(&config.corpus)
}

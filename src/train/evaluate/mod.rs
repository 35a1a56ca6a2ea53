//! Evaluation: the CoNLL 2018 UD shared-task metrics and exact-span NER scores.
//!
//! # Overview
//!
//! - [`score_conllu`] reads a gold and a system CoNLL-U file into [`Treebank`]s (words keyed
//!   by character offsets in the text with whitespace removed) and compares them, so the
//!   system may have tokenized raw text itself: [`ConlluScores`] holds Tokens, Sentences,
//!   Words, UPOS, XPOS, UFeats, Lemmas, UAS and LAS.
//! - [`score_ner`] compares two IOB2 files over the same tokens: [`NerScores`] holds the
//!   micro-averaged and per-type (PER, ORG, LOC) exact-span scores.
//!
//! Every metric is a [`Score`]: precision = correct / system, recall = correct / gold, F1.

mod conllu;
mod ner;

use serde::Serialize;
use thiserror::Error;

pub use conllu::{ConlluScores, Treebank, score_conllu};
pub use ner::{NerScores, NerTally, score_ner};

use crate::doc::ReadError;

/// One metric: counts and the precision, recall and F1 they give.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Score {
    /// correct / system.
    pub precision: f64,
    /// correct / gold.
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
    /// Items the system got right.
    pub correct: usize,
    /// Items the system produced.
    pub system: usize,
    /// Items in the gold standard.
    pub gold: usize,
    /// correct / aligned words, for the metrics scored over aligned words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aligned_accuracy: Option<f64>,
}

impl Score {
    /// The score of `correct` right out of `system` produced and `gold` expected.
    pub fn new(correct: usize, system: usize, gold: usize) -> Self {
        let ratio = |n: usize, d: usize| if d == 0 { 0.0 } else { n as f64 / d as f64 };
        let (precision, recall) = (ratio(correct, system), ratio(correct, gold));
        let sum = precision + recall;
        let f1 = if sum == 0.0 { 0.0 } else { 2.0 * precision * recall / sum };
        Self { precision, recall, f1, correct, system, gold, aligned_accuracy: None }
    }

    /// The same score, also giving the accuracy over `aligned` aligned words.
    #[must_use]
    pub fn with_aligned(self, aligned: usize) -> Self {
        let accuracy = if aligned == 0 { 0.0 } else { self.correct as f64 / aligned as f64 };
        Self { aligned_accuracy: Some(accuracy), ..self }
    }
}

/// Which of the two compared files something comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The gold standard.
    Gold,
    /// The system output.
    System,
}

impl std::fmt::Display for Side {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Side::Gold => "gold",
            Side::System => "system",
        })
    }
}

/// Errors raised while scoring.
#[derive(Debug, Error)]
pub enum EvalError {
    /// Occurs when a CoNLL-U file cannot be read or is malformed.
    #[error("cannot read the {side} file")]
    Conllu {
        /// The file at fault.
        side: Side,
        /// What went wrong.
        source: ReadError,
    },
    /// Occurs when an IOB2 file cannot be read or is malformed.
    #[error("cannot read the {side} file")]
    Iob2 {
        /// The file at fault.
        side: Side,
        /// What went wrong.
        source: ReadError,
    },
    /// Occurs when the two CoNLL-U files do not spell the same text (whitespace aside).
    #[error(
        "the gold and system texts differ at non-space character {offset}: gold `{gold}` vs \
         system `{system}`"
    )]
    TextMismatch {
        /// Index of the first differing character, whitespace removed.
        offset: usize,
        /// Up to 20 gold characters from there.
        gold: String,
        /// Up to 20 system characters from there.
        system: String,
    },
    /// Occurs when two IOB2 files have different numbers of sentences.
    #[error("sentence count differs: gold {gold}, system {system}")]
    SentenceCount {
        /// Sentences in the gold file.
        gold: usize,
        /// Sentences in the system file.
        system: usize,
    },
    /// Occurs when a sentence of two IOB2 files has different tokens.
    #[error(
        "tokens differ in sentence {sentence}, token {token}: gold `{gold}` vs system `{system}`"
    )]
    TokenMismatch {
        /// 1-based sentence number.
        sentence: usize,
        /// 1-based token number in the sentence.
        token: usize,
        /// The gold token (empty past the sentence end).
        gold: String,
        /// The system token (empty past the sentence end).
        system: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_handle_empty_counts() {
        let cases = [
            ((3, 4, 6), (0.75, 0.5, 0.6)),
            ((0, 0, 5), (0.0, 0.0, 0.0)),
            ((0, 5, 0), (0.0, 0.0, 0.0)),
            ((2, 2, 2), (1.0, 1.0, 1.0)),
        ];
        for ((correct, system, gold), (p, r, f)) in cases {
            let score = Score::new(correct, system, gold);
            assert_eq!((score.precision, score.recall), (p, r));
            assert!((score.f1 - f).abs() < 1e-12, "{score:?}");
        }
        assert_eq!(Score::new(3, 5, 5).with_aligned(4).aligned_accuracy, Some(0.75));
    }
}

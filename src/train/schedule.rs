//! What every training loop shares: the schedule settings and early stopping on dev.
//!
//! # Overview
//!
//! [`Schedule`] is the `[schedule]` table of a training configuration (and of its `[ner]`
//! table): epochs, patience, batch size, dropout, the weight average and the optimiser.
//! `EarlyStopping` keeps the best-scoring model of the epochs so far and says when
//! `patience` epochs have passed without a better one.

use serde::Deserialize;

use crate::pipeline::nn::AdamConfig;

/// How a model trains: epochs, early stopping, batches, regularisation and the optimiser.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    /// Upper bound on epochs.
    pub max_epochs: usize,
    /// Stop after this many epochs without a better dev score.
    pub patience: usize,
    /// Approximate words per batch.
    pub batch_words: usize,
    /// Dropout rate inside the encoder.
    pub dropout: f32,
    /// Decay of the weight average used for scoring and saving.
    pub average_decay: f32,
    /// Steps over which the learning rate warms up linearly from zero.
    pub warmup_steps: usize,
    /// Probability that a known word reads as unknown in a training batch, so the model
    /// learns what to make of unknown words (see the tok2vec's `min_word_count`).
    #[serde(default)]
    pub word_dropout: f32,
    /// Adam settings.
    pub optimizer: AdamConfig,
}

impl Schedule {
    /// The learning-rate factor of update `step` (counted from 1): a linear warm-up to 1.
    pub(crate) fn warmup(&self, step: usize) -> f32 {
        (step as f32 / self.warmup_steps.max(1) as f32).min(1.0)
    }
}

/// The best model of the epochs so far, by dev score, and the count of epochs since.
#[derive(Debug)]
pub(crate) struct EarlyStopping<S, M> {
    best: Option<(S, M)>,
    since_best: usize,
    patience: usize,
}

impl<S, M> EarlyStopping<S, M> {
    /// Stops after `patience` epochs without improvement.
    pub(crate) fn new(patience: usize) -> Self {
        Self { best: None, since_best: 0, patience }
    }

    /// Records an epoch's `scores` and `model`, kept if `better` ranks them above the best
    /// so far (or they are the first). Returns whether they were kept.
    pub(crate) fn record(&mut self, scores: S, model: M, better: impl Fn(&S, &S) -> bool) -> bool {
        let improved = self.best.as_ref().is_none_or(|(best, _)| better(&scores, best));
        if improved {
            self.best = Some((scores, model));
            self.since_best = 0;
        } else {
            self.since_best += 1;
        }
        improved
    }

    /// Whether `patience` epochs in a row brought no improvement.
    pub(crate) fn should_stop(&self) -> bool {
        self.since_best >= self.patience
    }

    /// The best model so far, if any epoch was recorded.
    pub(crate) fn best_model(&self) -> Option<&M> {
        self.best.as_ref().map(|(_, model)| model)
    }

    /// The best scores and model.
    ///
    /// # Panics
    ///
    /// Panics if no epoch was recorded.
    pub(crate) fn into_best(self) -> (S, M) {
        self.best.expect("at least one epoch was recorded. This is a bug.")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_best_epoch_and_stops_after_patience() {
        let cases: [(&[u32], usize, u32, usize); 4] = [
            // (scores per epoch, patience, best score, epochs run)
            (&[1, 2, 3, 4], 2, 4, 4),
            (&[5, 4, 3, 9], 2, 5, 3),
            (&[1, 3, 2, 3, 1], 2, 3, 4),
            (&[2, 1, 7], 1, 2, 2),
        ];
        for (scores, patience, want_best, want_epochs) in cases {
            let mut stopping = EarlyStopping::new(patience);
            let mut epochs = 0;
            for (epoch, &score) in scores.iter().enumerate() {
                epochs += 1;
                stopping.record(score, epoch, |a, b| a > b);
                if stopping.should_stop() {
                    break;
                }
            }
            assert_eq!(epochs, want_epochs, "{scores:?}");
            assert_eq!(stopping.into_best().0, want_best, "{scores:?}");
        }
    }

    #[test]
    fn warmup_rises_linearly_to_one() {
        let schedule = Schedule {
            max_epochs: 1,
            patience: 1,
            batch_words: 1,
            dropout: 0.0,
            average_decay: 0.9,
            warmup_steps: 4,
            word_dropout: 0.0,
            optimizer: AdamConfig::default(),
        };
        let factors: Vec<f32> = (1..=6).map(|s| schedule.warmup(s)).collect();
        assert_eq!(factors, [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]);
    }
}

//! The one training loop every model shares, and its settings.
//!
//! # Overview
//!
//! [`Schedule`] is the `[schedule]` table of a training configuration (and of its `[ner]`
//! table): epochs, patience, batch size, dropout, the weight average and the optimiser.
//! `run_epochs` is the epoch loop: shuffle, batch, optimiser step, weight average, dev
//! scores, early stopping and the observer's calls. A model takes part by implementing
//! `Learner` (a batch's gradient, dev scores, what to report). `EarlyStopping` keeps the
//! best-scoring model of the epochs so far and says when `patience` epochs have passed
//! without a better one.

use serde::Deserialize;

use super::TrainObserver;
use crate::pipeline::nn::{Adam, AdamConfig, Average, Params, Rng};

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

/// A model the epoch loop of [`run_epochs`] can train: how it learns from a batch, how it
/// scores on dev and what it reports after an epoch.
///
/// The tagger and parser (module `joint`) and the recogniser ([`super::ner`]) implement
/// it; a new model implements it and calls [`run_epochs`].
pub(crate) trait Learner {
    /// The trained weights: what the optimiser updates and the average follows.
    type Model: Params + Clone;
    /// A training or dev item (a sentence or paragraph prepared as features and gold).
    type Example;
    /// Dev scores of one epoch.
    type Scores: Clone;

    /// Zeroed weights of `model`'s shape, to accumulate gradients in.
    fn zeros_like(model: &Self::Model) -> Self::Model;

    /// How many words `example` has (batches hold about `batch_words` words).
    fn words(example: &Self::Example) -> usize;

    /// One forward and backward pass of `model` over `batch`, adding the gradient into
    /// `grads`; returns the mean loss per word.
    fn train_batch(
        &mut self,
        model: &Self::Model,
        grads: &mut Self::Model,
        batch: Batch<'_, Self::Example>,
    ) -> f64;

    /// The scores of `model` on the dev examples.
    fn score(&self, model: &Self::Model, dev: &[Self::Example]) -> Self::Scores;

    /// Whether `scores` rank above `best` (early stopping keeps the highest).
    fn better(scores: &Self::Scores, best: &Self::Scores) -> bool;

    /// Reports an epoch's dev `scores` to `observer`; `new_best` is the epoch's model when
    /// the scores are the best so far.
    fn epoch_finished(
        &mut self,
        epoch: usize,
        scores: &Self::Scores,
        new_best: Option<&Self::Model>,
        observer: &mut dyn TrainObserver,
    );
}

/// One training batch, as [`Learner::train_batch`] receives it.
#[derive(Debug)]
pub(crate) struct Batch<'a, E> {
    /// The batch's examples.
    pub(crate) examples: &'a [&'a E],
    /// The epoch, counted from 1.
    pub(crate) epoch: usize,
    /// Dropout and word-dropout rates.
    pub(crate) schedule: &'a Schedule,
    /// The training generator (word dropout, dropout).
    pub(crate) rng: &'a mut Rng,
}

/// A training set and its dev set.
#[derive(Debug)]
pub(crate) struct Splits<'a, E> {
    /// What the model learns from.
    pub(crate) train: &'a [E],
    /// What early stopping scores on.
    pub(crate) dev: &'a [E],
}

// Derived, these would need `E: Copy`; the slices are copied whatever `E` is.
impl<E> Clone for Splits<'_, E> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<E> Copy for Splits<'_, E> {}

/// The result of [`run_epochs`].
#[derive(Debug)]
pub(crate) struct BestEpoch<M, S> {
    /// The averaged weights of the best epoch.
    pub(crate) model: M,
    /// Their dev scores.
    pub(crate) scores: S,
    /// Epochs run.
    pub(crate) epochs: usize,
}

/// The training loop every model shares: trains `model` on `splits` for up to
/// `max_epochs` epochs and returns the best epoch's averaged weights.
///
/// Each epoch shuffles the training examples with `rng`, groups them into batches of
/// about `batch_words` words and, per batch, adds the learner's gradient, takes one Adam
/// step (with the warm-up factor) and updates the exponential moving average of the
/// weights. The averaged weights are then scored on dev; the best are kept, and training
/// stops after `patience` epochs without a better score. `observer` hears of every epoch
/// and batch.
pub(crate) fn run_epochs<L: Learner>(
    learner: &mut L,
    mut model: L::Model,
    splits: Splits<'_, L::Example>,
    schedule: &Schedule,
    rng: &mut Rng,
    observer: &mut dyn TrainObserver,
) -> BestEpoch<L::Model, L::Scores> {
    let Splits { train, dev } = splits;
    let mut grads = L::zeros_like(&model);
    let mut adam = Adam::new(schedule.optimizer);
    let mut average = Average::new(&model, schedule.average_decay);
    let mut order: Vec<usize> = (0..train.len()).collect();
    let mut stopping = EarlyStopping::new(schedule.patience);
    let (mut step, mut epochs) = (0, 0);
    for epoch in 1..=schedule.max_epochs {
        epochs = epoch;
        rng.shuffle(&mut order);
        let batches = batch(&order, |i| L::words(&train[i]), schedule.batch_words);
        observer.epoch_started(epoch, batches.len());
        for members in &batches {
            step += 1;
            let examples: Vec<&L::Example> = members.iter().map(|&i| &train[i]).collect();
            let batch = Batch { examples: &examples, epoch, schedule, rng: &mut *rng };
            let loss = learner.train_batch(&model, &mut grads, batch);
            adam.update(&mut model, &mut grads, schedule.warmup(step));
            average.update(&model);
            observer.batch_finished(loss);
        }
        let mut averaged = model.clone();
        average.copy_into(&mut averaged);
        let scores = learner.score(&averaged, dev);
        let improved = stopping.record(scores.clone(), averaged, L::better);
        let new_best = stopping.best_model().filter(|_| improved);
        learner.epoch_finished(epoch, &scores, new_best, observer);
        if stopping.should_stop() {
            break;
        }
    }
    let (scores, model) = stopping.into_best();
    BestEpoch { model, scores, epochs }
}

/// Groups shuffled examples (of `len(i)` words each) into batches of about `batch_words`
/// words.
fn batch(order: &[usize], len: impl Fn(usize) -> usize, batch_words: usize) -> Vec<Vec<usize>> {
    let mut batches = vec![Vec::new()];
    let mut words = 0;
    for &i in order {
        if words >= batch_words {
            batches.push(Vec::new());
            words = 0;
        }
        batches.last_mut().expect("never empty").push(i);
        words += len(i);
    }
    batches.retain(|b| !b.is_empty());
    batches
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
    fn batches_close_once_they_reach_the_word_budget() {
        let cases = [
            // (shuffled order, batch words, batches); example i has i + 1 words
            (vec![0, 1, 2, 3], 3, vec![vec![0, 1], vec![2], vec![3]]),
            (vec![3, 0, 1], 4, vec![vec![3], vec![0, 1]]),
            (vec![2, 1], 100, vec![vec![2, 1]]),
            (vec![], 10, vec![]),
        ];
        for (order, batch_words, want) in cases {
            assert_eq!(batch(&order, |i| i + 1, batch_words), want, "{order:?} {batch_words}");
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

//! A linear softmax classifier over token vectors, shared by the tagger and the
//! morphologizer.
//!
//! # Overview
//!
//! [`SoftmaxHead`] scores every label for each row of `Doc.tensor` with one affine layer
//! and predicts the best one. Its labels are strings (tags, FEATS), interned into the
//! vocabulary when the model loads so predictions are permanent [`StringKey`]s. Training
//! ([`SoftmaxHead::loss_grad`]) returns the cross-entropy gradient with respect to the
//! tensor, which flows back into `tok2vec`.

use rustc_hash::FxHashMap;

use super::nn::{Dense, Params, Rng, argmax, softmax};
use crate::vocab::StringKey;

/// Loss and accuracy of one head over a batch.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct HeadStats {
    /// Summed cross-entropy.
    pub(crate) loss: f64,
    /// Rows whose best label was the gold one.
    pub(crate) correct: usize,
    /// Rows with a gold label.
    pub(crate) total: usize,
}

/// A linear softmax classifier with string labels.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct SoftmaxHead {
    labels: Vec<String>,
    keys: Vec<StringKey>,
    index: FxHashMap<StringKey, u32>,
    pub(crate) layer: Dense,
}

impl SoftmaxHead {
    /// A classifier over `labels` for vectors of `width`, freshly initialised.
    pub(crate) fn new(labels: Vec<String>, width: usize, rng: &mut Rng) -> Self {
        let mut layer = Dense::new(width, labels.len(), rng);
        // Small initial scores: start near the uniform distribution.
        layer.w.iter_mut().for_each(|w| *w *= 0.1);
        Self::from_parts(labels, layer)
    }

    /// A classifier from loaded parts.
    ///
    /// # Panics
    ///
    /// Panics if the layer does not have one output per label.
    pub(crate) fn from_parts(labels: Vec<String>, layer: Dense) -> Self {
        assert_eq!(layer.n_out, labels.len(), "one output per label");
        let keys: Vec<_> = labels.iter().map(|l| StringKey::of(l)).collect();
        let index = keys.iter().enumerate().map(|(i, &k)| (k, i as u32)).collect();
        Self { labels, keys, index, layer }
    }

    /// A zeroed copy of the layer (a gradient accumulator).
    pub(crate) fn zeros_like(&self) -> Self {
        Self { layer: self.layer.zeros_like(), ..self.clone() }
    }

    /// The labels, in class order.
    pub(crate) fn labels(&self) -> &[String] {
        &self.labels
    }

    /// The string key of class `class`.
    pub(crate) fn key(&self, class: u32) -> StringKey {
        self.keys[class as usize]
    }

    /// The class of `label`, if it is one.
    pub(crate) fn class_of(&self, label: &str) -> Option<u32> {
        self.index.get(&StringKey::of(label)).copied()
    }

    /// Scores every row of `x` (`n × width`) into `scores` (`n × labels`).
    pub(crate) fn scores(&self, x: &[f32], scores: &mut Vec<f32>) {
        let n = x.len() / self.layer.n_in;
        scores.resize(n * self.layer.n_out, 0.0);
        self.layer.forward(x, scores);
    }

    /// Scores every row of `x` (`n × width`) into `scores` and returns the best class per
    /// row in `best`.
    pub(crate) fn predict(&self, x: &[f32], scores: &mut Vec<f32>, best: &mut Vec<u32>) {
        self.scores(x, scores);
        best.clear();
        best.extend(scores.chunks_exact(self.layer.n_out).map(|row| argmax(row).0 as u32));
    }

    /// Cross-entropy against `gold`, or against a mix of `gold` and a teacher's
    /// distributions if `soft` is given: adds `scale ×` the gradient with respect to `x`
    /// into `dx` and the parameter gradient into `grad`. Rows with no gold class are
    /// ignored, or learn the teacher's distribution alone.
    pub(crate) fn loss_grad(
        &self,
        x: &[f32],
        gold: &[Option<u32>],
        soft: Option<SoftTargets<'_>>,
        scale: f32,
        dx: &mut [f32],
        grad: &mut SoftmaxHead,
    ) -> HeadStats {
        let n_out = self.layer.n_out;
        let mut scores = vec![0.0; gold.len() * n_out];
        self.layer.forward(x, &mut scores);
        let mut stats = HeadStats::default();
        for (i, (row, &gold)) in scores.chunks_exact_mut(n_out).zip(gold).enumerate() {
            let gold = gold.map(|g| g as usize);
            let soft = soft.map(|s| (&s.probs[i * n_out..][..n_out], s.weight));
            if let Some(gold) = gold {
                stats.total += 1;
                stats.correct += usize::from(argmax(row).0 == gold);
            }
            match (gold, soft) {
                (None, None) => {
                    row.fill(0.0);
                    continue;
                }
                (Some(gold), None) => {
                    softmax(row);
                    stats.loss -= f64::from(row[gold].max(1e-12).ln());
                    row[gold] -= 1.0;
                }
                (gold, Some((teacher, weight))) => {
                    let weight = if gold.is_some() { weight } else { 1.0 };
                    softmax(row);
                    for (class, (p, &q)) in row.iter_mut().zip(teacher).enumerate() {
                        let target =
                            weight * q + if gold == Some(class) { 1.0 - weight } else { 0.0 };
                        stats.loss -= f64::from(target * p.max(1e-12).ln());
                        *p -= target;
                    }
                }
            }
            row.iter_mut().for_each(|d| *d *= scale);
        }
        self.layer.backward(x, &scores, Some(dx), &mut grad.layer);
        stats
    }
}

/// A teacher's distributions over a head's classes, one row per input row, and their
/// weight in the targets (the gold class has the rest).
#[derive(Clone, Copy, Debug)]
pub(crate) struct SoftTargets<'a> {
    /// Rows × classes probabilities.
    pub(crate) probs: &'a [f32],
    /// The teacher's share of each target, in `[0, 1]`.
    pub(crate) weight: f32,
}

impl Params for SoftmaxHead {
    fn params(&self) -> Vec<&[f32]> {
        self.layer.params()
    }

    fn params_mut(&mut self) -> Vec<&mut [f32]> {
        self.layer.params_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::nn::{Adam, AdamConfig};

    #[test]
    fn learns_a_separable_problem_and_ignores_missing_rows() {
        // Class = which of the three coordinates is largest.
        let mut rng = Rng::new(10);
        let labels = ["A", "B", "C"].map(String::from).to_vec();
        let mut head = SoftmaxHead::new(labels, 3, &mut rng);
        let mut grad = head.zeros_like();
        let mut adam = Adam::new(AdamConfig { learn_rate: 0.05, ..AdamConfig::default() });
        let x: Vec<f32> = (0..60).map(|_| rng.normal(1.0)).collect();
        let gold: Vec<Option<u32>> = x.chunks(3).map(|r| Some(argmax(r).0 as u32)).collect();
        let mut masked = gold.clone();
        masked[0] = None;
        for _ in 0..300 {
            let mut dx = vec![0.0; x.len()];
            let stats = head.loss_grad(&x, &masked, None, 1.0 / 20.0, &mut dx, &mut grad);
            assert_eq!(stats.total, 19);
            adam.update(&mut head, &mut grad, 1.0);
        }
        let (mut scores, mut best) = (Vec::new(), Vec::new());
        head.predict(&x, &mut scores, &mut best);
        let correct = best.iter().zip(&gold).filter(|(b, g)| Some(**b) == **g).count();
        assert!(correct >= 19, "{correct}/20");
        assert_eq!(head.class_of("B"), Some(1));
        assert_eq!(head.key(2), StringKey::of("C"));
        assert_eq!(head.class_of("Z"), None);
    }

    #[test]
    fn soft_targets_give_the_slope_of_the_mixed_cross_entropy() {
        let mut rng = Rng::new(11);
        let labels = ["A", "B", "C"].map(String::from).to_vec();
        let mut head = SoftmaxHead::new(labels, 4, &mut rng);
        head.layer.w.iter_mut().for_each(|w| *w *= 10.0);
        let x: Vec<f32> = (0..8).map(|_| rng.normal(1.0)).collect();
        // The second row has no gold class: it learns the teacher's distribution alone.
        let gold = [Some(1), None];
        let teacher = [0.2, 0.5, 0.3, 0.6, 0.1, 0.3];
        let soft = Some(SoftTargets { probs: &teacher, weight: 0.3 });
        let loss = |x: &[f32], dx: &mut [f32]| {
            head.loss_grad(x, &gold, soft, 1.0, dx, &mut head.zeros_like()).loss
        };
        crate::pipeline::nn::check::assert_loss_slope(&x, 1e-2, 1e-2, loss);
        // With no weight on the teacher, a row with a gold class learns as without one.
        let (mut with, mut without) = (vec![0.0; 4], vec![0.0; 4]);
        let zero = Some(SoftTargets { probs: &teacher[..3], weight: 0.0 });
        let a = head.loss_grad(&x[..4], &gold[..1], zero, 1.0, &mut with, &mut head.zeros_like());
        let b =
            head.loss_grad(&x[..4], &gold[..1], None, 1.0, &mut without, &mut head.zeros_like());
        assert!((a.loss - b.loss).abs() < 1e-6);
        for (a, b) in with.iter().zip(&without) {
            assert!((a - b).abs() < 1e-6);
        }
    }
}

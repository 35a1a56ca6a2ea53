//! A linear-chain conditional random field over a [`TagScheme`]'s tags.
//!
//! # Overview
//!
//! A tag sequence `y` for emission scores `e` (tokens × tags, from the network) scores
//! `start[y₀] + Σ e[i][yᵢ] + Σ trans[yᵢ₋₁][yᵢ] + end[yₙ₋₁]`. Transitions the scheme forbids
//! are excluded outright (never scored, never learned), so:
//!
//! - [`Crf::decode`] (Viterbi) returns the best *valid* sequence: every entity it spells is
//!   whole, with one type;
//! - [`Crf::loss_grad`] (forward–backward) is the negative log-likelihood of the gold
//!   sequence among valid ones, with its gradient for the emissions and the transitions.
//!
//! Decoding is `O(n · t²)` over `t = 13` tags for PER/ORG/LOC, negligible next to the
//! encoder, and reuses caller-owned buffers.

use super::scheme::{TagId, TagScheme};
use crate::pipeline::nn::Params;

/// Transition scores and the grammar of allowed transitions.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Crf {
    n_tags: usize,
    /// Score of starting with each tag.
    pub(crate) start: Vec<f32>,
    /// Score of each transition, `prev × next` (entries of forbidden ones stay 0).
    pub(crate) trans: Vec<f32>,
    /// Score of ending with each tag.
    pub(crate) end: Vec<f32>,
    /// For each tag, the tags allowed to precede it.
    prev: Vec<Vec<u8>>,
    /// For each tag, the tags allowed to follow it.
    next: Vec<Vec<u8>>,
    can_start: Vec<bool>,
    can_end: Vec<bool>,
}

/// Reusable buffers of [`Crf::decode`].
#[derive(Debug, Default)]
pub(crate) struct Viterbi {
    score: Vec<f32>,
    next_score: Vec<f32>,
    back: Vec<u8>,
}

/// `ln Σ exp(xᵢ)`, which is −∞ for no terms or all −∞.
fn log_sum_exp(values: impl Iterator<Item = f32> + Clone) -> f32 {
    let max = values.clone().fold(f32::NEG_INFINITY, f32::max);
    if max == f32::NEG_INFINITY {
        return max;
    }
    max + values.map(|v| (v - max).exp()).sum::<f32>().ln()
}

impl Crf {
    /// A CRF with zero scores over `scheme`'s tags and grammar.
    pub(crate) fn new(scheme: &TagScheme) -> Self {
        let n = scheme.n_tags();
        let tags = || (0..n as u8).map(TagId);
        let prev = tags()
            .map(|next| {
                tags().filter(|&p| scheme.allowed(Some(p), Some(next))).map(|p| p.0).collect()
            })
            .collect();
        let next = tags()
            .map(|p| tags().filter(|&nx| scheme.allowed(Some(p), Some(nx))).map(|t| t.0).collect())
            .collect();
        Self {
            n_tags: n,
            start: vec![0.0; n],
            trans: vec![0.0; n * n],
            end: vec![0.0; n],
            prev,
            next,
            can_start: tags().map(|t| scheme.allowed(None, Some(t))).collect(),
            can_end: tags().map(|t| scheme.allowed(Some(t), None)).collect(),
        }
    }

    /// A copy with every score zero (a gradient accumulator).
    pub(crate) fn zeros_like(&self) -> Self {
        let mut zeros = self.clone();
        for p in zeros.params_mut() {
            p.fill(0.0);
        }
        zeros
    }

    fn start_score(&self, tag: usize) -> f32 {
        if self.can_start[tag] { self.start[tag] } else { f32::NEG_INFINITY }
    }

    fn end_score(&self, tag: usize) -> f32 {
        if self.can_end[tag] { self.end[tag] } else { f32::NEG_INFINITY }
    }

    /// The best valid tag sequence for `emissions` (tokens × tags) into `tags`.
    pub(crate) fn decode(&self, emissions: &[f32], buf: &mut Viterbi, tags: &mut Vec<TagId>) {
        let t = self.n_tags;
        let n = emissions.len() / t;
        tags.clear();
        if n == 0 {
            return;
        }
        buf.back.clear();
        buf.back.resize(n * t, 0);
        buf.score.clear();
        buf.score.extend((0..t).map(|j| self.start_score(j) + emissions[j]));
        buf.next_score.resize(t, 0.0);
        for i in 1..n {
            let row = &emissions[i * t..(i + 1) * t];
            for (j, prevs) in self.prev.iter().enumerate() {
                let (mut best, mut arg) = (f32::NEG_INFINITY, 0);
                for &p in prevs {
                    let s = buf.score[usize::from(p)] + self.trans[usize::from(p) * t + j];
                    if s > best {
                        (best, arg) = (s, p);
                    }
                }
                buf.next_score[j] = best + row[j];
                buf.back[i * t + j] = arg;
            }
            std::mem::swap(&mut buf.score, &mut buf.next_score);
        }
        let mut last = (0..t)
            .map(|j| (j, buf.score[j] + self.end_score(j)))
            .fold((0, f32::NEG_INFINITY), |a, b| if b.1 > a.1 { b } else { a })
            .0 as u8;
        tags.resize(n, TagId(0));
        for i in (0..n).rev() {
            tags[i] = TagId(last);
            last = buf.back[i * t + usize::from(last)];
        }
    }

    /// The gold sequence's score minus the log-partition over valid sequences, negated (the
    /// loss), for one sentence. Adds `scale ×` the gradient with respect to `emissions` into
    /// `d_emissions` and with respect to the transition scores into `grad`.
    ///
    /// # Panics
    ///
    /// Panics if `gold` is not a valid sequence of the scheme (its loss would be infinite).
    pub(crate) fn loss_grad(
        &self,
        emissions: &[f32],
        gold: &[TagId],
        scale: f32,
        d_emissions: &mut [f32],
        grad: &mut Crf,
    ) -> f64 {
        let t = self.n_tags;
        let n = gold.len();
        assert_eq!(emissions.len(), n * t, "one emission row per gold tag");
        if n == 0 {
            return 0.0;
        }
        let e = |i: usize, j: usize| emissions[i * t + j];
        let mut alpha = vec![f32::NEG_INFINITY; n * t];
        for (j, a) in alpha[..t].iter_mut().enumerate() {
            *a = self.start_score(j) + e(0, j);
        }
        for i in 1..n {
            for j in 0..t {
                let terms = self.prev[j].iter().map(|&p| {
                    alpha[(i - 1) * t + usize::from(p)] + self.trans[usize::from(p) * t + j]
                });
                alpha[i * t + j] = log_sum_exp(terms) + e(i, j);
            }
        }
        let mut beta = vec![f32::NEG_INFINITY; n * t];
        for (j, b) in beta[(n - 1) * t..].iter_mut().enumerate() {
            *b = self.end_score(j);
        }
        for i in (0..n - 1).rev() {
            for p in 0..t {
                let terms = self.next[p].iter().map(|&j| {
                    let j = usize::from(j);
                    self.trans[p * t + j] + e(i + 1, j) + beta[(i + 1) * t + j]
                });
                beta[i * t + p] = log_sum_exp(terms);
            }
        }
        let log_z = log_sum_exp((0..t).map(|j| alpha[(n - 1) * t + j] + self.end_score(j)));

        let g = |i: usize| usize::from(gold[i].0);
        let mut gold_score = self.start[g(0)] + e(0, g(0)) + self.end[g(n - 1)];
        for i in 1..n {
            assert!(self.prev[g(i)].contains(&gold[i - 1].0), "gold tags form an invalid sequence");
            gold_score += self.trans[g(i - 1) * t + g(i)] + e(i, g(i));
        }
        assert!(self.can_start[g(0)] && self.can_end[g(n - 1)], "gold sequence cannot start/end");

        // Expected counts under the model minus the gold counts.
        for j in 0..t {
            grad.start[j] += scale * (alpha[j] + beta[j] - log_z).exp();
            let last = (alpha[(n - 1) * t + j] + self.end_score(j) - log_z).exp();
            grad.end[j] += scale * last;
        }
        grad.start[g(0)] -= scale;
        grad.end[g(n - 1)] -= scale;
        for i in 0..n {
            for j in 0..t {
                let marginal = (alpha[i * t + j] + beta[i * t + j] - log_z).exp();
                d_emissions[i * t + j] += scale * marginal;
            }
            d_emissions[i * t + g(i)] -= scale;
        }
        for i in 1..n {
            for j in 0..t {
                let tail = e(i, j) + beta[i * t + j] - log_z;
                for &p in &self.prev[j] {
                    let p = usize::from(p);
                    let pair = alpha[(i - 1) * t + p] + self.trans[p * t + j] + tail;
                    grad.trans[p * t + j] += scale * pair.exp();
                }
            }
            grad.trans[g(i - 1) * t + g(i)] -= scale;
        }
        f64::from(log_z - gold_score)
    }
}

impl Params for Crf {
    fn params(&self) -> Vec<&[f32]> {
        vec![&self.start, &self.trans, &self.end]
    }

    fn params_mut(&mut self) -> Vec<&mut [f32]> {
        vec![&mut self.start, &mut self.trans, &mut self.end]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::ner::scheme::Move;
    use crate::pipeline::nn::Rng;

    fn scheme() -> TagScheme {
        TagScheme::new(vec!["LOC".into(), "PER".into()])
    }

    fn random_crf(rng: &mut Rng) -> Crf {
        let mut crf = Crf::new(&scheme());
        for p in crf.params_mut() {
            p.iter_mut().for_each(|v| *v = rng.normal(1.0));
        }
        crf
    }

    /// Every valid sequence of `n` tags, by brute force.
    fn valid_sequences(s: &TagScheme, n: usize) -> Vec<Vec<TagId>> {
        let tags: Vec<TagId> = (0..s.n_tags() as u8).map(TagId).collect();
        let mut all: Vec<Vec<TagId>> = vec![Vec::new()];
        for _ in 0..n {
            let mut longer = Vec::new();
            for seq in &all {
                for &tag in tags.iter().filter(|&&t| s.allowed(seq.last().copied(), Some(t))) {
                    longer.push(seq.iter().copied().chain([tag]).collect());
                }
            }
            all = longer;
        }
        all.retain(|seq| s.allowed(seq.last().copied(), None));
        all
    }

    fn score(crf: &Crf, emissions: &[f32], seq: &[TagId]) -> f32 {
        let t = crf.start.len();
        let g = |i: usize| usize::from(seq[i].0);
        let mut s = crf.start[g(0)] + crf.end[g(seq.len() - 1)];
        for i in 0..seq.len() {
            s += emissions[i * t + g(i)];
            if i > 0 {
                s += crf.trans[g(i - 1) * t + g(i)];
            }
        }
        s
    }

    #[test]
    fn decoding_finds_the_best_valid_sequence() {
        let s = scheme();
        let mut rng = Rng::new(5);
        let (mut buf, mut tags) = (Viterbi::default(), Vec::new());
        for n in [1, 2, 4] {
            let sequences = valid_sequences(&s, n);
            for _ in 0..20 {
                let crf = random_crf(&mut rng);
                let emissions: Vec<f32> = (0..n * s.n_tags()).map(|_| rng.normal(2.0)).collect();
                crf.decode(&emissions, &mut buf, &mut tags);
                let best = sequences
                    .iter()
                    .map(|seq| score(&crf, &emissions, seq))
                    .fold(f32::NEG_INFINITY, f32::max);
                assert!(sequences.contains(&tags), "decoded an invalid sequence {tags:?}");
                assert!((score(&crf, &emissions, &tags) - best).abs() < 1e-4);
            }
        }
        crf_on_empty_input_decodes_nothing(&mut buf);
    }

    fn crf_on_empty_input_decodes_nothing(buf: &mut Viterbi) {
        let mut tags = vec![TagId(3)];
        Crf::new(&scheme()).decode(&[], buf, &mut tags);
        assert!(tags.is_empty());
    }

    #[test]
    fn loss_is_the_negative_log_likelihood_over_valid_sequences() {
        let s = scheme();
        let mut rng = Rng::new(6);
        let n = 4;
        let crf = random_crf(&mut rng);
        let emissions: Vec<f32> = (0..n * s.n_tags()).map(|_| rng.normal(1.0)).collect();
        let gold = vec![
            s.tag(Move::Begin(1)),
            s.tag(Move::Last(1)),
            s.tag(Move::Out),
            s.tag(Move::Unit(0)),
        ];
        let log_z = valid_sequences(&s, n)
            .iter()
            .map(|seq| f64::from(score(&crf, &emissions, seq)).exp())
            .sum::<f64>()
            .ln();
        let want = log_z - f64::from(score(&crf, &emissions, &gold));
        let mut d = vec![0.0; emissions.len()];
        let loss = crf.loss_grad(&emissions, &gold, 1.0, &mut d, &mut crf.zeros_like());
        assert!((loss - want).abs() < 1e-3, "{loss} vs {want}");
    }

    #[test]
    fn gradients_match_finite_differences() {
        let s = scheme();
        let mut rng = Rng::new(7);
        let n = 3;
        let crf = random_crf(&mut rng);
        let emissions: Vec<f32> = (0..n * s.n_tags()).map(|_| rng.normal(1.0)).collect();
        let gold = vec![s.tag(Move::Out), s.tag(Move::Begin(0)), s.tag(Move::Last(0))];
        let loss = |crf: &Crf, e: &[f32]| {
            let mut d = vec![0.0; e.len()];
            crf.loss_grad(e, &gold, 1.0, &mut d, &mut crf.zeros_like())
        };
        let mut d = vec![0.0; emissions.len()];
        let mut grad = crf.zeros_like();
        crf.loss_grad(&emissions, &gold, 1.0, &mut d, &mut grad);
        let eps = 1e-2;
        for i in 0..emissions.len() {
            let (mut plus, mut minus) = (emissions.clone(), emissions.clone());
            plus[i] += eps;
            minus[i] -= eps;
            let numeric = (loss(&crf, &plus) - loss(&crf, &minus)) / f64::from(2.0 * eps);
            assert!(
                (f64::from(d[i]) - numeric).abs() < 1e-2,
                "emission {i}: {} vs {numeric}",
                d[i]
            );
        }
        let analytic: Vec<Vec<f32>> = grad.params().iter().map(|p| p.to_vec()).collect();
        for (p, values) in analytic.iter().enumerate() {
            for (i, &g) in values.iter().enumerate() {
                let shifted = |delta: f32| {
                    let mut c = crf.clone();
                    c.params_mut()[p][i] += delta;
                    loss(&c, &emissions)
                };
                let numeric = (shifted(eps) - shifted(-eps)) / f64::from(2.0 * eps);
                assert!((f64::from(g) - numeric).abs() < 1e-2, "param {p}[{i}]: {g} vs {numeric}");
            }
        }
    }
}

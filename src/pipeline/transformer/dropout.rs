//! Dropout for fine-tuning the encoder, drawn from the project's seeded [`Rng`] so a
//! training run is reproducible.
//!
//! # Overview
//!
//! [`Dropout`] holds BERT's two rates: one for hidden states (the embeddings' output and
//! each block's output before its residual connection) and one for attention
//! probabilities. A [`Mask`] is one draw over an array: each value kept with probability
//! `1 − rate` and scaled by `1 / (1 − rate)` (so expectations are unchanged and inference
//! needs no dropout), or zeroed. The backward pass multiplies the gradient by the same
//! mask. At rate 0 a mask is empty and changes nothing.

use crate::pipeline::nn::Rng;

/// Dropout rates for fine-tuning (BERT was pretrained with 0.1 for both).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Dropout {
    /// The share of hidden-state values zeroed: the embeddings' output, and each
    /// attention and feed-forward block's output before its residual connection.
    pub hidden: f32,
    /// The share of attention probabilities zeroed.
    pub attention: f32,
}

/// One dropout draw over an array (see the [module docs](self)): each value's factor,
/// `0` or `1 / (1 − rate)`; empty for no dropout.
#[derive(Debug, Default)]
pub(super) struct Mask {
    factors: Vec<f32>,
}

impl Mask {
    /// Draws a fresh mask over `n` values at `rate` from `rng` (an empty one at rate 0).
    ///
    /// # Panics
    ///
    /// Panics unless `0 <= rate < 1`.
    pub(super) fn draw(&mut self, n: usize, rate: f32, rng: &mut Rng) {
        assert!((0.0..1.0).contains(&rate), "dropout rate {rate} is not in [0, 1)");
        self.factors.clear();
        if rate > 0.0 {
            let keep = 1.0 / (1.0 - rate);
            self.factors.extend((0..n).map(|_| if rng.unit() < rate { 0.0 } else { keep }));
        }
    }

    /// Whether the mask changes nothing (drawn at rate 0).
    pub(super) fn is_identity(&self) -> bool {
        self.factors.is_empty()
    }

    /// Multiplies `x` by the mask's factors from `offset` on (`x` is a forward value or its
    /// gradient: the backward pass applies the same mask).
    pub(super) fn apply(&self, offset: usize, x: &mut [f32]) {
        if !self.is_identity() {
            let factors = &self.factors[offset..offset + x.len()];
            x.iter_mut().zip(factors).for_each(|(x, f)| *x *= f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keep_the_expectation_and_repeat_for_a_seed() {
        let draw = |seed| {
            let mut mask = Mask::default();
            mask.draw(10_000, 0.25, &mut Rng::new(seed));
            let mut x = vec![1.0; 10_000];
            mask.apply(0, &mut x);
            x
        };
        let x = draw(1);
        let zeros = x.iter().filter(|&&v| v == 0.0).count();
        assert!((2_300..2_700).contains(&zeros), "{zeros} of 10,000 dropped at rate 0.25");
        assert!(x.iter().all(|&v| v == 0.0 || (v - 4.0 / 3.0).abs() < 1e-6));
        assert_eq!(x, draw(1));
        assert_ne!(x, draw(2));
        let mut none = Mask::default();
        none.draw(5, 0.0, &mut Rng::new(1));
        let mut y = [1.0, 2.0];
        none.apply(3, &mut y);
        assert!(none.is_identity() && y == [1.0, 2.0]);
    }
}

//! Layer normalisation: each row rescaled to zero mean and unit variance, then by a learned
//! gain and bias.

use super::{Params, simd};

const EPS: f32 = 1e-5;

/// Row-wise layer normalisation with gain `g` and bias `b`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct LayerNorm {
    pub(crate) g: Vec<f32>,
    pub(crate) b: Vec<f32>,
}

/// What the backward pass needs from the forward pass: the normalised rows and each row's
/// inverse standard deviation.
#[derive(Clone, Debug, Default)]
pub(crate) struct NormCache {
    pub(crate) xhat: Vec<f32>,
    pub(crate) inv_std: Vec<f32>,
}

impl LayerNorm {
    /// The identity normalisation (gain 1, bias 0) over rows of `width`.
    pub(crate) fn new(width: usize) -> Self {
        Self { g: vec![1.0; width], b: vec![0.0; width] }
    }

    /// A zeroed copy (a gradient accumulator).
    pub(crate) fn zeros_like(&self) -> Self {
        Self { g: vec![0.0; self.g.len()], b: vec![0.0; self.b.len()] }
    }

    /// Normalises the rows of `x` in place, recording a cache for training when given.
    pub(crate) fn forward(&self, x: &mut [f32], cache: Option<&mut NormCache>) {
        normalize(self, x, EPS, cache);
    }

    /// [`LayerNorm::forward`] with `eps` added to each row's variance instead of this
    /// module's 1e-5 (a pretrained model's own, such as BERT's 1e-12). The backward pass
    /// is the same: the cache carries the epsilon's effect.
    pub(crate) fn forward_with_eps(&self, x: &mut [f32], eps: f32, cache: Option<&mut NormCache>) {
        normalize(self, x, eps, cache);
    }

    /// Turns the output gradient `d` into the input gradient in place, accumulating the
    /// gain and bias gradients into `grad`.
    pub(crate) fn backward(&self, d: &mut [f32], cache: &NormCache, grad: &mut LayerNorm) {
        let width = self.g.len();
        let rows = d.chunks_exact_mut(width).zip(cache.xhat.chunks_exact(width));
        for ((row, xhat), &inv_std) in rows.zip(&cache.inv_std) {
            let mut mean_d = 0.0;
            let mut mean_dx = 0.0;
            for i in 0..width {
                grad.g[i] += row[i] * xhat[i];
                grad.b[i] += row[i];
                row[i] *= self.g[i];
                mean_d += row[i];
                mean_dx += row[i] * xhat[i];
            }
            mean_d /= width as f32;
            mean_dx /= width as f32;
            for i in 0..width {
                row[i] = inv_std * (row[i] - mean_d - xhat[i] * mean_dx);
            }
        }
    }
}

simd! {
    /// [`LayerNorm::forward_with_eps`].
    fn normalize(norm: &LayerNorm, x: &mut [f32], eps: f32, mut cache: Option<&mut NormCache>) {
        let width = norm.g.len();
        if let Some(cache) = cache.as_deref_mut() {
            cache.xhat.resize(x.len(), 0.0);
            cache.inv_std.resize(x.len() / width, 0.0);
        }
        for (r, row) in x.chunks_exact_mut(width).enumerate() {
            let mean = sum(row, |v| v) / width as f32;
            let var = sum(row, |v| (v - mean) * (v - mean)) / width as f32;
            let inv_std = 1.0 / (var + eps).sqrt();
            for v in row.iter_mut() {
                *v = (*v - mean) * inv_std;
            }
            if let Some(cache) = cache.as_deref_mut() {
                cache.xhat[r * width..(r + 1) * width].copy_from_slice(row);
                cache.inv_std[r] = inv_std;
            }
            for ((v, g), b) in row.iter_mut().zip(&norm.g).zip(&norm.b) {
                *v = *v * g + b;
            }
        }
    }
}

/// Lanes of [`sum`]'s partial sums.
const LANES: usize = 16;

/// The sum of `f(v)` over `row`, in [`LANES`] interleaved partial sums (a sequential sum is
/// one dependency chain, which LLVM may not reorder, so it would not vectorize).
#[inline(always)]
fn sum(row: &[f32], f: impl Fn(f32) -> f32) -> f32 {
    let mut lanes = [0.0_f32; LANES];
    let chunks = row.chunks_exact(LANES);
    let tail: f32 = chunks.remainder().iter().map(|&v| f(v)).sum();
    for chunk in chunks {
        for (lane, &v) in lanes.iter_mut().zip(chunk) {
            *lane += f(v);
        }
    }
    lanes.iter().sum::<f32>() + tail
}

impl Params for LayerNorm {
    fn params(&self) -> Vec<&[f32]> {
        vec![&self.g, &self.b]
    }

    fn params_mut(&mut self) -> Vec<&mut [f32]> {
        vec![&mut self.g, &mut self.b]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::nn::Rng;
    use crate::pipeline::nn::check::{Probe, assert_gradients};

    #[test]
    fn rows_are_normalised_and_gradients_check() {
        let mut rng = Rng::new(3);
        let mut norm = LayerNorm::new(4);
        for (g, b) in norm.g.iter_mut().zip(&mut norm.b) {
            *g = 1.0 + rng.normal(0.3);
            *b = rng.normal(0.3);
        }
        let mut x = vec![1.0, 2.0, 3.0, 6.0];
        LayerNorm::new(4).forward(&mut x, None);
        assert!(x.iter().sum::<f32>().abs() < 1e-5);
        assert!((x.iter().map(|v| v * v).sum::<f32>() / 4.0 - 1.0).abs() < 1e-3);
        let input: Vec<f32> = (0..8).map(|_| rng.normal(1.0)).collect();
        assert_gradients(Probe {
            layer: norm,
            input,
            forward: |l: &LayerNorm, x: &[f32]| {
                let mut y = x.to_vec();
                l.forward(&mut y, None);
                y
            },
            backward: |l: &LayerNorm, x: &[f32], dy: &[f32], g: &mut LayerNorm| {
                let mut cache = NormCache::default();
                l.forward(&mut x.to_vec(), Some(&mut cache));
                let mut d = dy.to_vec();
                l.backward(&mut d, &cache, g);
                d
            },
            zeros: LayerNorm::zeros_like,
        });
    }
}

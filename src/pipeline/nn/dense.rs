//! Affine layers: [`Dense`] (`y = x·W + b`) and [`Maxout`] (the max over `pieces` affine
//! outputs per unit), on row-major batches.
//!
//! # Overview
//!
//! Activations are `n × width` row-major slices, one row per token or parser state.
//! Forward passes write into caller-owned buffers so inference reuses them per document.
//! Backward passes accumulate into a gradient of the same type (a zeroed copy of the layer).

use super::affine::{Weights, affine, pack};
use super::gemm::{Operand, gemm};
use super::int8::Int8Weights;
use super::{Params, Rng, simd};

/// A fully connected layer: `y = x · W + b`, with `W` stored `n_in × n_out` (row-major, so
/// the matrix kernel reads it without transposition and a single row's outputs are an
/// `axpy` over contiguous weights).
///
/// A loaded layer also keeps `W` in panels ([`Dense::pack`]), which batches of several rows
/// read faster, or quantised to 8 bits ([`Dense::quantize`]), which its forward pass then
/// uses; either copy is derived from `W`: equality ignores it, and changing the parameters
/// through [`Params::params_mut`] drops it, so training stays in f32.
#[derive(Clone, Debug)]
pub(crate) struct Dense {
    pub(crate) n_in: usize,
    pub(crate) n_out: usize,
    pub(crate) w: Vec<f32>,
    pub(crate) b: Vec<f32>,
    panels: Option<Vec<f32>>,
    int8: Option<Int8Weights>,
}

impl PartialEq for Dense {
    fn eq(&self, other: &Self) -> bool {
        (self.n_in, self.n_out, &self.w, &self.b) == (other.n_in, other.n_out, &other.w, &other.b)
    }
}

impl Dense {
    /// A layer with He-scaled normal weights and zero biases.
    pub(crate) fn new(n_in: usize, n_out: usize, rng: &mut Rng) -> Self {
        let std = (2.0 / n_in.max(1) as f32).sqrt();
        let w = (0..n_in * n_out).map(|_| rng.normal(std)).collect();
        Self::from_parts(n_in, n_out, w, vec![0.0; n_out])
    }

    /// A layer with weights `w` (`n_in × n_out`, row-major) and biases `b`.
    pub(crate) fn from_parts(n_in: usize, n_out: usize, w: Vec<f32>, b: Vec<f32>) -> Self {
        Self { n_in, n_out, w, b, panels: None, int8: None }
    }

    /// Makes a quantised layer compute in f32 again (in panels, as [`Dense::pack`] leaves
    /// it).
    pub(crate) fn keep_f32(&mut self) {
        if self.int8.take().is_some() {
            self.pack();
        }
    }

    /// Keeps a copy of the weights quantised to 8 bits, which [`Dense::forward`] then uses
    /// (see [`Int8Weights`]), in place of the panels.
    pub(crate) fn quantize(&mut self) {
        self.panels = None;
        self.int8 = Some(Int8Weights::new(&self.w, (self.n_in, self.n_out)));
    }

    /// [`Dense::quantize`] with each input `i` divided by `scales[i]` before its activations
    /// are quantised, and its weights multiplied by it (see
    /// [`Int8Weights::with_input_scales`]).
    pub(crate) fn quantize_equalized(&mut self, scales: &[f32]) {
        self.panels = None;
        self.int8 = Some(Int8Weights::with_input_scales(&self.w, (self.n_in, self.n_out), scales));
    }

    /// Keeps a copy of the weights in panels, for inference (see
    /// [`pack`](super::affine::pack)). Unoptimised builds skip it: their kernel for the
    /// row-major layout is the optimised `matrixmultiply`.
    pub(crate) fn pack(&mut self) {
        if !cfg!(debug_assertions) {
            self.panels = Some(pack(&self.w, (self.n_in, self.n_out)));
        }
    }

    /// A layer of the same shape with every parameter zero (a gradient accumulator).
    pub(crate) fn zeros_like(&self) -> Self {
        Self::from_parts(self.n_in, self.n_out, vec![0.0; self.w.len()], vec![0.0; self.n_out])
    }

    /// Number of rows in a batch `x` of inputs.
    fn rows(&self, x: &[f32]) -> usize {
        assert_eq!(x.len() % self.n_in.max(1), 0, "input width is not {}", self.n_in);
        x.len() / self.n_in.max(1)
    }

    /// `y = x · W + b` for a batch `x` (`n × n_in`) into `y` (`n × n_out`).
    pub(crate) fn forward(&self, x: &[f32], y: &mut [f32]) {
        if let Some(int8) = &self.int8 {
            return int8.affine(x, &self.b, y);
        }
        // A single row reads a row-major matrix in order anyway, with wider tiles.
        let weights = match &self.panels {
            Some(panels) if x.len() > self.n_in => Weights::Panels(panels),
            _ => Weights::RowMajor(&self.w),
        };
        affine(x, weights, &self.b, (self.n_in, self.n_out), y);
    }

    /// Accumulates the parameter gradients for upstream gradient `dy` into `grad`, and adds
    /// the input gradient into `dx` when asked.
    pub(crate) fn backward(&self, x: &[f32], dy: &[f32], dx: Option<&mut [f32]>, grad: &mut Dense) {
        let n = self.rows(x);
        gemm(
            (self.n_in, n, self.n_out),
            1.0,
            Operand::transposed(x),
            Operand::plain(dy),
            1.0,
            &mut grad.w,
        );
        for row in dy.chunks_exact(self.n_out) {
            for (gb, d) in grad.b.iter_mut().zip(row) {
                *gb += d;
            }
        }
        if let Some(dx) = dx {
            gemm(
                (n, self.n_out, self.n_in),
                1.0,
                Operand::plain(dy),
                Operand::transposed(&self.w),
                1.0,
                dx,
            );
        }
    }
}

impl Params for Dense {
    fn params(&self) -> Vec<&[f32]> {
        vec![&self.w, &self.b]
    }

    fn params_mut(&mut self) -> Vec<&mut [f32]> {
        self.panels = None;
        self.int8 = None;
        vec![&mut self.w, &mut self.b]
    }
}

/// Maxout units: `n_out` outputs, each the largest of `pieces` affine functions of the input.
/// The affine part's outputs are laid out unit-major (`unit · pieces + piece`).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Maxout {
    pub(crate) affine: Dense,
    pub(crate) pieces: usize,
}

impl Maxout {
    /// A maxout layer with freshly initialised weights.
    ///
    /// # Panics
    ///
    /// Panics unless `1 <= pieces <= 255`.
    pub(crate) fn new(n_in: usize, n_out: usize, pieces: usize, rng: &mut Rng) -> Self {
        assert!((1..=255).contains(&pieces), "maxout pieces must be in 1..=255");
        Self { affine: Dense::new(n_in, n_out * pieces, rng), pieces }
    }

    /// A zeroed copy (a gradient accumulator).
    pub(crate) fn zeros_like(&self) -> Self {
        Self { affine: self.affine.zeros_like(), pieces: self.pieces }
    }

    /// Output width.
    pub(crate) fn n_out(&self) -> usize {
        self.affine.n_out / self.pieces
    }

    /// Forward pass: `pre` is scratch of `n × n_out · pieces`; `y` gets `n × n_out`; `arg`
    /// (if given, `n × n_out`) records which piece won, for the backward pass.
    pub(crate) fn forward(
        &self,
        x: &[f32],
        pre: &mut [f32],
        y: &mut [f32],
        arg: Option<&mut [u8]>,
    ) {
        self.affine.forward(x, pre);
        max_pieces(pre, self.pieces, y, arg);
    }

    /// Backward pass: routes `dy` to the winning pieces (using `dpre`, scratch of
    /// `n × n_out · pieces`), then through the affine part, adding the input gradient into
    /// `dx` when asked.
    pub(crate) fn backward(
        &self,
        x: &[f32],
        dy: &[f32],
        arg: &[u8],
        dpre: &mut [f32],
        dx: Option<&mut [f32]>,
        grad: &mut Maxout,
    ) {
        dpre.fill(0.0);
        for ((group, d), &a) in dpre.chunks_exact_mut(self.pieces).zip(dy).zip(arg) {
            group[usize::from(a)] = *d;
        }
        self.affine.backward(x, dpre, dx, &mut grad.affine);
    }
}

impl Params for Maxout {
    fn params(&self) -> Vec<&[f32]> {
        self.affine.params()
    }

    fn params_mut(&mut self) -> Vec<&mut [f32]> {
        self.affine.params_mut()
    }
}

simd! {
    /// `y[u]` = the largest of unit `u`'s `pieces` values in `pre`; `arg[u]` (if given)
    /// records which piece it was.
    pub(crate) fn max_pieces(pre: &[f32], pieces: usize, y: &mut [f32], arg: Option<&mut [u8]>) {
        match (pieces, arg) {
            (_, Some(arg)) => {
                for ((group, out), a) in pre.chunks_exact(pieces).zip(y).zip(arg) {
                    let (best, value) = argmax(group);
                    *out = value;
                    *a = best as u8;
                }
            }
            // Constant group sizes let LLVM vectorize across units.
            (2, None) => max_groups::<2>(pre, y),
            (3, None) => max_groups::<3>(pre, y),
            (_, None) => {
                for (group, out) in pre.chunks_exact(pieces).zip(y) {
                    *out = argmax(group).1;
                }
            }
        }
    }
}

/// [`max_pieces`] for groups of `P`, with [`argmax`]'s comparisons.
#[inline(always)]
fn max_groups<const P: usize>(pre: &[f32], y: &mut [f32]) {
    for (group, out) in pre.chunks_exact(P).zip(y) {
        let group: &[f32; P] = group.try_into().expect("groups of P. This is a bug.");
        let mut best = group[0];
        for &v in &group[1..] {
            if v > best {
                best = v;
            }
        }
        *out = best;
    }
}

/// The index and value of the largest element (the first one on ties).
///
/// # Panics
///
/// Panics if `values` is empty.
#[inline]
pub(crate) fn argmax(values: &[f32]) -> (usize, f32) {
    let mut best = (0, values[0]);
    for (i, &v) in values.iter().enumerate().skip(1) {
        if v > best.1 {
            best = (i, v);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::nn::check::{Probe, assert_gradients};

    #[test]
    fn dense_gradients_match_finite_differences() {
        let mut rng = Rng::new(1);
        let layer = Dense::new(4, 3, &mut rng);
        let x: Vec<f32> = (0..8).map(|_| rng.normal(1.0)).collect();
        assert_gradients(Probe {
            layer,
            input: x,
            forward: |l: &Dense, x: &[f32]| {
                let mut y = vec![0.0; 6];
                l.forward(x, &mut y);
                y
            },
            backward: |l: &Dense, x: &[f32], dy: &[f32], g: &mut Dense| {
                // The input gradient is added to what `dx` holds (heads sharing an input
                // sum their gradients), so start from ones and subtract them.
                let mut dx = vec![1.0; x.len()];
                l.backward(x, dy, Some(&mut dx), g);
                dx.iter().map(|d| d - 1.0).collect()
            },
            zeros: Dense::zeros_like,
        });
    }

    #[test]
    fn maxout_gradients_match_finite_differences() {
        let mut rng = Rng::new(2);
        let layer = Maxout::new(5, 2, 3, &mut rng);
        let x: Vec<f32> = (0..10).map(|_| rng.normal(1.0)).collect();
        assert_gradients(Probe {
            layer,
            input: x,
            forward: |l: &Maxout, x: &[f32]| {
                let (mut pre, mut y) = (vec![0.0; 12], vec![0.0; 4]);
                l.forward(x, &mut pre, &mut y, None);
                y
            },
            backward: |l: &Maxout, x: &[f32], dy: &[f32], g: &mut Maxout| {
                let (mut pre, mut y, mut arg) = (vec![0.0; 12], vec![0.0; 4], vec![0; 4]);
                l.forward(x, &mut pre, &mut y, Some(&mut arg));
                let mut dx = vec![0.0; x.len()];
                l.backward(x, dy, &arg, &mut pre, Some(&mut dx), g);
                dx
            },
            zeros: Maxout::zeros_like,
        });
    }

    #[test]
    fn argmax_prefers_the_first_maximum() {
        for (values, want) in [(&[1.0, 3.0, 3.0][..], (1, 3.0)), (&[-1.0][..], (0, -1.0))] {
            assert_eq!(argmax(values), want);
        }
    }
}

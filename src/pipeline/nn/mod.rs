//! A small neural-network toolkit: the layers, the optimiser and the matrix product the
//! statistical components are built from.
//!
//! # Overview
//!
//! - [`gemm`](gemm::gemm): batched matrix products (`matrixmultiply`'s SIMD kernels), for
//!   the backward passes; forward passes use `affine`, a kernel for small batches that
//!   reads the weights in place, or, in a loaded model, `int8`: the same map with weights
//!   and activations quantised to 8 bits (AVX-512 VNNI, or portable code with the same
//!   results).
//! - [`Dense`], [`Maxout`], [`LayerNorm`], [`HashEmbed`]: layers over row-major batches,
//!   with hand-written backward passes accumulating into a zeroed copy of the layer.
//! - [`Params`]: the parameter arrays of a layer or model, in a fixed order, which is
//!   what [`Adam`] and [`Average`] update and what model files store.
//! - [`Rng`]: the seeded generator that makes training deterministic.

mod affine;
#[cfg(test)]
pub(crate) mod check;
mod dense;
mod embed;
pub(crate) mod gemm;
mod int8;
mod norm;
mod optim;
mod rng;

pub(crate) use dense::{Dense, Maxout, argmax, max_pieces};
pub(crate) use embed::HashEmbed;
pub(crate) use norm::{LayerNorm, NormCache};
pub use optim::AdamConfig;
pub(crate) use optim::{Adam, Average};
pub(crate) use rng::{Rng, mix64};

/// Compiles a function for AVX-512 and for AVX2 + FMA as well as for the baseline target,
/// and has each call run the best clone the CPU supports. The forward passes' loops are
/// plain Rust that LLVM vectorizes, 4 floats wide on baseline x86-64 and 16 wide with
/// AVX-512; the binary stays portable. (`multiversion` emits the `unsafe` call of the
/// chosen clone, made only after run-time detection of its features.)
macro_rules! simd {
    ($item:item) => {
        #[allow(unsafe_code)]
        #[multiversion::multiversion(targets(
            "x86_64+avx512f+avx512bw+avx512cd+avx512dq+avx512vl+avx2+avx+fma",
            "x86_64+avx2+avx+fma",
        ))]
        $item
    };
}
pub(crate) use simd;

/// A layer or model with trainable parameter arrays, listed in a fixed order.
pub(crate) trait Params {
    /// The parameter arrays.
    fn params(&self) -> Vec<&[f32]>;

    /// The parameter arrays, mutably, in the same order.
    fn params_mut(&mut self) -> Vec<&mut [f32]>;
}

/// Softmax of `scores` in place (numerically stable).
pub(crate) fn softmax(scores: &mut [f32]) {
    let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for s in scores.iter_mut() {
        *s = (*s - max).exp();
        sum += *s;
    }
    for s in scores.iter_mut() {
        *s /= sum;
    }
}

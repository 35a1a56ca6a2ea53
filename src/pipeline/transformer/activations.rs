//! The encoder's element-wise functions: GELU and the attention softmax, vectorised.
//!
//! # Overview
//!
//! Both need `exp` for every element (GELU through `erf`), about as many calls per piece as
//! the matrix products make multiply-adds per row of weights; the C library's `exp`, one
//! call per element, would take as long as the products. [`exp`] is instead plain
//! arithmetic LLVM vectorises inside the [`simd`](crate::pipeline::nn::simd) dispatch:
//! `e^x = 2^k · e^r` with `k = round(x / ln 2)` and `|r| ≤ ln 2 / 2`, `e^r` by its Taylor
//! series to degree 7 (truncation error under 1e-8), and `2^k` built from its exponent bits.
//! Its relative error is a few units in the last place of an `f32`.

use crate::pipeline::nn::simd;

simd! {
    /// GELU in place, in its exact form `x · Φ(x) = x/2 · (1 + erf(x/√2))`, as BERT's
    /// `hidden_act = "gelu"` means (not the tanh approximation).
    pub(super) fn gelu(x: &mut [f32]) {
        for v in x {
            *v = 0.5 * *v * (1.0 + erf(*v * std::f32::consts::FRAC_1_SQRT_2));
        }
    }
}

simd! {
    /// Softmax of each row of `len` scores in place (shifted by the row's maximum, so no
    /// `exp` overflows).
    pub(super) fn softmax(scores: &mut [f32], len: usize) {
        for row in scores.chunks_exact_mut(len) {
            let max = lanes(row, f32::NEG_INFINITY, f32::max);
            row.iter_mut().for_each(|s| *s = exp(*s - max));
            let scale = 1.0 / sum(row);
            row.iter_mut().for_each(|s| *s *= scale);
        }
    }
}

/// The sum of `values`, in [`LANES`] partial sums (so it vectorises: a single running sum
/// would fix the order of the additions and keep the loop scalar).
#[inline(always)]
pub(super) fn sum(values: &[f32]) -> f32 {
    lanes(values, 0.0, |a, b| a + b)
}

/// The sum of the squares of `values`, in [`LANES`] partial sums like [`sum`].
#[inline(always)]
pub(super) fn sum_of_squares(values: &[f32]) -> f32 {
    let mut acc = [0.0; LANES];
    let chunks = values.chunks_exact(LANES);
    let rest: f32 = chunks.remainder().iter().map(|v| v * v).sum();
    for chunk in chunks {
        for (a, &v) in acc.iter_mut().zip(chunk) {
            *a += v * v;
        }
    }
    acc.into_iter().sum::<f32>() + rest
}

/// Partial results kept per lane: 16, an AVX-512 register of `f32`s (two AVX2 ones).
const LANES: usize = 16;

/// `values` folded with `f` (associative and commutative) from `init`, lane by lane, then
/// across the lanes.
#[inline(always)]
fn lanes(values: &[f32], init: f32, f: impl Fn(f32, f32) -> f32) -> f32 {
    let mut acc = [init; LANES];
    let chunks = values.chunks_exact(LANES);
    let rest = chunks.remainder().iter().fold(init, |a, &v| f(a, v));
    for chunk in chunks {
        for (a, &v) in acc.iter_mut().zip(chunk) {
            *a = f(*a, v);
        }
    }
    acc.into_iter().fold(rest, f)
}

/// The error function, by Abramowitz and Stegun's formula 7.1.26 (absolute error below
/// 1.5e-7 in exact arithmetic; below 4e-7 in `f32`).
#[inline(always)]
fn erf(x: f32) -> f32 {
    const P: f32 = 0.327_591_1;
    const A: [f32; 5] = [0.254_829_6, -0.284_496_74, 1.421_413_8, -1.453_152, 1.061_405_4];
    let t = 1.0 / (1.0 + P * x.abs());
    let poly = t * (A[0] + t * (A[1] + t * (A[2] + t * (A[3] + t * A[4]))));
    (1.0 - poly * exp(-x * x)).copysign(x)
}

/// `e^x`, vectorisable (see the [module docs](self)). Inputs below -87 give about 1.6e-38
/// rather than less; inputs above 88 give about 1.7e38 rather than more.
#[inline(always)]
fn exp(x: f32) -> f32 {
    // ln 2 in two parts, the first exact in few bits, so `x - k ln 2` loses nothing.
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    let x = x.clamp(-87.0, 88.0);
    let k = (x * std::f32::consts::LOG2_E + 0.5).floor();
    let r = x - k * LN2_HI - k * LN2_LO;
    // Taylor series of e^r to degree 7, in Horner form.
    let mut p = 1.0 + r * (1.0 / 7.0);
    for n in [6.0, 5.0, 4.0, 3.0, 2.0, 1.0] {
        p = 1.0 + r * (1.0 / n) * p;
    }
    // 2^k from its exponent bits: after the clamp k is in -125..=127, a normal exponent.
    let bits = ((k as i32 + 127) as u32) << 23;
    p * f32::from_bits(bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_is_within_a_few_ulps_of_the_library() {
        for i in -8700..=8800 {
            let x = i as f32 * 0.01;
            let (got, want) = (f64::from(exp(x)), f64::from(x).exp());
            assert!(((got - want) / want).abs() < 4e-7, "exp({x}) = {got}, not {want}");
        }
        assert_eq!(exp(0.0), 1.0);
        assert!(exp(-1000.0) < 1e-37 && exp(-1000.0) >= 0.0);
    }

    #[test]
    fn erf_and_gelu_match_known_values() {
        // erf at 0, 0.5, 1, 2 and 3 to nine decimals; erf is odd.
        let known: [(f32, f64); 5] = [
            (0.0, 0.0),
            (0.5, 0.520_499_878),
            (1.0, 0.842_700_793),
            (2.0, 0.995_322_265),
            (3.0, 0.999_977_910),
        ];
        for (x, want) in known {
            assert!((f64::from(erf(x)) - want).abs() < 4e-7, "erf({x}) = {}", erf(x));
            assert!((f64::from(erf(-x)) + want).abs() < 4e-7, "erf(-{x})");
        }
        // GELU(x) = x Φ(x): Φ(1) = 0.841344746, Φ(-1) = 0.158655254; far out, x or 0.
        let mut v = [-1.0, 0.0, 1.0, 9.0, -9.0];
        gelu(&mut v);
        let want = [-0.158_655_254, 0.0, 0.841_344_746, 9.0, 0.0];
        for (got, want) in v.iter().zip(want) {
            assert!((f64::from(*got) - want).abs() < 1e-6, "{got} vs {want}");
        }
    }

    #[test]
    fn softmax_rows_sum_to_one_in_the_ratios_of_their_exponentials() {
        let mut scores = [1.0, 2.0, 3.0, -50.0, 0.0, 50.0];
        softmax(&mut scores, 3);
        let e = [1.0_f64, 1.0_f64.exp(), 2.0_f64.exp()];
        let total: f64 = e.iter().sum();
        for (got, want) in scores[..3].iter().zip(e.map(|v| v / total)) {
            assert!((f64::from(*got) - want).abs() < 1e-6);
        }
        assert!((scores[5] - 1.0).abs() < 1e-6 && scores[3] < 1e-37);
        // Rows longer than the lanes, with a remainder.
        let mut long: Vec<f32> = (0..37).map(|i| (i as f32 * 0.7).sin()).collect();
        let total: f64 = long.iter().map(|&v| f64::from(v).exp()).sum();
        let want: Vec<f64> = long.iter().map(|&v| f64::from(v).exp() / total).collect();
        softmax(&mut long, 37);
        for (got, want) in long.iter().zip(want) {
            assert!((f64::from(*got) - want).abs() < 1e-7);
        }
        assert_eq!((sum(&[1.0; 37]), sum_of_squares(&[2.0; 37])), (37.0, 148.0));
    }
}

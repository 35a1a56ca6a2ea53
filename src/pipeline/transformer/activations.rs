//! The encoder's element-wise functions: GELU and the attention softmax, vectorised, with
//! their backward passes for fine-tuning.
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
    /// Turns the gradient `d` of [`gelu`]'s output into the gradient of its input `pre`
    /// in place: `d · (Φ(x) + x·φ(x))`, with `φ` the standard normal density.
    pub(super) fn gelu_backward(pre: &[f32], d: &mut [f32]) {
        const FRAC_1_SQRT_2PI: f32 = 0.398_942_3;
        for (d, &x) in d.iter_mut().zip(pre) {
            let cdf = 0.5 * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2));
            let density = FRAC_1_SQRT_2PI * exp(-0.5 * x * x);
            *d *= cdf + x * density;
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

simd! {
    /// Turns the gradient `d` of [`softmax`]'s output `probs` (rows of `len`) into the
    /// gradient of its input in place: `p ⊙ (d − Σ d ⊙ p)` row by row.
    pub(super) fn softmax_backward(probs: &[f32], d: &mut [f32], len: usize) {
        for (d, p) in d.chunks_exact_mut(len).zip(probs.chunks_exact(len)) {
            let dot = dot(d, p);
            for (d, p) in d.iter_mut().zip(p) {
                *d = p * (*d - dot);
            }
        }
    }
}

/// The sum of `values`, in [`LANES`] partial sums (so it vectorises: a single running sum
/// would fix the order of the additions and keep the loop scalar).
#[inline(always)]
fn sum(values: &[f32]) -> f32 {
    lanes(values, 0.0, |a, b| a + b)
}

/// The dot product of `a` and `b` (as long), in [`LANES`] partial sums like [`sum`].
#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0; LANES];
    let pairs = a.chunks_exact(LANES).zip(b.chunks_exact(LANES));
    for (a, b) in pairs {
        for ((acc, a), b) in acc.iter_mut().zip(a).zip(b) {
            *acc += a * b;
        }
    }
    let tail = a.len() - a.len() % LANES;
    let rest: f32 = a[tail..].iter().zip(&b[tail..]).map(|(a, b)| a * b).sum();
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
    use crate::pipeline::nn::check::assert_loss_slope;

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
        assert_eq!(sum(&[1.0; 37]), 37.0);
    }

    /// `Σ r ⊙ gelu(x)` and its input gradient through `derivative`.
    fn gelu_loss(
        r: &[f32],
        derivative: impl Fn(&[f32], &mut [f32]),
    ) -> impl Fn(&[f32], &mut [f32]) -> f64 {
        move |x, dx| {
            let mut y = x.to_vec();
            gelu(&mut y);
            dx.copy_from_slice(r);
            derivative(x, dx);
            y.iter().zip(r).map(|(y, r)| f64::from(y * r)).sum()
        }
    }

    /// Inputs spread over GELU's curved part and its tails, and random output gradients.
    fn gelu_probe() -> (Vec<f32>, Vec<f32>) {
        let x: Vec<f32> = (0..41).map(|i| i as f32 * 0.2 - 4.0).collect();
        let r: Vec<f32> = (0..41).map(|i| ((i * 7 % 11) as f32 - 5.0) * 0.3).collect();
        (x, r)
    }

    #[test]
    fn gelu_gradients_match_finite_differences() {
        let (x, r) = gelu_probe();
        assert_loss_slope(&x, 1e-3, 1e-2, gelu_loss(&r, gelu_backward));
    }

    #[test]
    #[should_panic(expected = "analytic")]
    fn a_gelu_derivative_without_the_density_term_fails_the_check() {
        let (x, r) = gelu_probe();
        let cdf_only = |x: &[f32], d: &mut [f32]| {
            for (d, &x) in d.iter_mut().zip(x) {
                *d *= 0.5 * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2));
            }
        };
        assert_loss_slope(&x, 1e-3, 1e-2, gelu_loss(&r, cdf_only));
    }

    #[test]
    fn softmax_gradients_match_finite_differences() {
        // Rows of 21: a full lane block and a remainder.
        let x: Vec<f32> = (0..42).map(|i| (i as f32 * 0.9).sin() * 2.0).collect();
        let r: Vec<f32> = (0..42).map(|i| (i as f32 * 0.4).cos()).collect();
        assert_loss_slope(&x, 1e-3, 1e-2, |x, dx| {
            let mut p = x.to_vec();
            softmax(&mut p, 21);
            dx.copy_from_slice(&r);
            softmax_backward(&p, dx, 21);
            p.iter().zip(&r).map(|(p, r)| f64::from(p * r)).sum()
        });
    }
}

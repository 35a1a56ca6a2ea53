//! The affine map `y = x · W + b` of a small batch, the product every layer's forward pass
//! makes.
//!
//! # Overview
//!
//! [`affine`] reads the weights where they are (row-major `k × n`, as [`Dense`] stores them),
//! so nothing is packed or copied per call: a general matrix product
//! ([`gemm`](super::gemm::gemm)) re-packs the whole weight matrix on every call, which for the
//! 20–40 rows of a document cost a fifth of the time of the product itself.
//!
//! The kernel walks the output in tiles of up to [`ROWS`] rows × [`COLS`] columns. A tile's
//! accumulators start at the bias and stay in registers while the `k` rows of its weight
//! panel stream past (each weight row of the panel is one or two vector loads, each input
//! element one broadcast). Panels are the outer loop, so one panel (`k × COLS` floats) stays
//! in the L1 cache while every row tile reuses it. Columns past the last whole panel go
//! through narrower tiles (16, then 8 columns), and the last few (< 8) through a scalar loop.
//! A single row (a vector–matrix product) gets wider tiles first.
//!
//! The code is plain safe Rust that LLVM vectorizes; `multiversion` compiles it for
//! AVX-512, AVX2+FMA and the baseline and picks one at run time, so the binary still runs on
//! any x86-64 (and any other architecture). With FMA each product is fused, as in
//! `matrixmultiply`'s kernels, so results differ from a naive sum only by rounding.
//! Unoptimised (debug) builds delegate to `matrixmultiply` instead, which stays optimised
//! there; the tests check the kernel itself.
//!
//! [`Dense`]: super::Dense

use multiversion::target::target_cfg_f;

use super::gemm::{Operand, gemm};
use super::simd;

/// Rows per tile: four rows of two AVX-512 (or four AVX2) accumulators each.
const ROWS: usize = 4;
/// Columns per tile of a whole panel.
const COLS: usize = 32;
/// Columns per tile when there is a single row (a vector–matrix product, as the parser's
/// output layer makes per state): four accumulators keep the FMA units busy.
const COLS_ONE_ROW: usize = 64;

/// `y (m × n) = x (m × k) · w (k × n) + b`, all row-major; `y`'s previous contents are
/// ignored. `m` is `x.len() / k`.
///
/// # Panics
///
/// Panics if `w` is not `k × n`, `b` is not `n` long, or `x` and `y` do not have the same
/// number of rows.
pub(crate) fn affine(x: &[f32], w: &[f32], b: &[f32], (k, n): (usize, usize), y: &mut [f32]) {
    assert_eq!(w.len(), k * n, "affine: W is not {k}×{n}");
    assert_eq!(b.len(), n, "affine: b is not {n} long");
    let m = x.len().checked_div(k).unwrap_or_else(|| y.len() / n.max(1));
    assert_eq!(x.len(), m * k, "affine: x is not m×{k}");
    assert_eq!(y.len(), m * n, "affine: y is not {m}×{n}");
    if n == 0 {
        return;
    }
    if k == 0 || cfg!(debug_assertions) {
        // Unoptimised builds (the test suite) use `matrixmultiply`, which Cargo.toml compiles
        // optimised even there: this kernel unoptimised is about 25 times slower, which would
        // stretch the accuracy tests to a quarter of an hour. The tests below run the kernel
        // itself in every build.
        for row in y.chunks_exact_mut(n) {
            row.copy_from_slice(b);
        }
        gemm((m, k, n), 1.0, Operand::plain(x), Operand::plain(w), 1.0, y);
        return;
    }
    dispatch(x, w, b, (k, n), y);
}

simd! {
    /// The run-time choice of instruction set.
    fn dispatch(x: &[f32], w: &[f32], b: &[f32], kn: (usize, usize), y: &mut [f32]) {
        if target_cfg_f!(target_feature = "fma") {
            panels::<true>(x, w, b, kn, y);
        } else {
            panels::<false>(x, w, b, kn, y);
        }
    }
}

/// `a · b + c`, fused when the selected target has FMA (unfused, a library call would
/// be far slower than the two instructions).
#[inline(always)]
fn mul_add<const FMA: bool>(a: f32, b: f32, c: f32) -> f32 {
    if FMA { a.mul_add(b, c) } else { a * b + c }
}

#[inline(always)]
fn panels<const FMA: bool>(x: &[f32], w: &[f32], b: &[f32], (k, n): (usize, usize), y: &mut [f32]) {
    let mut col = 0;
    if x.len() == k {
        while col + COLS_ONE_ROW <= n {
            row_tiles::<COLS_ONE_ROW, FMA>(x, w, b, (k, n), col, y);
            col += COLS_ONE_ROW;
        }
    }
    while col + COLS <= n {
        row_tiles::<COLS, FMA>(x, w, b, (k, n), col, y);
        col += COLS;
    }
    if col + 16 <= n {
        row_tiles::<16, FMA>(x, w, b, (k, n), col, y);
        col += 16;
    }
    if col + 8 <= n {
        row_tiles::<8, FMA>(x, w, b, (k, n), col, y);
        col += 8;
    }
    if col < n {
        for (xr, yr) in x.chunks_exact(k).zip(y.chunks_exact_mut(n)) {
            let out = &mut yr[col..];
            out.copy_from_slice(&b[col..]);
            for (&a, wr) in xr.iter().zip(w.chunks_exact(n)) {
                for (o, &wv) in out.iter_mut().zip(&wr[col..]) {
                    *o = mul_add::<FMA>(a, wv, *o);
                }
            }
        }
    }
}

/// Columns `col..col + C` of every row, [`ROWS`] rows at a time.
#[inline(always)]
fn row_tiles<const C: usize, const FMA: bool>(
    x: &[f32],
    w: &[f32],
    b: &[f32],
    (k, n): (usize, usize),
    col: usize,
    y: &mut [f32],
) {
    for (xs, ys) in x.chunks(ROWS * k).zip(y.chunks_mut(ROWS * n)) {
        match xs.len() / k {
            4 => tile::<4, C, FMA>(xs, w, b, (k, n), col, ys),
            3 => tile::<3, C, FMA>(xs, w, b, (k, n), col, ys),
            2 => tile::<2, C, FMA>(xs, w, b, (k, n), col, ys),
            _ => tile::<1, C, FMA>(xs, w, b, (k, n), col, ys),
        }
    }
}

/// One `R × C` tile of `y` at column `col`: `R` rows of `x` times one weight panel.
#[inline(always)]
fn tile<const R: usize, const C: usize, const FMA: bool>(
    x: &[f32],
    w: &[f32],
    b: &[f32],
    (k, n): (usize, usize),
    col: usize,
    y: &mut [f32],
) {
    let rows: [&[f32]; R] = std::array::from_fn(|i| &x[i * k..(i + 1) * k]);
    let bias: &[f32; C] = b[col..col + C].try_into().expect("tile inside the bias. This is a bug.");
    let mut acc = [*bias; R];
    for (l, wr) in w.chunks_exact(n).enumerate() {
        let wr: &[f32; C] = wr[col..col + C].try_into().expect("tile inside W. This is a bug.");
        for (acc, row) in acc.iter_mut().zip(&rows) {
            let a = row[l];
            for (s, &wv) in acc.iter_mut().zip(wr) {
                *s = mul_add::<FMA>(a, wv, *s);
            }
        }
    }
    for (i, acc) in acc.iter().enumerate() {
        y[i * n + col..i * n + col + C].copy_from_slice(acc);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition, summed in f64.
    fn reference(x: &[f32], w: &[f32], b: &[f32], (k, n): (usize, usize)) -> Vec<f32> {
        let m = x.len() / k;
        let mut y = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                let dot: f64 =
                    (0..k).map(|l| f64::from(x[i * k + l]) * f64::from(w[l * n + j])).sum();
                y[i * n + j] = (dot + f64::from(b[j])) as f32;
            }
        }
        y
    }

    #[test]
    fn every_tile_shape_matches_the_definition() {
        // Row counts cover every tile height and remainder; column counts cover whole
        // panels, the 16- and 8-wide tiles and the scalar tail.
        let shapes = [(1, 1, 1), (5, 3, 7), (7, 13, 32), (9, 20, 61), (4, 96, 288), (3, 2, 8)];
        for (m, k, n) in shapes.into_iter().chain([(1, 64, 155), (1, 5, 64)]) {
            let x: Vec<f32> = (0..m * k).map(|i| (i as f32 * 0.37).sin()).collect();
            let w: Vec<f32> = (0..k * n).map(|i| (i as f32 * 0.11).cos()).collect();
            let b: Vec<f32> = (0..n).map(|i| i as f32 * 0.5 - 1.0).collect();
            let want = reference(&x, &w, &b, (k, n));
            let (mut kernel, mut public) = (vec![f32::NAN; m * n], vec![f32::NAN; m * n]);
            dispatch(&x, &w, &b, (k, n), &mut kernel);
            affine(&x, &w, &b, (k, n), &mut public);
            for (got, want) in kernel.iter().chain(&public).zip(want.iter().cycle()) {
                assert!((got - want).abs() <= 1e-4 * (1.0 + want.abs()), "{m}×{k}×{n}");
            }
        }
    }

    #[test]
    fn empty_inputs_give_the_bias_or_nothing() {
        let mut y = vec![0.0; 4];
        affine(&[], &[], &[1.0, 2.0], (0, 2), &mut y);
        assert_eq!(y, [1.0, 2.0, 1.0, 2.0]);
        let mut none: Vec<f32> = Vec::new();
        affine(&[], &[0.0; 6], &[0.0; 3], (2, 3), &mut none);
        assert!(none.is_empty());
    }

    #[test]
    #[should_panic(expected = "affine: W is not")]
    fn mismatched_shapes_panic() {
        affine(&[0.0; 4], &[0.0; 5], &[0.0; 2], (2, 2), &mut [0.0; 4]);
    }
}

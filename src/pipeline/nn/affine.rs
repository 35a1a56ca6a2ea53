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

/// How a `k × n` weight matrix is laid out.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Weights<'a> {
    /// Row-major, as [`Dense`] stores it.
    RowMajor(&'a [f32]),
    /// Rearranged by [`pack`]: each whole panel of [`COLS`] columns contiguous.
    Panels(&'a [f32]),
}

impl Weights<'_> {
    fn len(self) -> usize {
        match self {
            Weights::RowMajor(w) | Weights::Panels(w) => w.len(),
        }
    }
}

/// Where columns `col..` of the `k × n` matrix `w` lie: a matrix holding them, its row
/// length and the column of `col` in it. `w` is row-major, or packed by [`pack`] if
/// `PACKED`; a tile never spans two panels.
#[inline(always)]
fn columns<const PACKED: bool>(
    w: &[f32],
    (k, n): (usize, usize),
    col: usize,
) -> (&[f32], usize, usize) {
    let whole = n / COLS * COLS;
    if !PACKED {
        (w, n, col)
    } else if col < whole {
        let first = col / COLS * COLS;
        (&w[first * k..(first + COLS) * k], COLS, col - first)
    } else {
        (&w[whole * k..], n - whole, col - whole)
    }
}

/// `w` (row-major `k × n`) rearranged so that each panel of [`COLS`] columns, which the
/// kernel streams through while it reuses it for every row tile, is contiguous (`k × COLS`);
/// the columns past the last whole panel follow as one `k × (n mod COLS)` block. Read from
/// memory in order, a panel that is not in the cache arrives faster (a third faster for the
/// encoder's blocks, whose weights do not stay in the cache between documents).
pub(crate) fn pack(w: &[f32], (k, n): (usize, usize)) -> Vec<f32> {
    assert_eq!(w.len(), k * n, "pack: W is not {k}×{n}");
    let whole = n / COLS * COLS;
    let mut out = Vec::with_capacity(w.len());
    for first in (0..whole).step_by(COLS) {
        out.extend(w.chunks_exact(n).flat_map(|row| &row[first..first + COLS]));
    }
    out.extend(w.chunks_exact(n).flat_map(|row| &row[whole..]));
    out
}

/// The rows `m` of the product `y (m × n) = x (m × k) · W + b`, checking that `b` is `n`
/// long and that `x` and `y` have `m` rows each (with `k = 0`, `y` tells `m`).
///
/// # Panics
///
/// Panics if a length does not fit.
pub(super) fn batch_rows(x: &[f32], b: &[f32], y: &[f32], (k, n): (usize, usize)) -> usize {
    assert_eq!(b.len(), n, "affine: b is not {n} long");
    let m = x.len().checked_div(k).unwrap_or_else(|| y.len() / n.max(1));
    assert_eq!(x.len(), m * k, "affine: x is not m×{k}");
    assert_eq!(y.len(), m * n, "affine: y is not {m}×{n}");
    m
}

/// `y (m × n) = x (m × k) · w (k × n) + b`, all row-major; `y`'s previous contents are
/// ignored. `m` is `x.len() / k`.
///
/// # Panics
///
/// Panics if `w` is not `k × n`, `b` is not `n` long, or `x` and `y` do not have the same
/// number of rows.
pub(crate) fn affine(x: &[f32], w: Weights<'_>, b: &[f32], (k, n): (usize, usize), y: &mut [f32]) {
    assert_eq!(w.len(), k * n, "affine: W is not {k}×{n}");
    let m = batch_rows(x, b, y, (k, n));
    if n == 0 {
        return;
    }
    match w {
        Weights::RowMajor(w) if k == 0 || cfg!(debug_assertions) => {
            // Unoptimised builds (the test suite) use `matrixmultiply`, which Cargo.toml
            // compiles optimised even there: this kernel unoptimised is about 25 times
            // slower, which would stretch the accuracy tests to a quarter of an hour. The
            // tests below run the kernel itself in every build.
            for row in y.chunks_exact_mut(n) {
                row.copy_from_slice(b);
            }
            gemm((m, k, n), 1.0, Operand::plain(x), Operand::plain(w), 1.0, y);
        }
        _ => dispatch(x, w, b, (k, n), y),
    }
}

/// The kernel for the layout of `w`.
fn dispatch(x: &[f32], w: Weights<'_>, b: &[f32], kn: (usize, usize), y: &mut [f32]) {
    match w {
        Weights::RowMajor(w) => kernel(x, w, false, b, kn, y),
        Weights::Panels(w) => kernel(x, w, true, b, kn, y),
    }
}

simd! {
    /// The run-time choice of instruction set. The layout comes as a flag: given the
    /// [`Weights`] enum itself, the compiled variants were not vectorised (ten times slower).
    fn kernel(x: &[f32], w: &[f32], packed: bool, b: &[f32], kn: (usize, usize), y: &mut [f32]) {
        let fma = target_cfg_f!(target_feature = "fma");
        match (fma, packed) {
            (true, false) => panels::<true, false>(x, w, b, kn, y),
            (false, false) => panels::<false, false>(x, w, b, kn, y),
            (true, true) => panels::<true, true>(x, w, b, kn, y),
            (false, true) => panels::<false, true>(x, w, b, kn, y),
        }
    }
}

/// `a · b + c`, fused when the selected target has FMA (unfused, a library call would
/// be far slower than the two instructions).
#[inline(always)]
fn mul_add<const FMA: bool>(a: f32, b: f32, c: f32) -> f32 {
    if FMA { a.mul_add(b, c) } else { a * b + c }
}

/// `y = x · w + b` for `w` row-major, or packed by [`pack`] if `PACKED`.
#[inline(always)]
fn panels<const FMA: bool, const PACKED: bool>(
    x: &[f32],
    w: &[f32],
    b: &[f32],
    (k, n): (usize, usize),
    y: &mut [f32],
) {
    let mut col = 0;
    if x.len() == k && !PACKED {
        while col + COLS_ONE_ROW <= n {
            row_tiles::<COLS_ONE_ROW, FMA, PACKED>(x, w, b, (k, n), col, y);
            col += COLS_ONE_ROW;
        }
    }
    while col + COLS <= n {
        row_tiles::<COLS, FMA, PACKED>(x, w, b, (k, n), col, y);
        col += COLS;
    }
    if col + 16 <= n {
        row_tiles::<16, FMA, PACKED>(x, w, b, (k, n), col, y);
        col += 16;
    }
    if col + 8 <= n {
        row_tiles::<8, FMA, PACKED>(x, w, b, (k, n), col, y);
        col += 8;
    }
    if col < n {
        let (w, stride, at) = columns::<PACKED>(w, (k, n), col);
        for (xr, yr) in x.chunks_exact(k).zip(y.chunks_exact_mut(n)) {
            let out = &mut yr[col..];
            out.copy_from_slice(&b[col..]);
            for (&a, wr) in xr.iter().zip(w.chunks_exact(stride)) {
                for (o, &wv) in out.iter_mut().zip(&wr[at..]) {
                    *o = mul_add::<FMA>(a, wv, *o);
                }
            }
        }
    }
}

/// Columns `col..col + C` of every row, [`ROWS`] rows at a time.
#[inline(always)]
fn row_tiles<const C: usize, const FMA: bool, const PACKED: bool>(
    x: &[f32],
    w: &[f32],
    b: &[f32],
    (k, n): (usize, usize),
    col: usize,
    y: &mut [f32],
) {
    let panel = columns::<PACKED>(w, (k, n), col);
    for (xs, ys) in x.chunks(ROWS * k).zip(y.chunks_mut(ROWS * n)) {
        match xs.len() / k {
            4 => tile::<4, C, FMA>(xs, panel, b, (k, n), col, ys),
            3 => tile::<3, C, FMA>(xs, panel, b, (k, n), col, ys),
            2 => tile::<2, C, FMA>(xs, panel, b, (k, n), col, ys),
            _ => tile::<1, C, FMA>(xs, panel, b, (k, n), col, ys),
        }
    }
}

/// One `R × C` tile of `y` at column `col`: `R` rows of `x` times one weight panel, given
/// as a matrix holding it, that matrix's row length and the panel's first column in it.
#[inline(always)]
fn tile<const R: usize, const C: usize, const FMA: bool>(
    x: &[f32],
    (w, stride, at): (&[f32], usize, usize),
    b: &[f32],
    (k, n): (usize, usize),
    col: usize,
    y: &mut [f32],
) {
    let rows: [&[f32]; R] = std::array::from_fn(|i| &x[i * k..(i + 1) * k]);
    let bias: &[f32; C] = b[col..col + C].try_into().expect("tile inside the bias. This is a bug.");
    let mut acc = [*bias; R];
    // Counting `l` up to `k` (not the rows of `w`) lets the compiler drop the bounds
    // checks on `row[l]`, without which it does not vectorize the loop.
    for (l, wr) in (0..k).zip(w.chunks_exact(stride)) {
        let wr: &[f32; C] = wr[at..at + C].try_into().expect("tile inside W. This is a bug.");
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
        let shapes =
            [(1, 1, 1), (5, 3, 7), (7, 13, 32), (9, 20, 61), (4, 96, 288), (3, 2, 8), (6, 5, 72)];
        for (m, k, n) in shapes.into_iter().chain([(1, 64, 155), (1, 5, 64)]) {
            let x: Vec<f32> = (0..m * k).map(|i| (i as f32 * 0.37).sin()).collect();
            let w: Vec<f32> = (0..k * n).map(|i| (i as f32 * 0.11).cos()).collect();
            let b: Vec<f32> = (0..n).map(|i| i as f32 * 0.5 - 1.0).collect();
            let want = reference(&x, &w, &b, (k, n));
            let packed = pack(&w, (k, n));
            let [mut kernel, mut public, mut panels] = [(); 3].map(|()| vec![f32::NAN; m * n]);
            dispatch(&x, Weights::RowMajor(&w), &b, (k, n), &mut kernel);
            affine(&x, Weights::RowMajor(&w), &b, (k, n), &mut public);
            affine(&x, Weights::Panels(&packed), &b, (k, n), &mut panels);
            let outputs = kernel.iter().chain(&public).chain(&panels);
            for (got, want) in outputs.zip(want.iter().cycle()) {
                assert!((got - want).abs() <= 1e-4 * (1.0 + want.abs()), "{m}×{k}×{n}");
            }
        }
    }

    #[test]
    fn empty_inputs_give_the_bias_or_nothing() {
        let mut y = vec![0.0; 4];
        affine(&[], Weights::RowMajor(&[]), &[1.0, 2.0], (0, 2), &mut y);
        assert_eq!(y, [1.0, 2.0, 1.0, 2.0]);
        let mut none: Vec<f32> = Vec::new();
        affine(&[], Weights::RowMajor(&[0.0; 6]), &[0.0; 3], (2, 3), &mut none);
        assert!(none.is_empty());
    }

    #[test]
    #[should_panic(expected = "affine: W is not")]
    fn mismatched_shapes_panic() {
        affine(&[0.0; 4], Weights::RowMajor(&[0.0; 5]), &[0.0; 2], (2, 2), &mut [0.0; 4]);
    }
}

//! Quantised inference: the affine map `y = x · W + b` with 8-bit weights and activations
//! and 32-bit integer sums.
//!
//! # Overview
//!
//! [`Int8Weights`] is a loaded layer's `W` quantised once: each output column `j` gets the
//! scale `s_j = max_k |W[k][j]| / 127` and the integers `round(W[k][j] / s_j)` in
//! `-127..=127` (symmetric, so no zero point). [`Int8Weights::affine`] quantises each row of
//! `x` the same way on the fly (scale `a_i = max_k |x[i][k]| / 127`), sums the integer
//! products in `i32` and scales back: `y[i][j] = a_i · s_j · Σ_k qx[i][k] · qw[k][j] + b_j`.
//! Each product is off by at most half a step of either factor, so an output is off by at
//! most `(max|x| · Σ_k |W[k][j]| + max_j |W[·][j]| · Σ_k |x[k]|) / 254` (the tests check this
//! bound).
//!
//! The sums are the instruction `vpdpbusd` of AVX-512 VNNI, which multiplies 64 unsigned
//! bytes by 64 signed ones and adds each group of four products into one of 16 `i32`
//! lanes: four times as many products per instruction as a 16-float FMA. Its first operand
//! is unsigned, so activations are stored as `qx + 128`, and `128 · Σ_k qw[k][j]` (kept per
//! column) is subtracted afterwards. The weights are laid out for it: panels of 16 columns,
//! each a run of 64-byte blocks holding 4 consecutive rows of its 16 columns, column by
//! column. Without VNNI a portable kernel (plain Rust that LLVM vectorizes, compiled per
//! instruction set like the f32 kernel) computes the same integer sums; the choice is made
//! at run time, and both give bit-identical outputs, so a model answers alike on every CPU.
//!
//! A layer whose inputs differ widely in scale (the encoders' mixers, which read embedding
//! tables side by side) can be quantised with per-input scales
//! ([`Int8Weights::with_input_scales`]): input `k` is divided by `c_k` as its row is
//! quantised and `W`'s row `k` multiplied by it, the same map in exact arithmetic
//! (SmoothQuant, Xiao et al. 2023), which keeps the small inputs from losing their levels
//! to the row scale of the large ones.

use std::cell::RefCell;

use super::simd;

/// Output columns per panel: the `i32` lanes of one AVX-512 register.
const LANES: usize = 16;
/// Input rows per block: the bytes `vpdpbusd` sums into one lane.
const GROUP: usize = 4;
/// Bytes of one block: a panel's 16 columns × 4 rows.
const BLOCK: usize = LANES * GROUP;
/// Rows of `x` per tile.
const ROWS: usize = 4;
/// The offset that makes a quantised activation (`-127..=127`) an unsigned byte.
const OFFSET: i32 = 128;

/// A `k × n` weight matrix quantised for [`Int8Weights::affine`]. See the module docs.
#[derive(Clone, Debug)]
pub(crate) struct Int8Weights {
    k: usize,
    n: usize,
    /// Panels of [`LANES`] columns (zero past `n`), each `k` rounded up to [`GROUP`] rows
    /// (zero past `k`), in [`BLOCK`]s.
    w: Vec<i8>,
    /// Each column's scale (one per padded column).
    scales: Vec<f32>,
    /// `OFFSET ·` each column's sum of quantised weights (one per padded column).
    offsets: Vec<i32>,
    /// The reciprocal of each input's scale, which its activations are multiplied by
    /// before quantisation (`None`: all 1).
    input_scales: Option<Vec<f32>>,
}

impl Int8Weights {
    /// Quantises `w`, row-major `k × n`.
    ///
    /// # Panics
    ///
    /// Panics if `w` is not `k × n`.
    pub(crate) fn new(w: &[f32], (k, n): (usize, usize)) -> Self {
        assert_eq!(w.len(), k * n, "Int8Weights: W is not {k}×{n}");
        let (groups, panels) = (k.div_ceil(GROUP), n.div_ceil(LANES));
        let mut scales = vec![1.0; panels * LANES];
        for (j, scale) in scales.iter_mut().enumerate().take(n) {
            let column: Vec<f32> = (0..k).map(|l| w[l * n + j]).collect();
            *scale = scale_of(max_abs(&column));
        }
        let mut q = vec![0_i8; panels * groups * BLOCK];
        let mut offsets = vec![0; panels * LANES];
        for (j, offset) in offsets.iter_mut().enumerate().take(n) {
            let inverse = 1.0 / scales[j];
            let (panel, lane) = (j / LANES, j % LANES);
            for l in 0..k {
                let v = round(w[l * n + j] * inverse).clamp(-127, 127) as i8;
                *offset += OFFSET * i32::from(v);
                let (group, byte) = (l / GROUP, l % GROUP);
                q[(panel * groups + group) * BLOCK + lane * GROUP + byte] = v;
            }
        }
        Self { k, n, w: q, scales, offsets, input_scales: None }
    }

    /// Quantises `w` (row-major `k × n`) for inputs divided by `scales` (one per input,
    /// positive): row `l` of `W` is multiplied by `scales[l]` here, and [`Self::affine`]
    /// divides input `l` by it, so the map stays `x · W + b`.
    ///
    /// # Panics
    ///
    /// Panics if `w` is not `k × n` or `scales` not `k` long.
    pub(crate) fn with_input_scales(w: &[f32], (k, n): (usize, usize), scales: &[f32]) -> Self {
        assert_eq!(scales.len(), k, "Int8Weights: one scale per input");
        let scaled: Vec<f32> = w
            .chunks_exact(n.max(1))
            .zip(scales)
            .flat_map(|(row, &s)| row.iter().map(move |v| v * s))
            .collect();
        let mut q = Self::new(&scaled, (k, n));
        q.input_scales = Some(scales.iter().map(|s| 1.0 / s).collect());
        q
    }

    /// `y (m × n) = x (m × k) · W + b`, all row-major, in 8-bit arithmetic; `y`'s previous
    /// contents are ignored.
    ///
    /// # Panics
    ///
    /// Panics if `b` is not `n` long, or `x` and `y` do not have the same number of rows.
    pub(crate) fn affine(&self, x: &[f32], b: &[f32], y: &mut [f32]) {
        self.affine_with(x, b, y, Kernel::best());
    }

    /// [`Int8Weights::affine`] with the integer sums made by `kernel`.
    #[allow(unsafe_code)]
    fn affine_with(&self, x: &[f32], b: &[f32], y: &mut [f32], kernel: Kernel) {
        let (k, n) = (self.k, self.n);
        let m = super::affine::batch_rows(x, b, y, (k, n));
        if n == 0 {
            return;
        }
        ACTIVATIONS.with_borrow_mut(|Activations { bytes, scales }| {
            let stride = k.div_ceil(GROUP) * GROUP;
            bytes.resize(m * stride, 0);
            scales.resize(m, 0.0);
            match &self.input_scales {
                None => quantize_rows(x, k, stride, bytes, scales),
                Some(inverses) => quantize_scaled_rows(x, inverses, stride, bytes, scales),
            }
            let rows = Rows { bytes, scales, stride };
            match kernel {
                #[cfg(target_arch = "x86_64")]
                // SAFETY: `Kernel::best` chooses VNNI only after detecting AVX-512 VNNI and
                // BW (AVX-512 F comes with them), and the tests use it only then too.
                Kernel::Vnni => unsafe { vnni::affine(self, rows, b, y) },
                Kernel::Portable => portable_affine(self, rows, b, y),
            }
        });
    }
}

/// Quantised activations, reused across calls on one thread.
#[derive(Default)]
struct Activations {
    /// Rows of `qx + OFFSET`, each padded with `OFFSET` (zero) to a whole [`GROUP`].
    bytes: Vec<u8>,
    /// Each row's scale.
    scales: Vec<f32>,
}

thread_local! {
    static ACTIVATIONS: RefCell<Activations> = RefCell::new(Activations::default());
}

/// The quantised rows of `x`, as a kernel reads them.
#[derive(Clone, Copy)]
struct Rows<'a> {
    /// Rows of `stride` bytes (see [`Activations`]).
    bytes: &'a [u8],
    scales: &'a [f32],
    stride: usize,
}

/// `v` rounded to the nearest integer (ties to even), for `|v| < 2^22`: added to
/// `1.5 · 2^23`, the integer lands in the low bits of the mantissa. Unlike `f32::round`
/// (which baseline x86-64 has no instruction for) and a saturating `as` conversion, this
/// vectorizes to an addition and an integer subtraction.
#[inline(always)]
fn round(v: f32) -> i32 {
    const MAGIC: f32 = 12_582_912.0;
    (v + MAGIC).to_bits() as i32 - MAGIC.to_bits() as i32
}

/// The largest `|v|` of `values` (0 for none), by the bits of the absolute values, whose
/// order as integers is the order of the numbers: an integer maximum, which vectorizes.
#[inline(always)]
fn max_abs(values: &[f32]) -> f32 {
    f32::from_bits(values.iter().fold(0, |max, v| max.max(v.to_bits() & 0x7fff_ffff)))
}

/// The scale of a row or column whose largest magnitude is `max`: `max / 127`, or 1 for a
/// row or column of zeros.
#[inline(always)]
fn scale_of(max: f32) -> f32 {
    if max > 0.0 { max / 127.0 } else { 1.0 }
}

simd! {
    /// Quantises each row of `x` (`k` wide) into `bytes` (rows of `stride`) and `scales`.
    fn quantize_rows(x: &[f32], k: usize, stride: usize, bytes: &mut [u8], scales: &mut [f32]) {
        for ((row, out), scale) in x.chunks_exact(k).zip(bytes.chunks_exact_mut(stride)).zip(scales) {
            *scale = scale_of(max_abs(row));
            let inverse = 1.0 / *scale;
            // |v · inverse| <= 127 up to rounding, so the clamp only guards that rounding.
            for (o, &v) in out.iter_mut().zip(row) {
                *o = (round(v * inverse).clamp(-127, 127) + OFFSET) as u8;
            }
            out[k..].fill(OFFSET as u8);
        }
    }
}

simd! {
    /// [`quantize_rows`] of `x` with each input multiplied by its entry of `inverses`.
    fn quantize_scaled_rows(
        x: &[f32],
        inverses: &[f32],
        stride: usize,
        bytes: &mut [u8],
        scales: &mut [f32],
    ) {
        let k = inverses.len();
        let mut row_scaled = vec![0.0; k];
        for ((row, out), scale) in x.chunks_exact(k).zip(bytes.chunks_exact_mut(stride)).zip(scales) {
            for ((v, &x), &inverse) in row_scaled.iter_mut().zip(row).zip(inverses) {
                *v = x * inverse;
            }
            *scale = scale_of(max_abs(&row_scaled));
            let inverse = 1.0 / *scale;
            for (o, &v) in out.iter_mut().zip(&row_scaled) {
                *o = (round(v * inverse).clamp(-127, 127) + OFFSET) as u8;
            }
            out[k..].fill(OFFSET as u8);
        }
    }
}

/// The product of every row tile and pair of weight panels: `tile` adds the integer sums
/// of up to [`ROWS`] quantised rows (of `stride` bytes) times one or two panels into one
/// array of `2 ×` [`LANES`] per row, which are then scaled back into `y`.
#[inline(always)]
fn run_tiles(
    q: &Int8Weights,
    rows: Rows<'_>,
    b: &[f32],
    y: &mut [f32],
    mut tile: impl FnMut(&[u8], usize, &[i8], &mut [[i32; 2 * LANES]]),
) {
    let (n, stride) = (q.n, rows.stride);
    // Panels outside, so a pair of panels (`stride × 32` bytes) stays in the L1 cache while
    // every row tile reuses it.
    for (pair, weights) in q.w.chunks(2 * stride * LANES).enumerate() {
        let cols = pair * 2 * LANES..(pair * 2 * LANES + 2 * LANES).min(n);
        let (scales, offsets, b) =
            (&q.scales[cols.clone()], &q.offsets[cols.clone()], &b[cols.clone()]);
        let tiles = rows.bytes.chunks(ROWS * stride).zip(y.chunks_mut(ROWS * n));
        for ((xq, ys), row_scales) in tiles.zip(rows.scales.chunks(ROWS)) {
            let mut sums = [[0; 2 * LANES]; ROWS];
            let sums = &mut sums[..row_scales.len()];
            tile(xq, stride, weights, sums);
            for ((sums, &a), out) in sums.iter().zip(row_scales).zip(ys.chunks_exact_mut(n)) {
                let out = &mut out[cols.clone()];
                for ((((o, &sum), &s), &offset), &bias) in
                    out.iter_mut().zip(sums).zip(scales).zip(offsets).zip(b)
                {
                    *o = (sum - offset) as f32 * (a * s) + bias;
                }
            }
        }
    }
}

/// What makes the integer sums.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kernel {
    /// `vpdpbusd` (AVX-512 VNNI).
    #[cfg(target_arch = "x86_64")]
    Vnni,
    /// Plain Rust.
    Portable,
}

impl Kernel {
    /// The fastest kernel this CPU runs.
    fn best() -> Self {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx512vnni")
            && std::arch::is_x86_feature_detected!("avx512bw")
        {
            return Kernel::Vnni;
        }
        Kernel::Portable
    }
}

simd! {
    /// [`Int8Weights::affine`]'s products in plain Rust.
    fn portable_affine(q: &Int8Weights, rows: Rows<'_>, b: &[f32], y: &mut [f32]) {
        run_tiles(q, rows, b, y, |xq, stride, panels, sums| {
            for (panel, weights) in panels.chunks_exact(stride * LANES).enumerate() {
                for (row, sums) in xq.chunks_exact(stride).zip(sums.iter_mut()) {
                    let sums = &mut sums[panel * LANES..(panel + 1) * LANES];
                    for (xs, block) in row.chunks_exact(GROUP).zip(weights.chunks_exact(BLOCK)) {
                        for (sum, ws) in sums.iter_mut().zip(block.chunks_exact(GROUP)) {
                            let dot: i32 =
                                xs.iter().zip(ws).map(|(&x, &w)| i32::from(x) * i32::from(w)).sum();
                            *sum += dot;
                        }
                    }
                }
            }
        });
    }
}

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod vnni {
    use std::arch::x86_64::{
        __m512i, _mm512_dpbusd_epi32, _mm512_loadu_si512, _mm512_set1_epi32, _mm512_setzero_si512,
        _mm512_storeu_si512,
    };

    use super::{BLOCK, GROUP, Int8Weights, LANES, ROWS, Rows, run_tiles};

    /// [`Int8Weights::affine`]'s products with `vpdpbusd`. (The closure inherits this
    /// function's target features.)
    ///
    /// # Safety
    ///
    /// The CPU must support AVX-512 F, BW and VNNI.
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    pub(super) unsafe fn affine(q: &Int8Weights, rows: Rows<'_>, b: &[f32], y: &mut [f32]) {
        run_tiles(q, rows, b, y, |xq, stride, panels, sums| {
            let pair = panels.len() == 2 * stride * LANES;
            match (sums.len(), pair) {
                (4, true) => tile::<4, 2>(xq, stride, panels, sums),
                (3, true) => tile::<3, 2>(xq, stride, panels, sums),
                (2, true) => tile::<2, 2>(xq, stride, panels, sums),
                (1, true) => tile::<1, 2>(xq, stride, panels, sums),
                (4, false) => tile::<4, 1>(xq, stride, panels, sums),
                (3, false) => tile::<3, 1>(xq, stride, panels, sums),
                (2, false) => tile::<2, 1>(xq, stride, panels, sums),
                _ => tile::<1, 1>(xq, stride, panels, sums),
            }
        });
    }

    /// The sums of `R` rows times `P` panels: per block of 4 rows of the panels, `P` loads
    /// of 64 weights and, per row, one broadcast of its 4 activations and `P` `vpdpbusd`.
    #[inline]
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    fn tile<const R: usize, const P: usize>(
        xq: &[u8],
        stride: usize,
        panels: &[i8],
        sums: &mut [[i32; 2 * LANES]],
    ) {
        assert!(
            R <= ROWS && sums.len() == R && xq.len() == R * stride,
            "a tile of R rows. This is a bug."
        );
        assert_eq!(panels.len(), P * stride * LANES, "P panels. This is a bug.");
        let mut rows: [_; R] =
            std::array::from_fn(|r| xq[r * stride..][..stride].chunks_exact(GROUP));
        let mut blocks: [_; P] = std::array::from_fn(|p| {
            panels[p * stride * LANES..][..stride * LANES].chunks_exact(BLOCK)
        });
        let mut acc = [[_mm512_setzero_si512(); P]; R];
        for _ in 0..stride / GROUP {
            let w: [__m512i; P] = std::array::from_fn(|p| {
                let block = blocks[p].next().expect("a block per group. This is a bug.");
                // SAFETY: `block` is BLOCK = 64 bytes, the size of one unaligned load.
                unsafe { _mm512_loadu_si512(block.as_ptr().cast::<__m512i>()) }
            });
            for (acc, row) in acc.iter_mut().zip(&mut rows) {
                let x = row.next().expect("a group per block. This is a bug.");
                let x = _mm512_set1_epi32(i32::from_le_bytes([x[0], x[1], x[2], x[3]]));
                for (acc, &w) in acc.iter_mut().zip(&w) {
                    *acc = _mm512_dpbusd_epi32(*acc, x, w);
                }
            }
        }
        for (sums, acc) in sums.iter_mut().zip(acc) {
            for (p, acc) in acc.into_iter().enumerate() {
                // SAFETY: `sums[16p..16p + 16]` is LANES = 16 `i32`s (P <= 2), the size of
                // one unaligned store.
                unsafe {
                    _mm512_storeu_si512(sums[p * LANES..].as_mut_ptr().cast::<__m512i>(), acc)
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::nn::Rng;

    /// The error bound of the module docs for output `(i, j)`, in f64.
    fn bound(x: &[f32], w: &[f32], (k, n): (usize, usize), (i, j): (usize, usize)) -> f64 {
        let row = &x[i * k..(i + 1) * k];
        let col: Vec<f64> = (0..k).map(|l| f64::from(w[l * n + j]).abs()).collect();
        let max_x = row.iter().map(|v| f64::from(v.abs())).fold(0.0, f64::max);
        let max_w = col.iter().copied().fold(0.0, f64::max);
        let sum_x: f64 = row.iter().map(|v| f64::from(v.abs())).sum();
        (max_x * col.iter().sum::<f64>() + max_w * sum_x) / 254.0
    }

    /// Every kernel this CPU runs.
    fn kernels() -> Vec<Kernel> {
        let mut kernels = vec![Kernel::Portable];
        if Kernel::best() != Kernel::Portable {
            kernels.push(Kernel::best());
        }
        kernels
    }

    #[test]
    fn outputs_stay_within_the_quantisation_bound_of_f32() {
        let mut rng = Rng::new(3);
        // Shapes cover partial row tiles, partial panels, `k` not a multiple of 4, and the
        // pipeline's own shapes.
        let shapes = [(1, 1, 1), (3, 5, 7), (5, 13, 17), (4, 96, 288), (7, 224, 288), (1, 64, 101)];
        for (m, k, n) in shapes {
            let x: Vec<f32> = (0..m * k).map(|_| rng.normal(1.0)).collect();
            let w: Vec<f32> = (0..k * n).map(|_| rng.normal(0.1)).collect();
            let b: Vec<f32> = (0..n).map(|_| rng.normal(1.0)).collect();
            let q = Int8Weights::new(&w, (k, n));
            for kernel in kernels() {
                let mut y = vec![f32::NAN; m * n];
                q.affine_with(&x, &b, &mut y, kernel);
                for i in 0..m {
                    for j in 0..n {
                        let exact: f64 = (0..k)
                            .map(|l| f64::from(x[i * k + l]) * f64::from(w[l * n + j]))
                            .sum::<f64>()
                            + f64::from(b[j]);
                        let error = (f64::from(y[i * n + j]) - exact).abs();
                        let allowed = bound(&x, &w, (k, n), (i, j)) * 1.001 + 1e-5;
                        assert!(
                            error <= allowed,
                            "{kernel:?} {m}×{k}×{n} ({i}, {j}): {error} > {allowed}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn input_scales_keep_the_map_and_spare_the_small_inputs() {
        // Half the inputs are a thousand times smaller than the others, and their weights
        // as much larger: every input matters as much to the output.
        let mut rng = Rng::new(5);
        let (m, k, n) = (6, 32, 20);
        let x: Vec<f32> =
            (0..m * k).map(|i| rng.normal(1.0) * if i % k < k / 2 { 1.0 } else { 1e-3 }).collect();
        let w: Vec<f32> =
            (0..k * n).map(|i| rng.normal(0.1) * if i / n < k / 2 { 1.0 } else { 1e3 }).collect();
        let b = vec![0.0; n];
        let exact: Vec<f64> = (0..m * n)
            .map(|o| {
                (0..k).map(|l| f64::from(x[o / n * k + l]) * f64::from(w[l * n + o % n])).sum()
            })
            .collect();
        let error = |q: &Int8Weights| {
            let mut y = vec![0.0; m * n];
            q.affine(&x, &b, &mut y);
            y.iter().zip(&exact).map(|(&y, e)| (f64::from(y) - e).abs()).fold(0.0, f64::max)
        };
        let scales: Vec<f32> = (0..k).map(|l| if l < k / 2 { 1.0 } else { 1e-3 }).collect();
        let (plain, scaled) = (
            error(&Int8Weights::new(&w, (k, n))),
            error(&Int8Weights::with_input_scales(&w, (k, n), &scales)),
        );
        assert!(scaled < plain / 10.0, "{scaled} against {plain}");
    }

    #[test]
    fn every_kernel_gives_the_same_bits() {
        // Extreme values too: sums of 255 · ±127 over a long row must not overflow.
        let mut rng = Rng::new(4);
        let (m, k, n) = (9, 300, 40);
        let mut x: Vec<f32> = (0..m * k).map(|_| rng.normal(1.0)).collect();
        x[..k].fill(-2.0);
        let w: Vec<f32> =
            (0..k * n).map(|i| if i % n == 3 { 1.0 } else { rng.normal(1.0) }).collect();
        let b = vec![0.5; n];
        let q = Int8Weights::new(&w, (k, n));
        let outputs: Vec<Vec<f32>> = kernels()
            .into_iter()
            .map(|kernel| {
                let mut y = vec![0.0; m * n];
                q.affine_with(&x, &b, &mut y, kernel);
                y
            })
            .collect();
        for y in &outputs[1..] {
            assert_eq!(y, &outputs[0]);
        }
        // Column 3 is all ones and row 0 all -2: exact in 8 bits.
        assert_eq!(outputs[0][3], -2.0 * k as f32 + 0.5);
    }

    #[test]
    fn zero_rows_and_columns_give_the_bias() {
        let q = Int8Weights::new(&[0.0; 6], (2, 3));
        let mut y = vec![f32::NAN; 6];
        q.affine(&[0.0, 0.0, 1.0, -1.0], &[1.0, 2.0, 3.0], &mut y);
        assert_eq!(y, [1.0, 2.0, 3.0, 1.0, 2.0, 3.0]);
        let mut none: Vec<f32> = Vec::new();
        q.affine(&[], &[1.0, 2.0, 3.0], &mut none);
        assert!(none.is_empty());
    }
}

//! Multi-head scaled dot-product self-attention over a batch of inputs, each over its own
//! rows, forward and backward.
//!
//! # Overview
//!
//! The rows of a batch hold the inputs one after another (`lens[i]` rows for input `i`);
//! the fused query-key-value projection gives each row `3 · hidden` values: its query, key
//! and value side by side, each split into `heads` slices of `d = hidden / heads`. For
//! every input and head, [`attend`] gathers that head's slices into contiguous `len × d`
//! matrices and computes
//!
//! ```text
//! S = Q·Kᵀ / √d     P = softmax(S) (row by row)     H = P·V
//! ```
//!
//! writing `H` into the head's columns of the context rows. Attention never crosses
//! inputs, which is what an attention mask over padding achieves, with no padded rows.
//! During training it also keeps each `P` and applies a dropout [`Mask`] `M` to it
//! (`H = (P ⊙ M)·V`), and [`attend_backward`] runs the chain rule back from the context's
//! gradient:
//!
//! ```text
//! dV = (P ⊙ M)ᵀ·dH     dP = (dH·Vᵀ) ⊙ M     dS = P ⊙ (dP − rowsum(dP ⊙ P))
//! dQ = dS·K / √d       dK = dSᵀ·Q / √d
//! ```
//!
//! Both products per head (four in the backward pass) go through [`gemm`].

use super::activations::{softmax, softmax_backward};
use super::dropout::Mask;
use crate::pipeline::nn::gemm::{Operand, gemm};

/// The width of the hidden states and how many heads split it.
#[derive(Clone, Copy, Debug)]
pub(super) struct HeadShape {
    pub(super) hidden: usize,
    pub(super) heads: usize,
}

impl HeadShape {
    /// The width of one head.
    fn d(self) -> usize {
        self.hidden / self.heads
    }

    /// The columns of head `h`'s slice of part `part` (0 query, 1 key, 2 value) in a row of
    /// the fused projection, or of the context (part 0, `stride = hidden`).
    fn columns(self, part: usize, h: usize) -> std::ops::Range<usize> {
        let at = part * self.hidden + h * self.d();
        at..at + self.d()
    }
}

/// The buffers of one head, reused by every head and input.
#[derive(Debug, Default)]
pub(super) struct HeadScratch {
    q: Vec<f32>,
    k: Vec<f32>,
    v: Vec<f32>,
    scores: Vec<f32>,
    head: Vec<f32>,
    /// The backward pass's probabilities after dropout.
    dropped: Vec<f32>,
    /// The backward pass's gradients of `q`, `k` and `v`.
    dq: Vec<f32>,
    dk: Vec<f32>,
    dv: Vec<f32>,
}

/// `v` resized to `n` values, keeping its allocation; the values left are stale, for a
/// buffer the caller overwrites entirely.
pub(super) fn sized(v: &mut Vec<f32>, n: usize) -> &mut [f32] {
    v.resize(n, 0.0);
    v
}

/// Copies `columns` of each of `rows` rows of `src` (rows of `stride` values) into `dst`,
/// contiguous.
fn gather(
    src: &[f32],
    rows: std::ops::Range<usize>,
    stride: usize,
    columns: std::ops::Range<usize>,
    dst: &mut Vec<f32>,
) {
    dst.clear();
    for r in rows {
        dst.extend_from_slice(&src[r * stride + columns.start..r * stride + columns.end]);
    }
}

/// Copies the contiguous rows of `src` into `columns` of rows `rows` of `dst` (rows of
/// `stride` values): [`gather`]'s inverse.
fn scatter(
    src: &[f32],
    dst: &mut [f32],
    rows: std::ops::Range<usize>,
    stride: usize,
    columns: std::ops::Range<usize>,
) {
    for (r, values) in rows.zip(src.chunks_exact(columns.len())) {
        dst[r * stride + columns.start..r * stride + columns.end].copy_from_slice(values);
    }
}

/// Self-attention of every input over its own rows (see the [module docs](self)): `qkv`
/// holds the fused projection (rows × `3 · hidden`), `context` (rows × `hidden`) gets each
/// head's weighted values in its columns. In training (`tape` given), the attention
/// probabilities are kept in its vector for [`attend_backward`], for each input, for each
/// head, `len × len` (previous contents are dropped), then multiplied by its dropout mask
/// (drawn over as many values).
pub(super) fn attend(
    qkv: &[f32],
    lens: &[usize],
    shape: HeadShape,
    context: &mut [f32],
    scratch: &mut HeadScratch,
    mut tape: Option<(&mut Vec<f32>, &Mask)>,
) {
    let (hidden, d) = (shape.hidden, shape.d());
    let scale = 1.0 / (d as f32).sqrt();
    if let Some((probs, _)) = tape.as_mut() {
        probs.clear();
    }
    let mut first = 0;
    for &len in lens {
        let rows = first..first + len;
        for h in 0..shape.heads {
            gather(qkv, rows.clone(), 3 * hidden, shape.columns(0, h), &mut scratch.q);
            gather(qkv, rows.clone(), 3 * hidden, shape.columns(1, h), &mut scratch.k);
            gather(qkv, rows.clone(), 3 * hidden, shape.columns(2, h), &mut scratch.v);
            let scores = sized(&mut scratch.scores, len * len);
            let (q, k) = (Operand::plain(&scratch.q), Operand::transposed(&scratch.k));
            gemm((len, d, len), scale, q, k, 0.0, scores);
            softmax(scores, len);
            if let Some((probs, mask)) = tape.as_mut() {
                let at = probs.len();
                probs.extend_from_slice(scores);
                mask.apply(at, scores);
            }
            let head = sized(&mut scratch.head, len * d);
            let (p, v) = (Operand::plain(&scratch.scores), Operand::plain(&scratch.v));
            gemm((len, len, d), 1.0, p, v, 0.0, head);
            scatter(&scratch.head, context, rows.clone(), hidden, shape.columns(0, h));
        }
        first += len;
    }
}

/// The gradient of the fused projection `qkv` into `d_qkv` (rows × `3 · hidden`,
/// overwritten), from the gradient of [`attend`]'s context `d_context`, the
/// probabilities it kept and the dropout mask it applied.
///
/// # Panics
///
/// Panics if `probs` is not what [`attend`] kept for these inputs.
pub(super) fn attend_backward(
    qkv: &[f32],
    (probs, mask): (&[f32], &Mask),
    lens: &[usize],
    shape: HeadShape,
    d_context: &[f32],
    d_qkv: &mut [f32],
    scratch: &mut HeadScratch,
) {
    let (hidden, d) = (shape.hidden, shape.d());
    let scale = 1.0 / (d as f32).sqrt();
    let expected: usize = lens.iter().map(|len| shape.heads * len * len).sum();
    assert_eq!(probs.len(), expected, "attention probabilities of other inputs");
    let (mut first, mut at) = (0, 0);
    for &len in lens {
        let rows = first..first + len;
        for h in 0..shape.heads {
            let block = at;
            at += len * len;
            let p = &probs[block..at];
            gather(qkv, rows.clone(), 3 * hidden, shape.columns(0, h), &mut scratch.q);
            gather(qkv, rows.clone(), 3 * hidden, shape.columns(1, h), &mut scratch.k);
            gather(qkv, rows.clone(), 3 * hidden, shape.columns(2, h), &mut scratch.v);
            gather(d_context, rows.clone(), hidden, shape.columns(0, h), &mut scratch.head);
            let dh = Operand::plain(&scratch.head);
            let dropped = if mask.is_identity() {
                p
            } else {
                let dropped = sized(&mut scratch.dropped, len * len);
                dropped.copy_from_slice(p);
                mask.apply(block, dropped);
                &scratch.dropped
            };
            let dv = sized(&mut scratch.dv, len * d);
            gemm((len, len, d), 1.0, Operand::transposed(dropped), dh, 0.0, dv);
            let ds = sized(&mut scratch.scores, len * len);
            gemm((len, d, len), 1.0, dh, Operand::transposed(&scratch.v), 0.0, ds);
            mask.apply(block, ds);
            softmax_backward(p, ds, len);
            let ds = Operand::plain(&scratch.scores);
            let dq = sized(&mut scratch.dq, len * d);
            gemm((len, len, d), scale, ds, Operand::plain(&scratch.k), 0.0, dq);
            let dk = sized(&mut scratch.dk, len * d);
            let ds_t = Operand::transposed(&scratch.scores);
            gemm((len, len, d), scale, ds_t, Operand::plain(&scratch.q), 0.0, dk);
            for (part, grad) in [(0, &scratch.dq), (1, &scratch.dk), (2, &scratch.dv)] {
                scatter(grad, d_qkv, rows.clone(), 3 * hidden, shape.columns(part, h));
            }
        }
        first += len;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::nn::Rng;
    use crate::pipeline::nn::check::assert_loss_slope;

    /// Checks [`attend_backward`] against finite differences of `Σ r ⊙ context` over a
    /// random `qkv`, with attention dropout at `rate`.
    fn check_attention(shape: HeadShape, lens: &[usize], rate: f32) {
        let rows: usize = lens.iter().sum();
        let mut rng = Rng::new(21);
        let qkv: Vec<f32> = (0..rows * 3 * shape.hidden).map(|_| rng.normal(1.0)).collect();
        let r: Vec<f32> = (0..rows * shape.hidden).map(|_| rng.normal(1.0)).collect();
        let mut mask = Mask::default();
        let blocks: usize = lens.iter().map(|l| shape.heads * l * l).sum();
        mask.draw(blocks, rate, &mut rng);
        let loss = |qkv: &[f32], d_qkv: &mut [f32]| -> f64 {
            let mut scratch = HeadScratch::default();
            let (mut context, mut probs) = (vec![0.0; rows * shape.hidden], Vec::new());
            attend(qkv, lens, shape, &mut context, &mut scratch, Some((&mut probs, &mask)));
            attend_backward(qkv, (&probs, &mask), lens, shape, &r, d_qkv, &mut scratch);
            context.iter().zip(&r).map(|(c, r)| f64::from(c * r)).sum()
        };
        assert_loss_slope(&qkv, 1e-3, 1e-2, loss);
        // What is kept is the probabilities before dropout: rows summing to 1.
        let (mut context, mut probs) = (vec![0.0; rows * shape.hidden], Vec::new());
        let mut scratch = HeadScratch::default();
        attend(&qkv, lens, shape, &mut context, &mut scratch, Some((&mut probs, &mask)));
        assert_eq!(probs.len(), blocks);
        let mut first = 0;
        for &len in lens {
            for row in probs[first..first + shape.heads * len * len].chunks_exact(len) {
                assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5);
            }
            first += shape.heads * len * len;
        }
    }

    #[test]
    fn one_head_gradients_match_finite_differences() {
        check_attention(HeadShape { hidden: 4, heads: 1 }, &[5], 0.0);
    }

    #[test]
    fn several_heads_over_two_inputs_of_different_lengths_match_finite_differences() {
        check_attention(HeadShape { hidden: 6, heads: 3 }, &[3, 5], 0.0);
    }

    #[test]
    fn gradients_through_attention_dropout_match_finite_differences() {
        check_attention(HeadShape { hidden: 6, heads: 3 }, &[3, 5], 0.3);
    }

    #[test]
    #[should_panic(expected = "analytic")]
    fn a_gradient_that_misses_one_head_fails_the_check() {
        let shape = HeadShape { hidden: 4, heads: 2 };
        let lens = [3, 2];
        let mut rng = Rng::new(22);
        let qkv: Vec<f32> = (0..5 * 12).map(|_| rng.normal(1.0)).collect();
        let r: Vec<f32> = (0..5 * 4).map(|_| rng.normal(1.0)).collect();
        assert_loss_slope(&qkv, 1e-3, 1e-2, |qkv, d_qkv| {
            let (mut scratch, mask) = (HeadScratch::default(), Mask::default());
            let (mut context, mut probs) = (vec![0.0; 5 * 4], Vec::new());
            attend(qkv, &lens, shape, &mut context, &mut scratch, Some((&mut probs, &mask)));
            attend_backward(qkv, (&probs, &mask), &lens, shape, &r, d_qkv, &mut scratch);
            // Drop the second head's query gradient.
            d_qkv.chunks_exact_mut(12).for_each(|row| row[2..4].fill(0.0));
            context.iter().zip(&r).map(|(c, r)| f64::from(c * r)).sum()
        });
    }
}

//! Fine-tuning the BERT encoder: a forward pass that keeps what the backward pass needs,
//! the backward pass, and the encoder's parameters for the optimiser.
//!
//! # Overview
//!
//! [`Bert::forward_train`] computes what [`Bert::forward`] does (same kernels; the
//! inference pass keeps nothing and is untouched by training) and records a [`BertTape`]:
//! per layer, the input of every dense product, the attention probabilities of every head
//! and input, both layer normalisations' caches and the GELU's input. [`Bert::backward`]
//! then takes the gradient of a loss with respect to the last hidden states and
//! accumulates the gradient of every parameter into a [`Bert`] of zeros
//! ([`Bert::zeros_like`]), layer by layer in reverse:
//!
//! ```text
//! d ──► ffn_norm⁻¹ ──► down⁻¹ ──► GELU⁻¹ ──► up⁻¹ (+ residual) ──► attn_norm⁻¹
//!   ──► out⁻¹ ──► attention⁻¹ ──► qkv⁻¹ (+ residual) ──► previous layer … ──► embed_norm⁻¹
//!   ──► rows of the word, position and token-type tables the batch used
//! ```
//!
//! The gradient buffer `d` is turned into each stage's input gradient in place; the other
//! buffers live in the tape and are reused from batch to batch.
//!
//! **Dropout** ([`Dropout`]): on the embeddings' output, on each block's output before
//! its residual connection, and on the attention probabilities, as BERT was pretrained;
//! the masks are drawn from the caller's [`Rng`] and kept in the tape.
//!
//! **Memory.** The tape holds `layers × (8·hidden + intermediate + heads·len)` floats per
//! piece of an input of `len` pieces, and with dropout `layers × (2·hidden + heads·len)`
//! more: for all-MiniLM-L6-v2 and 128-piece windows 147 KB per piece, 204 KB with
//! dropout, so about 200 MB for a batch of 1,000 pieces.
//!
//! **Word embeddings.** Their gradient lands only in the rows the batch's pieces use, but
//! the accumulator is a dense table like the rest of the [`Bert`] of zeros (30,522 × 384:
//! 47 MB, allocated once per training run, not per step), because that is what
//! [`Params`] and the optimiser expect, as for `HashEmbed`'s tables. The optimiser's step
//! then sweeps the whole table (benches/transformer.rs times it against a step's forward
//! and backward passes). With the table frozen ([`EncoderTrainer::new`]'s `freeze_words`)
//! there is no accumulator, and the optimiser skips it.
//!
//! The parameter order ([`Params`]) is: the word, position and token-type tables, the
//! embeddings' normalisation, then per layer `qkv`, `out`, `attn_norm`, `up`, `down`,
//! `ffn_norm` (each `Dense` as weights then biases, each norm as gain then bias).

use super::activations::{gelu, gelu_backward};
use super::attention::{HeadScratch, attend, attend_backward, sized};
use super::bert::{Bert, BertConfig, BertLayer, add};
use super::dropout::{Dropout, Mask};
use super::{PieceId, Transformer};
use crate::pipeline::nn::{Adam, AdamConfig, NormCache, Params, Rng};

/// Fine-tuning state for a [`Transformer`]'s encoder: the tape of the latest forward pass,
/// the accumulated gradients and the Adam optimiser's moments. A training step is
/// [`forward`](Self::forward), then [`backward`](Self::backward) with the gradient of the
/// loss with respect to the hidden states, once per batch, then [`update`](Self::update).
#[derive(Debug)]
pub struct EncoderTrainer {
    tape: BertTape,
    grad: Bert,
    adam: Adam,
    dropout: Dropout,
    rng: Rng,
}

impl EncoderTrainer {
    /// Fresh state for fine-tuning `model`'s encoder with Adam under `adam` (gradients at
    /// zero), with `dropout` drawn from a generator seeded with `seed`. With `freeze_words`
    /// the word-embedding table stays as it is (no gradient, no optimiser state: the table
    /// is 30,522 of the encoder's 22.7 M parameters' 11.7 M).
    pub fn new(
        model: &Transformer,
        adam: AdamConfig,
        dropout: Dropout,
        seed: u64,
        freeze_words: bool,
    ) -> Self {
        let mut grad = model.bert.zeros_like();
        if freeze_words {
            grad.word = Vec::new();
        }
        Self {
            tape: BertTape::default(),
            grad,
            adam: Adam::new(adam),
            dropout,
            rng: Rng::new(seed),
        }
    }

    /// The hidden states of the inputs `ids` holds one after another (`lens[i]` pieces for
    /// input `i`, each `[CLS] … [SEP]`) into `hidden` (one row of [`Transformer::width`]
    /// per piece; the mean of the last [`Transformer::feature_layers`] layers' outputs, as
    /// inference reads them), recording what [`EncoderTrainer::backward`] needs.
    ///
    /// # Panics
    ///
    /// Panics if `lens` does not add up to `ids.len()`, an input is longer than the
    /// encoder's positions, a piece is outside its vocabulary, or a dropout rate is not in
    /// `[0, 1)`.
    pub fn forward(
        &mut self,
        model: &Transformer,
        ids: &[PieceId],
        lens: &[usize],
        hidden: &mut Vec<f32>,
    ) {
        let dropout = (self.dropout, &mut self.rng);
        let layers = model.feature_layers;
        model.bert.forward_train(ids, lens, layers, dropout, &mut self.tape, hidden);
    }

    /// Accumulates the gradient of every encoder parameter, given `d_hidden`, the gradient
    /// of the loss with respect to the hidden states of the latest
    /// [`forward`](Self::forward); `d_hidden` is overwritten (with the gradient with
    /// respect to the summed input embeddings).
    ///
    /// # Panics
    ///
    /// Panics if `d_hidden` is not as long as the latest forward pass's output, or `model`
    /// is not the encoder this state was made for.
    pub fn backward(&mut self, model: &Transformer, d_hidden: &mut [f32]) {
        model.bert.backward(&mut self.tape, d_hidden, &mut self.grad);
    }

    /// One Adam step on `model`'s encoder with the gradients accumulated since the last
    /// (the learning rate scaled by `learn_rate_scale`, e.g. for warm-up), which it then
    /// zeroes. The dense layers' weights are packed again for fast products.
    ///
    /// # Panics
    ///
    /// Panics if `model` is not the encoder this state was made for.
    pub fn update(&mut self, model: &mut Transformer, learn_rate_scale: f32) {
        let words = !self.grad.word.is_empty();
        let mut grad = Trained { bert: &mut self.grad, words };
        self.adam.update(
            &mut Trained { bert: &mut model.bert, words },
            &mut grad,
            learn_rate_scale,
        );
        for layer in &mut model.bert.layers {
            for dense in [&mut layer.qkv, &mut layer.out, &mut layer.up, &mut layer.down] {
                dense.pack();
            }
        }
    }
}

/// What [`Bert::backward`] needs from [`Bert::forward_train`], and the buffers both reuse.
#[derive(Debug, Default)]
pub(crate) struct BertTape {
    ids: Vec<PieceId>,
    lens: Vec<usize>,
    /// The output is the mean of the last this many layers' outputs.
    mean_of_last: usize,
    /// The sum of those outputs (forward), then the share of the output gradient each
    /// receives (backward).
    mix: Vec<f32>,
    embed_norm: NormCache,
    /// Dropout on the embeddings' output.
    embed_dropout: Mask,
    layers: Vec<LayerTape>,
    scratch: LayerScratch,
}

/// What one layer's backward pass needs from its forward pass.
#[derive(Debug, Default)]
struct LayerTape {
    /// The layer's input: `qkv`'s input and the first residual.
    input: Vec<f32>,
    /// The fused query-key-value projection.
    qkv: Vec<f32>,
    /// Attention probabilities, for each input, for each head, and their dropout.
    probs: Vec<f32>,
    probs_dropout: Mask,
    /// The heads' output: `out`'s input.
    context: Vec<f32>,
    /// Dropout on `out`'s output.
    out_dropout: Mask,
    attn_norm: NormCache,
    /// The attention block's output: `up`'s input and the second residual.
    mid: Vec<f32>,
    /// `up`'s output, the GELU's input.
    inner: Vec<f32>,
    /// Dropout on `down`'s output.
    down_dropout: Mask,
    ffn_norm: NormCache,
}

/// Buffers every layer's passes reuse.
#[derive(Debug, Default)]
struct LayerScratch {
    /// The GELU's output, recomputed in the backward pass rather than kept per layer.
    activated: Vec<f32>,
    d_inner: Vec<f32>,
    /// The gradient of a dropout's input, when the block's output gradient is also the
    /// residual's.
    d_dropped: Vec<f32>,
    d_context: Vec<f32>,
    d_qkv: Vec<f32>,
    heads: HeadScratch,
}

impl Bert {
    /// [`Bert::forward`] (the mean of the last `mean_of_last` layers' outputs) with
    /// `dropout` (masks drawn from the generator), recording in `tape` what
    /// [`Bert::backward`] needs.
    ///
    /// # Panics
    ///
    /// As [`Bert::forward`], and if a dropout rate is not in `[0, 1)`.
    pub(crate) fn forward_train(
        &self,
        ids: &[PieceId],
        lens: &[usize],
        mean_of_last: usize,
        (dropout, rng): (Dropout, &mut Rng),
        tape: &mut BertTape,
        out: &mut Vec<f32>,
    ) {
        let n_layers = self.layers.len();
        assert!((1..=n_layers).contains(&mean_of_last), "no layers to average");
        let x = sized(out, ids.len() * self.config.hidden);
        self.embed(ids, lens, x, Some(&mut tape.embed_norm));
        tape.embed_dropout.draw(x.len(), dropout.hidden, rng);
        tape.embed_dropout.apply(0, x);
        tape.ids.clear();
        tape.ids.extend_from_slice(ids);
        tape.lens.clear();
        tape.lens.extend_from_slice(lens);
        tape.layers.resize_with(n_layers, LayerTape::default);
        tape.mean_of_last = mean_of_last;
        let mix = sized(&mut tape.mix, if mean_of_last > 1 { x.len() } else { 0 });
        mix.fill(0.0);
        for (l, (layer, t)) in self.layers.iter().zip(&mut tape.layers).enumerate() {
            layer.forward_train(&self.config, x, lens, (dropout, &mut *rng), t, &mut tape.scratch);
            if mean_of_last > 1 && l + mean_of_last >= n_layers {
                add(&mut tape.mix, x);
            }
        }
        if mean_of_last > 1 {
            let scale = 1.0 / mean_of_last as f32;
            x.iter_mut().zip(&tape.mix).for_each(|(v, m)| *v = m * scale);
        }
    }

    /// Accumulates into `grad` the gradient of every parameter, given `d`, the gradient of
    /// the loss with respect to the hidden states of [`Bert::forward_train`]'s latest call
    /// with `tape` (each of the last `mean_of_last` layers' outputs receives `d / k`). `d`
    /// is overwritten with the gradient with respect to the summed input embeddings (word +
    /// position + token type, one row per piece). A `grad` whose word table is empty
    /// leaves that table out (it is not trained).
    ///
    /// # Panics
    ///
    /// Panics if `d` does not have one row per piece of the tape's batch, or `grad` is not
    /// of this encoder's shape.
    pub(crate) fn backward(&self, tape: &mut BertTape, d: &mut [f32], grad: &mut Bert) {
        let hidden = self.config.hidden;
        assert_eq!(d.len(), tape.ids.len() * hidden, "the gradient is not one row per piece");
        assert_eq!(grad.config, self.config, "the gradient is of another encoder");
        let (n_layers, k) = (self.layers.len(), tape.mean_of_last);
        if k > 1 {
            let scale = 1.0 / k as f32;
            d.iter_mut().for_each(|v| *v *= scale);
            tape.mix.clear();
            tape.mix.extend_from_slice(d);
        }
        let layers = self.layers.iter().zip(&mut grad.layers).zip(&tape.layers);
        for (l, ((layer, g), t)) in layers.enumerate().rev() {
            // Layer `l`'s output feeds the mean as well as layer `l + 1`.
            if k > 1 && l + 1 < n_layers && l + k >= n_layers {
                add(d, &tape.mix);
            }
            layer.backward(&self.config, d, &tape.lens, t, &mut tape.scratch, g);
        }
        tape.embed_dropout.apply(0, d);
        self.embed_norm.backward(d, &tape.embed_norm, &mut grad.embed_norm);
        let positions = tape.lens.iter().flat_map(|&len| 0..len);
        for ((row, id), p) in d.chunks_exact(hidden).zip(&tape.ids).zip(positions) {
            let word = (!grad.word.is_empty())
                .then(|| &mut grad.word[id.index() * hidden..(id.index() + 1) * hidden]);
            let tables = [
                word,
                Some(&mut grad.position[p * hidden..(p + 1) * hidden]),
                Some(&mut grad.token_type[..hidden]),
            ];
            for table in tables.into_iter().flatten() {
                table.iter_mut().zip(row).for_each(|(g, d)| *g += d);
            }
        }
    }

    /// An encoder of the same shape with every parameter zero (a gradient accumulator).
    pub(crate) fn zeros_like(&self) -> Self {
        let zeros = |v: &Vec<f32>| vec![0.0; v.len()];
        Self {
            config: self.config,
            word: zeros(&self.word),
            position: zeros(&self.position),
            token_type: zeros(&self.token_type),
            embed_norm: self.embed_norm.zeros_like(),
            layers: self.layers.iter().map(BertLayer::zeros_like).collect(),
        }
    }
}

impl BertLayer {
    /// The layer's forward pass over `x` (rows of the inputs `lens` describes) in place,
    /// with `dropout`, recording in `tape` what [`BertLayer::backward`] needs.
    fn forward_train(
        &self,
        config: &BertConfig,
        x: &mut [f32],
        lens: &[usize],
        (dropout, rng): (Dropout, &mut Rng),
        tape: &mut LayerTape,
        scratch: &mut LayerScratch,
    ) {
        let BertConfig { hidden, intermediate, heads, layer_norm_eps: eps, .. } = *config;
        let n = x.len() / hidden;
        tape.input.clear();
        tape.input.extend_from_slice(x);
        self.qkv.forward(&tape.input, sized(&mut tape.qkv, n * 3 * hidden));
        let context = sized(&mut tape.context, n * hidden);
        let probs = lens.iter().map(|len| heads * len * len).sum();
        tape.probs_dropout.draw(probs, dropout.attention, rng);
        let kept = Some((&mut tape.probs, &tape.probs_dropout));
        attend(&tape.qkv, lens, config.head_shape(), context, &mut scratch.heads, kept);
        let mid = sized(&mut tape.mid, n * hidden);
        self.out.forward(&tape.context, mid);
        tape.out_dropout.draw(mid.len(), dropout.hidden, rng);
        tape.out_dropout.apply(0, mid);
        add(mid, &tape.input);
        self.attn_norm.forward_with_eps(mid, eps, Some(&mut tape.attn_norm));
        self.up.forward(&tape.mid, sized(&mut tape.inner, n * intermediate));
        activate(&tape.inner, &mut scratch.activated);
        self.down.forward(&scratch.activated, x);
        tape.down_dropout.draw(x.len(), dropout.hidden, rng);
        tape.down_dropout.apply(0, x);
        add(x, &tape.mid);
        self.ffn_norm.forward_with_eps(x, eps, Some(&mut tape.ffn_norm));
    }

    /// The layer's backward pass: turns `d`, the gradient of its output, into the gradient
    /// of its input in place, accumulating the parameters' gradients into `grad`.
    fn backward(
        &self,
        config: &BertConfig,
        d: &mut [f32],
        lens: &[usize],
        tape: &LayerTape,
        scratch: &mut LayerScratch,
        grad: &mut BertLayer,
    ) {
        let BertConfig { hidden, intermediate, .. } = *config;
        let n = d.len() / hidden;
        self.ffn_norm.backward(d, &tape.ffn_norm, &mut grad.ffn_norm);
        activate(&tape.inner, &mut scratch.activated);
        let d_inner = sized(&mut scratch.d_inner, n * intermediate);
        d_inner.fill(0.0);
        let d_down = masked(d, &tape.down_dropout, &mut scratch.d_dropped);
        self.down.backward(&scratch.activated, d_down, Some(d_inner), &mut grad.down);
        gelu_backward(&tape.inner, &mut scratch.d_inner);
        // `d` holds the residual's share of the gradient; `up` adds the feed-forward's.
        self.up.backward(&tape.mid, &scratch.d_inner, Some(d), &mut grad.up);
        self.attn_norm.backward(d, &tape.attn_norm, &mut grad.attn_norm);
        let d_context = sized(&mut scratch.d_context, n * hidden);
        d_context.fill(0.0);
        let d_out = masked(d, &tape.out_dropout, &mut scratch.d_dropped);
        self.out.backward(&tape.context, d_out, Some(d_context), &mut grad.out);
        let d_qkv = sized(&mut scratch.d_qkv, n * 3 * hidden);
        let (probs, shape) = ((&tape.probs[..], &tape.probs_dropout), config.head_shape());
        attend_backward(
            &tape.qkv,
            probs,
            lens,
            shape,
            &scratch.d_context,
            d_qkv,
            &mut scratch.heads,
        );
        self.qkv.backward(&tape.input, &scratch.d_qkv, Some(d), &mut grad.qkv);
    }

    /// A layer of the same shape with every parameter zero.
    fn zeros_like(&self) -> Self {
        Self {
            qkv: self.qkv.zeros_like(),
            out: self.out.zeros_like(),
            attn_norm: self.attn_norm.zeros_like(),
            up: self.up.zeros_like(),
            down: self.down.zeros_like(),
            ffn_norm: self.ffn_norm.zeros_like(),
        }
    }
}

/// The gradient `d` through the dropout `mask`: `d` itself when it drops nothing, else
/// its product with the mask in `buf`.
fn masked<'a>(d: &'a [f32], mask: &Mask, buf: &'a mut Vec<f32>) -> &'a [f32] {
    if mask.is_identity() {
        return d;
    }
    buf.clear();
    buf.extend_from_slice(d);
    mask.apply(0, buf);
    buf
}

/// `pre` through the GELU into `out`.
fn activate(pre: &[f32], out: &mut Vec<f32>) {
    out.clear();
    out.extend_from_slice(pre);
    gelu(out);
}

/// The parameters of an encoder that fine-tuning trains: all of them, or all but the word
/// table.
struct Trained<'a> {
    bert: &'a mut Bert,
    /// Whether the word-embedding table is trained.
    words: bool,
}

impl Params for Trained<'_> {
    fn params(&self) -> Vec<&[f32]> {
        let mut params = self.bert.params();
        if !self.words {
            params.remove(0);
        }
        params
    }

    fn params_mut(&mut self) -> Vec<&mut [f32]> {
        let mut params = self.bert.params_mut();
        if !self.words {
            params.remove(0);
        }
        params
    }
}

impl Params for BertLayer {
    fn params(&self) -> Vec<&[f32]> {
        let mut params = self.qkv.params();
        params.extend(self.out.params());
        params.extend(self.attn_norm.params());
        params.extend(self.up.params());
        params.extend(self.down.params());
        params.extend(self.ffn_norm.params());
        params
    }

    fn params_mut(&mut self) -> Vec<&mut [f32]> {
        let mut params = self.qkv.params_mut();
        params.extend(self.out.params_mut());
        params.extend(self.attn_norm.params_mut());
        params.extend(self.up.params_mut());
        params.extend(self.down.params_mut());
        params.extend(self.ffn_norm.params_mut());
        params
    }
}

impl Params for Bert {
    fn params(&self) -> Vec<&[f32]> {
        let mut params: Vec<&[f32]> = vec![&self.word, &self.position, &self.token_type];
        params.extend(self.embed_norm.params());
        params.extend(self.layers.iter().flat_map(BertLayer::params));
        params
    }

    fn params_mut(&mut self) -> Vec<&mut [f32]> {
        let mut params: Vec<&mut [f32]> =
            vec![&mut self.word, &mut self.position, &mut self.token_type];
        params.extend(self.embed_norm.params_mut());
        params.extend(self.layers.iter_mut().flat_map(BertLayer::params_mut));
        params
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::nn::Rng;
    use crate::pipeline::nn::check::{Probe, assert_gradients};
    use crate::pipeline::transformer::bert::{BertScratch, tests::tiny};

    /// Width 8 in 2 heads, feed-forward 16, 2 layers, 20 pieces, BERT's epsilon.
    const SMALL: BertConfig = BertConfig {
        vocab: 20,
        hidden: 8,
        layers: 2,
        heads: 2,
        intermediate: 16,
        max_positions: 8,
        type_vocab: 2,
        layer_norm_eps: 1e-12,
    };

    /// Two inputs of different lengths, batched: 4 and 6 pieces.
    const LENS: [usize; 2] = [4, 6];

    fn ids() -> Vec<PieceId> {
        [2, 5, 9, 3, 2, 7, 7, 11, 19, 3].map(PieceId::new).to_vec()
    }

    /// Dropout at rates high enough to drop something in these small batches; each pass
    /// draws the same masks (from a generator seeded alike), so the loss is smooth.
    const DROPOUT: Dropout = Dropout { hidden: 0.2, attention: 0.2 };

    /// The encoder's training forward pass over [`ids`] with `dropout`, the mean of the
    /// last `layers` layers' outputs.
    fn encode(bert: &Bert, layers: usize, dropout: Dropout) -> Vec<f32> {
        let mut out = Vec::new();
        let dropout = (dropout, &mut Rng::new(17));
        bert.forward_train(&ids(), &LENS, layers, dropout, &mut BertTape::default(), &mut out);
        out
    }

    /// Its backward pass, after a forward pass, for output gradient `dy`.
    fn encode_backward(
        bert: &Bert,
        layers: usize,
        dropout: Dropout,
        dy: &[f32],
        grad: &mut Bert,
    ) -> Vec<f32> {
        let mut tape = BertTape::default();
        let dropout = (dropout, &mut Rng::new(17));
        bert.forward_train(&ids(), &LENS, layers, dropout, &mut tape, &mut Vec::new());
        let mut d = dy.to_vec();
        bert.backward(&mut tape, &mut d, grad);
        d
    }

    #[test]
    fn the_training_forward_pass_computes_the_inference_one() {
        let bert = tiny(SMALL, &mut Rng::new(8));
        for layers in [1, 2] {
            let mut want = Vec::new();
            bert.forward(&ids(), &LENS, layers, &mut BertScratch::default(), &mut want);
            assert_eq!(encode(&bert, layers, Dropout::default()), want);
            assert_ne!(encode(&bert, layers, DROPOUT), want);
        }
    }

    /// A layer's backward pass as a [`Probe`] takes it: input gradient out, parameter
    /// gradients accumulated.
    type LayerBackward = fn(&BertLayer, &[f32], &[f32], &mut BertLayer) -> Vec<f32>;

    /// A layer's forward pass as a [`Probe`] takes it.
    type LayerForward = fn(&BertLayer, &[f32]) -> Vec<f32>;

    /// The first layer of `bert` as a [`Probe`] with `backward`: its input is a batch of
    /// two inputs' hidden states.
    fn layer_probe(
        bert: &Bert,
        backward: LayerBackward,
    ) -> Probe<BertLayer, LayerForward, LayerBackward, fn(&BertLayer) -> BertLayer> {
        let mut rng = Rng::new(12);
        let input = (0..10 * SMALL.hidden).map(|_| rng.normal(1.0)).collect();
        Probe {
            layer: bert.layers[0].clone(),
            input,
            forward: layer_forward,
            backward,
            zeros: BertLayer::zeros_like,
        }
    }

    /// [`BertLayer::forward_train`] with [`DROPOUT`], for [`layer_probe`].
    fn layer_forward(l: &BertLayer, x: &[f32]) -> Vec<f32> {
        let mut y = x.to_vec();
        let (mut tape, mut scratch) = (LayerTape::default(), LayerScratch::default());
        let dropout = (DROPOUT, &mut Rng::new(17));
        l.forward_train(&SMALL, &mut y, &LENS, dropout, &mut tape, &mut scratch);
        y
    }

    /// [`BertLayer::backward`] after [`layer_forward`]'s pass, for [`layer_probe`].
    fn layer_backward(l: &BertLayer, x: &[f32], dy: &[f32], g: &mut BertLayer) -> Vec<f32> {
        let (mut tape, mut scratch) = (LayerTape::default(), LayerScratch::default());
        let dropout = (DROPOUT, &mut Rng::new(17));
        l.forward_train(&SMALL, &mut x.to_vec(), &LENS, dropout, &mut tape, &mut scratch);
        let mut d = dy.to_vec();
        l.backward(&SMALL, &mut d, &LENS, &tape, &mut scratch, g);
        d
    }

    #[test]
    fn a_layer_s_gradients_with_dropout_match_finite_differences() {
        let bert = tiny(SMALL, &mut Rng::new(9));
        assert_gradients(layer_probe(&bert, layer_backward));
    }

    #[test]
    #[should_panic(expected = "analytic")]
    fn a_layer_gradient_that_forgets_a_residual_fails_the_check() {
        let bert = tiny(SMALL, &mut Rng::new(9));
        // The input gradient without the share that bypasses both blocks through their
        // residual connections (through the two layer normalisations only).
        let forgetful = |l: &BertLayer, x: &[f32], dy: &[f32], g: &mut BertLayer| {
            let (mut tape, mut scratch) = (LayerTape::default(), LayerScratch::default());
            let dropout = (DROPOUT, &mut Rng::new(17));
            l.forward_train(&SMALL, &mut x.to_vec(), &LENS, dropout, &mut tape, &mut scratch);
            let mut d = dy.to_vec();
            l.ffn_norm.backward(&mut d, &tape.ffn_norm, &mut g.ffn_norm);
            let mut residual = d.clone();
            l.attn_norm.backward(&mut residual, &tape.attn_norm, &mut l.zeros_like().attn_norm);
            let mut full = layer_backward(l, x, dy, &mut l.zeros_like());
            full.iter_mut().zip(&residual).for_each(|(f, r)| *f -= r);
            full
        };
        assert_gradients(layer_probe(&bert, forgetful));
    }

    #[test]
    fn the_whole_encoder_s_gradients_match_finite_differences() {
        // Every parameter, the embedding tables' included (rows no piece uses get 0), with
        // dropout and without, for the last layer's output and for the mean of the last two
        // (`d / 2` injected at each).
        for (layers, dropout) in [(1, Dropout::default()), (1, DROPOUT), (2, DROPOUT)] {
            assert_gradients(Probe {
                layer: tiny(SMALL, &mut Rng::new(10)),
                input: Vec::new(),
                forward: |bert: &Bert, _: &[f32]| encode(bert, layers, dropout),
                backward: |bert: &Bert, _: &[f32], dy: &[f32], grad: &mut Bert| {
                    encode_backward(bert, layers, dropout, dy, grad);
                    Vec::new()
                },
                zeros: Bert::zeros_like,
            });
        }
    }

    #[test]
    fn the_encoder_returns_the_gradient_of_its_input_embeddings() {
        // Shifting the embedding tables' rows a piece uses by `δ` moves the loss by
        // `δ · d(input embeddings)` summed over the piece's occurrences: check it on the
        // token-type row every piece uses.
        let bert = tiny(SMALL, &mut Rng::new(11));
        let mut rng = Rng::new(4);
        let dy: Vec<f32> = (0..10 * SMALL.hidden).map(|_| rng.normal(1.0)).collect();
        let mut grad = bert.zeros_like();
        let d = encode_backward(&bert, 1, Dropout::default(), &dy, &mut grad);
        let mut summed = [0.0; 8];
        for row in d.chunks_exact(8) {
            summed.iter_mut().zip(row).for_each(|(s, d)| *s += d);
        }
        for (s, g) in summed.iter().zip(&grad.token_type[..8]) {
            assert!((s - g).abs() < 1e-5, "{s} vs {g}");
        }
        assert!(grad.token_type[8..].iter().all(|&g| g == 0.0), "type 1 is never used");
        assert!(grad.word[0..8].iter().all(|&g| g == 0.0), "piece 0 is never used");
    }

    #[test]
    fn adam_steps_through_the_params_lower_a_loss() {
        // Pull the hidden states towards random targets: ½ ‖h − t‖².
        let mut model = super::super::tests::tiny(super::super::tests::TINY_WINDOWS);
        let mut rng = Rng::new(6);
        let ids = ids();
        let target: Vec<f32> = (0..10 * 8).map(|_| rng.normal(1.0)).collect();
        let config = AdamConfig { learn_rate: 0.01, ..AdamConfig::default() };
        let mut trainer = EncoderTrainer::new(&model, config, DROPOUT, 3, false);
        let mut hidden = Vec::new();
        let mut losses = Vec::new();
        for _ in 0..20 {
            trainer.forward(&model, &ids, &LENS, &mut hidden);
            let mut d: Vec<f32> = hidden.iter().zip(&target).map(|(h, t)| h - t).collect();
            losses.push(d.iter().map(|d| d * d).sum::<f32>() / 2.0);
            trainer.backward(&model, &mut d);
            trainer.update(&mut model, 1.0);
        }
        assert!(losses[19] < 0.8 * losses[0], "{losses:?}");
        assert!(trainer.grad.params().iter().all(|p| p.iter().all(|&g| g == 0.0)));
    }
}

//! The encoder: hash embeddings and residual convolution blocks, forward and backward.
//!
//! # Overview
//!
//! An [`Encoder`] embeds a batch's feature keys (see `features`), mixes them to its width
//! and runs them through its blocks; [`Tok2VecConfig`] gives its shape. The forward pass is
//! shared by inference and training; training passes a [`Tok2VecCache`] to keep what the
//! backward pass needs (see the [tok2vec docs](super)).

use rustc_hash::FxHashSet;
use serde::{Deserialize, Serialize};

use super::features::Attr;
use crate::pipeline::nn::{HashEmbed, LayerNorm, Maxout, NormCache, Params, Rng};

/// One embedding table of the configuration.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmbedConfig {
    /// The attribute it reads.
    pub attr: Attr,
    /// Rows in the table.
    pub rows: usize,
    /// Width of each vector.
    pub width: usize,
}

/// Shape of an [`Encoder`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tok2VecConfig {
    /// The embedding tables, concatenated in this order.
    pub embed: Vec<EmbedConfig>,
    /// Width of the output vectors.
    pub width: usize,
    /// Number of residual convolution blocks.
    pub depth: usize,
    /// Neighbours on each side that a block sees.
    pub window: usize,
    /// Each block's dilation: the step between the neighbours it sees (all 1 when empty).
    /// Growing dilations widen the context at no cost, e.g. `[1, 2, 3, 4]` sees ±10
    /// tokens with window 1, against ±4 without.
    #[serde(default)]
    pub dilations: Vec<usize>,
    /// Maxout pieces.
    pub pieces: usize,
    /// Words seen fewer times in training are unknown (read as one shared key); 0 keeps
    /// every word's identity.
    #[serde(default)]
    pub min_word_count: usize,
}

/// One layer: Maxout → LayerNorm. Encoder blocks see a dilated window and add their output
/// to their input; the mixer sees the embeddings.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Block {
    pub(crate) maxout: Maxout,
    pub(crate) norm: LayerNorm,
    pub(crate) dilation: usize,
}

/// One encoder: hash embeddings and residual convolution blocks. See the
/// [tok2vec docs](super).
#[derive(Clone, Debug, PartialEq)]
pub struct Encoder {
    pub(crate) attrs: Vec<Attr>,
    pub(crate) embeds: Vec<HashEmbed>,
    pub(crate) mixer: Block,
    pub(crate) blocks: Vec<Block>,
    pub(crate) window: usize,
    /// The norm and lowercase keys of the known words (`None`: every word is known).
    pub(crate) known: Option<FxHashSet<u64>>,
}

/// Activations of one layer kept for the backward pass.
#[derive(Debug, Default)]
pub(crate) struct LayerCache {
    input: Vec<f32>,
    arg: Vec<u8>,
    norm: NormCache,
    mask: Vec<f32>,
}

/// Everything the backward pass of a training batch needs.
#[derive(Debug, Default)]
pub(crate) struct Tok2VecCache {
    layers: Vec<LayerCache>,
    pre: Vec<f32>,
}

/// Dropout for a training forward pass.
pub(crate) struct Dropout<'r> {
    pub(crate) rate: f32,
    pub(crate) rng: &'r mut Rng,
}

impl Encoder {
    /// A freshly initialised model whose mixer reads, after the hash embeddings, `features`
    /// dense values per token (the transformer's, see the [tok2vec docs](super); 0 for
    /// none).
    pub(crate) fn new(config: &Tok2VecConfig, features: usize, rng: &mut Rng) -> Self {
        let width = config.width;
        let embeds: Vec<_> = config
            .embed
            .iter()
            .enumerate()
            .map(|(i, e)| HashEmbed::new(e.rows, e.width, 0x5eed + i as u64, rng))
            .collect();
        let n_embed = config.embed.iter().map(|e| e.width).sum::<usize>() + features;
        let block = |n_in, dilation, rng: &mut Rng| Block {
            maxout: Maxout::new(n_in, width, config.pieces, rng),
            norm: LayerNorm::new(width),
            dilation,
        };
        Self {
            attrs: config.embed.iter().map(|e| e.attr).collect(),
            embeds,
            mixer: block(n_embed, 1, rng),
            blocks: (0..config.depth)
                .map(|l| {
                    let dilation = config.dilations.get(l).copied().unwrap_or(1).max(1);
                    block(width * (2 * config.window + 1), dilation, rng)
                })
                .collect(),
            window: config.window,
            known: None,
        }
    }

    /// A zeroed copy (a gradient accumulator).
    pub(crate) fn zeros_like(&self) -> Self {
        let zero = |b: &Block| Block {
            maxout: b.maxout.zeros_like(),
            norm: b.norm.zeros_like(),
            dilation: b.dilation,
        };
        Self {
            attrs: self.attrs.clone(),
            embeds: self.embeds.iter().map(HashEmbed::zeros_like).collect(),
            mixer: zero(&self.mixer),
            blocks: self.blocks.iter().map(zero).collect(),
            window: self.window,
            known: None,
        }
    }

    /// Width of the output vectors.
    pub fn width(&self) -> usize {
        self.mixer.norm.g.len()
    }

    /// Whether `other` reads the same feature keys of every document (the same
    /// attributes and known words), so that [`Self::push_keys`] need not run twice.
    pub(crate) fn reads_keys_of(&self, other: &Encoder) -> bool {
        self.attrs == other.attrs && self.known == other.known
    }

    fn embed_width(&self) -> usize {
        self.embeds.iter().map(|e| e.width).sum()
    }

    /// Width of the dense features each token's row of the mixer input ends with (0 when
    /// the encoder reads hash embeddings only): the mixer's input width beyond the
    /// embeddings, so model files need no field of their own for it.
    pub fn feature_width(&self) -> usize {
        self.mixer.maxout.affine.n_in - self.embed_width()
    }

    /// Encodes a batch of documents given their keys (from [`Self::push_keys`]), dense
    /// `features` (total tokens × [`Self::feature_width`]; empty when that is 0) and
    /// lengths into `out` (total tokens × width). With `cache`, keeps what
    /// [`Self::backward`] needs; with `dropout`, applies it after the mixer and each block.
    ///
    /// # Panics
    ///
    /// Panics if `keys` or `features` do not have a row per token.
    pub(crate) fn forward(
        &self,
        keys: &[u64],
        features: &[f32],
        lengths: &[usize],
        out: &mut Vec<f32>,
        cache: Option<&mut Tok2VecCache>,
        mut dropout: Option<Dropout<'_>>,
    ) {
        let n: usize = lengths.iter().sum();
        let n_attrs = self.attrs.len();
        assert_eq!(keys.len(), n * n_attrs, "one key per token and attribute");
        let n_features = self.feature_width();
        assert_eq!(features.len(), n * n_features, "one row of features per token");
        let width = self.width();
        let train = cache.is_some();
        let mut scratch = Tok2VecCache::default();
        let cache: &mut Tok2VecCache = match cache {
            Some(cache) => cache,
            None => &mut scratch,
        };
        // Inference reuses one layer's buffers for every layer.
        let n_layers = if train { self.blocks.len() + 1 } else { 1 };
        cache.layers.resize_with(n_layers, LayerCache::default);

        // Embeddings, concatenated per token, then the features.
        let stride = self.embed_width() + n_features;
        let input = &mut cache.layers[0].input;
        input.resize(n * stride, 0.0);
        let mut offset = 0;
        let mut column = Vec::with_capacity(n);
        for (a, embed) in self.embeds.iter().enumerate() {
            column.clear();
            column.extend(keys.iter().skip(a).step_by(n_attrs));
            embed.forward(&column, input, stride, offset);
            offset += embed.width;
        }
        if n_features > 0 {
            for (row, f) in input.chunks_exact_mut(stride).zip(features.chunks_exact(n_features)) {
                row[offset..].copy_from_slice(f);
            }
        }

        out.resize(n * width, 0.0);
        let layer = &mut cache.layers[0];
        run_block(&self.mixer, layer, &mut cache.pre, out, train, dropout.as_mut());
        let mut y = vec![0.0; n * width];
        for (l, block) in self.blocks.iter().enumerate() {
            let layer = &mut cache.layers[if train { l + 1 } else { 0 }];
            window(out, lengths, (width, self.window, block.dilation), &mut layer.input);
            run_block(block, layer, &mut cache.pre, &mut y, train, dropout.as_mut());
            for (o, d) in out.iter_mut().zip(&y) {
                *o += d;
            }
        }
    }

    /// Backpropagates `d_out` (the gradient of the loss with respect to the output of the
    /// forward pass that filled `cache`) into `grad`, and returns the gradient with respect
    /// to that pass's dense features (tokens × [`Self::feature_width`]; empty without
    /// features): what fine-tuning the transformer that computed them would backpropagate
    /// further.
    pub(crate) fn backward(
        &self,
        keys: &[u64],
        lengths: &[usize],
        cache: &mut Tok2VecCache,
        mut d_out: Vec<f32>,
        grad: &mut Encoder,
    ) -> Vec<f32> {
        let width = self.width();
        let n = d_out.len() / width;
        let mut d_window = Vec::new();
        for ((block, layer), g) in
            self.blocks.iter().zip(&cache.layers[1..]).zip(&mut grad.blocks).rev()
        {
            let mut d = d_out.clone();
            d_window.clear();
            d_window.resize(layer.input.len(), 0.0);
            block_backward(block, layer, &mut cache.pre, &mut d, &mut d_window, g);
            window_backward(&d_window, lengths, (width, self.window, block.dilation), &mut d_out);
        }
        let layer = &cache.layers[0];
        let n_features = self.feature_width();
        let stride = self.embed_width() + n_features;
        let mut d_embed = vec![0.0; n * stride];
        block_backward(
            &self.mixer,
            layer,
            &mut cache.pre,
            &mut d_out,
            &mut d_embed,
            &mut grad.mixer,
        );
        let n_attrs = self.attrs.len();
        let mut offset = 0;
        let mut column = Vec::with_capacity(n);
        for (a, (embed, g)) in self.embeds.iter().zip(&mut grad.embeds).enumerate() {
            column.clear();
            column.extend(keys.iter().skip(a).step_by(n_attrs));
            embed.backward(&column, &d_embed, stride, offset, g);
            offset += embed.width;
        }
        let mut d_features = Vec::with_capacity(n * n_features);
        if n_features > 0 {
            d_features.extend(d_embed.chunks_exact(stride).flat_map(|row| &row[offset..]));
        }
        d_features
    }
}

/// Maxout → LayerNorm (→ dropout) of `layer.input` into `y`, caching when `train`.
fn run_block(
    block: &Block,
    layer: &mut LayerCache,
    pre: &mut Vec<f32>,
    y: &mut [f32],
    train: bool,
    dropout: Option<&mut Dropout<'_>>,
) {
    let n = y.len() / block.norm.g.len();
    pre.resize(n * block.maxout.affine.n_out, 0.0);
    if train {
        layer.arg.resize(y.len(), 0);
        block.maxout.forward(&layer.input, pre, y, Some(&mut layer.arg));
        block.norm.forward(y, Some(&mut layer.norm));
    } else {
        block.maxout.forward(&layer.input, pre, y, None);
        block.norm.forward(y, None);
    }
    layer.mask.clear();
    if let Some(dropout) = dropout {
        let rate = dropout.rate;
        let keep = 1.0 / (1.0 - rate);
        let rng = &mut *dropout.rng;
        layer.mask.extend((0..y.len()).map(|_| if rng.unit() < rate { 0.0 } else { keep }));
        for (v, m) in y.iter_mut().zip(&layer.mask) {
            *v *= m;
        }
    }
}

/// The backward pass of [`run_block`]: `d` (output gradient, consumed) → `d_input`.
fn block_backward(
    block: &Block,
    layer: &LayerCache,
    pre: &mut Vec<f32>,
    d: &mut [f32],
    d_input: &mut [f32],
    grad: &mut Block,
) {
    for (v, m) in d.iter_mut().zip(&layer.mask) {
        *v *= m;
    }
    block.norm.backward(d, &layer.norm, &mut grad.norm);
    pre.resize(layer.arg.len() * block.maxout.pieces, 0.0);
    block.maxout.backward(&layer.input, d, &layer.arg, pre, Some(d_input), &mut grad.maxout);
}

/// Concatenates each token's row with its `w` neighbours on each side, `d` tokens apart
/// (zeros past the ends of its document), into `out` (n × (2w + 1)·width).
fn window(x: &[f32], lengths: &[usize], (width, w, d): (usize, usize, usize), out: &mut Vec<f32>) {
    let span = 2 * w + 1;
    // Every slot is written below, so the buffer's old contents need no clearing.
    out.resize(x.len() * span, 0.0);
    let mut start = 0;
    for &len in lengths {
        for i in 0..len {
            let row = &mut out[(start + i) * span * width..(start + i + 1) * span * width];
            for (slot, dst) in row.chunks_exact_mut(width).enumerate() {
                let j = i as isize + (slot as isize - w as isize) * d as isize;
                if (0..len as isize).contains(&j) {
                    let src = (start + j as usize) * width;
                    dst.copy_from_slice(&x[src..src + width]);
                } else {
                    dst.fill(0.0);
                }
            }
        }
        start += len;
    }
}

/// Adds the gradient of [`window`]'s output, `d_win`, into `dx`.
fn window_backward(
    d_win: &[f32],
    lengths: &[usize],
    (width, w, d): (usize, usize, usize),
    dx: &mut [f32],
) {
    let span = 2 * w + 1;
    let mut start = 0;
    for &len in lengths {
        for i in 0..len {
            let row = &d_win[(start + i) * span * width..(start + i + 1) * span * width];
            for slot in 0..span {
                let j = i as isize + (slot as isize - w as isize) * d as isize;
                if (0..len as isize).contains(&j) {
                    let dst = (start + j as usize) * width;
                    for (g, s) in dx[dst..dst + width].iter_mut().zip(&row[slot * width..]) {
                        *g += s;
                    }
                }
            }
        }
        start += len;
    }
}

impl Params for Block {
    fn params(&self) -> Vec<&[f32]> {
        let mut p = self.maxout.params();
        p.extend(self.norm.params());
        p
    }

    fn params_mut(&mut self) -> Vec<&mut [f32]> {
        let mut p = self.maxout.params_mut();
        p.extend(self.norm.params_mut());
        p
    }
}

impl Params for Encoder {
    fn params(&self) -> Vec<&[f32]> {
        let mut p: Vec<&[f32]> = self.embeds.iter().flat_map(Params::params).collect();
        p.extend(self.mixer.params());
        p.extend(self.blocks.iter().flat_map(Params::params));
        p
    }

    fn params_mut(&mut self) -> Vec<&mut [f32]> {
        let mut p: Vec<&mut [f32]> = self.embeds.iter_mut().flat_map(Params::params_mut).collect();
        p.extend(self.mixer.params_mut());
        p.extend(self.blocks.iter_mut().flat_map(Params::params_mut));
        p
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::doc::Doc;
    use crate::pipeline::nn::check::{Probe, assert_gradients};
    use crate::vocab::Vocab;

    /// A small encoder shape: two tables, two dilated blocks, width 4.
    pub(crate) fn tiny_config() -> Tok2VecConfig {
        let embed = |attr| EmbedConfig { attr, rows: 7, width: 3 };
        Tok2VecConfig {
            embed: vec![embed(Attr::Norm), embed(Attr::Suffix(2))],
            width: 4,
            depth: 2,
            window: 1,
            dilations: vec![1, 2],
            pieces: 2,
            min_word_count: 0,
        }
    }

    #[test]
    fn gradients_match_finite_differences_across_documents() {
        // Without dense features, and with 3 per token (the transformer's, in a trf
        // pipeline), whose gradient is the probe's input gradient.
        for n_features in [0, 3] {
            let model = Encoder::new(&tiny_config(), n_features, &mut Rng::new(8));
            assert_eq!(model.feature_width(), n_features);
            let vocab = Vocab::new();
            let zone = vocab.zone();
            let docs = [
                Doc::from_words(&zone, &["Hi", "there"], &[true, false]),
                Doc::from_words(&zone, &["a", "cat", "sat"], &[true, true, false]),
            ];
            let mut keys = Vec::new();
            for doc in &docs {
                model.push_keys(doc, &mut keys);
            }
            let lengths = [2, 3];
            let mut rng = Rng::new(5);
            assert_gradients(Probe {
                layer: model,
                input: (0..5 * n_features).map(|_| rng.normal(0.5)).collect(),
                forward: |m: &Encoder, features: &[f32]| {
                    let mut out = Vec::new();
                    m.forward(&keys, features, &lengths, &mut out, None, None);
                    out
                },
                backward: |m: &Encoder, features: &[f32], dy: &[f32], g: &mut Encoder| {
                    let (mut out, mut cache) = (Vec::new(), Tok2VecCache::default());
                    m.forward(&keys, features, &lengths, &mut out, Some(&mut cache), None);
                    m.backward(&keys, &lengths, &mut cache, dy.to_vec(), g)
                },
                zeros: Encoder::zeros_like,
            });
        }
    }
}

//! `tok2vec`: contextual token vectors from hash embeddings and a convolutional encoder.
//!
//! # Overview
//!
//! [`Tok2Vec`] writes `Doc.tensor`, which every later component reads. Each of its
//! [`Encoder`]s turns a token into a vector of `width`:
//!
//! ```text
//! per token: [norm | shape | prefix… | suffix…] hash embeddings   (HashEmbed per Attr)
//!        ──► Maxout + LayerNorm to `width`                          (the mixer)
//!        ──► depth × residual blocks: concat the window of ±w neighbours (at a
//!            per-block dilation d: the tokens at offsets -w·d … w·d in steps of d)
//!                                      ──► Maxout + LayerNorm ──► add to the input
//! ```
//!
//! This is the architecture of spaCy's CNN pipelines (`MultiHashEmbed` +
//! `MaxoutWindowEncoder`). Features are string keys, hashed into small tables, so the model
//! needs no vocabulary: any token, even one first seen in a request's zone, gets a vector.
//! Affixes are read from the token text with ASCII case folded. The forward pass is shared
//! by inference and training; training passes a `Tok2VecCache` to keep what the backward
//! pass needs.
//!
//! A tok2vec may know its words: then word identity (the norm and lowercase features) is
//! only used for words seen often enough in training, and every other word reads one shared
//! "unknown word" key, which training also shows for a share of known words (word
//! dropout). A hash embedding would otherwise give an unseen word the row trained for some
//! unrelated word that shares its hash bucket; the unknown key instead carries what the model
//! learned about words it had not seen, so it relies on shape, affixes and context.
//!
//! A [`Tok2Vec`] usually has one encoder. An ensemble of pipelines trained from different
//! seeds has one per member: each token's row of the tensor is then the members' vectors
//! side by side (tokens × members·width), and every later component reads its member's
//! columns (see [`crate::pipeline::model_io::ensemble`]).

use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

use super::nn::{HashEmbed, LayerNorm, Maxout, NormCache, Params, Rng};
use super::{Component, ComponentError, ComponentKind};
use crate::doc::{Doc, Tensor};
use crate::vocab::LexFlags;

/// A token attribute that a hash-embedding table reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Attr {
    /// The lexeme's norm (lowercase with English norm exceptions).
    Norm,
    /// The lexeme's lowercase form.
    Lower,
    /// The lexeme's word shape ("Xxxxx", "dd").
    Shape,
    /// The first `n` characters, ASCII-lowercased.
    Prefix(u8),
    /// The last `n` characters, ASCII-lowercased.
    Suffix(u8),
    /// Whether whitespace (or the edge of the document) comes before and after the token:
    /// it tells an opening quote (`` `` ``) from a closing one (`''`), a hyphen from a dash.
    Spacing,
}

/// The key every unknown word's norm and lowercase features read (not the xxh3 hash of a
/// likely string; a clash would only make that string read as unknown).
pub(crate) const UNKNOWN_WORD: u64 = 0x756e_6b6e_6f77_6e21;

impl Attr {
    /// Whether the attribute carries word identity (read as [`UNKNOWN_WORD`] for words a
    /// tok2vec does not know).
    pub(crate) fn is_identity(self) -> bool {
        matches!(self, Attr::Norm | Attr::Lower)
    }

    /// The attribute's key for token `i` of `doc`.
    fn key(self, doc: &Doc<'_>, i: usize) -> u64 {
        let data = &doc.tokens()[i];
        let lex = data.lex();
        match self {
            Attr::Norm => lex.norm.as_u64(),
            Attr::Lower => lex.lower.as_u64(),
            Attr::Shape => lex.shape.as_u64(),
            Attr::Prefix(n) => affix_key(&doc.text()[data.span().bytes()], n, true),
            Attr::Suffix(n) => affix_key(&doc.text()[data.span().bytes()], n, false),
            Attr::Spacing => spacing_key(doc, i),
        }
    }

    /// A stable numeric code for model files.
    pub(crate) fn code(self) -> u16 {
        match self {
            Attr::Norm => 1,
            Attr::Lower => 2,
            Attr::Shape => 3,
            Attr::Prefix(n) => 0x100 | u16::from(n),
            Attr::Suffix(n) => 0x200 | u16::from(n),
            Attr::Spacing => 4,
        }
    }

    /// The attribute with numeric code `code`, if it is one.
    pub(crate) fn from_code(code: u16) -> Option<Attr> {
        let n = (code & 0xff) as u8;
        match code >> 8 {
            0 if code == 1 => Some(Attr::Norm),
            0 if code == 2 => Some(Attr::Lower),
            0 if code == 3 => Some(Attr::Shape),
            0 if code == 4 => Some(Attr::Spacing),
            1 if n > 0 => Some(Attr::Prefix(n)),
            2 if n > 0 => Some(Attr::Suffix(n)),
            _ => None,
        }
    }
}

/// The [`Attr::Spacing`] key of token `i`: one of four, for whitespace before and after.
fn spacing_key(doc: &Doc<'_>, i: usize) -> u64 {
    let tokens = doc.tokens();
    let is_space = |j: usize| tokens[j].lex().is(LexFlags::IS_SPACE);
    let before = i == 0 || tokens[i - 1].space_after() || is_space(i - 1);
    let after = tokens[i].space_after() || i + 1 == tokens.len() || is_space(i + 1);
    SPACING_KEYS[usize::from(before) << 1 | usize::from(after)]
}

/// The four [`Attr::Spacing`] keys (neither, after, before, both), arbitrary constants.
const SPACING_KEYS: [u64; 4] =
    [0x7370_6163_696e_6730, 0x7370_6163_696e_6731, 0x7370_6163_696e_6732, 0x7370_6163_696e_6733];

/// Hash of the first (or last) `n` characters of `text`, ASCII-lowercased, without
/// allocating.
fn affix_key(text: &str, n: u8, prefix: bool) -> u64 {
    let n = usize::from(n);
    let affix = if prefix {
        let end = text.char_indices().nth(n).map_or(text.len(), |(i, _)| i);
        &text[..end]
    } else {
        let start = text.char_indices().rev().nth(n - 1).map_or(0, |(i, _)| i);
        &text[start..]
    };
    let mut buf = [0_u8; 32];
    match buf.get_mut(..affix.len()) {
        Some(dst) => {
            dst.copy_from_slice(affix.as_bytes());
            dst.make_ascii_lowercase();
            xxhash_rust::xxh3::xxh3_64(dst)
        }
        None => xxhash_rust::xxh3::xxh3_64(affix.as_bytes()),
    }
}

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
/// [module docs](self).
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
    /// A freshly initialised model.
    pub(crate) fn new(config: &Tok2VecConfig, rng: &mut Rng) -> Self {
        let width = config.width;
        let embeds: Vec<_> = config
            .embed
            .iter()
            .enumerate()
            .map(|(i, e)| HashEmbed::new(e.rows, e.width, 0x5eed + i as u64, rng))
            .collect();
        let n_embed = config.embed.iter().map(|e| e.width).sum();
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

    fn embed_width(&self) -> usize {
        self.embeds.iter().map(|e| e.width).sum()
    }

    /// Appends the feature keys of every token of `doc` (token-major, one per attribute),
    /// unknown words' identities replaced by [`UNKNOWN_WORD`].
    pub(crate) fn push_keys(&self, doc: &Doc<'_>, keys: &mut Vec<u64>) {
        keys.reserve(doc.len() * self.attrs.len());
        for i in 0..doc.len() {
            keys.extend(self.attrs.iter().map(|&attr| {
                let key = attr.key(doc, i);
                match &self.known {
                    Some(known) if attr.is_identity() && !known.contains(&key) => UNKNOWN_WORD,
                    _ => key,
                }
            }));
        }
    }

    /// Learns which words to know: those of `docs` seen at least `min_count` times (every
    /// word when `min_count` is 0). Counts raw keys, whatever the tok2vec knew before.
    pub(crate) fn learn_known_words<'z>(
        &mut self,
        docs: impl IntoIterator<Item = Doc<'z>>,
        min_count: usize,
    ) {
        if min_count == 0 {
            self.known = None;
            return;
        }
        let mut counts: FxHashMap<u64, usize> = FxHashMap::default();
        let identities: Vec<Attr> =
            self.attrs.iter().copied().filter(|a| a.is_identity()).collect();
        for doc in docs {
            for i in 0..doc.len() {
                for attr in &identities {
                    *counts.entry(attr.key(&doc, i)).or_default() += 1;
                }
            }
        }
        let known = counts.into_iter().filter(|&(_, n)| n >= min_count).map(|(key, _)| key);
        self.known = Some(known.collect());
    }

    /// Hides the identity of each token of `keys` (from [`Self::push_keys`]) with
    /// probability `rate`, as if it were unknown (word dropout in training).
    pub(crate) fn hide_words(&self, keys: &mut [u64], rate: f32, rng: &mut Rng) {
        if rate <= 0.0 {
            return;
        }
        for token in keys.chunks_exact_mut(self.attrs.len()) {
            if rng.unit() < rate {
                for (key, attr) in token.iter_mut().zip(&self.attrs) {
                    if attr.is_identity() {
                        *key = UNKNOWN_WORD;
                    }
                }
            }
        }
    }

    /// Encodes a batch of documents given their keys (from [`Self::push_keys`]) and lengths
    /// into `out` (total tokens × width). With `cache`, keeps what [`Self::backward`] needs;
    /// with `dropout`, applies it after the mixer and each block.
    pub(crate) fn forward(
        &self,
        keys: &[u64],
        lengths: &[usize],
        out: &mut Vec<f32>,
        cache: Option<&mut Tok2VecCache>,
        mut dropout: Option<Dropout<'_>>,
    ) {
        let n: usize = lengths.iter().sum();
        let n_attrs = self.attrs.len();
        assert_eq!(keys.len(), n * n_attrs, "one key per token and attribute");
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

        // Embeddings, concatenated per token.
        let stride = self.embed_width();
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
    /// forward pass that filled `cache`) into `grad`.
    pub(crate) fn backward(
        &self,
        keys: &[u64],
        lengths: &[usize],
        cache: &mut Tok2VecCache,
        mut d_out: Vec<f32>,
        grad: &mut Encoder,
    ) {
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
        let stride = self.embed_width();
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
    out.clear();
    out.resize(x.len() * span, 0.0);
    let mut start = 0;
    for &len in lengths {
        for i in 0..len {
            let row = &mut out[(start + i) * span * width..(start + i + 1) * span * width];
            for slot in 0..span {
                let j = i as isize + (slot as isize - w as isize) * d as isize;
                if (0..len as isize).contains(&j) {
                    let src = (start + j as usize) * width;
                    row[slot * width..(slot + 1) * width].copy_from_slice(&x[src..src + width]);
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

/// The tok2vec component: one encoder, or one per member of an ensemble. See the
/// [module docs](self).
#[derive(Clone, Debug, PartialEq)]
pub struct Tok2Vec {
    pub(crate) members: Vec<Encoder>,
}

impl Tok2Vec {
    /// A component over `members` (at least one), whose vectors are laid side by side.
    ///
    /// # Panics
    ///
    /// Panics if `members` is empty.
    pub(crate) fn new(members: Vec<Encoder>) -> Self {
        assert!(!members.is_empty(), "a tok2vec needs an encoder");
        Self { members }
    }

    /// Width of each token's row of the tensor (the members' widths added up).
    pub fn width(&self) -> usize {
        self.members.iter().map(Encoder::width).sum()
    }
}

impl Component for Tok2Vec {
    fn name(&self) -> &'static str {
        ComponentKind::Tok2Vec.name()
    }

    fn process(&self, doc: &mut Doc<'_>) -> Result<(), ComponentError> {
        let n = doc.len();
        let (mut keys, mut out) = (Vec::new(), Vec::new());
        let tensor = if let [encoder] = &self.members[..] {
            encoder.push_keys(doc, &mut keys);
            encoder.forward(&keys, &[n], &mut out, None, None);
            out
        } else {
            let width = self.width();
            let mut tensor = vec![0.0; n * width];
            let mut column = 0;
            for encoder in &self.members {
                keys.clear();
                encoder.push_keys(doc, &mut keys);
                encoder.forward(&keys, &[n], &mut out, None, None);
                let w = encoder.width();
                for (row, vector) in tensor.chunks_exact_mut(width).zip(out.chunks_exact(w)) {
                    row[column..column + w].copy_from_slice(vector);
                }
                column += w;
            }
            tensor
        };
        doc.set_tensor(Some(Tensor::from_vec(n, self.width(), tensor)));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::nn::check::{Probe, assert_gradients};
    use crate::vocab::{StringKey, Vocab};

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
    fn affixes_fold_ascii_case_and_respect_char_boundaries() {
        let cases = [
            ("Running", 3, false, "ing"),
            ("RUNNING", 3, false, "ing"),
            ("Über", 2, true, "Üb"),
            ("naïve", 3, false, "ïve"),
            ("a", 3, false, "a"),
            ("a", 2, true, "a"),
        ];
        for (text, n, prefix, want) in cases {
            assert_eq!(
                affix_key(text, n, prefix),
                xxhash_rust::xxh3::xxh3_64(want.as_bytes()),
                "{text}"
            );
        }
    }

    #[test]
    fn attr_codes_round_trip() {
        let attrs =
            [Attr::Norm, Attr::Lower, Attr::Shape, Attr::Spacing, Attr::Prefix(1), Attr::Suffix(4)];
        for attr in attrs {
            assert_eq!(Attr::from_code(attr.code()), Some(attr));
        }
        for bad in [0, 5, 0x100, 0x300 | 1] {
            assert_eq!(Attr::from_code(bad), None);
        }
    }

    #[test]
    fn gradients_match_finite_differences_across_documents() {
        let model = Encoder::new(&tiny_config(), &mut Rng::new(8));
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
        assert_gradients(Probe {
            layer: model,
            input: Vec::new(),
            forward: |m: &Encoder, _: &[f32]| {
                let mut out = Vec::new();
                m.forward(&keys, &lengths, &mut out, None, None);
                out
            },
            backward: |m: &Encoder, _: &[f32], dy: &[f32], g: &mut Encoder| {
                let (mut out, mut cache) = (Vec::new(), Tok2VecCache::default());
                m.forward(&keys, &lengths, &mut out, Some(&mut cache), None);
                m.backward(&keys, &lengths, &mut cache, dy.to_vec(), g);
                Vec::new()
            },
            zeros: Encoder::zeros_like,
        });
    }

    #[test]
    fn spacing_tells_opening_quotes_from_closing_ones() {
        let vocab = Vocab::new();
        let zone = vocab.zone();
        // `She said "hi" .\n"` : the first quote opens, the second closes, the last follows
        // a line break.
        let words = ["She", "said", "\"", "hi", "\"", ".", "\n", "\""];
        let spaces = [true, true, false, false, true, false, false, false];
        let doc = Doc::from_words(&zone, &words, &spaces);
        let keys: Vec<u64> = (0..doc.len()).map(|i| Attr::Spacing.key(&doc, i)).collect();
        let [neither, after, before, both] = SPACING_KEYS;
        assert_eq!(keys[0], both, "the start of the text counts as space");
        assert_eq!(keys[2], before, "an opening quote");
        assert_eq!(keys[4], after, "a closing quote");
        assert_eq!(keys[3], neither);
        assert_eq!(keys[7], both, "after a whitespace token, at the end of the text");
    }

    #[test]
    fn process_writes_a_tensor_and_documents_do_not_leak_into_each_other() {
        let model = Encoder::new(&tiny_config(), &mut Rng::new(8));
        let vocab = Vocab::new();
        let zone = vocab.zone();
        let mut alone = Doc::from_words(&zone, &["cat", "sat"], &[true, false]);
        Tok2Vec::new(vec![model.clone()]).process(&mut alone).unwrap();
        let tensor = alone.tensor().unwrap();
        assert_eq!((tensor.rows(), tensor.cols()), (2, 4));
        // The same words after another document in one batch get the same vectors.
        let other = Doc::from_words(&zone, &["dogs", "bark", "loudly"], &[true, true, false]);
        let mut keys = Vec::new();
        model.push_keys(&other, &mut keys);
        model.push_keys(&alone, &mut keys);
        let mut out = Vec::new();
        model.forward(&keys, &[3, 2], &mut out, None, None);
        for (a, b) in out[12..].iter().zip(tensor.as_slice()) {
            assert!((a - b).abs() < 1e-5);
        }
    }

    #[test]
    fn members_vectors_lie_side_by_side_in_each_row() {
        let first = Encoder::new(&tiny_config(), &mut Rng::new(8));
        let second = Encoder::new(&tiny_config(), &mut Rng::new(9));
        let vocab = Vocab::new();
        let zone = vocab.zone();
        let tensor_of = |tok2vec: Tok2Vec| {
            let mut doc = Doc::from_words(&zone, &["cats", "sat", "down"], &[true, true, false]);
            tok2vec.process(&mut doc).unwrap();
            doc.tensor().unwrap().clone()
        };
        let (a, b) = (
            tensor_of(Tok2Vec::new(vec![first.clone()])),
            tensor_of(Tok2Vec::new(vec![second.clone()])),
        );
        let both = tensor_of(Tok2Vec::new(vec![first, second]));
        assert_eq!((both.rows(), both.cols()), (3, 8));
        for i in 0..3 {
            assert_eq!(both.row(i), [a.row(i), b.row(i)].concat(), "row {i}");
        }
    }

    #[test]
    fn words_seen_often_enough_keep_their_identity_and_others_read_unknown() {
        let embed = |attr| EmbedConfig { attr, rows: 10, width: 2 };
        let config = Tok2VecConfig {
            embed: vec![embed(Attr::Norm), embed(Attr::Suffix(2))],
            width: 4,
            depth: 1,
            window: 1,
            dilations: Vec::new(),
            pieces: 2,
            min_word_count: 2,
        };
        let mut tok2vec = Encoder::new(&config, &mut Rng::new(1));
        let vocab = Vocab::new();
        let zone = vocab.zone();
        let doc = |text: &str| {
            let words: Vec<&str> = text.split(' ').collect();
            Doc::from_words(&zone, &words, &vec![true; words.len()])
        };
        let docs = [doc("the cat sat"), doc("The dog sat")];
        tok2vec.learn_known_words(docs, config.min_word_count);
        let norm = |w: &str| StringKey::of(w).as_u64();
        let known = [norm("the"), norm("sat")].into_iter().collect();
        assert_eq!(tok2vec.known, Some(known));

        let mut keys = Vec::new();
        tok2vec.push_keys(&doc("the cat"), &mut keys);
        assert_eq!(keys[0], norm("the"), "a known word keeps its norm");
        assert_eq!(keys[2], UNKNOWN_WORD, "an unknown word reads the shared key");
        assert_ne!(keys[3], UNKNOWN_WORD, "affixes are never hidden");

        let mut hidden = keys.clone();
        tok2vec.hide_words(&mut hidden, 1.0, &mut Rng::new(2));
        assert_eq!((hidden[0], hidden[1]), (UNKNOWN_WORD, keys[1]), "word dropout hides identity");
    }
}

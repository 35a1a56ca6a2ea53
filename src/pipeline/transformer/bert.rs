//! The BERT encoder's forward pass.
//!
//! # Overview
//!
//! [`Bert`] maps the pieces of one or more inputs (each `[CLS] … [SEP]`, at most
//! `max_positions` long) to their last hidden states:
//!
//! ```text
//! word + position + token type (0) embeddings ──► LayerNorm
//!   ──► layers × [ self-attention (heads over the input's own pieces) ──► output Dense
//!                  ──► add the layer's input ──► LayerNorm
//!                  ──► Dense to `intermediate` ──► GELU (erf) ──► Dense back
//!                  ──► add ──► LayerNorm ]
//! ```
//!
//! Inputs are batched without padding: the rows of every input go through each dense
//! product together (one matrix product per layer and weight), and attention runs per input
//! over its own rows only, which is what an attention mask over padding achieves, with no
//! padded rows to compute. The query, key and value projections are fused into one
//! [`Dense`] of three times the width. Dense products use the project's kernels
//! ([`Dense::forward`]: `affine`, run-time SIMD dispatch), attention (the `attention`
//! module) `gemm` (`matrixmultiply`), layer normalisations [`LayerNorm`] with the encoder's
//! epsilon. Every buffer lives in a [`BertScratch`] the caller reuses, so the pass
//! allocates nothing per piece or per layer. Fine-tuning's forward and backward passes are
//! in the `train` module; this one keeps nothing for them.

use serde::Deserialize;

use super::activations::gelu;
use super::attention::{HeadScratch, HeadShape, attend, sized};
use super::safetensors::SafeTensors;
use super::{EncoderError, PieceId};
use crate::pipeline::nn::{Dense, LayerNorm, NormCache, simd};

/// The shape of a BERT encoder, as its `config.json` gives it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BertConfig {
    /// Rows of the word-piece embedding table.
    pub vocab: usize,
    /// Width of every hidden state.
    pub hidden: usize,
    /// Number of layers.
    pub layers: usize,
    /// Attention heads per layer (they split `hidden` evenly).
    pub heads: usize,
    /// Width of the feed-forward block's inner layer.
    pub intermediate: usize,
    /// The longest input, in pieces (rows of the position table).
    pub max_positions: usize,
    /// Rows of the token-type table (inputs here are all of type 0).
    pub type_vocab: usize,
    /// The epsilon added to the variance in every layer normalisation.
    pub layer_norm_eps: f32,
}

impl BertConfig {
    /// The shape a Hugging Face `config.json` gives.
    ///
    /// # Errors
    ///
    /// Returns [`EncoderError::Unsupported`] if the file is not JSON, describes another
    /// model type, activation or position embedding than BERT's, or heads that do not split
    /// the hidden width.
    pub fn from_config_json(json: &str) -> Result<Self, EncoderError> {
        let bad = |what: String| EncoderError::Unsupported { file: "config.json", what };
        let c: ConfigJson = serde_json::from_str(json).map_err(|e| bad(e.to_string()))?;
        if c.model_type != "bert"
            || c.hidden_act != "gelu"
            || c.position_embedding_type != "absolute"
        {
            return Err(bad(format!(
                "a {} model with {} activations and {} positions",
                c.model_type, c.hidden_act, c.position_embedding_type
            )));
        }
        let config = Self {
            vocab: c.vocab_size,
            hidden: c.hidden_size,
            layers: c.num_hidden_layers,
            heads: c.num_attention_heads,
            intermediate: c.intermediate_size,
            max_positions: c.max_position_embeddings,
            type_vocab: c.type_vocab_size,
            layer_norm_eps: c.layer_norm_eps,
        };
        config.check().map_err(bad)?;
        Ok(config)
    }

    /// Why the shape is unusable, if it is.
    pub(crate) fn check(&self) -> Result<(), String> {
        let dims = [self.vocab, self.hidden, self.layers, self.heads, self.intermediate];
        if dims.contains(&0) || self.max_positions < 3 || self.type_vocab == 0 {
            return Err(format!("a dimension is zero or too small: {self:?}"));
        }
        if !self.hidden.is_multiple_of(self.heads) {
            return Err(format!("{} heads do not split width {}", self.heads, self.hidden));
        }
        if !(self.layer_norm_eps > 0.0 && self.layer_norm_eps.is_finite()) {
            return Err(format!("layer norm epsilon {}", self.layer_norm_eps));
        }
        Ok(())
    }

    /// The width of the hidden states and the heads that split it.
    pub(super) fn head_shape(&self) -> HeadShape {
        HeadShape { hidden: self.hidden, heads: self.heads }
    }
}

/// The parts of `config.json` the encoder reads.
#[derive(Deserialize)]
struct ConfigJson {
    model_type: String,
    hidden_act: String,
    #[serde(default = "absolute")]
    position_embedding_type: String,
    vocab_size: usize,
    hidden_size: usize,
    num_hidden_layers: usize,
    num_attention_heads: usize,
    intermediate_size: usize,
    max_position_embeddings: usize,
    type_vocab_size: usize,
    layer_norm_eps: f32,
}

fn absolute() -> String {
    "absolute".into()
}

/// One encoder layer's weights.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct BertLayer {
    /// Query, key and value projections side by side (`hidden × 3·hidden`).
    pub(crate) qkv: Dense,
    /// The attention output projection.
    pub(crate) out: Dense,
    pub(crate) attn_norm: LayerNorm,
    /// The feed-forward block's inner (`up`) and outer (`down`) layers.
    pub(crate) up: Dense,
    pub(crate) down: Dense,
    pub(crate) ffn_norm: LayerNorm,
}

/// A BERT encoder. See the [module docs](self).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Bert {
    pub(crate) config: BertConfig,
    /// `vocab × hidden`.
    pub(crate) word: Vec<f32>,
    /// `max_positions × hidden`.
    pub(crate) position: Vec<f32>,
    /// `type_vocab × hidden`.
    pub(crate) token_type: Vec<f32>,
    pub(crate) embed_norm: LayerNorm,
    pub(crate) layers: Vec<BertLayer>,
}

/// Buffers reused by [`Bert::forward`].
#[derive(Debug, Default)]
pub(crate) struct BertScratch {
    qkv: Vec<f32>,
    context: Vec<f32>,
    sum: Vec<f32>,
    inner: Vec<f32>,
    /// The sum of the last layers' outputs, when more than one is averaged.
    mix: Vec<f32>,
    heads: HeadScratch,
}

impl Bert {
    /// The encoder of shape `config` with the weights of `tensors` (a Hugging Face
    /// `BertModel` checkpoint, names with or without a `bert.` prefix; the pooler is not
    /// read). Linear layers there are `out × in`; they are transposed to [`Dense`]'s
    /// `in × out`.
    ///
    /// # Errors
    ///
    /// Returns [`EncoderError::Unsupported`] if an array is missing or of another shape.
    pub(crate) fn from_safetensors(
        config: BertConfig,
        tensors: &SafeTensors<'_>,
    ) -> Result<Self, EncoderError> {
        let BertConfig { vocab, hidden, intermediate, max_positions, type_vocab, .. } = config;
        let prefix =
            if tensors.has("bert.embeddings.word_embeddings.weight") { "bert." } else { "" };
        let get = |name: &str, shape: &[usize]| tensors.f32(&format!("{prefix}{name}"), shape);
        let norm = |name: &str| -> Result<LayerNorm, EncoderError> {
            Ok(LayerNorm {
                g: get(&format!("{name}.weight"), &[hidden])?,
                b: get(&format!("{name}.bias"), &[hidden])?,
            })
        };
        // A linear layer (or several side by side) as a packed `Dense`.
        let dense = |names: &[&str], n_in: usize, n_out: usize| -> Result<Dense, EncoderError> {
            let mut w = vec![0.0; n_in * n_out * names.len()];
            let mut b = Vec::with_capacity(n_out * names.len());
            let width = n_out * names.len();
            for (part, name) in names.iter().enumerate() {
                let weights = get(&format!("{name}.weight"), &[n_out, n_in])?;
                for (o, row) in weights.chunks_exact(n_in).enumerate() {
                    for (i, &v) in row.iter().enumerate() {
                        w[i * width + part * n_out + o] = v;
                    }
                }
                b.extend(get(&format!("{name}.bias"), &[n_out])?);
            }
            let mut layer = Dense::from_parts(n_in, width, w, b);
            layer.pack();
            Ok(layer)
        };
        let layers = (0..config.layers)
            .map(|i| {
                let p = format!("encoder.layer.{i}");
                let attn = format!("{p}.attention");
                Ok(BertLayer {
                    qkv: dense(
                        &[
                            &format!("{attn}.self.query"),
                            &format!("{attn}.self.key"),
                            &format!("{attn}.self.value"),
                        ],
                        hidden,
                        hidden,
                    )?,
                    out: dense(&[&format!("{attn}.output.dense")], hidden, hidden)?,
                    attn_norm: norm(&format!("{attn}.output.LayerNorm"))?,
                    up: dense(&[&format!("{p}.intermediate.dense")], hidden, intermediate)?,
                    down: dense(&[&format!("{p}.output.dense")], intermediate, hidden)?,
                    ffn_norm: norm(&format!("{p}.output.LayerNorm"))?,
                })
            })
            .collect::<Result<_, EncoderError>>()?;
        Ok(Self {
            config,
            word: get("embeddings.word_embeddings.weight", &[vocab, hidden])?,
            position: get("embeddings.position_embeddings.weight", &[max_positions, hidden])?,
            token_type: get("embeddings.token_type_embeddings.weight", &[type_vocab, hidden])?,
            embed_norm: norm("embeddings.LayerNorm")?,
            layers,
        })
    }

    /// The width of every hidden state.
    pub(crate) fn width(&self) -> usize {
        self.config.hidden
    }

    /// The hidden states of the inputs `ids` holds one after another, `lens[i]` pieces for
    /// input `i`, into `out` (one row of [`Bert::width`] per piece; previous contents are
    /// dropped): the mean of the last `mean_of_last` layers' outputs (1: the last hidden
    /// states).
    ///
    /// # Panics
    ///
    /// Panics if `lens` does not add up to `ids.len()`, an input is longer than
    /// `max_positions`, a piece is outside the vocabulary, or `mean_of_last` is not between
    /// 1 and the number of layers.
    pub(crate) fn forward(
        &self,
        ids: &[PieceId],
        lens: &[usize],
        mean_of_last: usize,
        scratch: &mut BertScratch,
        out: &mut Vec<f32>,
    ) {
        let n_layers = self.layers.len();
        assert!((1..=n_layers).contains(&mean_of_last), "no layers to average");
        let BertConfig { hidden, intermediate, layer_norm_eps: eps, .. } = self.config;
        let n = ids.len();
        let x = sized(out, n * hidden);
        self.embed(ids, lens, x, None);
        let mix = sized(&mut scratch.mix, if mean_of_last > 1 { n * hidden } else { 0 });
        mix.fill(0.0);
        for (l, layer) in self.layers.iter().enumerate() {
            let qkv = sized(&mut scratch.qkv, n * 3 * hidden);
            layer.qkv.forward(x, qkv);
            let context = sized(&mut scratch.context, n * hidden);
            attend(&scratch.qkv, lens, self.config.head_shape(), context, &mut scratch.heads, None);
            let sum = sized(&mut scratch.sum, n * hidden);
            layer.out.forward(&scratch.context, sum);
            add(x, sum);
            layer.attn_norm.forward_with_eps(x, eps, None);
            let inner = sized(&mut scratch.inner, n * intermediate);
            layer.up.forward(x, inner);
            gelu(inner);
            layer.down.forward(&scratch.inner, sum);
            add(x, sum);
            layer.ffn_norm.forward_with_eps(x, eps, None);
            if mean_of_last > 1 && l + mean_of_last >= n_layers {
                scratch.mix.iter_mut().zip(x.iter()).for_each(|(m, v)| *m += v);
            }
        }
        if mean_of_last > 1 {
            let scale = 1.0 / mean_of_last as f32;
            x.iter_mut().zip(&scratch.mix).for_each(|(v, m)| *v = m * scale);
        }
    }

    /// The normalised embeddings of the inputs `ids` holds (`lens` as in [`Bert::forward`])
    /// into `x` (one row per piece): word + position + token type 0, then the embeddings'
    /// layer normalisation, recording its cache for training when given.
    ///
    /// # Panics
    ///
    /// Panics if `lens` does not add up to `ids.len()`, an input is longer than
    /// `max_positions`, or a piece is outside the vocabulary.
    pub(super) fn embed(
        &self,
        ids: &[PieceId],
        lens: &[usize],
        x: &mut [f32],
        cache: Option<&mut NormCache>,
    ) {
        let BertConfig { hidden, max_positions, layer_norm_eps: eps, .. } = self.config;
        assert_eq!(lens.iter().sum::<usize>(), ids.len(), "input lengths do not add up");
        assert!(lens.iter().all(|&n| n <= max_positions), "an input is too long for the encoder");
        let positions = lens.iter().flat_map(|&len| 0..len);
        for ((row, id), p) in x.chunks_exact_mut(hidden).zip(ids).zip(positions) {
            let word = &self.word[id.index() * hidden..(id.index() + 1) * hidden];
            let position = &self.position[p * hidden..(p + 1) * hidden];
            let types = &self.token_type[..hidden];
            for (((x, w), p), t) in row.iter_mut().zip(word).zip(position).zip(types) {
                *x = w + p + t;
            }
        }
        self.embed_norm.forward_with_eps(x, eps, cache);
    }
}

simd! {
    /// `x += y`, a residual connection.
    pub(super) fn add(x: &mut [f32], y: &[f32]) {
        for (a, b) in x.iter_mut().zip(y) {
            *a += b;
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::pipeline::nn::Rng;

    /// A random encoder of the given shape.
    pub(crate) fn tiny(config: BertConfig, rng: &mut Rng) -> Bert {
        let BertConfig { vocab, hidden, layers, intermediate, max_positions, type_vocab, .. } =
            config;
        let mut table = |n: usize| (0..n).map(|_| rng.normal(0.5)).collect::<Vec<f32>>();
        let (word, position, token_type) =
            (table(vocab * hidden), table(max_positions * hidden), table(type_vocab * hidden));
        let norm = |rng: &mut Rng| LayerNorm {
            g: (0..hidden).map(|_| 1.0 + rng.normal(0.1)).collect(),
            b: (0..hidden).map(|_| rng.normal(0.1)).collect(),
        };
        let embed_norm = norm(rng);
        let layers = (0..layers)
            .map(|_| BertLayer {
                qkv: Dense::new(hidden, 3 * hidden, rng),
                out: Dense::new(hidden, hidden, rng),
                attn_norm: norm(rng),
                up: Dense::new(hidden, intermediate, rng),
                down: Dense::new(intermediate, hidden, rng),
                ffn_norm: norm(rng),
            })
            .collect();
        Bert { config, word, position, token_type, embed_norm, layers }
    }

    /// The shape of [`tiny`] encoders in tests.
    pub(crate) const TINY: BertConfig = BertConfig {
        vocab: 24,
        hidden: 8,
        layers: 2,
        heads: 2,
        intermediate: 12,
        max_positions: 16,
        type_vocab: 2,
        layer_norm_eps: 1e-12,
    };

    #[test]
    fn inputs_batched_together_do_not_see_each_other() {
        let bert = tiny(TINY, &mut Rng::new(3));
        let ids = |v: &[u32]| v.iter().map(|&i| PieceId::new(i)).collect::<Vec<_>>();
        let (a, b) = (ids(&[2, 5, 9, 3]), ids(&[2, 7, 7, 11, 4, 3]));
        let mut scratch = BertScratch::default();
        let (mut alone_a, mut alone_b, mut both) = (Vec::new(), Vec::new(), Vec::new());
        bert.forward(&a, &[4], 1, &mut scratch, &mut alone_a);
        bert.forward(&b, &[6], 1, &mut scratch, &mut alone_b);
        bert.forward(&[b.clone(), a].concat(), &[6, 4], 1, &mut scratch, &mut both);
        let want = [alone_b, alone_a].concat();
        assert_eq!(both.len(), 10 * 8);
        for (got, want) in both.iter().zip(&want) {
            assert!((got - want).abs() < 1e-5, "{got} vs {want}");
        }
        // Every row is normalised: the last layer's norm leaves its gain's and bias's stamp,
        // so just check the rows differ and are finite.
        assert!(both.iter().all(|v| v.is_finite()));
        assert_ne!(both[..8], both[8..16]);
    }

    #[test]
    fn features_of_several_layers_are_the_mean_of_their_outputs() {
        let bert = tiny(TINY, &mut Rng::new(4));
        let ids: Vec<PieceId> = [2, 5, 9, 3].map(PieceId::new).to_vec();
        let mut scratch = BertScratch::default();
        let (mut both, mut last) = (Vec::new(), Vec::new());
        bert.forward(&ids, &[4], 2, &mut scratch, &mut both);
        bert.forward(&ids, &[4], 1, &mut scratch, &mut last);
        // The first layer's output is the last hidden state of the encoder cut after it.
        let first_only = Bert { layers: bert.layers[..1].to_vec(), ..bert.clone() };
        let mut first = Vec::new();
        first_only.forward(&ids, &[4], 1, &mut scratch, &mut first);
        for ((got, a), b) in both.iter().zip(&first).zip(&last) {
            assert!((got - (a + b) / 2.0).abs() < 1e-5, "{got} vs {a}, {b}");
        }
    }
}

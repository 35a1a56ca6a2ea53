//! Quantising an encoder's mixer: its input channels are equalised first.
//!
//! # Overview
//!
//! The mixer reads the hash embeddings side by side, and the tables differ in scale (the
//! wide word table against the narrow shape, affix and spacing ones). Quantised with one
//! 8-bit scale per row, the small channels would get few levels. [`Encoder::quantize_mixer`]
//! gives the quantised mixer a scale `s_j` per input channel: channel `j` is divided by it
//! as the activations are quantised and the weights of that input multiplied by it, the
//! same map in exact arithmetic (SmoothQuant, Xiao et al. 2023; see `nn::int8`). The f32
//! parameters stay as the file has them.
//!
//! With `s_j = max|x_j|^α / max|W[j][·]|^(1−α)` (`max|x_j|`: the largest magnitude in the
//! table column that feeds channel `j`), α = 1 would give every channel the same range and
//! leave the differences to the weights, α = 0 the reverse. [`ALPHA`] was chosen on EWT
//! dev among 0.25, 0.5, 0.75 and 1 by how many tags and arcs of the f32 output the int8
//! output changed (`docs/performance.md`).

use super::Encoder;

/// The exponent α of the channel scales (see the [module docs](self)).
const ALPHA: f32 = 0.75;

impl Encoder {
    /// Quantises the mixer with its input channels equalised (see the
    /// [module docs](self)). A mixer that also reads a transformer's features stays in
    /// f32: no table bounds those channels, and its int8 error is not measured.
    pub(crate) fn quantize_mixer(&mut self) {
        if self.feature_width() > 0 {
            return;
        }
        let scales = self.channel_scales();
        self.mixer.maxout.affine.quantize_equalized(&scales);
    }

    /// Each mixer input's scale `s_j` (1 where its column or its weights are all zero).
    fn channel_scales(&self) -> Vec<f32> {
        let largest =
            |values: &mut dyn Iterator<Item = &f32>| values.fold(0.0_f32, |m, v| m.max(v.abs()));
        let inputs = self.embeds.iter().flat_map(|embed| {
            (0..embed.width).map(|j| largest(&mut embed.table.iter().skip(j).step_by(embed.width)))
        });
        let mixer = &self.mixer.maxout.affine;
        let weights = mixer.w.chunks_exact(mixer.n_out).map(|row| largest(&mut row.iter()));
        inputs
            .zip(weights)
            .map(
                |(x, w)| {
                    if x > 0.0 && w > 0.0 { x.powf(ALPHA) / w.powf(1.0 - ALPHA) } else { 1.0 }
                },
            )
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::nn::Rng;
    use crate::pipeline::tok2vec::encoder::tests::tiny_config;

    /// An encoder whose second table is a thousand times smaller than its first, and the
    /// keys of a few tokens.
    fn lopsided() -> (Encoder, Vec<u64>) {
        let mut encoder = Encoder::new(&tiny_config(), 0, &mut Rng::new(5));
        encoder.embeds[1].table.iter_mut().for_each(|v| *v *= 1e-3);
        encoder
            .mixer
            .maxout
            .affine
            .w
            .chunks_exact_mut(encoder.mixer.maxout.affine.n_out)
            .skip(3)
            .for_each(|row| row.iter_mut().for_each(|w| *w *= 1e3));
        let keys = (0..12).map(|i| 1000 + i * 7919).collect();
        (encoder, keys)
    }

    /// The mixer's output for `keys` (6 tokens, 2 attributes).
    fn mixed(encoder: &Encoder, keys: &[u64]) -> Vec<f32> {
        let mut out = Vec::new();
        let mut copy = encoder.clone();
        copy.blocks.clear();
        copy.forward(keys, &[], &[6], &mut out, None, None);
        out
    }

    /// The largest difference between two outputs.
    fn distance(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
    }

    #[test]
    fn equalised_quantisation_loses_less_than_plain() {
        let (encoder, keys) = lopsided();
        let exact = mixed(&encoder, &keys);
        let mut plain = encoder.clone();
        plain.mixer.maxout.affine.quantize();
        let mut equalized = encoder.clone();
        equalized.quantize_mixer();
        assert_eq!(equalized, encoder, "the f32 parameters are untouched");
        let (plain_error, equalized_error) =
            (distance(&mixed(&plain, &keys), &exact), distance(&mixed(&equalized, &keys), &exact));
        assert!(equalized_error < plain_error / 2.0, "{equalized_error} vs {plain_error}");
    }

    #[test]
    fn a_mixer_reading_transformer_features_stays_f32() {
        let encoder = Encoder::new(&tiny_config(), 3, &mut Rng::new(5));
        let keys: Vec<u64> = (0..12).map(|i| 1000 + i * 7919).collect();
        let features: Vec<f32> = (0..18).map(|i| (i as f32 * 0.37).sin()).collect();
        let output = |encoder: &Encoder| {
            let mut out = Vec::new();
            encoder.forward(&keys, &features, &[6], &mut out, None, None);
            out
        };
        let mut quantized = encoder.clone();
        quantized.quantize_mixer();
        assert_eq!(output(&quantized), output(&encoder));
    }
}

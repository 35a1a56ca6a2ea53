//! Section layouts of the parts components are built from (all integers little-endian;
//! `floats` are a u64 count then f16 values; `str` is a u32 byte length then UTF-8):
//!
//! ```text
//! Dense        n_in u32, n_out u32, w floats (n_out × n_in: one row per output), b floats
//! Maxout       pieces u8, Dense
//! LayerNorm    width u32, gain floats, bias floats
//! HashEmbed    rows u32, width u32, seed u64, table floats (rows × width)
//! Block        Maxout, LayerNorm
//! Head         labels (u64 count, str each), Dense
//! Encoder      window u8, n u16, n × (attr code u16, HashEmbed), mixer Block, depth u16,
//!              depth × Block, depth × dilation u16, known words (u64 count, u64 keys)
//! ```
//!
//! An encoder's mixer reads its embeddings side by side; a mixer whose input is wider also
//! reads, after them, that many transformer features per token (`trf_data.features`, in a
//! pipeline with a transformer before the encoder). The input width says it all, so the
//! layout needed no change when encoders learned to read features.
//!
//! The components' own sections, built from these, are in `components`.

use rustc_hash::FxHashSet;

use super::{ModelLoadError, ModelReader, ModelWriter};
use crate::pipeline::Precision;
use crate::pipeline::classifier::SoftmaxHead;
use crate::pipeline::nn::{Dense, HashEmbed, LayerNorm, Maxout};
use crate::pipeline::tok2vec::{Attr, Block, Encoder};
use crate::vocab::Vocab;

/// A model part with a section layout.
pub(crate) trait Persist: Sized {
    /// Appends the part to a section body.
    fn save(&self, w: &mut ModelWriter);

    /// Reads the part, interning the strings it predicts into `vocab`.
    fn load(r: &mut ModelReader<'_>, vocab: &mut Vocab) -> Result<Self, ModelLoadError>;
}

/// A dimension read from `r`: positive and plausibly small.
pub(super) fn dim(r: &mut ModelReader<'_>, what: &str) -> Result<usize, ModelLoadError> {
    match r.u32()? as usize {
        0 => Err(r.malformed(format!("{what} is zero"))),
        n if n > 1 << 24 => Err(r.malformed(format!("{what} {n} is implausibly large"))),
        n => Ok(n),
    }
}

/// The transpose of a row-major `rows × cols` matrix. Files keep one row per output, the
/// layout of format version 1, whatever the in-memory layout.
fn transpose(m: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    (0..cols).flat_map(|c| (0..rows).map(move |r| m[r * cols + c])).collect()
}

impl Persist for Dense {
    fn save(&self, w: &mut ModelWriter) {
        w.u32(self.n_in as u32);
        w.u32(self.n_out as u32);
        w.floats(&transpose(&self.w, self.n_in, self.n_out));
        w.floats(&self.b);
    }

    fn load(r: &mut ModelReader<'_>, _: &mut Vocab) -> Result<Self, ModelLoadError> {
        let mut layer = read_dense(r)?;
        match r.precision() {
            Precision::Int8 => layer.quantize(),
            Precision::F32 => layer.pack(),
        }
        Ok(layer)
    }
}

/// Reads a `Dense`'s shape and parameters, neither packed nor quantised.
fn read_dense(r: &mut ModelReader<'_>) -> Result<Dense, ModelLoadError> {
    let (n_in, n_out) = (dim(r, "input width")?, dim(r, "output width")?);
    let w = transpose(&r.floats(n_in * n_out, "weights")?, n_out, n_in);
    let b = r.floats(n_out, "biases")?;
    Ok(Dense::from_parts(n_in, n_out, w, b))
}

impl Persist for Maxout {
    fn save(&self, w: &mut ModelWriter) {
        w.u8(self.pieces as u8);
        self.affine.save(w);
    }

    fn load(r: &mut ModelReader<'_>, vocab: &mut Vocab) -> Result<Self, ModelLoadError> {
        let pieces = usize::from(r.u8()?);
        let affine = Dense::load(r, vocab)?;
        if pieces == 0 || affine.n_out % pieces != 0 {
            return Err(
                r.malformed(format!("{} outputs do not split into {pieces} pieces", affine.n_out))
            );
        }
        Ok(Maxout { affine, pieces })
    }
}

impl Persist for LayerNorm {
    fn save(&self, w: &mut ModelWriter) {
        w.u32(self.g.len() as u32);
        w.floats(&self.g);
        w.floats(&self.b);
    }

    fn load(r: &mut ModelReader<'_>, _: &mut Vocab) -> Result<Self, ModelLoadError> {
        let width = dim(r, "norm width")?;
        Ok(LayerNorm { g: r.floats(width, "gain")?, b: r.floats(width, "bias")? })
    }
}

impl Persist for HashEmbed {
    fn save(&self, w: &mut ModelWriter) {
        w.u32(self.rows as u32);
        w.u32(self.width as u32);
        w.u64(self.seed);
        w.floats(&self.table);
    }

    fn load(r: &mut ModelReader<'_>, _: &mut Vocab) -> Result<Self, ModelLoadError> {
        let (rows, width) = (dim(r, "embedding rows")?, dim(r, "embedding width")?);
        let seed = r.u64()?;
        Ok(HashEmbed { rows, width, seed, table: r.floats(rows * width, "embedding table")? })
    }
}

impl Persist for Block {
    fn save(&self, w: &mut ModelWriter) {
        self.maxout.save(w);
        self.norm.save(w);
    }

    fn load(r: &mut ModelReader<'_>, vocab: &mut Vocab) -> Result<Self, ModelLoadError> {
        let maxout = Maxout::load(r, vocab)?;
        let norm = LayerNorm::load(r, vocab)?;
        if norm.g.len() != maxout.n_out() {
            return Err(r.malformed("a block's norm does not match its maxout width"));
        }
        Ok(Block { maxout, norm, dilation: 1 })
    }
}

impl Persist for SoftmaxHead {
    fn save(&self, w: &mut ModelWriter) {
        w.strs(self.labels());
        self.layer.save(w);
    }

    fn load(r: &mut ModelReader<'_>, vocab: &mut Vocab) -> Result<Self, ModelLoadError> {
        let labels = r.strs()?;
        let layer = Dense::load(r, vocab)?;
        if layer.n_out != labels.len() {
            return Err(r.malformed(format!(
                "{} labels but {} outputs",
                labels.len(),
                layer.n_out
            )));
        }
        for label in &labels {
            vocab.intern(label);
        }
        Ok(SoftmaxHead::from_parts(labels, layer))
    }
}

impl Persist for Encoder {
    fn save(&self, w: &mut ModelWriter) {
        w.u8(self.window as u8);
        w.u16(self.attrs.len() as u16);
        for (attr, embed) in self.attrs.iter().zip(&self.embeds) {
            w.u16(attr.code());
            embed.save(w);
        }
        self.mixer.save(w);
        w.u16(self.blocks.len() as u16);
        self.blocks.iter().for_each(|b| b.save(w));
        self.blocks.iter().for_each(|b| w.u16(b.dilation as u16));
        let mut known: Vec<u64> = self.known.iter().flatten().copied().collect();
        known.sort_unstable();
        w.len(known.len());
        known.into_iter().for_each(|key| w.u64(key));
    }

    fn load(r: &mut ModelReader<'_>, vocab: &mut Vocab) -> Result<Self, ModelLoadError> {
        let window = usize::from(r.u8()?);
        let n = usize::from(r.u16()?);
        let (mut attrs, mut embeds) = (Vec::with_capacity(n), Vec::with_capacity(n));
        for _ in 0..n {
            let code = r.u16()?;
            attrs.push(
                Attr::from_code(code)
                    .ok_or_else(|| r.malformed(format!("unknown attribute {code}")))?,
            );
            embeds.push(HashEmbed::load(r, vocab)?);
        }
        let mut mixer = Block::load(r, vocab)?;
        // The mixer reads the embedding tables side by side, whose scales differ, so it is
        // quantised only after its inputs are equalised (`Encoder::quantize_mixer`), by the
        // component that owns the encoder.
        mixer.maxout.affine.keep_f32();
        let embed_width: usize = embeds.iter().map(|e| e.width).sum();
        if mixer.maxout.affine.n_in < embed_width {
            return Err(r.malformed("the mixer is narrower than the embeddings"));
        }
        let width = mixer.norm.g.len();
        let depth = usize::from(r.u16()?);
        let mut blocks =
            (0..depth).map(|_| Block::load(r, vocab)).collect::<Result<Vec<_>, _>>()?;
        for block in &mut blocks {
            block.dilation = usize::from(r.u16()?).max(1);
        }
        let n_known = r.count()?;
        let known: FxHashSet<u64> = (0..n_known).map(|_| r.u64()).collect::<Result<_, _>>()?;
        let known = (!known.is_empty()).then_some(known);
        if blocks
            .iter()
            .any(|b| b.maxout.affine.n_in != width * (2 * window + 1) || b.norm.g.len() != width)
        {
            return Err(r.malformed("an encoder block does not match the width and window"));
        }
        Ok(Encoder { attrs, embeds, mixer, blocks, window, known })
    }
}

//! The `transformer` section's layout (all integers little-endian; `floats` are a u64
//! count then f16 values; `str` is a u32 byte length then UTF-8; `Dense` and `LayerNorm`
//! as `layers` lays them out). Since format version 6 the word embeddings (half of the
//! encoder's weights) are stored in int8, each piece's row with its own scale (codec's
//! `Storage::Int8Rows`), and read back into f32, so only their rounding changes (see
//! docs/transformer.md, "Stored weights", for what it costs). The dense layers are stored
//! in half precision (in int8 rows they moved the last hidden states six times as far:
//! 0.108 against 0.016 at most on the reference sentences) and, like every layer, computed
//! in the precision the pipeline is loaded with.
//!
//! ```text
//! transformer  WordPiece, BertConfig, windows (span u32, overlap u32), feature layers u8
//!              (each hidden state is the mean of the last this many layers' outputs),
//!              word embeddings floats (vocab × hidden), position embeddings floats
//!              (max positions × hidden), token type embeddings floats (types × hidden),
//!              embedding LayerNorm,
//!              layers × (query|key|value Dense (hidden × 3·hidden), output Dense,
//!                        LayerNorm, inner Dense (hidden × intermediate),
//!                        outer Dense (intermediate × hidden), LayerNorm)
//! WordPiece    normalization u8 (bits 0–3: clean text, Chinese characters, strip accents,
//!              lowercase), max characters per word u32, continuation prefix str,
//!              [UNK] u32, [CLS] u32, [SEP] u32, pieces (u64 count, str each, by id),
//!              added tokens (u64 count; str, id u32)
//! BertConfig   vocab u32, hidden u32, layers u32, heads u32, intermediate u32,
//!              max positions u32, token types u32, layer norm epsilon (f32 bits, u32)
//! ```

use super::codec::Storage;
use super::layers::dim;
use super::{ModelLoadError, ModelReader, ModelWriter};
use crate::pipeline::model_io::components::Persist;
use crate::pipeline::nn::{Dense, LayerNorm};
use crate::pipeline::transformer::{
    Bert, BertConfig, BertLayer, Normalization, PieceId, Transformer, Windows, WordPiece,
    WordPieceParts,
};
use crate::vocab::Vocab;

impl Persist for WordPiece {
    fn save(&self, w: &mut ModelWriter) {
        let parts = self.parts();
        w.u8(parts.normalization.bits());
        w.u32(parts.max_chars as u32);
        w.str(&parts.prefix);
        for id in [parts.unk, parts.cls, parts.sep] {
            w.u32(id.index() as u32);
        }
        w.strs(&parts.pieces);
        w.len(parts.added.len());
        for (text, id) in &parts.added {
            w.str(text);
            w.u32(id.index() as u32);
        }
    }

    fn load(r: &mut ModelReader<'_>, _: &mut Vocab) -> Result<Self, ModelLoadError> {
        let bits = r.u8()?;
        let normalization = Normalization::from_bits(bits)
            .ok_or_else(|| r.malformed(format!("unknown normalization bits {bits:#x}")))?;
        let max_chars = r.u32()? as usize;
        let prefix = r.str()?;
        let [unk, cls, sep] = [r.u32()?, r.u32()?, r.u32()?].map(PieceId::new);
        let pieces = r.strs()?;
        let n = r.checked_len(8)?;
        let added = (0..n)
            .map(|_| Ok((r.str()?, PieceId::new(r.u32()?))))
            .collect::<Result<_, ModelLoadError>>()?;
        let parts =
            WordPieceParts { pieces, added, normalization, prefix, max_chars, unk, cls, sep };
        WordPiece::from_parts(parts).map_err(|reason| r.malformed(reason))
    }
}

impl Persist for BertConfig {
    fn save(&self, w: &mut ModelWriter) {
        let dims = [
            self.vocab,
            self.hidden,
            self.layers,
            self.heads,
            self.intermediate,
            self.max_positions,
            self.type_vocab,
        ];
        dims.into_iter().for_each(|d| w.u32(d as u32));
        w.u32(self.layer_norm_eps.to_bits());
    }

    fn load(r: &mut ModelReader<'_>, _: &mut Vocab) -> Result<Self, ModelLoadError> {
        let config = BertConfig {
            vocab: dim(r, "vocabulary")?,
            hidden: dim(r, "hidden width")?,
            layers: dim(r, "layers")?,
            heads: dim(r, "heads")?,
            intermediate: dim(r, "intermediate width")?,
            max_positions: dim(r, "positions")?,
            type_vocab: dim(r, "token types")?,
            layer_norm_eps: f32::from_bits(r.u32()?),
        };
        config.check().map_err(|reason| r.malformed(reason))?;
        Ok(config)
    }
}

/// How the word embeddings of a transformer section of format `version` are stored.
fn storage(version: u32) -> Storage {
    if version >= 6 { Storage::Int8Rows } else { Storage::Half }
}

/// Reads a `Dense` that must map `n_in` to `n_out` (`what` names it in errors), computing in
/// the reader's precision like every other layer: in int8 the encoder is about twice as
/// fast, and its dev scores move by 0.1 at most (docs/transformer.md, "Int8 encoder").
fn dense(
    r: &mut ModelReader<'_>,
    vocab: &mut Vocab,
    (n_in, n_out): (usize, usize),
    what: &str,
) -> Result<Dense, ModelLoadError> {
    let layer = Dense::load(r, vocab)?;
    if (layer.n_in, layer.n_out) != (n_in, n_out) {
        let (i, o) = (layer.n_in, layer.n_out);
        return Err(r.malformed(format!("{what} maps {i} to {o}, not {n_in} to {n_out}")));
    }
    Ok(layer)
}

/// Reads a `LayerNorm` that must be `width` wide.
fn norm(
    r: &mut ModelReader<'_>,
    vocab: &mut Vocab,
    width: usize,
) -> Result<LayerNorm, ModelLoadError> {
    let layer = LayerNorm::load(r, vocab)?;
    if layer.g.len() != width {
        return Err(r.malformed(format!("a layer norm of width {}, not {width}", layer.g.len())));
    }
    Ok(layer)
}

impl Persist for Transformer {
    fn save(&self, w: &mut ModelWriter) {
        self.save_as(w, storage(super::FORMAT_VERSION));
    }

    fn load(r: &mut ModelReader<'_>, vocab: &mut Vocab) -> Result<Self, ModelLoadError> {
        let wordpiece = WordPiece::load(r, vocab)?;
        let config = BertConfig::load(r, vocab)?;
        let windows = Windows { span: r.u32()? as usize, overlap: r.u32()? as usize };
        let feature_layers = usize::from(r.u8()?);
        let BertConfig { vocab: rows, hidden: h, intermediate: i, .. } = config;
        let word = r.matrix(rows * h, h, "word embeddings", storage(r.version()))?;
        let position = r.floats(config.max_positions * h, "position embeddings")?;
        let token_type = r.floats(config.type_vocab * h, "token type embeddings")?;
        let embed_norm = norm(r, vocab, h)?;
        let mut layers = Vec::with_capacity(config.layers);
        for _ in 0..config.layers {
            layers.push(BertLayer {
                qkv: dense(r, vocab, (h, 3 * h), "a query, key and value layer")?,
                out: dense(r, vocab, (h, h), "an attention output layer")?,
                attn_norm: norm(r, vocab, h)?,
                up: dense(r, vocab, (h, i), "an inner layer")?,
                down: dense(r, vocab, (i, h), "an outer layer")?,
                ffn_norm: norm(r, vocab, h)?,
            });
        }
        let bert = Bert { config, word, position, token_type, embed_norm, layers };
        Transformer::new(wordpiece, bert, windows)
            .and_then(|model| model.with_feature_layers(feature_layers))
            .map_err(|reason| r.malformed(reason))
    }
}

impl Transformer {
    /// Appends the section, its word embeddings stored as `storage` says (the current
    /// format's storage, or version 5's in tests).
    fn save_as(&self, w: &mut ModelWriter, storage: Storage) {
        self.wordpiece.save(w);
        let bert = &self.bert;
        bert.config.save(w);
        w.u32(self.windows.span as u32);
        w.u32(self.windows.overlap as u32);
        w.u8(self.feature_layers as u8);
        w.matrix(&bert.word, bert.config.hidden, storage);
        w.floats(&bert.position);
        w.floats(&bert.token_type);
        bert.embed_norm.save(w);
        for layer in &bert.layers {
            layer.qkv.save(w);
            layer.out.save(w);
            layer.attn_norm.save(w);
            layer.up.save(w);
            layer.down.save(w);
            layer.ffn_norm.save(w);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::model_io::{ModelFile, PipelineWriter, Sections};
    use crate::pipeline::transformer::tests::{TINY_WINDOWS, tiny};
    use crate::pipeline::{ComponentKind, Pipeline};

    /// A model file whose pipeline is `model`.
    fn file(model: &Transformer) -> Vec<u8> {
        let mut writer = PipelineWriter::default();
        writer.add(ComponentKind::Transformer, model);
        writer.into_bytes()
    }

    /// `values` as int8 rows `cols` wide store them.
    fn int8_rows(values: &[f32], cols: usize) -> Vec<f32> {
        let mut w = ModelWriter::default();
        w.matrix(values, cols, Storage::Int8Rows);
        let mut r = ModelReader::new("test", &w.buf);
        r.matrix(values.len(), cols, "test", Storage::Int8Rows).unwrap()
    }

    #[test]
    fn a_saved_transformer_loads_back_with_int8_word_embeddings() {
        let model = tiny(TINY_WINDOWS).with_feature_layers(2).unwrap();
        let bytes = file(&model);
        let sections = Sections::parse(&bytes).unwrap();
        let mut r = sections.get(ComponentKind::Transformer.name()).unwrap();
        let loaded = Transformer::load(&mut r, &mut Vocab::new()).unwrap();
        r.finish().unwrap();
        assert_eq!(loaded.wordpiece, model.wordpiece);
        assert_eq!((loaded.windows, loaded.bert.config), (model.windows, model.bert.config));
        assert_eq!(loaded.feature_layers(), 2);
        let h = model.bert.config.hidden;
        assert_eq!(loaded.bert.word, int8_rows(&model.bert.word, h));
        // Each value within half a step of its row's scale.
        for (row, stored) in model.bert.word.chunks(h).zip(loaded.bert.word.chunks(h)) {
            let step = row.iter().fold(0.0_f32, |m, v| m.max(v.abs())) / 127.0;
            for (a, b) in row.iter().zip(stored) {
                assert!((a - b).abs() <= step * 0.5 + 1e-7, "{a} stored as {b}");
            }
        }
        let half = |v: &[f32]| -> Vec<f32> {
            v.iter().map(|&x| half::f16::from_f32(x).to_f32()).collect()
        };
        assert_eq!(loaded.bert.position, half(&model.bert.position));
        assert_eq!(loaded.bert.layers[1].down.w, half(&model.bert.layers[1].down.w));
        assert_eq!(loaded.bert.layers[0].ffn_norm.b, half(&model.bert.layers[0].ffn_norm.b));
        let pipeline = Pipeline::load(&bytes).unwrap();
        assert_eq!(pipeline.component_names().collect::<Vec<_>>(), ["transformer"]);
    }

    #[test]
    fn a_version_5_file_loads_with_half_precision_weights_and_is_rewritten_in_int8() {
        let model = tiny(TINY_WINDOWS);
        let mut body = ModelWriter::default();
        model.save_as(&mut body, Storage::Half);
        let mut writer = PipelineWriter::default();
        let name = ComponentKind::Transformer.name();
        writer.file.section(name, body);
        writer.names.push(name.to_owned());
        let mut bytes = writer.into_bytes();
        bytes[8] = 5;
        let sections = Sections::parse(&bytes).unwrap();
        let mut r = sections.get(ComponentKind::Transformer.name()).unwrap();
        let loaded = Transformer::load(&mut r, &mut Vocab::new()).unwrap();
        let half: Vec<f32> =
            model.bert.word.iter().map(|&x| half::f16::from_f32(x).to_f32()).collect();
        assert_eq!(loaded.bert.word, half);
        // Rewriting the file (e.g. `nlpd train --components vocab`) stores it anew.
        let rewritten = PipelineWriter::with_component(
            &bytes,
            ComponentKind::DocCleaner,
            &crate::pipeline::doc_cleaner::DocCleaner::default(),
        )
        .unwrap();
        assert_eq!(rewritten[8], 6);
        let sections = Sections::parse(&rewritten).unwrap();
        let mut r = sections.get(ComponentKind::Transformer.name()).unwrap();
        let upgraded = Transformer::load(&mut r, &mut Vocab::new()).unwrap();
        r.finish().unwrap();
        assert_eq!(upgraded.bert.word, int8_rows(&half, model.bert.config.hidden));
    }

    #[test]
    fn a_damaged_transformer_section_is_refused() {
        type Spoil = fn(&mut Transformer);
        let cases: [(Spoil, &str); 6] = [
            (
                |t| t.bert.layers[0].qkv.w[3] = f32::NAN,
                "model section `transformer` holds a non-finite value: weights[",
            ),
            (
                |t| t.bert.word[20] = f32::INFINITY,
                "non-finite value: word embeddings (the scale of row 2)[16] is NaN",
            ),
            (
                |t| t.bert.layers[1].up = Dense::from_parts(8, 10, vec![0.0; 80], vec![0.0; 10]),
                "model section `transformer` is malformed: an inner layer maps 8 to 10, not 8 to 12",
            ),
            (
                |t| t.windows = Windows { span: 15, overlap: 4 },
                "windows of 15 pieces overlapping by 4 in an encoder of 16 positions",
            ),
            (|t| t.bert.config.heads = 3, "3 heads do not split width 8"),
            (|t| t.feature_layers = 3, "features from the last 3 layers of an encoder of 2"),
        ];
        for (spoil, want) in cases {
            let mut model = tiny(TINY_WINDOWS);
            spoil(&mut model);
            let err = Pipeline::load(&file(&model)).unwrap_err();
            assert!(err.to_string().contains(want), "{err}");
        }
        // A section cut short, under a valid checksum.
        let mut body = ModelWriter::default();
        tiny(TINY_WINDOWS).save(&mut body);
        body.buf.truncate(body.buf.len() - 3);
        let mut list = ModelWriter::default();
        list.strs(&["transformer".to_string()]);
        let mut cut = ModelFile::default();
        cut.section("pipeline", list);
        cut.section("transformer", body);
        let err = Pipeline::load(&cut.into_bytes()).unwrap_err();
        assert!(
            matches!(&err, ModelLoadError::Malformed { section, .. } if section == "transformer"),
            "{err}"
        );
    }
}

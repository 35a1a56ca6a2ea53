//! `transformer`: contextual token vectors from a pretrained BERT encoder
//! (all-MiniLM-L6-v2), spaCy's `Transformer` component.
//!
//! # Overview
//!
//! [`Transformer`] runs in four steps per document:
//!
//! 1. **Pieces.** [`WordPiece`] cuts each token's text into [`PieceId`]s exactly as the
//!    encoder's `tokenizer.json` does (a token's pieces never straddle two tokens, so the
//!    alignment is exact); a token of only whitespace or control characters has none.
//! 2. **Windows.** The document's pieces are cut into overlapping [`Windows`] (by default
//!    126 pieces, 128 with `[CLS]` and `[SEP]`, sharing 32 with the next), and every
//!    window of the document goes through the encoder together, [`BATCH_WINDOWS`] at a
//!    time.
//! 3. **Encoder.** A BERT forward pass (`bert`) gives each piece its hidden state (the
//!    last layer's, or the mean of the last [`Transformer::feature_layers`] layers'), read
//!    from the window where the piece is most central.
//! 4. **Output.** Each token's features, [`TRF_FEATURES`] (tokens × width), are the mean
//!    of its pieces' hidden states (zeros for a token without pieces); `tok2vec` and `ner`
//!    read them beside their hash embeddings, and `Doc.tensor` stays what `tok2vec`
//!    writes. The document's `trf_data`, spaCy's `doc._.trf_data`, goes into three more
//!    named intermediate arrays: [`TRF_HIDDEN`] (pieces × width), [`TRF_PIECES`] (the
//!    piece ids) and [`TRF_ALIGN`] (each token's number of pieces). Being [`Tensor`]s,
//!    they count in `nlpd_doc_tensor_bytes`, and `doc_cleaner` drops them by default.
//!
//! For fine-tuning, [`EncoderTrainer`] runs the encoder's training forward pass, its
//! backward pass (the gradient of every parameter, from the gradient of the hidden
//! states) and Adam steps on the weights.
//!
//! The component is read from a model file's `transformer` section (f16 weights, like every
//! component); `nlpd encoder build` writes one from the directory
//! `scripts/fetch-encoder.sh` fills ([`Transformer::from_dir`]), and errors there are
//! [`EncoderError`]s.

mod activations;
mod attention;
mod bert;
mod dropout;
#[cfg(test)]
pub(crate) mod fetched;
mod safetensors;
mod train;
mod windows;
mod wordpiece;

use std::ops::Range;
use std::path::{Path, PathBuf};

use thiserror::Error;

pub use self::bert::BertConfig;
pub(crate) use self::bert::{Bert, BertLayer, BertScratch};
pub use self::dropout::Dropout;
use self::safetensors::SafeTensors;
pub use self::train::EncoderTrainer;
pub use self::windows::Windows;
pub(crate) use self::wordpiece::WordPieceParts;
pub use self::wordpiece::{Normalization, PieceId, PieceScratch, WordPiece};
use super::{Component, ComponentError, ComponentKind};
use crate::doc::{Doc, Tensor};

/// The named intermediate array of each token's features: the mean of its pieces' hidden
/// states (tokens × width; zeros for a token without pieces).
pub const TRF_FEATURES: &str = "trf_data.features";
/// The named intermediate array of each piece's hidden state (pieces × width).
pub const TRF_HIDDEN: &str = "trf_data.hidden";
/// The named intermediate array of the piece ids (pieces × 1; ids are below 2²⁴, so exact
/// in `f32`).
pub const TRF_PIECES: &str = "trf_data.pieces";
/// The named intermediate array of each token's number of pieces (tokens × 1, in order:
/// token `i`'s pieces follow token `i - 1`'s).
pub const TRF_ALIGN: &str = "trf_data.align";

/// The windows of a newly built component: 126 pieces (128 with `[CLS]` and `[SEP]`, a
/// quarter of BERT's 512 positions: attention's cost grows with the square of the window,
/// and 128 pieces hold most sentences whole) sharing 32 pieces with the next window, so
/// every piece is read at least 16 pieces from a window's edge, except at the document's
/// ends.
pub const DEFAULT_WINDOWS: Windows = Windows { span: 126, overlap: 32 };

/// Windows per encoder call: bounds the scratch memory of a long document (8 windows of
/// 128 rows: about 16 MB for all-MiniLM-L6-v2, most of it the feed-forward block's inner
/// layer) while batching every window of a typical one. The products gain nothing from
/// more rows: 1,024 rows already read each weight panel from the cache.
pub const BATCH_WINDOWS: usize = 8;

/// Errors raised when reading a pretrained encoder from its directory.
#[derive(Debug, Error)]
pub enum EncoderError {
    /// Occurs when a file of the encoder cannot be read.
    #[error("cannot read {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Occurs when a file describes something this build does not implement, or is not
    /// the format it should be.
    #[error("{file}: unsupported or malformed: {what}")]
    Unsupported {
        /// The file's name in the encoder directory.
        file: &'static str,
        /// What is wrong.
        what: String,
    },
}

/// The transformer component. See the [module docs](self).
#[derive(Clone, Debug, PartialEq)]
pub struct Transformer {
    pub(crate) wordpiece: WordPiece,
    pub(crate) bert: Bert,
    pub(crate) windows: Windows,
    /// Hidden states are the mean of the last this many layers' outputs (1: the last
    /// layer's).
    pub(crate) feature_layers: usize,
}

impl Transformer {
    /// A component from its parts (its hidden states the last layer's), or why they do not
    /// fit together.
    pub(crate) fn new(wordpiece: WordPiece, bert: Bert, windows: Windows) -> Result<Self, String> {
        bert.config.check()?;
        if wordpiece.len() != bert.config.vocab || wordpiece.len() >= 1 << 24 {
            return Err(format!(
                "{} word pieces for an embedding table of {} rows",
                wordpiece.len(),
                bert.config.vocab
            ));
        }
        if windows.overlap >= windows.span || windows.span + 2 > bert.config.max_positions {
            return Err(format!(
                "windows of {} pieces overlapping by {} in an encoder of {} positions",
                windows.span, windows.overlap, bert.config.max_positions
            ));
        }
        Ok(Self { wordpiece, bert, windows, feature_layers: 1 })
    }

    /// The component with hidden states that are the mean of the last `layers` layers'
    /// outputs, or why the encoder has not that many.
    pub fn with_feature_layers(self, layers: usize) -> Result<Self, String> {
        if !(1..=self.bert.config.layers).contains(&layers) {
            return Err(format!(
                "features from the last {layers} layers of an encoder of {}",
                self.bert.config.layers
            ));
        }
        Ok(Self { feature_layers: layers, ..self })
    }

    /// How many of the last layers' outputs each hidden state averages.
    pub fn feature_layers(&self) -> usize {
        self.feature_layers
    }

    /// The encoder in `dir` (`config.json`, `tokenizer.json` and `model.safetensors`, as
    /// `scripts/fetch-encoder.sh` leaves them), with [`DEFAULT_WINDOWS`] and its weights
    /// in full precision.
    ///
    /// # Errors
    ///
    /// Returns [`EncoderError::Io`] if a file cannot be read, [`EncoderError::Unsupported`]
    /// if one is not what a BERT encoder needs.
    pub fn from_dir(dir: &Path) -> Result<Self, EncoderError> {
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read(&path).map_err(|source| EncoderError::Io { path, source })
        };
        let text = |name: &'static str| {
            String::from_utf8(read(name)?)
                .map_err(|_| EncoderError::Unsupported { file: name, what: "not UTF-8".into() })
        };
        let config = BertConfig::from_config_json(&text("config.json")?)?;
        let wordpiece = WordPiece::from_tokenizer_json(&text("tokenizer.json")?)?;
        let weights = read("model.safetensors")?;
        let bert = Bert::from_safetensors(config, &SafeTensors::parse(&weights)?)?;
        Self::new(wordpiece, bert, DEFAULT_WINDOWS)
            .map_err(|what| EncoderError::Unsupported { file: "config.json", what })
    }

    /// Width of each token's features, and of each piece's hidden state.
    pub fn width(&self) -> usize {
        self.bert.width()
    }

    /// The hidden state of each of `ids` (a document's pieces, without `[CLS]` and `[SEP]`)
    /// into `hidden` (pieces × width), window by window (see the [module docs](self)).
    fn encode(&self, ids: &[PieceId], hidden: &mut [f32]) {
        let width = self.width();
        let windows = self.windows.over(ids.len());
        let owners = Windows::owners(&windows, ids.len());
        let (mut input, mut lens, mut out, mut rows) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut scratch = BertScratch::default();
        for (batch, group) in windows.chunks(BATCH_WINDOWS).enumerate() {
            input.clear();
            lens.clear();
            rows.clear();
            let first = batch * BATCH_WINDOWS;
            self.push_windows(ids, (group, first), &owners, (&mut input, &mut lens), &mut rows);
            self.bert.forward(&input, &lens, self.feature_layers, &mut scratch, &mut out);
            for &(piece, row) in &rows {
                hidden[piece * width..(piece + 1) * width]
                    .copy_from_slice(&out[row * width..(row + 1) * width]);
            }
        }
    }

    /// Appends to `input` and `lens` the encoder's inputs for `group`, the windows of
    /// `ids` numbered from `first` on (each as `[CLS]` window `[SEP]`), and to `rows`, for
    /// each piece one of them owns (`owners`, as [`Windows::owners`] gives), the piece and
    /// the row of `input` its hidden state is read from.
    pub(crate) fn push_windows(
        &self,
        ids: &[PieceId],
        (group, first): (&[Range<usize>], usize),
        owners: &[(usize, usize)],
        (input, lens): (&mut Vec<PieceId>, &mut Vec<usize>),
        rows: &mut Vec<(usize, usize)>,
    ) {
        for (i, window) in group.iter().enumerate() {
            // Row 0 of the window is its [CLS].
            let cls_row = input.len();
            input.push(self.wordpiece.cls());
            input.extend_from_slice(&ids[window.clone()]);
            input.push(self.wordpiece.sep());
            lens.push(window.len() + 2);
            for piece in window.clone() {
                let (owner, at) = owners[piece];
                if owner == first + i {
                    rows.push((piece, cls_row + 1 + at));
                }
            }
        }
    }

    /// Appends the pieces of each token of `doc` to `ids` and their number to `counts`.
    pub(crate) fn pieces(&self, doc: &Doc<'_>, ids: &mut Vec<PieceId>, counts: &mut Vec<usize>) {
        let mut scratch = PieceScratch::default();
        for token in doc.iter() {
            let before = ids.len();
            self.wordpiece.encode(token.text(), &mut scratch, ids);
            counts.push(ids.len() - before);
        }
    }

    /// The hidden states of `ids` (pieces × width) and each token's features (tokens ×
    /// width), the tokens having `counts` of the pieces each, in order.
    pub(crate) fn features(&self, ids: &[PieceId], counts: &[usize]) -> (Vec<f32>, Vec<f32>) {
        let width = self.width();
        let mut hidden = vec![0.0; ids.len() * width];
        self.encode(ids, &mut hidden);
        let mut features = vec![0.0; counts.len() * width];
        mean_over_pieces(&hidden, counts, width, &mut features);
        (hidden, features)
    }
}

/// The backward pass of [`mean_over_pieces`]: adds each token's row of `d_features`
/// divided by its number of pieces to each of its pieces' rows of `d_hidden`.
pub(crate) fn mean_over_pieces_backward(
    d_features: &[f32],
    counts: &[usize],
    width: usize,
    d_hidden: &mut [f32],
) {
    let mut first = 0;
    for (row, &count) in d_features.chunks_exact(width).zip(counts) {
        let scale = 1.0 / count.max(1) as f32;
        for piece in d_hidden[first * width..(first + count) * width].chunks_exact_mut(width) {
            piece.iter_mut().zip(row).for_each(|(d, f)| *d += f * scale);
        }
        first += count;
    }
}

/// Each token's features into `features` (a row of `width` per token, zeroed): the mean
/// of its pieces' rows of `hidden`, the tokens having `counts` of the pieces each, in
/// order (zeros for a token without pieces).
pub(crate) fn mean_over_pieces(
    hidden: &[f32],
    counts: &[usize],
    width: usize,
    features: &mut [f32],
) {
    let mut first = 0;
    for (row, &count) in features.chunks_exact_mut(width).zip(counts) {
        let pieces = &hidden[first * width..(first + count) * width];
        for piece in pieces.chunks_exact(width) {
            row.iter_mut().zip(piece).for_each(|(f, h)| *f += h);
        }
        if count > 1 {
            let scale = 1.0 / count as f32;
            row.iter_mut().for_each(|f| *f *= scale);
        }
        first += count;
    }
}

impl Component for Transformer {
    fn name(&self) -> &'static str {
        ComponentKind::Transformer.name()
    }

    fn process(&self, doc: &mut Doc<'_>) -> Result<(), ComponentError> {
        let width = self.width();
        let mut ids = Vec::with_capacity(doc.len() * 2);
        let mut counts = Vec::with_capacity(doc.len());
        self.pieces(doc, &mut ids, &mut counts);
        let (hidden, features) = self.features(&ids, &counts);
        // Ids and counts are far below 2^24 (checked at load; a token's pieces are fewer
        // than its bytes), so exact in f32.
        let piece_ids = ids.iter().map(|id| id.index() as f32).collect();
        let align = counts.iter().map(|&c| c as f32).collect();
        let n = ids.len();
        let arrays = doc.user_data_mut();
        arrays.insert(TRF_FEATURES.into(), Tensor::from_vec(counts.len(), width, features));
        arrays.insert(TRF_HIDDEN.into(), Tensor::from_vec(n, width, hidden));
        arrays.insert(TRF_PIECES.into(), Tensor::from_vec(n, 1, piece_ids));
        arrays.insert(TRF_ALIGN.into(), Tensor::from_vec(counts.len(), 1, align));
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::fetched::fetched_encoder;
    use super::*;
    use crate::pipeline::doc_cleaner::DocCleaner;
    use crate::pipeline::nn::Rng;
    use crate::pipeline::{Pipeline, Precision};
    use crate::tokenizer::Tokenizer;
    use crate::vocab::Vocab;

    /// Windows as long as the tiny encoder's 16 positions allow.
    pub(crate) const TINY_WINDOWS: Windows = Windows { span: 14, overlap: 4 };

    /// A transformer over the tiny WordPiece vocabulary, with a random tiny encoder.
    pub(crate) fn tiny(windows: Windows) -> Transformer {
        let bert = bert::tests::tiny(bert::tests::TINY, &mut Rng::new(5));
        Transformer::new(wordpiece::tests::tiny(), bert, windows).unwrap()
    }

    /// The arrays `model` leaves on a document of `words`.
    fn run(model: &Transformer, words: &[&str]) -> (Tensor, Vec<f32>, Vec<f32>, Tensor) {
        let vocab = Vocab::new();
        let zone = vocab.zone();
        let mut doc = Doc::from_words(&zone, words, &vec![true; words.len()]);
        model.process(&mut doc).unwrap();
        let mut arrays = std::mem::take(doc.user_data_mut());
        let mut take = |name: &str| arrays.remove(name).unwrap();
        let (hidden, pieces, align) = (take(TRF_HIDDEN), take(TRF_PIECES), take(TRF_ALIGN));
        let features = take(TRF_FEATURES);
        assert!(arrays.is_empty());
        assert!(doc.tensor().is_none(), "Doc.tensor is tok2vec's");
        (hidden, pieces.as_slice().to_vec(), align.as_slice().to_vec(), features)
    }

    #[test]
    fn tokens_are_aligned_to_their_pieces_and_read_their_mean() {
        let model = tiny(TINY_WINDOWS);
        let words = ["The", "unaffable", "\u{200b}", "don't", "中中", "zzz"];
        let (hidden, pieces, align, features) = run(&model, &words);
        // unaffable is 9 characters, past the tiny vocabulary's 5: one [UNK]. The format
        // character has no pieces. zzz cannot be cut: one [UNK].
        let want_pieces = ["the", "[UNK]", "don", "'", "t", "中", "中", "[UNK]"];
        let got: Vec<&str> =
            pieces.iter().map(|&id| model.wordpiece.piece(PieceId::new(id as u32))).collect();
        assert_eq!(got, want_pieces);
        assert_eq!(align, [1.0, 1.0, 0.0, 3.0, 2.0, 1.0]);
        assert_eq!((hidden.rows(), hidden.cols()), (8, 8));
        assert_eq!((features.rows(), features.cols()), (6, 8));
        assert_eq!(features.row(0), hidden.row(0));
        assert_eq!(features.row(2), [0.0; 8], "a token without pieces reads zeros");
        let mean: Vec<f32> = (0..8)
            .map(|c| (hidden.row(2)[c] + hidden.row(3)[c] + hidden.row(4)[c]) / 3.0)
            .collect();
        for (got, want) in features.row(3).iter().zip(&mean) {
            assert!((got - want).abs() < 1e-6);
        }
    }

    #[test]
    fn windows_are_encoded_alone_and_recombined_where_each_piece_is_most_central() {
        // 45 pieces in windows of 4 sharing 2: 21 windows, in two batches.
        let windows = Windows { span: 4, overlap: 2 };
        let model = tiny(windows);
        let words: Vec<&str> = ["the", "a", "x", "hello", "cafe"].repeat(9);
        let (hidden, pieces, _, _) = run(&model, &words);
        let ids: Vec<PieceId> = pieces.iter().map(|&p| PieceId::new(p as u32)).collect();
        let spans = windows.over(ids.len());
        assert!(spans.len() > BATCH_WINDOWS, "{} windows", spans.len());
        let owners = Windows::owners(&spans, ids.len());
        let (mut scratch, mut out) = (BertScratch::default(), Vec::new());
        let w = model.width();
        for (piece, &(owner, at)) in owners.iter().enumerate() {
            let window = &spans[owner];
            let input =
                [&[model.wordpiece.cls()], &ids[window.clone()], &[model.wordpiece.sep()]].concat();
            model.bert.forward(&input, &[input.len()], 1, &mut scratch, &mut out);
            let alone = &out[(1 + at) * w..(2 + at) * w];
            for (got, want) in hidden.row(piece).iter().zip(alone) {
                assert!((got - want).abs() < 1e-5, "piece {piece}");
            }
        }
        // A document that fits in one window is encoded whole, as one input.
        let short = &words[..7];
        let (hidden, pieces, _, _) = run(&tiny(TINY_WINDOWS), short);
        let ids: Vec<PieceId> = pieces.iter().map(|&p| PieceId::new(p as u32)).collect();
        let input = [&[model.wordpiece.cls()], &ids[..], &[model.wordpiece.sep()]].concat();
        model.bert.forward(&input, &[input.len()], 1, &mut scratch, &mut out);
        for (got, want) in hidden.as_slice().iter().zip(&out[w..out.len() - w]) {
            assert!((got - want).abs() < 1e-5);
        }
    }

    #[test]
    fn doc_cleaner_frees_trf_data_and_the_features() {
        let model = tiny(TINY_WINDOWS);
        let nlp = Pipeline::new(
            Vocab::new(),
            Tokenizer::english(),
            vec![Box::new(model), Box::new(DocCleaner::default())],
        );
        let zone = nlp.vocab().zone();
        let mut doc = nlp.tokenizer().tokenize(&zone, "The cafe, unaffable!");
        let only = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        nlp.annotate(&mut doc, Some(&only(&["transformer"]))).unwrap();
        // 5 tokens, 5 pieces: hidden 5 × 8, ids 5, counts 5, features 5 × 8 floats.
        let held: usize = doc.user_data().values().map(Tensor::bytes).sum::<usize>();
        assert_eq!(held, (5 * 8 + 5 + 5 + 5 * 8) * 4);
        nlp.annotate(&mut doc, None).unwrap();
        assert!(doc.user_data().is_empty());
    }

    /// The largest difference between `got` and `want`, which must be as long.
    fn max_diff(got: &[f32], want: &[f32]) -> f32 {
        assert_eq!(got.len(), want.len());
        got.iter().zip(want).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max)
    }

    #[test]
    fn bert_matches_the_numpy_reference() {
        // tests/fixtures/minilm-hidden.json: scripts/encoder/bert_reference.py's hidden
        // states (computed in float64) for three sentences.
        let Some(dir) = fetched_encoder() else { return };
        let model = Transformer::from_dir(&dir).unwrap();
        let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/minilm-hidden.json");
        let fixture: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(fixture).unwrap()).unwrap();
        // The same encoder read back from a model file: its word embeddings in int8 rows
        // (1.6e-2 at most; f16 alone gave 2.7e-3), the other weights in half precision,
        // computing in f32 and, as `nlpd serve` loads it, with its dense layers in int8
        // (0.15 at most).
        let stored = |precision| {
            use crate::pipeline::model_io::{PipelineWriter, Sections, components::Persist};
            let mut writer = PipelineWriter::default();
            writer.add(ComponentKind::Transformer, &model);
            let bytes = writer.into_bytes();
            let sections = Sections::parse(&bytes).unwrap().with_precision(precision);
            let mut r = sections.get(ComponentKind::Transformer.name()).unwrap();
            Transformer::load(&mut r, &mut Vocab::new()).unwrap()
        };
        let (stored_f32, stored_int8) = (stored(Precision::F32), stored(Precision::Int8));
        let mut scratch = (BertScratch::default(), PieceScratch::default());
        let cases =
            [("f32", &model, 1e-4), ("stored", &stored_f32, 2.5e-2), ("int8", &stored_int8, 0.3)];
        for (precision, model, bound) in cases {
            let mut worst = 0.0_f32;
            for sentence in fixture["sentences"].as_array().unwrap() {
                let text = sentence["text"].as_str().unwrap();
                let want_ids: Vec<u64> = serde_json::from_value(sentence["ids"].clone()).unwrap();
                let mut ids = vec![model.wordpiece.cls()];
                model.wordpiece.encode(text, &mut scratch.1, &mut ids);
                ids.push(model.wordpiece.sep());
                let got_ids: Vec<u64> = ids.iter().map(|id| id.index() as u64).collect();
                assert_eq!(got_ids, want_ids, "{text}");
                let want: Vec<f32> = sentence["hidden"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .flat_map(|row| row.as_array().unwrap().iter())
                    .map(|v| v.as_f64().unwrap() as f32)
                    .collect();
                let mut out = Vec::new();
                model.bert.forward(&ids, &[ids.len()], 1, &mut scratch.0, &mut out);
                worst = worst.max(max_diff(&out, &want));
            }
            eprintln!("{precision} weights: max abs difference from the reference {worst:e}");
            assert!(worst <= bound, "{precision} weights: max abs difference {worst}");
        }
    }
}

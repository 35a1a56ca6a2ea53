//! Frozen inputs: what a component that training does not change leaves on each training
//! document, computed once before training.
//!
//! # Overview
//!
//! Two inputs of training come from components whose weights stay fixed while the others
//! learn: a teacher's tensor in distillation ([`super::teacher`]) and a pretrained
//! transformer's features (the `[transformer]` table of a training config,
//! [`TransformerConfig`]). Both are computed once per training and dev document with
//! `frozen_output`, before the first epoch, and kept beside the document's gold data:
//! they never change, and computing them per batch would cost as much every epoch.
//!
//! With a `[transformer]` table, the trained encoders (tok2vec's and the recogniser's) read
//! the transformer's features beside their hash embeddings (see
//! [`crate::pipeline::tok2vec`]), and the model file holds the transformer before them.
//! The transformer is frozen unless the table has a `fine_tune` table: then the joint
//! trainer computes its features per batch and passes the gradient with respect to them on
//! to the transformer's own backward pass ([`super::fine_tune`]), and the recogniser reads
//! the frozen features of the fine-tuned transformer.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::TrainError;
use super::fine_tune::FineTuneConfig;
use crate::doc::Doc;
use crate::pipeline::model_io::ensemble::read_part;
use crate::pipeline::model_io::{ModelLoadError, PipelineWriter, Sections};
use crate::pipeline::transformer::{TRF_FEATURES, Transformer};
use crate::pipeline::{Component, ComponentKind, Precision};
use crate::vocab::Vocab;

/// The `[transformer]` table of a training config: the pretrained encoder whose features
/// the trained encoders read, and which of its layers they come from.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransformerConfig {
    /// The encoder's directory, as `scripts/fetch-encoder.sh` fills it (relative to where
    /// `nlpd train` runs); by default `$NLPD_ENCODER_DIR`, else
    /// `~/.cache/nlpd/all-minilm-l6-v2`, where the script puts it.
    #[serde(default)]
    pub dir: Option<PathBuf>,
    /// A model file whose `transformer` section is the encoder (as `nlpd encoder build`
    /// writes it), read instead of `dir`.
    #[serde(default)]
    pub model: Option<PathBuf>,
    /// Each piece's hidden state is the mean of the last this many layers' outputs (1: the
    /// last layer's); a token's features are the mean of its pieces' hidden states.
    #[serde(default = "last_layer")]
    pub feature_layers: usize,
    /// Fine-tune the encoder while the heads train (see [`super::fine_tune`]); without
    /// this table it stays frozen.
    #[serde(default)]
    pub fine_tune: Option<FineTuneConfig>,
}

fn last_layer() -> usize {
    1
}

impl TransformerConfig {
    /// The directory the encoder is read from when neither `dir` nor `model` is given.
    fn default_dir() -> Option<PathBuf> {
        std::env::var_os("NLPD_ENCODER_DIR").map(PathBuf::from).or_else(|| {
            std::env::var_os("HOME")
                .map(|home| PathBuf::from(home).join(".cache/nlpd/all-minilm-l6-v2"))
        })
    }

    /// The configured transformer, its weights rounded as the trained model file
    /// will hold them (so training reads the features inference computes).
    ///
    /// # Errors
    ///
    /// Returns [`TrainError::Transformer`] if the encoder cannot be read or the feature
    /// layers are more than it has.
    pub fn load(&self) -> Result<Transformer, TrainError> {
        let (transformer, path) = match &self.model {
            Some(path) => {
                let err = |reason: String| TrainError::Transformer { path: path.clone(), reason };
                let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
                (read_transformer(&bytes).map_err(|e| err(e.to_string()))?, path.clone())
            }
            None => {
                let dir = self.dir.clone().or_else(Self::default_dir).ok_or_else(|| {
                    TrainError::Transformer {
                        path: PathBuf::from("~/.cache/nlpd/all-minilm-l6-v2"),
                        reason: "neither HOME nor NLPD_ENCODER_DIR is set".into(),
                    }
                })?;
                let transformer = Transformer::from_dir(&dir).map_err(|e| {
                    TrainError::Transformer { path: dir.clone(), reason: error_chain(&e) }
                })?;
                // Through a model file's section: its weights rounded as the file stores them.
                let mut writer = PipelineWriter::default();
                writer.add(ComponentKind::Transformer, &transformer);
                let transformer = read_transformer(&writer.into_bytes())
                    .expect("a transformer just written reads back. This is a bug.");
                (transformer, dir)
            }
        };
        transformer
            .with_feature_layers(self.feature_layers)
            .map_err(|reason| TrainError::Transformer { path, reason })
    }

    /// The transformer of the model file `bytes` (read from `path`) that training starts
    /// from, with the configured features.
    ///
    /// # Errors
    ///
    /// Returns [`TrainError::Init`] if the file has no transformer or it has not the
    /// feature layers.
    pub(super) fn load_from(&self, path: &Path, bytes: &[u8]) -> Result<Transformer, TrainError> {
        read_transformer(bytes)
            .map_err(|e| e.to_string())
            .and_then(|t| t.with_feature_layers(self.feature_layers))
            .map_err(|reason| TrainError::Init { path: path.into(), reason })
    }
}

/// The transformer section of the model file `bytes`, computing in f32 as training does
/// (inference quantises its dense layers; the heads are trained on f32 features).
pub(super) fn read_transformer(bytes: &[u8]) -> Result<Transformer, ModelLoadError> {
    let sections = Sections::parse(bytes)?.with_precision(Precision::F32);
    read_part(&sections, ComponentKind::Transformer, &mut Vocab::new())
}

/// `error` and its sources, joined with `: `.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

/// Where a frozen component leaves its output on a document.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Output {
    /// `Doc.tensor` (tok2vec).
    Tensor,
    /// The transformer's per-token features, [`TRF_FEATURES`].
    TransformerFeatures,
}

/// Runs the frozen `component` on a fresh `doc` and takes its `output` off the document
/// (rows × width, row-major), leaving it without a tensor or intermediate arrays again.
///
/// # Panics
///
/// Panics if the component fails or leaves no such output, which training rules out by
/// running only components that need no earlier one.
pub(crate) fn frozen_output(
    component: &dyn Component,
    doc: &mut Doc<'_>,
    output: Output,
) -> Vec<f32> {
    component.process(doc).expect("a frozen component runs on any document. This is a bug.");
    let values = match output {
        Output::Tensor => doc.tensor(),
        Output::TransformerFeatures => doc.user_data().get(TRF_FEATURES),
    }
    .expect("the component sets its output. This is a bug.")
    .as_slice()
    .to_vec();
    doc.set_tensor(None);
    doc.user_data_mut().clear();
    values
}

/// The transformer's features of `doc` (tokens × width), or nothing without a transformer.
pub(crate) fn transformer_features(
    transformer: Option<&Transformer>,
    doc: &mut Doc<'_>,
) -> Vec<f32> {
    transformer.map_or_else(Vec::new, |t| frozen_output(t, doc, Output::TransformerFeatures))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::EntIob;
    use crate::pipeline::Pipeline;
    use crate::pipeline::transformer::fetched::fetched_encoder;
    use crate::pipeline::transformer::tests::{TINY_WINDOWS, tiny};
    use crate::train::fine_tune::FineTuneConfig;
    use crate::train::teacher::DistillConfig;
    use crate::train::trainer::tests::{Silent, corpus_dir, tiny_config};
    use crate::train::trainer::{TrainConfig, train};

    /// Asserts that `model` loads as a pipeline on a transformer whose encoders read its
    /// features, and annotates every token of a text.
    fn assert_annotates(model: &[u8], width: usize) {
        let pipeline = Pipeline::load(model).unwrap();
        // A pipeline on a transformer has every component, in the pipeline order.
        let every = ComponentKind::ALL.map(ComponentKind::name);
        assert_eq!(pipeline.component_names().collect::<Vec<_>>(), every);
        let sections = Sections::parse(model).unwrap();
        let tok2vec: crate::pipeline::tok2vec::Tok2Vec =
            read_part(&sections, ComponentKind::Tok2Vec, &mut Vocab::new()).unwrap();
        assert_eq!(tok2vec.feature_width(), width, "tok2vec reads the features");
        let ner: crate::pipeline::ner::EntityRecognizer =
            read_part(&sections, ComponentKind::Ner, &mut Vocab::new()).unwrap();
        assert_eq!(ner.features().feature_width(), width, "the recogniser reads them");
        let zone = pipeline.vocab().zone();
        let doc = pipeline.process(&zone, "Bob wrote books. Ada reads code.").unwrap();
        for token in doc.tokens() {
            assert!(token.tag.is_some() && token.head.is_some() && token.lemma.is_some());
            assert_ne!(token.ent_iob, EntIob::Missing);
        }
        assert!(doc.user_data().is_empty() && doc.tensor().is_none(), "doc_cleaner ran");
    }

    /// The tiny configuration, one member, reading the features of `transformer`.
    fn trf_config(conllu: PathBuf, iob2: PathBuf, transformer: TransformerConfig) -> TrainConfig {
        let config = tiny_config(conllu, iob2);
        TrainConfig { members: 1, transformer: Some(transformer), ..config }
    }

    /// Writes the tiny transformer as a model file in `dir` and returns the file's path.
    fn tiny_encoder_file(dir: &std::path::Path) -> PathBuf {
        let encoder = dir.join("encoder.nlpd");
        let mut writer = PipelineWriter::default();
        writer.add(ComponentKind::Transformer, &tiny(TINY_WINDOWS));
        std::fs::write(&encoder, writer.into_bytes()).unwrap();
        encoder
    }

    /// The transformer section of `model`.
    fn transformer_of(model: &[u8]) -> Transformer {
        read_transformer(model).unwrap()
    }

    #[test]
    fn a_pipeline_on_a_transformer_trains_deterministically_and_loads_back() {
        let (dir, conllu, iob2) = corpus_dir("trf-tiny");
        let encoder = tiny_encoder_file(&dir);
        let transformer = TransformerConfig {
            model: Some(encoder),
            feature_layers: 2,
            dir: None,
            fine_tune: None,
        };
        let config = trf_config(conllu, iob2, transformer);
        let first = train(&config, &mut Silent(0)).unwrap().model;
        let second = train(&config, &mut Silent(0)).unwrap().model;
        assert_eq!(first, second, "same seed, same bytes");
        assert_annotates(&first, 8);
        let loaded = transformer_of(&first);
        assert_eq!(loaded.feature_layers(), 2, "the model keeps the configured features");
        let pretrained = transformer_of(&std::fs::read(dir.join("encoder.nlpd")).unwrap());
        assert!(loaded.bert == pretrained.bert, "a frozen transformer stays as it was");

        let too_deep = TransformerConfig { feature_layers: 3, ..config.transformer.unwrap() };
        let err = too_deep.load().unwrap_err();
        assert!(err.to_string().contains("last 3 layers of an encoder of 2"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_pipeline_on_a_transformer_teaches_a_member_without_one() {
        let (dir, conllu, iob2) = corpus_dir("trf-teacher");
        let transformer = TransformerConfig {
            model: Some(tiny_encoder_file(&dir)),
            feature_layers: 2,
            dir: None,
            fine_tune: None,
        };
        let teacher_config = TrainConfig { ner: None, ..trf_config(conllu, iob2, transformer) };
        let teacher = dir.join("teacher.nlpd");
        std::fs::write(&teacher, train(&teacher_config, &mut Silent(0)).unwrap().model).unwrap();
        let plain = TrainConfig { transformer: None, ..teacher_config };
        let distill = Some(DistillConfig { teacher, weight: 0.5 });
        let student = TrainConfig { distill, ..plain.clone() };
        let taught = train(&student, &mut Silent(0)).unwrap().model;
        let alone = train(&plain, &mut Silent(0)).unwrap().model;
        assert_ne!(taught, alone, "the teacher changes what the member learns");
        let pipeline = Pipeline::load(&taught).unwrap();
        assert!(!pipeline.component_names().any(|name| name == "transformer"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn fine_tuning_changes_the_transformer_deterministically_and_a_run_resumes_from_it() {
        let (dir, conllu, iob2) = corpus_dir("trf-fine-tune");
        let encoder = tiny_encoder_file(&dir);
        let pretrained = transformer_of(&std::fs::read(&encoder).unwrap());
        let fine_tune = FineTuneConfig {
            learn_rate: 0.01,
            warmup_steps: 2,
            hidden_dropout: 0.1,
            attention_dropout: 0.1,
            freeze_words: true,
        };
        let transformer = TransformerConfig {
            model: Some(encoder),
            feature_layers: 2,
            dir: None,
            fine_tune: Some(fine_tune),
        };
        let config = trf_config(conllu, iob2, transformer);
        let first = train(&config, &mut Silent(0)).unwrap().model;
        let second = train(&config, &mut Silent(0)).unwrap().model;
        assert_eq!(first, second, "same seed, same bytes");
        assert_annotates(&first, 8);
        let tuned = transformer_of(&first);
        assert!(tuned.bert != pretrained.bert, "the encoder learned");
        assert!(tuned.bert.word == pretrained.bert.word, "its word table is frozen");

        // A run that starts from the first's weights.
        let checkpoint = dir.join("first.nlpd");
        std::fs::write(&checkpoint, &first).unwrap();
        let ensemble = TrainConfig { members: 2, ..config.clone() };
        let err = train(&ensemble, &mut Silent(0)).unwrap_err();
        assert!(err.to_string().contains("not an ensemble of 2"), "{err}");
        let resumed = TrainConfig { init: Some(checkpoint), ..config };
        let model = train(&resumed, &mut Silent(0)).unwrap().model;
        assert_annotates(&model, 8);
        assert_ne!(model, first, "it trained on");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_pipeline_on_the_fetched_encoder_trains_for_an_epoch_and_loads_back() {
        let Some(encoder) = fetched_encoder() else { return };
        let (dir, conllu, iob2) = corpus_dir("trf-fetched");
        let transformer = TransformerConfig {
            dir: Some(encoder),
            model: None,
            feature_layers: 1,
            fine_tune: None,
        };
        let mut config = trf_config(conllu, iob2, transformer);
        config.schedule.max_epochs = 1;
        if let Some(ner) = &mut config.ner {
            ner.schedule.max_epochs = 1;
        }
        let model = train(&config, &mut Silent(0)).unwrap().model;
        std::fs::remove_dir_all(&dir).unwrap();
        assert_annotates(&model, 384);
    }
}

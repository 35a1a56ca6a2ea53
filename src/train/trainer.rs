//! `nlpd train`: trains the English pipeline from CoNLL-U.
//!
//! # Overview
//!
//! [`TrainConfig`] (a TOML file such as `config/train-en.toml`) names the training and
//! development corpora and every hyper-parameter. [`train`] orchestrates:
//!
//! 1. reads both corpora as paragraphs (the label sets come from the training data only,
//!    never dev or test);
//! 2. learns the lemmatizer's rule and exception tables (no gradient involved);
//! 3. trains each ensemble member (tok2vec, the tagger, the morphologizer and the parser,
//!    jointly: module `joint`) from seeds `seed`, `seed + 1`, …, checkpointing through the
//!    [`TrainObserver`] each new best joined with the members done so far; with a
//!    `[transformer]` table, the encoders read its features and the model file holds it
//!    first ([`super::features`]; with `[transformer.fine_tune]` the members fine-tune it,
//!    [`super::fine_tune`], and the recogniser reads the fine-tuned one); with `init`, the
//!    transformer and the networks start from a model file's weights;
//! 4. joins the members into an ensemble, splices in the entity recogniser ([`super::ner`])
//!    and writes the training vocabulary ([`super::word_forms`]).
//!
//! Everything random (initialisation, shuffling, dropout) comes from the configured seed
//! and training is single-threaded, so a given config and data give the same model bytes.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::corpus::Corpus;
use super::features::{TransformerConfig, read_transformer};
pub use super::joint::ParserConfig;
use super::joint::{self, Member};
use super::schedule::Schedule;
use super::teacher::DistillConfig;
use super::{DevScores, TrainError, TrainObserver, lemma_rules, word_forms};
use crate::pipeline::model_io::ensemble::join_ensemble;
use crate::pipeline::tok2vec::Tok2VecConfig;

/// Everything `nlpd train` needs, read from a TOML file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// Seed for initialisation, shuffling and dropout.
    pub seed: u64,
    /// Pipelines trained (from seeds `seed`, `seed + 1`, …) and joined into an ensemble
    /// that averages their scores (see [`crate::pipeline::model_io::ensemble::join_ensemble`]).
    #[serde(default = "one")]
    pub members: u64,
    /// Training corpus (CoNLL-U).
    pub train: PathBuf,
    /// Development corpus (CoNLL-U), used only for scoring and early stopping.
    pub dev: PathBuf,
    /// Epochs, early stopping, batches, dropout and the optimiser.
    pub schedule: Schedule,
    /// The shared encoder's shape.
    pub tok2vec: Tok2VecConfig,
    /// The parser's shape and training.
    pub parser: ParserConfig,
    /// The named-entity recogniser, if the pipeline has one.
    #[serde(default)]
    pub ner: Option<super::ner::NerConfig>,
    /// A trained pipeline each member learns to reproduce besides the gold labels
    /// (distillation), if any.
    #[serde(default)]
    pub distill: Option<DistillConfig>,
    /// A pretrained transformer whose frozen features tok2vec and the recogniser read beside
    /// their hash embeddings, if any.
    #[serde(default)]
    pub transformer: Option<TransformerConfig>,
    /// A model file (e.g. a checkpoint of an earlier run) whose transformer, tok2vec,
    /// tagger, morphologizer and parser weights training starts from instead of the
    /// pretrained encoder and a random initialisation (the optimisers start afresh); its
    /// label sets must be the training corpus's. `nlpd train --init` sets it.
    #[serde(default)]
    pub init: Option<PathBuf>,
}

fn one() -> u64 {
    1
}

/// The result of [`train`].
#[derive(Debug)]
pub struct Trained {
    /// The model file of the best epochs.
    pub model: Vec<u8>,
    /// Each ensemble member's best dev scores.
    pub scores: Vec<DevScores>,
    /// Epochs each member ran.
    pub epochs: Vec<usize>,
}

/// Trains the pipeline described by `config`: each ensemble member in turn, then the
/// entity recogniser. The observer's checkpoints hold the best model so far (the members
/// done so far, joined with the best epoch of the one in training).
///
/// # Errors
///
/// Returns a [`TrainError`] if a corpus cannot be read or the training corpus is empty.
pub fn train(
    config: &TrainConfig,
    observer: &mut dyn TrainObserver,
) -> Result<Trained, TrainError> {
    let train_corpus = Corpus::read(&config.train)?;
    let dev_corpus = Corpus::read(&config.dev)?;
    if train_corpus.words() == 0 {
        return Err(TrainError::EmptyCorpus { path: config.train.clone() });
    }
    let lemmatizer = lemma_rules::induce(&train_corpus);
    let init = config.init.as_deref().map(|path| read_init(path).map(|bytes| (path, bytes)));
    let init = init.transpose()?;
    let transformer = match (&config.transformer, &init) {
        (Some(table), Some((path, bytes))) => Some(table.load_from(path, bytes)?),
        (table, _) => table.as_ref().map(TransformerConfig::load).transpose()?,
    };
    let fine_tune = config.transformer.as_ref().and_then(|t| t.fine_tune.as_ref());
    if fine_tune.is_some() && config.members > 1 {
        // Each member would fine-tune a transformer of its own; a model holds one.
        return Err(TrainError::FineTunedEnsemble { members: config.members });
    }
    let member = Member {
        schedule: &config.schedule,
        tok2vec: &config.tok2vec,
        parser: &config.parser,
        train: &train_corpus,
        dev: &dev_corpus,
        lemmatizer: &lemmatizer,
        distill: config.distill.as_ref(),
        transformer: transformer.as_ref(),
        fine_tune,
        init: init.as_ref().map(|(path, bytes)| (*path, bytes.as_slice())),
    };
    let (mut members, mut scores, mut epochs) = (Vec::new(), Vec::new(), Vec::new());
    let count = config.members.max(1);
    for seed in config.seed..config.seed + count {
        observer.member_started(seed - config.seed + 1, count, seed);
        let joined = |file| join(&members, file);
        let best = joint::train_member(member, seed, &joined, observer)?;
        members.push(best.model);
        scores.push(best.scores);
        epochs.push(best.epochs);
    }
    let last = members.pop().expect("at least one member is trained");
    let mut model = join(&members, last);
    // The recogniser reads the fine-tuned transformer the model holds.
    let transformer = match fine_tune {
        Some(_) => {
            Some(read_transformer(&model).expect("a trained model reads back. This is a bug."))
        }
        None => transformer,
    };
    if let Some(ner) = &config.ner {
        let ner = super::ner::train(ner, config.seed, transformer.as_ref(), observer)?.model;
        model = super::ner::with_recognizer(&model, &ner).expect("This is a bug.");
    }
    let model = word_forms::with_training_vocab(&model, &train_corpus).expect("This is a bug.");
    observer.checkpoint(&model);
    Ok(Trained { model, scores, epochs })
}

/// The bytes of the model file training starts from.
fn read_init(path: &Path) -> Result<Vec<u8>, TrainError> {
    std::fs::read(path).map_err(|e| TrainError::Init { path: path.into(), reason: e.to_string() })
}

/// The model file of the ensemble of `finished` members and `last`.
fn join(finished: &[Vec<u8>], last: Vec<u8>) -> Vec<u8> {
    if finished.is_empty() {
        return last;
    }
    let files: Vec<&[u8]> = finished.iter().map(Vec::as_slice).chain([&last[..]]).collect();
    join_ensemble(&files).expect("members of one configuration join. This is a bug.")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::pipeline::Pipeline;
    use crate::pipeline::model_io::Sections;
    use crate::pipeline::model_io::components::Persist;
    use crate::pipeline::nn::AdamConfig;
    use crate::pipeline::tok2vec::{Attr, EmbedConfig, Tok2Vec};
    use crate::train::ner::NerConfig;
    use crate::vocab::Vocab;

    /// Sentences written for this test.
    const CONLLU: &str = "\
# newpar
# sent_id = s1
# text = Ada wrote code.
1\tAda\tAda\tPROPN\tNNP\tNumber=Sing\t2\tnsubj\t_\t_
2\twrote\twrite\tVERB\tVBD\tTense=Past\t0\troot\t_\t_
3\tcode\tcode\tNOUN\tNN\tNumber=Sing\t2\tobj\t_\tSpaceAfter=No
4\t.\t.\tPUNCT\t.\t_\t2\tpunct\t_\t_

# sent_id = s2
# text = Bob reads books.
1\tBob\tBob\tPROPN\tNNP\tNumber=Sing\t2\tnsubj\t_\t_
2\treads\tread\tVERB\tVBZ\tTense=Pres\t0\troot\t_\t_
3\tbooks\tbook\tNOUN\tNNS\tNumber=Plur\t2\tobj\t_\tSpaceAfter=No
4\t.\t.\tPUNCT\t.\t_\t2\tpunct\t_\t_

";
    const IOB2: &str = "# sent_id = s1\n1\tAda\tB-PER\n2\twrote\tO\n3\tcode\tO\n4\t.\tO\n\n";

    fn schedule() -> Schedule {
        Schedule {
            max_epochs: 2,
            patience: 1,
            batch_words: 4,
            dropout: 0.1,
            average_decay: 0.9,
            warmup_steps: 1,
            word_dropout: 0.1,
            optimizer: AdamConfig::default(),
        }
    }

    /// Counts the checkpoints.
    pub(crate) struct Silent(pub(crate) usize);

    impl TrainObserver for Silent {
        fn checkpoint(&mut self, _: &[u8]) {
            self.0 += 1;
        }
    }

    /// A temporary directory holding the training files written for these tests.
    pub(crate) fn corpus_dir(name: &str) -> (PathBuf, PathBuf, PathBuf) {
        let dir = std::env::temp_dir().join(format!("nlpd-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (conllu, iob2) = (dir.join("tiny.conllu"), dir.join("tiny.iob2"));
        std::fs::write(&conllu, CONLLU).unwrap();
        std::fs::write(&iob2, IOB2).unwrap();
        (dir, conllu, iob2)
    }

    /// A tiny configuration over `conllu` (and `iob2` for the recogniser).
    pub(crate) fn tiny_config(conllu: PathBuf, iob2: PathBuf) -> TrainConfig {
        let embed = |attr| EmbedConfig { attr, rows: 50, width: 4 };
        TrainConfig {
            seed: 7,
            members: 2,
            train: conllu.clone(),
            dev: conllu,
            schedule: schedule(),
            tok2vec: Tok2VecConfig {
                embed: vec![embed(Attr::Norm), embed(Attr::Suffix(2))],
                width: 8,
                depth: 1,
                window: 1,
                dilations: Vec::new(),
                pieces: 2,
                min_word_count: 1,
            },
            parser: ParserConfig { hidden: 4, pieces: 2, min_label_count: 1, explore: 0.5 },
            distill: None,
            transformer: None,
            init: None,
            ner: Some(NerConfig {
                train: iob2.clone(),
                dev: iob2,
                schedule: schedule(),
                tok2vec: Tok2VecConfig {
                    embed: vec![embed(Attr::Norm), embed(Attr::Shape)],
                    width: 8,
                    depth: 1,
                    window: 1,
                    dilations: Vec::new(),
                    pieces: 2,
                    min_word_count: 1,
                },
                members: 2,
                seed: None,
            }),
        }
    }

    /// Every training configuration in `config/` is one `nlpd train` accepts (no unknown
    /// or misspelt setting), and the transformer pipeline's stage 2 starts from stage 1's
    /// output.
    #[test]
    fn every_shipped_training_config_parses() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
        let mut names = Vec::new();
        for entry in std::fs::read_dir(&dir).expect("config directory") {
            let path = entry.expect("entry").path();
            let name = path.file_name().and_then(|n| n.to_str()).expect("UTF-8").to_owned();
            if !(name.starts_with("train-") && name.ends_with(".toml")) {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("readable");
            let config: TrainConfig =
                toml::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            if name == "train-en-trf.toml" {
                assert_eq!(config.init.as_deref(), Some("target/trf-frozen.nlpd".as_ref()));
            }
            names.push(name);
        }
        names.sort();
        let expected = [
            "train-en-distilled.toml",
            "train-en-trf-frozen.toml",
            "train-en-trf.toml",
            "train-en.toml",
        ];
        assert_eq!(names, expected);
    }

    #[test]
    fn training_is_deterministic_and_yields_a_loadable_pipeline() {
        let (dir, conllu, iob2) = corpus_dir("train");
        let config = tiny_config(conllu, iob2);
        let mut observer = Silent(0);
        let first = train(&config, &mut observer).unwrap();
        let second = train(&config, &mut Silent(0)).unwrap();
        // The second member is the pipeline seed 8 trains alone.
        let alone = TrainConfig { seed: 8, members: 1, ner: None, ..config.clone() };
        let alone = train(&alone, &mut Silent(0)).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(observer.0 >= 3, "a checkpoint per best epoch and a final one");
        assert_eq!(first.model, second.model, "same seed, same bytes");
        assert_eq!((first.scores.len(), first.epochs.len()), (2, 2));
        let encoders = |model: &[u8]| {
            let sections = Sections::parse(model).unwrap();
            Tok2Vec::load(&mut sections.get("tok2vec").unwrap(), &mut Vocab::new()).unwrap().members
        };
        let (joined, alone) = (encoders(&first.model), encoders(&alone.model));
        assert_eq!((joined.len(), alone.len()), (2, 1));
        assert_eq!(joined[1], alone[0]);
        let pipeline = Pipeline::load(&first.model).unwrap();
        let names: Vec<_> = pipeline.component_names().collect();
        assert_eq!(
            names,
            ["tok2vec", "tagger", "morphologizer", "lemmatizer", "parser", "ner", "doc_cleaner"]
        );
    }

    #[test]
    fn a_distilled_member_is_deterministic_and_learns_from_its_teacher() {
        let (dir, conllu, iob2) = corpus_dir("distill");
        let plain = TrainConfig { members: 2, ner: None, ..tiny_config(conllu.clone(), iob2) };
        let teacher_path = dir.join("teacher.nlpd");
        std::fs::write(&teacher_path, train(&plain, &mut Silent(0)).unwrap().model).unwrap();
        let distilled = |weight| {
            let distill = Some(DistillConfig { teacher: teacher_path.clone(), weight });
            let config = TrainConfig { members: 1, distill, ..plain.clone() };
            train(&config, &mut Silent(0))
        };
        let alone = train(&TrainConfig { members: 1, ..plain.clone() }, &mut Silent(0)).unwrap();
        let (first, second) = (distilled(0.5).unwrap(), distilled(0.5).unwrap());
        assert_eq!(first.model, second.model, "same seed and teacher, same bytes");
        assert_ne!(first.model, alone.model, "the teacher changes what the member learns");
        Pipeline::load(&first.model).unwrap();
        let err = distilled(1.5).unwrap_err();
        assert!(err.to_string().contains("[0, 1]"), "{err}");

        // A teacher trained on other tags cannot teach.
        std::fs::write(&conllu, CONLLU.replace("\tNNS\t", "\tNNX\t")).unwrap();
        std::fs::write(&teacher_path, train(&plain, &mut Silent(0)).unwrap().model).unwrap();
        std::fs::write(&conllu, CONLLU).unwrap();
        let err = distilled(0.5).unwrap_err();
        assert!(err.to_string().contains("XPOS labels differ"), "{err}");
        std::fs::write(&teacher_path, b"not a model").unwrap();
        let err = distilled(0.5).unwrap_err();
        assert!(err.to_string().contains("cannot be loaded"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

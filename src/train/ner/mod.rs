//! Training the named-entity recogniser on Universal NER.
//!
//! # Overview
//!
//! [`NerConfig`] is the `[ner]` table of the training configuration: the UNER IOB2 train and
//! dev files, the recogniser's encoder shape and its optimisation settings. [`train`]:
//!
//! 1. reads both files (OTH and stray tags are outside, see [`iob2`](crate::doc::iob2)) and
//!    takes the entity labels and the known words from the training file only;
//! 2. turns every sentence into the recogniser's features and gold BILUO tags
//!    (module `gold`);
//! 3. trains the recogniser's own tok2vec, output layer and CRF on the CRF's negative
//!    log-likelihood in the shared epoch loop (`run_epochs`: Adam, word dropout, dropout
//!    in the encoder, linear warm-up, an exponential moving average of the weights);
//! 4. scores the averaged weights on dev (exact-span micro F1, as `nlpd evaluate` does)
//!    after every epoch, keeps the best and stops after `patience` epochs without
//!    improvement;
//! 5. with `members` above 1, repeats 2–4 from further seeds and joins the recognisers into
//!    an ensemble (their scores add up);
//! 6. calibrates the balance of precision and recall on dev (module `score`): a penalty on the
//!    `O` tag, folded into the output bias.
//!
//! The recogniser needs no other component, so `nlpd train --components ner` can train it
//! alone and write it into an existing model ([`with_recognizer`]). Everything random comes
//! from the configured seed and training is single-threaded: the same config and data give
//! the same model.

mod gold;
mod score;

use std::path::PathBuf;

use serde::Deserialize;

use self::gold::{GoldSentence, batch_keys, gold_sentences, labels, read, sentence_features};
use super::evaluate::NerScores;
use super::schedule::{Batch, BestEpoch, Learner, Schedule, Splits, run_epochs};
use super::{TrainError, TrainObserver};
use crate::doc::conllu::Keep;
use crate::doc::iob2::Iob2Sentence;
use crate::pipeline::ComponentKind;
use crate::pipeline::model_io::{ModelLoadError, PipelineWriter};
use crate::pipeline::ner::EntityRecognizer;
use crate::pipeline::nn::Rng;
use crate::pipeline::tok2vec::{Dropout, Encoder, Tok2VecCache, Tok2VecConfig};
use crate::pipeline::transformer::Transformer;
use crate::vocab::Vocab;

/// Mixed into the pipeline seed so the recogniser's random stream differs from the
/// tagger's while staying determined by the one configured seed.
const SEED_SALT: u64 = 0x4e45_525f_5345_4544;

/// Settings of the named-entity recogniser and its training.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NerConfig {
    /// Training corpus (Universal NER IOB2).
    pub train: PathBuf,
    /// Development corpus (IOB2), used only for scoring, early stopping and calibration.
    pub dev: PathBuf,
    /// Epochs, early stopping (on dev F1), batches, dropout and the optimiser.
    pub schedule: Schedule,
    /// The recogniser's own encoder.
    pub tok2vec: Tok2VecConfig,
    /// Recognisers trained (from seeds `s`, `s + 1`, … where `s` is the recogniser's seed)
    /// and joined into an ensemble.
    #[serde(default = "one_member")]
    pub members: usize,
    /// The recogniser's own seed (the pipeline's when absent): the tagger and parser and the
    /// recogniser can then each keep the seed that scored best on dev.
    #[serde(default)]
    pub seed: Option<u64>,
}

fn one_member() -> usize {
    1
}

/// The result of [`train`].
#[derive(Debug)]
pub struct TrainedNer {
    /// The recogniser of the best epoch (averaged weights, calibrated).
    pub model: EntityRecognizer,
    /// Its dev scores.
    pub scores: NerScores,
    /// Epochs run, over all members.
    pub epochs: usize,
    /// The penalty on `O` chosen on dev (see [`train`]).
    pub outside_penalty: f32,
}

/// Trains the recogniser described by `config`, seeded from its own seed, else from the
/// pipeline's `seed`; its encoder reads the features of `transformer` if given (frozen,
/// computed once per sentence: see [`super::features`]).
///
/// # Errors
///
/// Returns a [`TrainError`] if a corpus cannot be read or the training corpus has no
/// entities.
pub fn train(
    config: &NerConfig,
    seed: u64,
    transformer: Option<&Transformer>,
    observer: &mut dyn TrainObserver,
) -> Result<TrainedNer, TrainError> {
    let train_sentences = read(&config.train)?;
    let dev_sentences = read(&config.dev)?;
    let labels = labels(&train_sentences);
    if labels.is_empty() {
        return Err(TrainError::EmptyCorpus { path: config.train.clone() });
    }
    let seed = config.seed.unwrap_or(seed);
    let sentences = Splits { train: &train_sentences, dev: &dev_sentences };
    Ok(fit(sentences, &labels, config, (seed, transformer), observer))
}

/// [`train`] over sentences already read, from `seed` and over the features of
/// `transformer` if given: every member, their ensemble, its calibration.
fn fit(
    sentences: Splits<'_, Iob2Sentence>,
    labels: &[String],
    config: &NerConfig,
    (seed, transformer): (u64, Option<&Transformer>),
    observer: &mut dyn TrainObserver,
) -> TrainedNer {
    // The transformer is frozen: its features are computed once, for every member.
    let features = Splits {
        train: &sentence_features(sentences.train, transformer)[..],
        dev: &sentence_features(sentences.dev, transformer)[..],
    };
    let feature_width = transformer.map_or(0, Transformer::width);
    let mut epochs = 0;
    let members = (0..config.members.max(1) as u64)
        .map(|k| {
            let seed = seed.wrapping_add(k);
            let member = (seed, feature_width);
            let best = fit_member(sentences, features, labels.to_vec(), config, member, observer);
            epochs += best.epochs;
            best.model
        })
        .collect();
    let model = EntityRecognizer::ensemble(members);
    let dev_set = gold_sentences(sentences.dev, features.dev, &model);
    let scores = score::span_scores(&model, &dev_set);
    let (model, scores, outside_penalty) = score::calibrate(model, scores, &dev_set);
    TrainedNer { model, scores, epochs, outside_penalty }
}

/// Trains one recogniser from `seed`, its encoder reading `feature_width` transformer
/// features per token (`features`, one array per sentence): its best epoch's averaged
/// weights, their dev scores and the epochs run.
fn fit_member(
    sentences: Splits<'_, Iob2Sentence>,
    features: Splits<'_, Vec<f32>>,
    labels: Vec<String>,
    config: &NerConfig,
    (seed, feature_width): (u64, usize),
    observer: &mut dyn TrainObserver,
) -> BestEpoch<EntityRecognizer, NerScores> {
    let mut rng = Rng::new(seed ^ SEED_SALT);
    let mut tok2vec = Encoder::new(&config.tok2vec, feature_width, &mut rng);
    let vocab = Vocab::new();
    let zone = vocab.zone();
    let docs = sentences.train.iter().map(|s| s.to_doc(&zone, Keep::Words));
    tok2vec.learn_known_words(docs, config.tok2vec.min_word_count);
    let model = EntityRecognizer::new(labels, tok2vec, &mut rng);
    let train_set = gold_sentences(sentences.train, features.train, &model);
    let dev_set = gold_sentences(sentences.dev, features.dev, &model);
    let mut learner = NerLearner { cache: Tok2VecCache::default() };
    let splits = Splits { train: &train_set, dev: &dev_set };
    run_epochs(&mut learner, model, splits, &config.schedule, &mut rng, observer)
}

/// The recogniser's side of the epoch loop: the CRF's loss over its encoder's emissions.
struct NerLearner {
    cache: Tok2VecCache,
}

impl Learner for NerLearner {
    type Model = EntityRecognizer;
    type Example = GoldSentence;
    type Scores = NerScores;

    fn zeros_like(model: &EntityRecognizer) -> EntityRecognizer {
        model.zeros_like()
    }

    fn words(example: &GoldSentence) -> usize {
        example.len()
    }

    fn train_batch(
        &mut self,
        model: &EntityRecognizer,
        grads: &mut EntityRecognizer,
        batch: Batch<'_, GoldSentence>,
    ) -> f64 {
        let Batch { examples, schedule, rng, .. } = batch;
        let keys = batch_keys(model, examples, schedule.word_dropout, rng);
        let features: Vec<f32> = examples.iter().flat_map(|e| e.features.iter().copied()).collect();
        let dropout = Dropout { rate: schedule.dropout, rng };
        let lengths: Vec<usize> = examples.iter().map(|e| e.len()).collect();
        let n: usize = lengths.iter().sum();
        let t = model.scheme.n_tags();
        let mut vectors = Vec::new();
        let (encoder, grad_encoder) = (&model.members[0], &mut grads.members[0]);
        let cache = &mut self.cache;
        encoder.tok2vec.forward(
            &keys,
            &features,
            &lengths,
            &mut vectors,
            Some(cache),
            Some(dropout),
        );
        let mut emissions = vec![0.0; n * t];
        encoder.output.forward(&vectors, &mut emissions);
        let mut d_emissions = vec![0.0; n * t];
        let scale = 1.0 / n.max(1) as f32;
        let mut loss = 0.0;
        let mut offset = 0;
        for example in examples {
            let rows = offset * t..(offset + example.len()) * t;
            offset += example.len();
            loss += model.crf.loss_grad(
                &emissions[rows.clone()],
                &example.tags,
                scale,
                &mut d_emissions[rows],
                &mut grads.crf,
            );
        }
        let mut d_vectors = vec![0.0; vectors.len()];
        let grad_output = &mut grad_encoder.output;
        encoder.output.backward(&vectors, &d_emissions, Some(&mut d_vectors), grad_output);
        // The transformer is frozen: the gradient with respect to its features stops here.
        let _d_features =
            encoder.tok2vec.backward(&keys, &lengths, cache, d_vectors, &mut grad_encoder.tok2vec);
        loss / n.max(1) as f64
    }

    fn score(&self, model: &EntityRecognizer, dev: &[GoldSentence]) -> NerScores {
        score::span_scores(model, dev)
    }

    fn better(scores: &NerScores, best: &NerScores) -> bool {
        scores.overall.f1 > best.overall.f1
    }

    fn epoch_finished(
        &mut self,
        epoch: usize,
        scores: &NerScores,
        new_best: Option<&EntityRecognizer>,
        observer: &mut dyn TrainObserver,
    ) {
        observer.ner_epoch_finished(epoch, scores, new_best.is_some());
    }
}

/// The model file `base` with `ner` as its entity recogniser (replacing any it has, else
/// placed before `doc_cleaner`).
///
/// # Errors
///
/// Returns a [`ModelLoadError`] if `base` is not a valid model file.
pub fn with_recognizer(base: &[u8], ner: &EntityRecognizer) -> Result<Vec<u8>, ModelLoadError> {
    PipelineWriter::with_component(base, ComponentKind::Ner, ner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::EntIob;
    use crate::doc::conllu::Keep;
    use crate::doc::iob2::{EntityTag, entity_spans};
    use crate::pipeline::Component;
    use crate::pipeline::nn::AdamConfig;
    use crate::pipeline::tok2vec::{Attr, EmbedConfig};
    use crate::vocab::Vocab;

    /// Sentences written for this test, as `word/TAG` (bare words are outside).
    const SENTENCES: &[&str] = &[
        "Ada/B-PER Lovelace/I-PER met Charles/B-PER Babbage/I-PER in London/B-LOC .",
        "Grace/B-PER Hopper/I-PER worked for the Navy/B-ORG in Virginia/B-LOC .",
        "Acme/B-ORG Widgets/I-ORG hired Linus/B-PER in Portland/B-LOC last week .",
        "The United/B-ORG Nations/I-ORG met in Geneva/B-LOC on Monday .",
        "Mira/B-PER flew from New/B-LOC York/I-LOC to Oslo/B-LOC with Tom/B-PER .",
        "the weather in Paris/B-LOC was cold and grey .",
        "Nobody from Globex/B-ORG answered the phone .",
        "we ate lunch by the river and went home .",
    ];

    fn sentence(text: &str) -> Iob2Sentence {
        let (mut tokens, mut tags) = (Vec::new(), Vec::new());
        for item in text.split(' ') {
            let (word, tag) = item.split_once('/').unwrap_or((item, "O"));
            tokens.push(word.to_owned());
            tags.push(EntityTag::parse(tag).expect("a valid tag"));
        }
        Iob2Sentence { text: Some(tokens.join(" ")), tokens, tags, ..Default::default() }
    }

    fn config() -> NerConfig {
        let embed = |attr, rows| EmbedConfig { attr, rows, width: 16 };
        NerConfig {
            train: PathBuf::new(),
            dev: PathBuf::new(),
            schedule: Schedule {
                max_epochs: 60,
                patience: 60,
                batch_words: 20,
                dropout: 0.0,
                average_decay: 0.9,
                warmup_steps: 1,
                word_dropout: 0.0,
                optimizer: AdamConfig { learn_rate: 0.01, ..AdamConfig::default() },
            },
            tok2vec: Tok2VecConfig {
                embed: vec![
                    embed(Attr::Norm, 500),
                    embed(Attr::Shape, 50),
                    embed(Attr::Suffix(3), 200),
                ],
                width: 32,
                depth: 2,
                window: 1,
                dilations: Vec::new(),
                pieces: 2,
                min_word_count: 1,
            },
            members: 1,
            seed: None,
        }
    }

    /// Counts the epochs and remembers the last dev F1.
    #[derive(Default)]
    struct Record {
        epochs: usize,
        f1: f64,
    }

    impl TrainObserver for Record {
        fn batch_finished(&mut self, loss: f64) {
            assert!(loss.is_finite() && loss >= 0.0, "loss {loss}");
        }
        fn ner_epoch_finished(&mut self, _: usize, scores: &NerScores, _: bool) {
            self.epochs += 1;
            self.f1 = scores.overall.f1;
        }
    }

    #[test]
    fn learns_a_handful_of_sentences_and_annotates_docs_with_them() {
        let sentences: Vec<Iob2Sentence> = SENTENCES.iter().map(|s| sentence(s)).collect();
        let labels = labels(&sentences);
        assert_eq!(labels, ["PER", "ORG", "LOC"]);
        let mut record = Record::default();
        let both = Splits { train: &sentences[..], dev: &sentences[..] };
        let trained = fit(both, &labels, &config(), (7, None), &mut record);
        assert_eq!(trained.scores.overall.f1, 1.0, "{:?}", trained.scores);
        assert_eq!(record.epochs, trained.epochs);

        // The component tags a Doc of each sentence with its entities.
        let mut vocab = Vocab::new();
        for label in &labels {
            vocab.intern(label);
        }
        let zone = vocab.zone();
        for sentence in &sentences {
            let mut doc = sentence.to_doc(&zone, Keep::Words);
            trained.model.process(&mut doc).unwrap();
            let got: Vec<(usize, usize, &str)> = doc
                .ents()
                .iter()
                .map(|e| (e.start(), e.end(), doc.token(e.start()).resolve(e.label())))
                .collect();
            let want: Vec<(usize, usize, &str)> = entity_spans(&sentence.tags)
                .iter()
                .map(|e| (e.start, e.end, e.label.as_str()))
                .collect();
            assert_eq!(got, want, "{:?}", sentence.tokens);
            assert!(doc.tokens().iter().all(|t| t.ent_iob != EntIob::Missing));
        }
    }

    #[test]
    fn training_is_deterministic_for_a_seed() {
        let sentences: Vec<Iob2Sentence> = SENTENCES.iter().map(|s| sentence(s)).collect();
        let mut config = config();
        config.schedule.max_epochs = 2;
        let run = |config: &NerConfig, seed| {
            let labels = labels(&sentences);
            let both = Splits { train: &sentences[..], dev: &sentences[..] };
            fit(both, &labels, config, (seed, None), &mut Record::default()).model
        };
        assert_eq!(run(&config, 3), run(&config, 3));
        assert_ne!(run(&config, 3), run(&config, 4));
        let single = run(&config, 4);
        config.members = 2;
        let pair = run(&config, 3);
        assert_eq!(pair.members.len(), 2);
        // Calibration may shift an output bias; the encoders are as trained.
        assert_eq!(pair.members[1].tok2vec, single.members[0].tok2vec, "member k: seed + k");
    }

    #[test]
    fn the_recognizer_goes_into_a_model_before_doc_cleaner_and_replaces_an_old_one() {
        let sentences: Vec<Iob2Sentence> = SENTENCES.iter().map(|s| sentence(s)).collect();
        let mut rng = Rng::new(9);
        let labels = labels(&sentences);
        let tok2vec = Encoder::new(&config().tok2vec, 0, &mut rng);
        let mut own = tok2vec.clone();
        let vocab = Vocab::new();
        let zone = vocab.zone();
        own.learn_known_words(sentences.iter().map(|s| s.to_doc(&zone, Keep::Words)), 1);
        let ner = EntityRecognizer::new(labels, own, &mut rng);
        let mut writer = PipelineWriter::default();
        writer.add(ComponentKind::Tok2Vec, &crate::pipeline::tok2vec::Tok2Vec::new(vec![tok2vec]));
        writer.add(ComponentKind::DocCleaner, &crate::pipeline::doc_cleaner::DocCleaner::default());
        let base = writer.into_bytes();
        let names = |bytes: &[u8]| -> Vec<String> {
            let pipeline = crate::pipeline::Pipeline::load(bytes).unwrap();
            pipeline.component_names().map(str::to_owned).collect()
        };
        let once = with_recognizer(&base, &ner).unwrap();
        assert_eq!(names(&once), ["tok2vec", "ner", "doc_cleaner"]);
        let mut other = ner.clone();
        other.members[0].output.b[0] += 1.0;
        let twice = with_recognizer(&once, &other).unwrap();
        assert_eq!(names(&twice), ["tok2vec", "ner", "doc_cleaner"]);
        assert_ne!(twice, once);
        assert_eq!(with_recognizer(&twice, &ner).unwrap(), once);
        assert!(with_recognizer(b"not a model", &ner).is_err());
    }
}

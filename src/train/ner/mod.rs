//! Training the named-entity recogniser on Universal NER.
//!
//! # Overview
//!
//! [`NerConfig`] is the `[ner]` table of the training configuration: the UNER IOB2 train and
//! dev files, the recogniser's encoder shape and its optimisation settings. [`train`]:
//!
//! 1. reads both files (OTH and stray tags are outside, see [`iob2`](super::iob2)) and takes
//!    the entity labels from the training file only;
//! 2. turns every sentence into the recogniser's features and its gold BILUO tags;
//! 3. trains the recogniser's own tok2vec, output layer and CRF on the CRF's negative
//!    log-likelihood with Adam (dropout in the encoder, linear warm-up, an exponential
//!    moving average of the weights);
//! 4. scores the averaged weights on dev (exact-span micro F1, as `nlpd evaluate` does)
//!    after every epoch, keeps the best and stops after `patience` epochs without
//!    improvement;
//! 5. calibrates the balance of precision and recall on dev: a penalty on the `O` tag,
//!    folded into the output bias.
//!
//! The recogniser trains apart from the tagger and parser (it has its own encoder), so
//! `nlpd train --components ner` can train it alone. Everything random comes from the
//! configured seed and training is single-threaded: the same config and data give the same
//! model.

pub mod auxiliary;

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use rustc_hash::{FxHashMap, FxHashSet};
use serde::Deserialize;

use self::auxiliary::{Auxiliary, AuxiliaryConfig};
use super::evaluate::{NerScores, NerTally};
use super::iob2::{EntitySpan, EntityType, Iob2Reader, Iob2Sentence, entity_spans};
use super::trainer::{TrainError, TrainObserver, batch};
use crate::doc::conllu::{ConlluWord, Keep};
use crate::pipeline::model_io::PipelineWriter;
use crate::pipeline::ner::scheme::{Entity, Move, TagId};
use crate::pipeline::ner::{EntityRecognizer, UNKNOWN_WORD, Viterbi};
use crate::pipeline::nn::{Adam, AdamConfig, Average, Params, Rng};
use crate::pipeline::tok2vec::{Dropout, Tok2Vec, Tok2VecCache, Tok2VecConfig};
use crate::vocab::Vocab;

/// Mixed into the pipeline seed so the recogniser's random stream differs from the
/// tagger's while staying determined by the one configured seed.
const SEED_SALT: u64 = 0x4e45_525f_5345_4544;

/// The penalties on `O` that [`calibrate`] tries (the first, 0, is the trained model).
const OUTSIDE_PENALTIES: [f32; 9] = [0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0];

/// Sentences scored together in one batched forward pass on dev.
const DEV_BATCH: usize = 64;

/// Settings of the named-entity recogniser and its training.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NerConfig {
    /// Training corpus (Universal NER IOB2).
    pub train: PathBuf,
    /// Development corpus (IOB2), used only for scoring and early stopping.
    pub dev: PathBuf,
    /// Upper bound on epochs.
    pub max_epochs: usize,
    /// Stop after this many epochs without a better dev F1.
    pub patience: usize,
    /// Approximate words per batch.
    pub batch_words: usize,
    /// Dropout rate inside the encoder.
    pub dropout: f32,
    /// Words seen fewer times in the training file are unknown to the recogniser (see
    /// [`EntityRecognizer`]).
    pub min_word_count: usize,
    /// Probability that a known training word reads as unknown, so the model learns what to
    /// make of unknown words (names above all) from shape, affixes and context.
    pub word_dropout: f32,
    /// Decay of the weight average used for scoring and saving.
    pub average_decay: f32,
    /// Steps over which the learning rate warms up linearly from zero.
    pub warmup_steps: usize,
    /// Adam settings.
    pub optimizer: AdamConfig,
    /// The recogniser's own encoder.
    pub tok2vec: Tok2VecConfig,
    /// Treebank columns to learn alongside entities (training only).
    #[serde(default)]
    pub auxiliary: Option<AuxiliaryConfig>,
}

/// The result of [`train`].
#[derive(Debug)]
pub struct TrainedNer {
    /// The recogniser of the best epoch (averaged weights).
    pub model: EntityRecognizer,
    /// Its dev scores.
    pub scores: NerScores,
    /// Epochs run.
    pub epochs: usize,
    /// The penalty on `O` chosen on dev (see [`train`]).
    pub outside_penalty: f32,
}

/// A sentence prepared for training: feature keys, gold tags and gold entities.
#[derive(Debug)]
struct Example {
    keys: Vec<u64>,
    tags: Vec<TagId>,
    spans: Vec<EntitySpan>,
    /// Gold classes of the auxiliary heads (heads × tokens).
    aux: Vec<Option<u32>>,
}

/// What training updates: the recogniser and the auxiliary heads.
#[derive(Clone, Debug)]
struct Nets {
    ner: EntityRecognizer,
    aux: Auxiliary,
}

impl Nets {
    fn zeros_like(&self) -> Self {
        Self { ner: self.ner.zeros_like(), aux: self.aux.zeros_like() }
    }
}

impl Params for Nets {
    fn params(&self) -> Vec<&[f32]> {
        let mut p = self.ner.params();
        p.extend(self.aux.params());
        p
    }

    fn params_mut(&mut self) -> Vec<&mut [f32]> {
        let mut p = self.ner.params_mut();
        p.extend(self.aux.params_mut());
        p
    }
}

/// The sentences training reads.
struct Data<'a> {
    train: &'a [Iob2Sentence],
    dev: &'a [Iob2Sentence],
    /// The treebank words of each training sentence, for the auxiliary heads.
    treebank: Vec<Option<&'a [ConlluWord]>>,
}

/// Reads an IOB2 file.
fn read(path: &Path) -> Result<Vec<Iob2Sentence>, TrainError> {
    let err = |source| TrainError::ReadIob2 { path: path.to_owned(), source };
    let file =
        File::open(path).map_err(|source| err(super::iob2::Iob2Error::Io { line: 0, source }))?;
    Iob2Reader::new(BufReader::new(file)).collect::<Result<_, _>>().map_err(err)
}

/// The identity keys (norm, lowercase) of words seen at least `min_count` times.
fn known_words(sentences: &[Iob2Sentence], tok2vec: &Tok2Vec, min_count: usize) -> FxHashSet<u64> {
    let vocab = Vocab::new();
    let zone = vocab.zone();
    let mut counts: FxHashMap<u64, usize> = FxHashMap::default();
    let mut keys = Vec::new();
    let attrs = &tok2vec.attrs;
    for sentence in sentences {
        keys.clear();
        tok2vec.push_keys(&sentence.to_doc(&zone, Keep::Words), &mut keys);
        for token in keys.chunks_exact(attrs.len()) {
            for (&key, &attr) in token.iter().zip(attrs) {
                if EntityRecognizer::is_identity(attr) {
                    *counts.entry(key).or_default() += 1;
                }
            }
        }
    }
    counts.into_iter().filter(|&(_, n)| n >= min_count).map(|(key, _)| key).collect()
}

/// The entity types that occur in `sentences`, in [`EntityType::ALL`] order.
fn labels(sentences: &[Iob2Sentence]) -> Vec<String> {
    let seen: Vec<EntityType> =
        sentences.iter().flat_map(|s| entity_spans(&s.tags)).map(|span| span.label).collect();
    EntityType::ALL.iter().filter(|t| seen.contains(t)).map(|t| t.as_str().to_owned()).collect()
}

fn prepare(
    sentences: &[Iob2Sentence],
    treebank: &[Option<&[ConlluWord]>],
    nets: &Nets,
) -> Vec<Example> {
    let vocab = Vocab::new();
    let zone = vocab.zone();
    let model = &nets.ner;
    let label_of = |t: EntityType| model.labels().iter().position(|l| l == t.as_str());
    sentences
        .iter()
        .enumerate()
        .map(|(i, sentence)| {
            let doc = sentence.to_doc(&zone, Keep::Words);
            let mut keys = Vec::new();
            model.push_keys(&doc, &mut keys);
            let spans = entity_spans(&sentence.tags);
            let entities: Vec<Entity> = spans
                .iter()
                .filter_map(|s| {
                    let label = label_of(s.label)? as u32;
                    Some(Entity { start: s.start, end: s.end, label })
                })
                .collect();
            let aux = nets.aux.gold(treebank.get(i).copied().flatten(), doc.len());
            Example { keys, tags: model.scheme.tags_of(doc.len(), &entities), spans, aux }
        })
        .collect()
}

/// Trains the recogniser described by `config`, seeded from the pipeline's `seed`.
///
/// # Errors
///
/// Returns a [`TrainError`] if a corpus cannot be read or the training corpus has no
/// entities.
pub fn train(
    config: &NerConfig,
    seed: u64,
    observer: &mut dyn TrainObserver,
) -> Result<TrainedNer, TrainError> {
    let train_sentences = read(&config.train)?;
    let dev_sentences = read(&config.dev)?;
    let labels = labels(&train_sentences);
    if labels.is_empty() {
        return Err(TrainError::EmptyCorpus { path: config.train.clone() });
    }
    let corpus = config.auxiliary.as_ref().map(auxiliary::read).transpose()?;
    let treebank = match &corpus {
        Some(corpus) => auxiliary::align(corpus, &train_sentences),
        None => Vec::new(),
    };
    let data = Data { train: &train_sentences, dev: &dev_sentences, treebank };
    Ok(fit(&data, labels, config, seed, observer))
}

/// The training loop of [`train`] over sentences already read.
fn fit(
    data: &Data<'_>,
    labels: Vec<String>,
    config: &NerConfig,
    seed: u64,
    observer: &mut dyn TrainObserver,
) -> TrainedNer {
    let mut rng = Rng::new(seed ^ SEED_SALT);
    let tok2vec = Tok2Vec::new(&config.tok2vec, &mut rng);
    let known = known_words(data.train, &tok2vec, config.min_word_count);
    let ner = EntityRecognizer::new(labels, known, tok2vec, &mut rng);
    let (columns, aux_weight) =
        config.auxiliary.as_ref().map_or((&[][..], 0.0), |a| (&a.columns[..], a.weight));
    let aux = Auxiliary::new(columns, &data.treebank, ner.tok2vec.width(), &mut rng);
    let mut nets = Nets { ner, aux };
    let train_set = prepare(data.train, &data.treebank, &nets);
    let dev_set = prepare(data.dev, &[], &nets);

    let mut grads = nets.zeros_like();
    let mut adam = Adam::new(config.optimizer);
    let mut average = Average::new(&nets, config.average_decay);
    let mut order: Vec<usize> = (0..train_set.len()).collect();
    let mut cache = Tok2VecCache::default();
    let mut best: Option<(NerScores, Nets)> = None;
    let (mut since_best, mut step, mut epochs) = (0, 0, 0);
    for epoch in 1..=config.max_epochs {
        epochs = epoch;
        rng.shuffle(&mut order);
        let batches = batch(&order, |i| train_set[i].tags.len(), config.batch_words);
        observer.epoch_started(epoch, batches.len());
        for members in &batches {
            step += 1;
            let examples: Vec<&Example> = members.iter().map(|&i| &train_set[i]).collect();
            let keys = batch_keys(&nets.ner, &examples, config.word_dropout, &mut rng);
            let dropout = Dropout { rate: config.dropout, rng: &mut rng };
            let batch = Batch { examples: &examples, keys: &keys, aux_weight };
            let loss = train_batch(&nets, &mut grads, &batch, &mut cache, dropout);
            let warmup = ((step as f32) / config.warmup_steps.max(1) as f32).min(1.0);
            adam.update(&mut nets, &mut grads, warmup);
            average.update(&nets);
            observer.batch_finished(loss);
        }
        let mut averaged = nets.clone();
        average.copy_into(&mut averaged);
        let scores = evaluate(&averaged.ner, &dev_set);
        let improved = best.as_ref().is_none_or(|(b, _)| scores.overall.f1 > b.overall.f1);
        observer.ner_epoch_finished(epoch, &scores, improved);
        if improved {
            best = Some((scores, averaged));
            since_best = 0;
        } else {
            since_best += 1;
            if since_best >= config.patience {
                break;
            }
        }
    }
    let (scores, nets) = best.expect("max_epochs is at least one epoch. This is a bug.");
    let (model, scores, outside_penalty) = calibrate(nets.ner, scores, &dev_set);
    TrainedNer { model, scores, epochs, outside_penalty }
}

/// The feature keys of a batch, with word identities dropped at rate `word_dropout`.
fn batch_keys(
    model: &EntityRecognizer,
    batch: &[&Example],
    word_dropout: f32,
    rng: &mut Rng,
) -> Vec<u64> {
    let attrs = &model.tok2vec.attrs;
    let mut keys: Vec<u64> = batch.iter().flat_map(|e| e.keys.iter().copied()).collect();
    if word_dropout > 0.0 {
        for token in keys.chunks_exact_mut(attrs.len()) {
            if rng.unit() < word_dropout {
                for (key, &attr) in token.iter_mut().zip(attrs) {
                    if EntityRecognizer::is_identity(attr) {
                        *key = UNKNOWN_WORD;
                    }
                }
            }
        }
    }
    keys
}

/// A training batch: its examples, their feature keys and the auxiliary loss weight.
struct Batch<'a> {
    examples: &'a [&'a Example],
    keys: &'a [u64],
    aux_weight: f32,
}

/// One forward and backward pass over a batch; returns the mean loss per word.
fn train_batch(
    nets: &Nets,
    grads: &mut Nets,
    batch: &Batch<'_>,
    cache: &mut Tok2VecCache,
    dropout: Dropout<'_>,
) -> f64 {
    let model = &nets.ner;
    let lengths: Vec<usize> = batch.examples.iter().map(|e| e.tags.len()).collect();
    let n: usize = lengths.iter().sum();
    let t = model.scheme.n_tags();
    let mut vectors = Vec::new();
    model.tok2vec.forward(batch.keys, &lengths, &mut vectors, Some(cache), Some(dropout));
    let mut emissions = vec![0.0; n * t];
    model.output.forward(&vectors, &mut emissions);
    let mut d_emissions = vec![0.0; n * t];
    let scale = 1.0 / n.max(1) as f32;
    let mut loss = 0.0;
    let mut offset = 0;
    for example in batch.examples {
        let rows = offset * t..(offset + example.tags.len()) * t;
        offset += example.tags.len();
        loss += model.crf.loss_grad(
            &emissions[rows.clone()],
            &example.tags,
            scale,
            &mut d_emissions[rows],
            &mut grads.ner.crf,
        );
    }
    let mut d_vectors = vec![0.0; vectors.len()];
    model.output.backward(&vectors, &d_emissions, Some(&mut d_vectors), &mut grads.ner.output);
    for (h, (head, grad)) in nets.aux.heads.iter().zip(&mut grads.aux.heads).enumerate() {
        let gold: Vec<Option<u32>> = batch
            .examples
            .iter()
            .flat_map(|e| {
                let n = e.tags.len();
                e.aux[h * n..(h + 1) * n].iter().copied()
            })
            .collect();
        let stats = head.loss_grad(&vectors, &gold, scale * batch.aux_weight, &mut d_vectors, grad);
        loss += f64::from(batch.aux_weight) * stats.loss;
    }
    model.tok2vec.backward(batch.keys, &lengths, cache, d_vectors, &mut grads.ner.tok2vec);
    loss / n.max(1) as f64
}

/// Lowers the score of `O` by the amount in [`OUTSIDE_PENALTIES`] that maximises dev F1.
///
/// Trained on few entities, the recogniser is cautious: its precision is well above its
/// recall. Every tag sequence pays the penalty once per token outside an entity, so a
/// larger one trades precision for recall; the choice is made on dev and folded into the
/// output layer's bias, so inference is unchanged.
fn calibrate(
    model: EntityRecognizer,
    scores: NerScores,
    dev: &[Example],
) -> (EntityRecognizer, NerScores, f32) {
    let outside = usize::from(model.scheme.tag(Move::Out).0);
    let mut best = (scores, 0.0);
    for &penalty in &OUTSIDE_PENALTIES[1..] {
        let mut shifted = model.clone();
        shifted.output.b[outside] -= penalty;
        let scores = evaluate(&shifted, dev);
        if scores.overall.f1 > best.0.overall.f1 {
            best = (scores, penalty);
        }
    }
    let (scores, penalty) = best;
    let mut model = model;
    model.output.b[outside] -= penalty;
    (model, scores, penalty)
}

/// Exact-span scores of `model` on prepared sentences.
fn evaluate(model: &EntityRecognizer, examples: &[Example]) -> NerScores {
    let mut tally = NerTally::default();
    let (mut keys, mut lengths) = (Vec::new(), Vec::new());
    let (mut vectors, mut emissions, mut tags) = (Vec::new(), Vec::new(), Vec::new());
    let mut viterbi = Viterbi::default();
    let t = model.scheme.n_tags();
    for chunk in examples.chunks(DEV_BATCH) {
        keys.clear();
        keys.extend(chunk.iter().flat_map(|e| e.keys.iter().copied()));
        lengths.clear();
        lengths.extend(chunk.iter().map(|e| e.tags.len()));
        model.emissions(&keys, &lengths, &mut vectors, &mut emissions);
        let mut offset = 0;
        for example in chunk {
            let n = example.tags.len();
            model.crf.decode(&emissions[offset * t..(offset + n) * t], &mut viterbi, &mut tags);
            offset += n;
            let predicted: Vec<EntitySpan> = model
                .scheme
                .entities(&tags)
                .into_iter()
                .filter_map(|e| {
                    let label = EntityType::from_name(&model.labels()[e.label as usize])?;
                    Some(EntitySpan { start: e.start, end: e.end, label })
                })
                .collect();
            tally.add(&example.spans, &predicted);
        }
    }
    tally.scores()
}

/// A model file holding only the recogniser (it needs no other component).
pub fn model_file(ner: &EntityRecognizer) -> Vec<u8> {
    let mut writer = PipelineWriter::default();
    writer.add("ner", ner);
    writer.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::EntIob;
    use crate::pipeline::Component;
    use crate::pipeline::tok2vec::{Attr, EmbedConfig};
    use crate::train::iob2::EntityTag;
    use crate::train::trainer::DevScores;

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
            max_epochs: 60,
            patience: 60,
            batch_words: 20,
            dropout: 0.0,
            min_word_count: 1,
            word_dropout: 0.0,
            average_decay: 0.9,
            warmup_steps: 1,
            optimizer: AdamConfig { learn_rate: 0.01, ..AdamConfig::default() },
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
            },
            auxiliary: None,
        }
    }

    /// Counts the epochs and remembers the last dev F1.
    #[derive(Default)]
    struct Record {
        epochs: usize,
        f1: f64,
    }

    impl TrainObserver for Record {
        fn epoch_started(&mut self, _: usize, _: usize) {}
        fn batch_finished(&mut self, loss: f64) {
            assert!(loss.is_finite() && loss >= 0.0, "loss {loss}");
        }
        fn epoch_finished(&mut self, _: usize, _: &DevScores, _: bool) {
            unreachable!("only the recogniser trains here")
        }
        fn checkpoint(&mut self, _: &[u8]) {
            unreachable!("fit returns the model; it saves nothing")
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
        let data = Data { train: &sentences, dev: &sentences, treebank: Vec::new() };
        let trained = fit(&data, labels.clone(), &config(), 7, &mut record);
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
        let config = NerConfig { max_epochs: 2, ..config() };
        let run = |seed| {
            let labels = labels(&sentences);
            let data = Data { train: &sentences, dev: &sentences, treebank: Vec::new() };
            fit(&data, labels, &config, seed, &mut Record::default()).model
        };
        assert_eq!(run(3), run(3));
        assert_ne!(run(3), run(4));
    }
}

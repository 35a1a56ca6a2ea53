//! `nlpd train`: trains the English pipeline from CoNLL-U.
//!
//! # Overview
//!
//! [`TrainConfig`] (a TOML file such as `config/train-en.toml`) names the training and
//! development corpora and every hyper-parameter. [`train`] then:
//!
//! 1. reads both corpora as paragraphs and collects the label sets from the training data
//!    only (never dev or test);
//! 2. learns the lemmatizer's rule and exception tables (no gradient involved);
//! 3. trains tok2vec, the tagger and the morphologizer jointly: each batch of paragraphs
//!    runs through tok2vec, every head adds its loss gradient into the shared tensor
//!    gradient, which flows back into tok2vec; one Adam step updates everything, and an
//!    exponential moving average of the weights is kept;
//! 4. scores the averaged weights on dev after every epoch (reported through a
//!    [`TrainObserver`]), keeps the best, and stops early after `patience` epochs without
//!    improvement.
//!
//! Everything random (initialisation, shuffling, dropout) comes from the configured seed
//! and training is single-threaded, so a given config and data give the same model bytes.

use std::path::PathBuf;

use serde::Deserialize;
use thiserror::Error;

use super::corpus::{Corpus, Paragraph};
use super::evaluate::NerScores;
use super::lemma_rules;
use super::parser::{self as parser_training, ParserTrainer};
use super::schedule::{EarlyStopping, Schedule};
use crate::doc::ReadError;
use crate::doc::conllu::ConlluWord;
use crate::pipeline::classifier::{HeadStats, SoftmaxHead};
use crate::pipeline::doc_cleaner::DocCleaner;
use crate::pipeline::lemmatizer::{LemmaScratch, Lemmatizer};
use crate::pipeline::model_io::PipelineWriter;
use crate::pipeline::model_io::ensemble::join_ensemble;
use crate::pipeline::morphologizer::Morphologizer;
use crate::pipeline::nn::{Adam, Average, Params, Rng};
use crate::pipeline::parser::ParseScratch;
use crate::pipeline::parser::Parser;
use crate::pipeline::parser::model::ParserModel;
use crate::pipeline::parser::oracle::Gold;
use crate::pipeline::tagger::{TagScratch, Tagger};
use crate::pipeline::tok2vec::{Dropout, Encoder, Tok2Vec, Tok2VecCache, Tok2VecConfig};
use crate::vocab::{StringKey, Vocab};

/// Errors raised by training.
#[derive(Debug, Error)]
pub enum TrainError {
    /// Occurs when a corpus cannot be read or is not valid CoNLL-U.
    #[error("cannot read corpus {path}: {source}")]
    Read {
        /// The corpus path.
        path: PathBuf,
        /// What went wrong.
        source: ReadError,
    },
    /// Occurs when an IOB2 corpus cannot be read or is malformed.
    #[error("cannot read corpus {path}: {source}")]
    ReadIob2 {
        /// The corpus path.
        path: PathBuf,
        /// What went wrong.
        source: ReadError,
    },
    /// Occurs when the training corpus has no annotated words.
    #[error("the training corpus {path} has no annotated words")]
    EmptyCorpus {
        /// The corpus path.
        path: PathBuf,
    },
}

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
}

fn one() -> u64 {
    1
}

/// The parser's settings.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParserConfig {
    /// Hidden units.
    pub hidden: usize,
    /// Maxout pieces of the hidden layer.
    pub pieces: usize,
    /// Arc labels seen fewer times in training are dropped.
    pub min_label_count: usize,
    /// From the second epoch on, the probability of following the parser's own prediction
    /// when it is wrong (exploration with the dynamic oracle).
    pub explore: f32,
}

/// Dev scores after one epoch (percentages over gold-tokenised words).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct DevScores {
    /// UPOS accuracy.
    pub upos: f64,
    /// XPOS accuracy.
    pub xpos: f64,
    /// UFeats accuracy (exact FEATS match).
    pub feats: f64,
    /// Lemma accuracy.
    pub lemma: f64,
    /// Unlabelled attachment score.
    pub uas: f64,
    /// Labelled attachment score.
    pub las: f64,
    /// F1 of sentence starts, parsing whole paragraphs.
    pub sents: f64,
}

impl DevScores {
    /// The score early stopping maximises: the mean of the components' scores.
    pub fn overall(&self) -> f64 {
        (self.upos + self.xpos + self.feats + self.lemma + self.uas + self.las) / 6.0
    }
}

/// Progress callbacks of [`train`], for a progress bar and per-epoch reports.
pub trait TrainObserver {
    /// Ensemble member `member` (counted from 1) of `members`, seeded with `seed`, begins.
    fn member_started(&mut self, member: u64, members: u64, seed: u64);
    /// An epoch of `batches` batches begins.
    fn epoch_started(&mut self, epoch: usize, batches: usize);
    /// A batch finished with this mean loss per word.
    fn batch_finished(&mut self, loss: f64);
    /// An epoch ended with these dev scores; `best` says whether they are the best so far.
    fn epoch_finished(&mut self, epoch: usize, scores: &DevScores, best: bool);
    /// A new best model, as a model file (to save it before training ends).
    fn checkpoint(&mut self, model: &[u8]);
    /// An epoch of the named-entity recogniser ended with these dev scores.
    fn ner_epoch_finished(&mut self, epoch: usize, scores: &NerScores, best: bool);
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

/// The jointly trained networks (the lemmatizer is learned separately).
#[derive(Clone, Debug)]
struct Nets {
    tok2vec: Encoder,
    tagger: Tagger,
    morphologizer: Morphologizer,
    parser: Parser,
}

impl Nets {
    fn zeros_like(&self) -> Self {
        Self {
            tok2vec: self.tok2vec.zeros_like(),
            tagger: self.tagger.zeros_like(),
            morphologizer: self.morphologizer.zeros_like(),
            parser: self.parser.zeros_like(),
        }
    }
}

impl Params for Nets {
    fn params(&self) -> Vec<&[f32]> {
        let mut p = self.tok2vec.params();
        p.extend(self.tagger.tag.params());
        p.extend(self.tagger.pos.params());
        p.extend(self.morphologizer.feats.params());
        p.extend(self.parser.params());
        p
    }

    fn params_mut(&mut self) -> Vec<&mut [f32]> {
        let mut p = self.tok2vec.params_mut();
        p.extend(self.tagger.tag.params_mut());
        p.extend(self.tagger.pos.params_mut());
        p.extend(self.morphologizer.feats.params_mut());
        p.extend(self.parser.params_mut());
        p
    }
}

/// A paragraph prepared for training: feature keys and gold classes per word.
#[derive(Debug)]
struct Example {
    keys: Vec<u64>,
    len: usize,
    tag: Vec<Option<u32>>,
    pos: Vec<Option<u32>>,
    feats: Vec<Option<u32>>,
    /// Forms and gold lemmas, for lemma scoring.
    forms: Vec<String>,
    lemmas: Vec<Option<String>>,
    /// The parser's oracle data (projectivized), if the paragraph is fully annotated.
    tree: Option<Gold>,
    /// Gold heads (paragraph indices), plain labels and sentence starts, for scoring.
    heads: Vec<Option<usize>>,
    deprels: Vec<Option<StringKey>>,
    sent_starts: Vec<bool>,
}

/// Sorted distinct values (deterministic label order).
fn label_set<'a>(values: impl Iterator<Item = &'a str>) -> Vec<String> {
    let set: std::collections::BTreeSet<&str> = values.collect();
    set.into_iter().map(str::to_owned).collect()
}

fn feats_label(feats: Option<&str>) -> &str {
    feats.unwrap_or("")
}

fn prepare(paragraphs: &[Paragraph], nets: &Nets) -> Vec<Example> {
    let vocab = Vocab::new();
    let zone = vocab.zone();
    paragraphs
        .iter()
        .filter(|p| !p.is_empty())
        .map(|paragraph| {
            let doc = paragraph.to_doc(&zone);
            let mut keys = Vec::new();
            nets.tok2vec.push_keys(&doc, &mut keys);
            let words: Vec<_> = paragraph.words().collect();
            let class =
                |head: &SoftmaxHead, label: Option<&str>| label.and_then(|l| head.class_of(l));
            Example {
                keys,
                len: words.len(),
                tag: words.iter().map(|w| class(&nets.tagger.tag, w.xpos.as_deref())).collect(),
                pos: words
                    .iter()
                    .map(|w| class(&nets.tagger.pos, w.upos.map(|p| p.as_str())))
                    .collect(),
                feats: words
                    .iter()
                    .map(|w| {
                        class(&nets.morphologizer.feats, Some(feats_label(w.feats.as_deref())))
                    })
                    .collect(),
                forms: words.iter().map(|w| w.form.clone()).collect(),
                lemmas: words.iter().map(|w| w.lemma.clone()).collect(),
                tree: parser_training::gold(paragraph, &nets.parser),
                heads: paragraph.heads(),
                deprels: words.iter().map(|w| w.deprel.as_deref().map(StringKey::of)).collect(),
                sent_starts: paragraph.sent_starts(),
            }
        })
        .collect()
}

fn build_nets(config: &TrainConfig, train: &Corpus, rng: &mut Rng) -> Nets {
    let words = || train.paragraphs.iter().flat_map(Paragraph::words);
    let tags = label_set(words().filter_map(|w| w.xpos.as_deref()));
    let pos = label_set(words().filter_map(|w| w.upos.map(|p| p.as_str())));
    let feats = label_set(words().map(|w| feats_label(w.feats.as_deref())));
    let mut tok2vec = Encoder::new(&config.tok2vec, rng);
    let vocab = Vocab::new();
    let zone = vocab.zone();
    let docs = train.paragraphs.iter().map(|p| p.to_doc(&zone));
    tok2vec.learn_known_words(docs, config.tok2vec.min_word_count);
    let width = tok2vec.width();
    let (tag, pos) = (SoftmaxHead::new(tags, width, rng), SoftmaxHead::new(pos, width, rng));
    let pairs = tag_pairs(&tag, &pos, words());
    let tagger = Tagger::new(tag, pos, pairs)
        .expect("UPOS labels come from parsed UD tags and every tag has a pair. This is a bug.");
    let morphologizer = Morphologizer::new(SoftmaxHead::new(feats, width, rng));
    let labels = parser_training::labels(train.paragraphs.iter(), config.parser.min_label_count);
    let p = &config.parser;
    let model = ParserModel::new(width, p.hidden, p.pieces, labels.len(), rng);
    let parser = Parser::new(labels, model);
    Nets { tok2vec, tagger, morphologizer, parser }
}

/// For each class of `tag`, the classes of `pos` that `words` pair it with (every class
/// of `pos` for a tag never seen with a UPOS).
fn tag_pairs<'w>(
    tag: &SoftmaxHead,
    pos: &SoftmaxHead,
    words: impl Iterator<Item = &'w ConlluWord>,
) -> Vec<Vec<u32>> {
    let mut pairs = vec![Vec::new(); tag.labels().len()];
    for word in words {
        let xpos = word.xpos.as_deref().and_then(|x| tag.class_of(x));
        let upos = word.upos.and_then(|u| pos.class_of(u.as_str()));
        if let (Some(x), Some(u)) = (xpos, upos) {
            pairs[x as usize].push(u);
        }
    }
    for allowed in &mut pairs {
        allowed.sort_unstable();
        allowed.dedup();
        if allowed.is_empty() {
            *allowed = (0..pos.labels().len() as u32).collect();
        }
    }
    pairs
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
    let corpora = (&train_corpus, &dev_corpus);
    let (mut members, mut scores, mut epochs) = (Vec::new(), Vec::new(), Vec::new());
    let count = config.members.max(1);
    for seed in config.seed..config.seed + count {
        observer.member_started(seed - config.seed + 1, count, seed);
        let (best, nets, ran) =
            train_member(config, seed, corpora, (&lemmatizer, &members), observer);
        members.push(save(&nets, &lemmatizer));
        scores.push(best);
        epochs.push(ran);
    }
    let last = members.pop().expect("at least one member is trained");
    let mut model = join(&members, last);
    if let Some(ner) = &config.ner {
        let ner = super::ner::train(ner, config.seed, observer)?.model;
        model = PipelineWriter::with_component(&model, "ner", &ner).expect("This is a bug.");
    }
    let model = super::vocab::with_training_vocab(&model, &train_corpus).expect("This is a bug.");
    observer.checkpoint(&model);
    Ok(Trained { model, scores, epochs })
}

/// The model file of the ensemble of `finished` members and `last`.
fn join(finished: &[Vec<u8>], last: Vec<u8>) -> Vec<u8> {
    if finished.is_empty() {
        return last;
    }
    let files: Vec<&[u8]> = finished.iter().map(Vec::as_slice).chain([&last[..]]).collect();
    join_ensemble(&files).expect("members of one configuration join. This is a bug.")
}

/// Trains one pipeline from `seed` on the (train, dev) corpora; each new best is
/// checkpointed joined with the `finished` members' model files. Returns its best dev
/// scores, its nets and the epochs run.
fn train_member(
    config: &TrainConfig,
    seed: u64,
    (train_corpus, dev_corpus): (&Corpus, &Corpus),
    (lemmatizer, finished): (&Lemmatizer, &[Vec<u8>]),
    observer: &mut dyn TrainObserver,
) -> (DevScores, Nets, usize) {
    let mut rng = Rng::new(seed);
    let mut nets = build_nets(config, train_corpus, &mut rng);
    let train_set = prepare(&train_corpus.paragraphs, &nets);
    let dev_set = prepare(&dev_corpus.paragraphs, &nets);

    let mut grads = nets.zeros_like();
    let schedule = &config.schedule;
    let mut adam = Adam::new(schedule.optimizer);
    let mut average = Average::new(&nets, schedule.average_decay);
    let mut order: Vec<usize> = (0..train_set.len()).collect();
    let mut cache = Tok2VecCache::default();
    let mut parser_trainer = ParserTrainer::new(seed ^ 0x7a55e);
    let mut stopping = EarlyStopping::new(schedule.patience);
    let mut step = 0;
    let mut epochs = 0;
    for epoch in 1..=schedule.max_epochs {
        epochs = epoch;
        rng.shuffle(&mut order);
        let batches = batch(&order, |i| train_set[i].len, schedule.batch_words);
        observer.epoch_started(epoch, batches.len());
        for members in &batches {
            step += 1;
            let explore = if epoch == 1 { 0.0 } else { config.parser.explore };
            let mut scratch = Scratch { cache: &mut cache, parser: &mut parser_trainer, explore };
            let loss =
                train_batch(&nets, &mut grads, members, &train_set, &mut scratch, config, &mut rng);
            adam.update(&mut nets, &mut grads, schedule.warmup(step));
            average.update(&nets);
            observer.batch_finished(loss);
        }
        let mut averaged = nets.clone();
        average.copy_into(&mut averaged);
        let scores = evaluate(&averaged, lemmatizer, &dev_set);
        let improved = stopping.record(scores, averaged, |a, b| a.overall() > b.overall());
        observer.epoch_finished(epoch, &scores, improved);
        if let Some(best) = stopping.best_model().filter(|_| improved) {
            observer.checkpoint(&join(finished, save(best, lemmatizer)));
        }
        if stopping.should_stop() {
            break;
        }
    }
    let (scores, nets) = stopping.into_best();
    (scores, nets, epochs)
}

/// Groups shuffled examples (of `len(i)` words each) into batches of about `batch_words`
/// words.
pub(super) fn batch(
    order: &[usize],
    len: impl Fn(usize) -> usize,
    batch_words: usize,
) -> Vec<Vec<usize>> {
    let mut batches = vec![Vec::new()];
    let mut words = 0;
    for &i in order {
        if words >= batch_words {
            batches.push(Vec::new());
            words = 0;
        }
        batches.last_mut().expect("never empty").push(i);
        words += len(i);
    }
    batches.retain(|b| !b.is_empty());
    batches
}

/// Buffers and settings reused across batches.
struct Scratch<'a> {
    cache: &'a mut Tok2VecCache,
    parser: &'a mut ParserTrainer,
    explore: f32,
}

/// One forward and backward pass over a batch; returns the mean loss per word.
fn train_batch(
    nets: &Nets,
    grads: &mut Nets,
    members: &[usize],
    examples: &[Example],
    scratch: &mut Scratch<'_>,
    config: &TrainConfig,
    rng: &mut Rng,
) -> f64 {
    let cache = &mut *scratch.cache;
    let batch: Vec<&Example> = members.iter().map(|&i| &examples[i]).collect();
    let mut keys: Vec<u64> = batch.iter().flat_map(|e| e.keys.iter().copied()).collect();
    nets.tok2vec.hide_words(&mut keys, config.schedule.word_dropout, rng);
    let lengths: Vec<usize> = batch.iter().map(|e| e.len).collect();
    let n: usize = lengths.iter().sum();
    let gold = |f: fn(&Example) -> &Vec<Option<u32>>| -> Vec<Option<u32>> {
        batch.iter().flat_map(|e| f(e).iter().copied()).collect()
    };
    let mut tensor = Vec::new();
    let dropout = Dropout { rate: config.schedule.dropout, rng };
    nets.tok2vec.forward(&keys, &lengths, &mut tensor, Some(cache), Some(dropout));
    let mut d_tensor = vec![0.0; tensor.len()];
    let scale = 1.0 / n as f32;
    let mut loss = 0.0;
    let heads: [(&SoftmaxHead, &mut SoftmaxHead, Vec<Option<u32>>); 3] = [
        (&nets.tagger.tag, &mut grads.tagger.tag, gold(|e| &e.tag)),
        (&nets.tagger.pos, &mut grads.tagger.pos, gold(|e| &e.pos)),
        (&nets.morphologizer.feats, &mut grads.morphologizer.feats, gold(|e| &e.feats)),
    ];
    for (head, grad, gold) in heads {
        let HeadStats { loss: l, .. } = head.loss_grad(&tensor, &gold, scale, &mut d_tensor, grad);
        loss += l;
    }
    let width = nets.tok2vec.width();
    let mut offset = 0;
    for example in &batch {
        let rows = offset * width..(offset + example.len) * width;
        offset += example.len;
        let Some(tree) = &example.tree else { continue };
        loss += scratch.parser.paragraph(
            &nets.parser,
            &mut grads.parser,
            tree,
            &tensor[rows.clone()],
            &mut d_tensor[rows],
            (scale, scratch.explore),
        );
    }
    nets.tok2vec.backward(&keys, &lengths, cache, d_tensor, &mut grads.tok2vec);
    loss / n as f64
}

/// Scores `nets` and `lemmatizer` on gold-tokenised dev paragraphs.
fn evaluate(nets: &Nets, lemmatizer: &Lemmatizer, dev: &[Example]) -> DevScores {
    let mut counts = [0_usize; 4];
    let mut attach = [0_usize; 2];
    let mut sents = [0_usize; 3];
    let mut scratch = ParseScratch::default();
    let mut total = 0;
    let (mut tensor, mut scores, mut best) = (Vec::new(), Vec::new(), Vec::new());
    let (mut tag_scratch, mut best_tags, mut best_pos) =
        (TagScratch::default(), Vec::new(), Vec::new());
    let (mut lemma_scratch, mut lemma) = (LemmaScratch::default(), String::new());
    for example in dev {
        nets.tok2vec.forward(&example.keys, &[example.len], &mut tensor, None, None);
        total += example.len;
        nets.tagger.predict(&tensor, &mut tag_scratch, &mut best_tags, &mut best_pos);
        nets.morphologizer.feats.predict(&tensor, &mut scores, &mut best);
        for (slot, (predicted, gold)) in
            [(&best_tags, &example.tag), (&best_pos, &example.pos), (&best, &example.feats)]
                .into_iter()
                .enumerate()
        {
            counts[slot] += predicted.iter().zip(gold).filter(|(p, g)| Some(**p) == **g).count();
        }
        let tags: Vec<StringKey> = best_tags.iter().map(|&t| nets.tagger.tag.key(t)).collect();
        for ((form, gold), tag) in example.forms.iter().zip(&example.lemmas).zip(&tags) {
            lemmatizer.lemmatize(form, *tag, &mut lemma_scratch, &mut lemma);
            counts[3] += usize::from(gold.as_deref() == Some(lemma.as_str()));
        }
        let parse = nets.parser.parse(&tensor, true, &mut scratch);
        for (w, &head) in parse.heads.iter().enumerate() {
            if example.heads[w] == Some(head as usize) {
                attach[0] += 1;
                let label = nets.parser.label_key(parse.labels[w]);
                attach[1] += usize::from(example.deprels[w] == Some(label));
            }
        }
        let starts = parse.sent_starts.iter().zip(&example.sent_starts);
        sents[0] += starts.filter(|&(p, g)| *p && *g).count();
        sents[1] += parse.sent_starts.iter().filter(|&&p| p).count();
        sents[2] += example.sent_starts.iter().filter(|&&g| g).count();
    }
    let pct = |c: usize| 100.0 * c as f64 / total.max(1) as f64;
    DevScores {
        xpos: pct(counts[0]),
        upos: pct(counts[1]),
        feats: pct(counts[2]),
        lemma: pct(counts[3]),
        uas: pct(attach[0]),
        las: pct(attach[1]),
        sents: 200.0 * sents[0] as f64 / (sents[1] + sents[2]).max(1) as f64,
    }
}

/// The model file of trained networks and the lemmatizer.
fn save(nets: &Nets, lemmatizer: &Lemmatizer) -> Vec<u8> {
    let mut writer = PipelineWriter::default();
    writer.add("tok2vec", &Tok2Vec::new(vec![nets.tok2vec.clone()]));
    writer.add("tagger", &nets.tagger);
    writer.add("morphologizer", &nets.morphologizer);
    writer.add("lemmatizer", lemmatizer);
    writer.add("parser", &nets.parser);
    writer.add("doc_cleaner", &DocCleaner::default());
    writer.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::Pipeline;
    use crate::pipeline::model_io::Sections;
    use crate::pipeline::model_io::components::Persist;
    use crate::pipeline::nn::AdamConfig;
    use crate::pipeline::tok2vec::{Attr, EmbedConfig};

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

    struct Silent(usize);

    impl TrainObserver for Silent {
        fn member_started(&mut self, _: u64, _: u64, _: u64) {}
        fn epoch_started(&mut self, _: usize, _: usize) {}
        fn batch_finished(&mut self, _: f64) {}
        fn epoch_finished(&mut self, _: usize, _: &DevScores, _: bool) {}
        fn checkpoint(&mut self, _: &[u8]) {
            self.0 += 1;
        }
        fn ner_epoch_finished(&mut self, _: usize, _: &NerScores, _: bool) {}
    }

    #[test]
    fn training_is_deterministic_and_yields_a_loadable_pipeline() {
        let dir = std::env::temp_dir().join(format!("nlpd-train-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (conllu, iob2) = (dir.join("tiny.conllu"), dir.join("tiny.iob2"));
        std::fs::write(&conllu, CONLLU).unwrap();
        std::fs::write(&iob2, IOB2).unwrap();
        let embed = |attr| EmbedConfig { attr, rows: 50, width: 4 };
        let config = TrainConfig {
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
            ner: Some(super::super::ner::NerConfig {
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
        };
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
}

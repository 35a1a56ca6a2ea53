//! Joint training of tok2vec, the tagger, the morphologizer and the parser.
//!
//! # Overview
//!
//! [`train_member`] trains one pipeline (one ensemble member) from a seed:
//!
//! 1. builds the networks (`Nets`) with the label sets of the training corpus, or reads
//!    them from the model file training starts from (`init`);
//! 2. turns every paragraph into a `GoldParagraph`: feature keys and gold classes per
//!    word, the parser's oracle tree and what dev scoring compares, and the frozen
//!    transformer's features when the pipeline has one (see [`super::features`]), or its
//!    pieces when it is fine-tuned (see [`super::fine_tune`]: each batch then computes
//!    its features, and the gradient with respect to them flows on into the transformer);
//! 3. runs the shared epoch loop ([`run_epochs`]) with `JointLearner`: each batch of
//!    paragraphs runs through tok2vec, every head adds its loss gradient into the shared
//!    tensor gradient, which flows back into tok2vec; the parser follows its own
//!    predictions from the second epoch on (exploration);
//! 4. scores the averaged weights on dev ([`DevScores`]) after every epoch and
//!    checkpoints each new best.

use std::path::Path;

use serde::Deserialize;

use super::corpus::{Corpus, Paragraph};
use super::features::transformer_features;
use super::fine_tune::{FineTuneConfig, FineTuner};
use super::parser::{self as parser_training, ParserStep, ParserTrainer};
use super::schedule::{Batch, BestEpoch, Learner, Schedule, Splits, run_epochs};
use super::teacher::{DistillConfig, StudentLabels, TaughtHead, Teacher};
use super::{DevScores, TrainError, TrainObserver};
use crate::doc::conllu::ConlluWord;
use crate::pipeline::ComponentKind;
use crate::pipeline::classifier::{HeadStats, SoftTargets, SoftmaxHead};
use crate::pipeline::doc_cleaner::DocCleaner;
use crate::pipeline::lemmatizer::{LemmaScratch, Lemmatizer};
use crate::pipeline::model_io::ensemble::read_part;
use crate::pipeline::model_io::{PipelineWriter, Sections};
use crate::pipeline::morphologizer::Morphologizer;
use crate::pipeline::nn::{Params, Rng};
use crate::pipeline::parser::ParseScratch;
use crate::pipeline::parser::Parser;
use crate::pipeline::parser::model::ParserModel;
use crate::pipeline::parser::oracle::Gold;
use crate::pipeline::tagger::{TagScratch, Tagger};
use crate::pipeline::tok2vec::{Dropout, Encoder, Tok2Vec, Tok2VecCache, Tok2VecConfig};
use crate::pipeline::transformer::{PieceId, Transformer};
use crate::vocab::{StringKey, Vocab};

/// What every member of the ensemble trains from.
#[derive(Clone, Copy, Debug)]
pub(super) struct Member<'a> {
    /// Epochs, early stopping, batches, dropout and the optimiser.
    pub(super) schedule: &'a Schedule,
    /// The shared encoder's shape.
    pub(super) tok2vec: &'a Tok2VecConfig,
    /// The parser's shape and training.
    pub(super) parser: &'a ParserConfig,
    /// The training corpus.
    pub(super) train: &'a Corpus,
    /// The development corpus, for scoring and early stopping.
    pub(super) dev: &'a Corpus,
    /// The lemmatizer learned from the training corpus (no gradient involved).
    pub(super) lemmatizer: &'a Lemmatizer,
    /// The pipeline to distil, if any (see [`super::teacher`]).
    pub(super) distill: Option<&'a DistillConfig>,
    /// The transformer whose features tok2vec reads, if any (frozen, or where
    /// fine-tuning starts).
    pub(super) transformer: Option<&'a Transformer>,
    /// How the transformer is fine-tuned, if it is.
    pub(super) fine_tune: Option<&'a FineTuneConfig>,
    /// The model file whose weights the networks start from (its path, for errors), if any.
    pub(super) init: Option<(&'a Path, &'a [u8])>,
}

/// Trains one pipeline from `seed`. Each new best is checkpointed as
/// `checkpoint(model file)` (the orchestrator joins it with the members done so far).
/// Returns the model file of the best epoch, its dev scores and the epochs run.
///
/// # Errors
///
/// Returns a [`TrainError`] if the member distils a teacher that cannot teach it, or
/// starts from a model file that does not hold networks of its label sets.
pub(super) fn train_member(
    member: Member<'_>,
    seed: u64,
    checkpoint: &dyn Fn(Vec<u8>) -> Vec<u8>,
    observer: &mut dyn TrainObserver,
) -> Result<BestEpoch<Vec<u8>, DevScores>, TrainError> {
    let mut rng = Rng::new(seed);
    let mut nets = build_nets(&member, &mut rng);
    let Member { schedule, parser, train, dev, lemmatizer, distill, transformer, .. } = member;
    if let Some((path, bytes)) = member.init {
        let err = |reason| TrainError::Init { path: path.to_path_buf(), reason };
        let loaded = read_nets(bytes).map_err(err)?;
        if student_labels(&loaded) != student_labels(&nets) {
            return Err(err("its label sets are not the training corpus's".into()));
        }
        nets = loaded;
    }
    let teacher = distill.map(|config| Teacher::load(config, student_labels(&nets))).transpose()?;
    let fine_tuned = transformer.filter(|_| member.fine_tune.is_some());
    let train_set =
        gold_paragraphs(&train.paragraphs, &nets, teacher.as_ref(), transformer, fine_tuned);
    let dev_set = gold_paragraphs(&dev.paragraphs, &nets, None, transformer, fine_tuned);
    let fine_tuner = fine_tuned.zip(member.fine_tune).map(|(transformer, config)| {
        let adam = schedule.optimizer;
        FineTuner::new(transformer.clone(), config, adam, seed ^ 0xf1_7e)
    });
    let mut learner = JointLearner {
        teacher: teacher.as_ref(),
        transformer,
        fine_tuner,
        best_file: None,
        explore: parser.explore,
        lemmatizer,
        checkpoint,
        cache: Tok2VecCache::default(),
        parser: ParserTrainer::new(seed ^ 0x7a55e),
    };
    let splits = Splits { train: &train_set, dev: &dev_set };
    let best = run_epochs(&mut learner, nets, splits, schedule, &mut rng, observer);
    // With fine-tuning, the file of the best epoch holds the transformer of that epoch.
    let model =
        learner.best_file.take().unwrap_or_else(|| save(&best.model, lemmatizer, transformer));
    Ok(BestEpoch { model, scores: best.scores, epochs: best.epochs })
}

/// The label sets of `nets`, which a teacher's must equal.
fn student_labels(nets: &Nets) -> StudentLabels<'_> {
    StudentLabels {
        tag: nets.tagger.tag.labels(),
        pos: nets.tagger.pos.labels(),
        feats: nets.morphologizer.feats.labels(),
        arcs: &nets.parser.labels,
    }
}

/// The networks of the model file `bytes` (a single pipeline's, not an ensemble's), or
/// why it has none.
fn read_nets(bytes: &[u8]) -> Result<Nets, String> {
    let sections = Sections::parse(bytes).map_err(|e| e.to_string())?;
    let mut vocab = Vocab::new();
    let tok2vec: Tok2Vec =
        read_part(&sections, ComponentKind::Tok2Vec, &mut vocab).map_err(|e| e.to_string())?;
    let [tok2vec] = <[Encoder; 1]>::try_from(tok2vec.members)
        .map_err(|members| format!("an ensemble of {} pipelines", members.len()))?;
    Ok(Nets {
        tok2vec,
        tagger: read_part(&sections, ComponentKind::Tagger, &mut vocab)
            .map_err(|e| e.to_string())?,
        morphologizer: read_part(&sections, ComponentKind::Morphologizer, &mut vocab)
            .map_err(|e| e.to_string())?,
        parser: read_part(&sections, ComponentKind::Parser, &mut vocab)
            .map_err(|e| e.to_string())?,
    })
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
struct GoldParagraph {
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
    /// The teacher's tensor of the paragraph (empty without a teacher).
    taught: Vec<f32>,
    /// The transformer's frozen features of the paragraph (empty without a transformer,
    /// or when it is fine-tuned).
    features: Vec<f32>,
    /// When the transformer is fine-tuned: the paragraph's pieces, and each word's number
    /// of them (else empty).
    pieces: Vec<PieceId>,
    piece_counts: Vec<usize>,
}

/// Sorted distinct values (deterministic label order).
fn label_set<'a>(values: impl Iterator<Item = &'a str>) -> Vec<String> {
    let set: std::collections::BTreeSet<&str> = values.collect();
    set.into_iter().map(str::to_owned).collect()
}

/// The morphologizer's label of a word's FEATS (empty where it has none).
fn feats_label(feats: Option<&str>) -> &str {
    feats.unwrap_or("")
}

/// The paragraphs of a corpus prepared for `nets`, with the tensors of `teacher` and the
/// features of `transformer` if given, or the pieces of `fine_tuned` if given (empty
/// paragraphs left out).
fn gold_paragraphs(
    paragraphs: &[Paragraph],
    nets: &Nets,
    teacher: Option<&Teacher>,
    transformer: Option<&Transformer>,
    fine_tuned: Option<&Transformer>,
) -> Vec<GoldParagraph> {
    let vocab = Vocab::new();
    let zone = vocab.zone();
    paragraphs
        .iter()
        .filter(|p| !p.is_empty())
        .map(|paragraph| {
            let mut doc = paragraph.to_doc(&zone);
            let taught = teacher.map(|t| t.tensor(&mut doc)).unwrap_or_default();
            let (mut pieces, mut piece_counts) = (Vec::new(), Vec::new());
            let features = match fine_tuned {
                Some(t) => {
                    t.pieces(&doc, &mut pieces, &mut piece_counts);
                    Vec::new()
                }
                None => transformer_features(transformer, &mut doc),
            };
            let mut keys = Vec::new();
            nets.tok2vec.push_keys(&doc, &mut keys);
            let words: Vec<_> = paragraph.words().collect();
            let class =
                |head: &SoftmaxHead, label: Option<&str>| label.and_then(|l| head.class_of(l));
            GoldParagraph {
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
                taught,
                features,
                pieces,
                piece_counts,
            }
        })
        .collect()
}

/// Freshly initialised networks of the member's shape, over the label sets of its
/// training corpus.
fn build_nets(member: &Member<'_>, rng: &mut Rng) -> Nets {
    let train = member.train;
    let words = || train.paragraphs.iter().flat_map(Paragraph::words);
    let tags = label_set(words().filter_map(|w| w.xpos.as_deref()));
    let pos = label_set(words().filter_map(|w| w.upos.map(|p| p.as_str())));
    let feats = label_set(words().map(|w| feats_label(w.feats.as_deref())));
    let features = member.transformer.map_or(0, Transformer::width);
    let mut tok2vec = Encoder::new(member.tok2vec, features, rng);
    let vocab = Vocab::new();
    let zone = vocab.zone();
    let docs = train.paragraphs.iter().map(|p| p.to_doc(&zone));
    tok2vec.learn_known_words(docs, member.tok2vec.min_word_count);
    let width = tok2vec.width();
    let (tag, pos) = (SoftmaxHead::new(tags, width, rng), SoftmaxHead::new(pos, width, rng));
    let pairs = tag_pairs(&tag, &pos, words());
    let tagger = Tagger::new(tag, pos, pairs)
        .expect("UPOS labels come from parsed UD tags and every tag has a pair. This is a bug.");
    let morphologizer = Morphologizer::new(SoftmaxHead::new(feats, width, rng));
    let labels = parser_training::labels(train.paragraphs.iter(), member.parser.min_label_count);
    let p = member.parser;
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

/// The joint networks' side of the epoch loop: the parser's exploration, the lemmatizer
/// for dev scoring and the checkpoints.
struct JointLearner<'a> {
    /// The pipeline distilled, if any.
    teacher: Option<&'a Teacher>,
    /// The frozen transformer tok2vec reads, if any (saved before it in checkpoints).
    transformer: Option<&'a Transformer>,
    /// The transformer in fine-tuning, if it is fine-tuned (saved instead of the frozen
    /// one).
    fine_tuner: Option<FineTuner>,
    /// With fine-tuning, the model file of the best epoch so far (its transformer cannot
    /// be saved later).
    best_file: Option<Vec<u8>>,
    /// From the second epoch on, the probability of following the parser's own
    /// prediction when it is wrong.
    explore: f32,
    lemmatizer: &'a Lemmatizer,
    /// Turns a member's model file into the file to checkpoint.
    checkpoint: &'a dyn Fn(Vec<u8>) -> Vec<u8>,
    cache: Tok2VecCache,
    parser: ParserTrainer,
}

impl Learner for JointLearner<'_> {
    type Model = Nets;
    type Example = GoldParagraph;
    type Scores = DevScores;

    fn zeros_like(nets: &Nets) -> Nets {
        nets.zeros_like()
    }

    fn words(example: &GoldParagraph) -> usize {
        example.len
    }

    fn train_batch(
        &mut self,
        nets: &Nets,
        grads: &mut Nets,
        batch: Batch<'_, GoldParagraph>,
    ) -> f64 {
        let Batch { examples, epoch, schedule, rng } = batch;
        let explore = if epoch == 1 { 0.0 } else { self.explore };
        let cache = &mut self.cache;
        let mut keys: Vec<u64> = examples.iter().flat_map(|e| e.keys.iter().copied()).collect();
        nets.tok2vec.hide_words(&mut keys, schedule.word_dropout, rng);
        let features: Vec<f32> = match &mut self.fine_tuner {
            Some(tuner) => tuner
                .forward(examples.iter().map(|e| (e.pieces.as_slice(), e.piece_counts.as_slice()))),
            None => examples.iter().flat_map(|e| e.features.iter().copied()).collect(),
        };
        let lengths: Vec<usize> = examples.iter().map(|e| e.len).collect();
        let n: usize = lengths.iter().sum();
        let gold = |f: fn(&GoldParagraph) -> &Vec<Option<u32>>| -> Vec<Option<u32>> {
            examples.iter().flat_map(|e| f(e).iter().copied()).collect()
        };
        let mut tensor = Vec::new();
        let dropout = Dropout { rate: schedule.dropout, rng };
        nets.tok2vec.forward(&keys, &features, &lengths, &mut tensor, Some(cache), Some(dropout));
        let mut d_tensor = vec![0.0; tensor.len()];
        let scale = 1.0 / n as f32;
        let mut loss = 0.0;
        let heads: [(&SoftmaxHead, &mut SoftmaxHead, Vec<Option<u32>>, TaughtHead); 3] = [
            (&nets.tagger.tag, &mut grads.tagger.tag, gold(|e| &e.tag), TaughtHead::Tag),
            (&nets.tagger.pos, &mut grads.tagger.pos, gold(|e| &e.pos), TaughtHead::Pos),
            (
                &nets.morphologizer.feats,
                &mut grads.morphologizer.feats,
                gold(|e| &e.feats),
                TaughtHead::Feats,
            ),
        ];
        let taught: Vec<f32> = match self.teacher {
            Some(_) => examples.iter().flat_map(|e| e.taught.iter().copied()).collect(),
            None => Vec::new(),
        };
        let mut probs = Vec::new();
        for (head, grad, gold, taught_head) in heads {
            let soft = self.teacher.map(|teacher| {
                teacher.head_probs(taught_head, &taught, &mut probs);
                SoftTargets { probs: &probs, weight: teacher.weight }
            });
            let HeadStats { loss: l, .. } =
                head.loss_grad(&tensor, &gold, soft, scale, &mut d_tensor, grad);
            loss += l;
        }
        let mut teacher_parse = self.teacher.map(Teacher::parse);
        let width = nets.tok2vec.width();
        let mut offset = 0;
        for example in examples {
            let rows = offset * width..(offset + example.len) * width;
            offset += example.len;
            let Some(tree) = &example.tree else { continue };
            if let Some(teacher) = &mut teacher_parse {
                teacher.start(&example.taught);
            }
            loss += self.parser.paragraph(
                &nets.parser,
                &mut grads.parser,
                tree,
                (&tensor[rows.clone()], &mut d_tensor[rows]),
                ParserStep { scale, explore },
                teacher_parse.as_mut(),
            );
        }
        let d_features =
            nets.tok2vec.backward(&keys, &lengths, cache, d_tensor, &mut grads.tok2vec);
        // A frozen transformer's gradient stops here.
        if let Some(tuner) = &mut self.fine_tuner {
            tuner.backward(&d_features);
        }
        loss / n as f64
    }

    /// Scores `nets` and the lemmatizer on gold-tokenised dev paragraphs.
    fn score(&self, nets: &Nets, dev: &[GoldParagraph]) -> DevScores {
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
            let fresh;
            let features = match &self.fine_tuner {
                Some(tuner) => {
                    let counts = &example.piece_counts;
                    fresh = tuner.transformer.features(&example.pieces, counts).1;
                    &fresh
                }
                None => &example.features,
            };
            let keys = &example.keys;
            nets.tok2vec.forward(keys, features, &[example.len], &mut tensor, None, None);
            total += example.len;
            nets.tagger.predict(&tensor, &mut tag_scratch, &mut best_tags, &mut best_pos);
            nets.morphologizer.feats.predict(&tensor, &mut scores, &mut best);
            for (slot, (predicted, gold)) in
                [(&best_tags, &example.tag), (&best_pos, &example.pos), (&best, &example.feats)]
                    .into_iter()
                    .enumerate()
            {
                counts[slot] +=
                    predicted.iter().zip(gold).filter(|(p, g)| Some(**p) == **g).count();
            }
            let tags: Vec<StringKey> = best_tags.iter().map(|&t| nets.tagger.tag.key(t)).collect();
            for ((form, gold), tag) in example.forms.iter().zip(&example.lemmas).zip(&tags) {
                self.lemmatizer.lemmatize(form, *tag, &mut lemma_scratch, &mut lemma);
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

    fn better(scores: &DevScores, best: &DevScores) -> bool {
        scores.overall() > best.overall()
    }

    fn epoch_finished(
        &mut self,
        epoch: usize,
        scores: &DevScores,
        new_best: Option<&Nets>,
        observer: &mut dyn TrainObserver,
    ) {
        observer.epoch_finished(epoch, scores, new_best.is_some());
        if let Some(nets) = new_best {
            let transformer = self.fine_tuner.as_ref().map(|t| &t.transformer);
            let model = save(nets, self.lemmatizer, transformer.or(self.transformer));
            if transformer.is_some() {
                self.best_file = Some(model.clone());
            }
            observer.checkpoint(&(self.checkpoint)(model));
        }
    }
}

/// The model file of trained networks and the lemmatizer, after the transformer they read
/// if any.
fn save(nets: &Nets, lemmatizer: &Lemmatizer, transformer: Option<&Transformer>) -> Vec<u8> {
    let mut writer = PipelineWriter::default();
    if let Some(transformer) = transformer {
        writer.add(ComponentKind::Transformer, transformer);
    }
    writer.add(ComponentKind::Tok2Vec, &Tok2Vec::new(vec![nets.tok2vec.clone()]));
    writer.add(ComponentKind::Tagger, &nets.tagger);
    writer.add(ComponentKind::Morphologizer, &nets.morphologizer);
    writer.add(ComponentKind::Lemmatizer, lemmatizer);
    writer.add(ComponentKind::Parser, &nets.parser);
    writer.add(ComponentKind::DocCleaner, &DocCleaner::default());
    writer.into_bytes()
}

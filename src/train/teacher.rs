//! Distillation: a trained pipeline, usually an ensemble, teaches a single one.
//!
//! # Overview
//!
//! An ensemble of two pipelines is more accurate than either member but costs twice as
//! much. Distillation trains one pipeline of a member's shape to reproduce what the
//! ensemble predicts, so it keeps part of the ensemble's gain at one member's cost.
//!
//! [`DistillConfig`] (the `[distill]` table of a training config) names the teacher's model
//! file and the `weight` of its distributions in the student's targets. `Teacher` holds the
//! teacher's jointly trained components (tok2vec, tagger, morphologizer, parser), whose
//! labels must be the student's. Its tensor of every training paragraph is computed once,
//! before training (a frozen output, see [`super::features`]): the teacher never changes,
//! and it reads the words without dropout.
//! During training, every target is `(1 − weight) × gold + weight × teacher`:
//!
//! - for the tagger's and the morphologizer's heads, the teacher's softmax over each word's
//!   classes (`Teacher::head_probs`); a word without a gold class takes the teacher's
//!   distribution alone;
//! - for the parser, at every state the student reaches (its own path, with exploration),
//!   the teacher's softmax over the valid actions (`TeacherParse`); the gold side is the
//!   student's own distribution over the zero-cost actions, as without a teacher.
//!
//! The lemmatizer and the recogniser are not distilled: the first is learned from the
//! treebank without gradients, and the second is a single network already.
//!
//! A teacher on a transformer (its encoder reads the transformer's features, as
//! `config/train-en-trf.toml` trains it) brings its transformer along: the teacher's tensor
//! of each paragraph is computed from the transformer's features of that paragraph, as
//! `nlpd parse` computes it. The student needs no transformer of its own.

use std::path::PathBuf;

use serde::Deserialize;

use super::features::{Output, frozen_output, read_transformer};
use crate::doc::Doc;
use crate::pipeline::Component;
use crate::pipeline::classifier::SoftmaxHead;
use crate::pipeline::model_io::ModelLoadError;
use crate::pipeline::model_io::ensemble::JointComponents;
use crate::pipeline::nn::softmax;
use crate::pipeline::parser::Parser;
use crate::pipeline::parser::model::StateActivations;
use crate::pipeline::parser::state::State;
use crate::pipeline::transformer::Transformer;

/// The `[distill]` table of a training config.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DistillConfig {
    /// The teacher's model file (relative to where `nlpd train` runs), trained on the same
    /// corpus with the same label settings as the student.
    pub teacher: PathBuf,
    /// The weight of the teacher's distributions in every target, in `[0, 1]`; the gold
    /// labels have the rest.
    pub weight: f32,
}

/// Why a teacher cannot teach.
#[derive(Debug, thiserror::Error)]
pub enum TeacherError {
    /// Occurs when the teacher's model file cannot be read.
    #[error("cannot read the teacher model {path}")]
    Read {
        /// The model path.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// Occurs when the teacher's model file is not a valid pipeline with the jointly
    /// trained components.
    #[error("the teacher model {path} cannot be loaded")]
    Load {
        /// The model path.
        path: PathBuf,
        /// What went wrong.
        source: ModelLoadError,
    },
    /// Occurs when the teacher's labels are not the student's (another corpus or other
    /// label settings).
    #[error("the teacher's {what} labels differ from the student's")]
    Labels {
        /// Which component's labels.
        what: &'static str,
    },
    /// Occurs when the teacher's encoder reads features of another width than its
    /// transformer's.
    #[error("the teacher's encoder reads {expected} features, its transformer gives {found}")]
    FeatureWidth {
        /// The width the teacher's encoder reads.
        expected: usize,
        /// The width of the teacher's transformer.
        found: usize,
    },
    /// Occurs when the weight is outside `[0, 1]`.
    #[error("the distillation weight must lie in [0, 1], not {weight}")]
    Weight {
        /// The configured weight.
        weight: f32,
    },
}

/// A loaded teacher and the weight of its distributions. See the [module docs](self).
#[derive(Debug)]
pub(crate) struct Teacher {
    /// The transformer whose features the teacher's encoder reads, if it reads any.
    transformer: Option<Transformer>,
    components: JointComponents,
    /// The weight of the teacher's distributions in every target.
    pub(crate) weight: f32,
}

/// The student's label sets, which the teacher's must equal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct StudentLabels<'a> {
    pub(crate) tag: &'a [String],
    pub(crate) pos: &'a [String],
    pub(crate) feats: &'a [String],
    pub(crate) arcs: &'a [String],
}

/// Which head of the teacher to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TaughtHead {
    /// The tagger's XPOS head.
    Tag,
    /// The tagger's UPOS head.
    Pos,
    /// The morphologizer's FEATS head.
    Feats,
}

impl Teacher {
    /// Loads the teacher `config` names and checks its labels against the student's.
    ///
    /// # Errors
    ///
    /// Returns a [`TeacherError`] if the file cannot be read or loaded, the weight is out
    /// of range, or a label set differs.
    pub(crate) fn load(
        config: &DistillConfig,
        student: StudentLabels<'_>,
    ) -> Result<Self, TeacherError> {
        let weight = config.weight;
        if !(0.0..=1.0).contains(&weight) {
            return Err(TeacherError::Weight { weight });
        }
        let path = &config.teacher;
        let bytes = std::fs::read(path)
            .map_err(|source| TeacherError::Read { path: path.clone(), source })?;
        let components = JointComponents::load(&bytes)
            .map_err(|source| TeacherError::Load { path: path.clone(), source })?;
        let expected = components.tok2vec.feature_width();
        let transformer = if expected == 0 {
            None
        } else {
            let transformer = read_transformer(&bytes)
                .map_err(|source| TeacherError::Load { path: path.clone(), source })?;
            if transformer.width() != expected {
                return Err(TeacherError::FeatureWidth { expected, found: transformer.width() });
            }
            Some(transformer)
        };
        let teacher = Self { transformer, components, weight };
        teacher.check_labels(student)?;
        Ok(teacher)
    }

    fn check_labels(&self, student: StudentLabels<'_>) -> Result<(), TeacherError> {
        let c = &self.components;
        let pairs: [(&'static str, &[String], &[String]); 4] = [
            ("XPOS", c.tagger.tag.labels(), student.tag),
            ("UPOS", c.tagger.pos.labels(), student.pos),
            ("FEATS", c.morphologizer.feats.labels(), student.feats),
            ("arc", &c.parser.labels, student.arcs),
        ];
        match pairs.into_iter().find(|(_, teacher, student)| teacher != student) {
            Some((what, ..)) => Err(TeacherError::Labels { what }),
            None => Ok(()),
        }
    }

    /// The teacher's tensor of `doc` (words × the teacher's width), from its transformer's
    /// features of `doc` if it has a transformer.
    pub(crate) fn tensor(&self, doc: &mut Doc<'_>) -> Vec<f32> {
        if let Some(transformer) = &self.transformer {
            transformer.process(doc).expect("a transformer runs on any document. This is a bug.");
        }
        frozen_output(&self.components.tok2vec, doc, Output::Tensor)
    }

    /// The teacher's distribution over the classes of `head` for each row of its tensor
    /// `x`, into `probs` (rows × classes).
    pub(crate) fn head_probs(&self, head: TaughtHead, x: &[f32], probs: &mut Vec<f32>) {
        let head: &SoftmaxHead = match head {
            TaughtHead::Tag => &self.components.tagger.tag,
            TaughtHead::Pos => &self.components.tagger.pos,
            TaughtHead::Feats => &self.components.morphologizer.feats,
        };
        head.scores(x, probs);
        probs.chunks_exact_mut(head.labels().len()).for_each(softmax);
    }

    /// The teacher's parser, ready to score the states of a paragraph.
    pub(crate) fn parse(&self) -> TeacherParse<'_> {
        TeacherParse::new(&self.components.parser, self.weight)
    }
}

/// The teacher's parser over one paragraph at a time: the mean of its members' action
/// scores in any state, as a distribution over the valid actions.
#[derive(Debug)]
pub(crate) struct TeacherParse<'t> {
    parser: &'t Parser,
    /// The weight of the teacher's distribution in each state's target.
    pub(crate) weight: f32,
    /// Per member: its precomputed rows of the paragraph.
    precomputed: Vec<Vec<f32>>,
    /// One member's columns of the tensor.
    columns: Vec<f32>,
    acts: Vec<StateActivations>,
    probs: Vec<f32>,
}

impl<'t> TeacherParse<'t> {
    /// Scoring with `parser`, whose distributions weigh `weight` in each target.
    pub(crate) fn new(parser: &'t Parser, weight: f32) -> Self {
        Self {
            parser,
            weight,
            precomputed: Vec::new(),
            columns: Vec::new(),
            acts: Vec::new(),
            probs: Vec::new(),
        }
    }

    /// Readies the scoring of states over the paragraph whose teacher tensor is `x`.
    pub(crate) fn start(&mut self, x: &[f32]) {
        let members = &self.parser.members;
        self.precomputed.resize_with(members.len(), Vec::new);
        self.acts.resize_with(members.len(), StateActivations::default);
        let stride = self.parser.width();
        let mut column = 0;
        for (model, precomputed) in members.iter().zip(&mut self.precomputed) {
            let width = model.lower.n_in;
            self.columns.clear();
            self.columns.extend(x.chunks_exact(stride).flat_map(|row| &row[column..][..width]));
            model.precompute(&self.columns, precomputed);
            column += width;
        }
    }

    /// The teacher's softmax over the actions of `state` whose cost is not `u32::MAX`
    /// (the valid ones; the others get probability 0).
    pub(crate) fn probs(&mut self, state: &State, costs: &[u32]) -> &[f32] {
        let members = &self.parser.members;
        self.probs.clear();
        self.probs.resize(costs.len(), 0.0);
        for ((model, precomputed), act) in members.iter().zip(&self.precomputed).zip(&mut self.acts)
        {
            model.score(state, precomputed, act);
            for (sum, s) in self.probs.iter_mut().zip(&act.scores) {
                *sum += s;
            }
        }
        let share = 1.0 / members.len() as f32;
        for (p, &cost) in self.probs.iter_mut().zip(costs) {
            *p = if cost == u32::MAX { f32::NEG_INFINITY } else { *p * share };
        }
        softmax(&mut self.probs);
        &self.probs
    }
}

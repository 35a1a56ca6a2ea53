//! `parser`: labelled dependency trees and sentence boundaries.
//!
//! # Overview
//!
//! [`Parser`] is a greedy transition-based parser over the arc-hybrid system with a
//! sentence-ending `Break` transition (`state`), scored by a small network over
//! `Doc.tensor` (`model`). It parses a whole document (a paragraph) in one pass, so it
//! decides sentence boundaries together with the trees. Non-projective trees are handled
//! pseudo-projectively (`projectivize`): lifted arcs carry decorated labels that are undone
//! after parsing. Training uses a dynamic oracle (`oracle`).
//!
//! Whitespace tokens are not parsed: each is attached to the nearest preceding word
//! (`dep`), as spaCy does.

pub(crate) mod model;
pub(crate) mod oracle;
pub(crate) mod projectivize;
pub(crate) mod state;

use self::model::{ParserModel, StateActivations};
use self::projectivize::{deprojectivize, split_label};
use self::state::{Action, State};
use super::{Component, ComponentError, tensor_of};
use crate::doc::Doc;
use crate::vocab::{LexFlags, StringKey};

/// The label of sentence roots.
pub const ROOT_LABEL: &str = "root";
/// The label of whitespace tokens attached to their neighbour.
pub const SPACE_LABEL: &str = "dep";

/// The parser component. See the [module docs](self).
#[derive(Clone, Debug, PartialEq)]
pub struct Parser {
    pub(crate) labels: Vec<String>,
    plain: Vec<StringKey>,
    pub(crate) model: ParserModel,
}

impl Parser {
    /// A parser over arc labels `labels` (possibly decorated by lifting).
    ///
    /// # Panics
    ///
    /// Panics if the model does not have `labels.len()` labels.
    pub(crate) fn new(labels: Vec<String>, model: ParserModel) -> Self {
        assert_eq!(model.n_labels, labels.len(), "one label row per label");
        let plain = labels.iter().map(|l| StringKey::of(split_label(l).0)).collect();
        Self { labels, plain, model }
    }

    /// A zeroed copy of the model (a gradient accumulator).
    pub(crate) fn zeros_like(&self) -> Self {
        Self { model: self.model.zeros_like(), ..self.clone() }
    }

    /// Greedily parses words with vectors `x` (n × width) into their final state, finding
    /// sentence boundaries if `breaks`.
    pub(crate) fn decode(&self, x: &[f32], breaks: bool, scratch: &mut ParseScratch) -> State {
        let ParseScratch { precomputed, act } = scratch;
        let n = x.len() / self.model.lower.n_in;
        self.model.precompute(x, precomputed);
        let mut state = State::with_breaks(n, breaks);
        let n_labels = self.labels.len();
        while !state.is_final() {
            // With an empty stack, shifting is the only valid action: no need to score it.
            if state.is_valid(Action::Left(0)) || state.is_valid(Action::Right(0)) {
                self.model.score(&state, precomputed, act);
                let best = best_valid(&state, &act.scores, n_labels);
                state.apply(Action::from_index(best, n_labels));
            } else {
                state.apply(Action::Shift);
            }
        }
        state
    }

    /// Parses words with vectors `x` (n × width) and undoes pseudo-projective lifts.
    pub(crate) fn parse(&self, x: &[f32], breaks: bool, scratch: &mut ParseScratch) -> Parse {
        let state = self.decode(x, breaks, scratch);
        let (heads, labels, sent_starts) = state.result();
        let mut heads = heads.to_vec();
        let labels: Vec<Option<u16>> = heads
            .iter()
            .enumerate()
            .map(|(i, &h)| (h as usize != i).then_some(labels[i]))
            .collect();
        let names: Vec<&str> = labels
            .iter()
            .map(|l| l.map_or(ROOT_LABEL, |l| self.labels[usize::from(l)].as_str()))
            .collect();
        deprojectivize(&mut heads, &names);
        Parse { heads, labels, sent_starts: sent_starts.to_vec() }
    }

    /// The undecorated label key of a parsed arc (`None`: a root).
    pub(crate) fn label_key(&self, label: Option<u16>) -> StringKey {
        label.map_or(StringKey::of(ROOT_LABEL), |l| self.plain[usize::from(l)])
    }
}

/// Buffers reused across the runs of words a parser call handles.
#[derive(Debug, Default)]
pub(crate) struct ParseScratch {
    precomputed: Vec<f32>,
    act: StateActivations,
}

/// The parser's analysis of a run of words (indices relative to the run).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Parse {
    /// Head of each word (its own index for a root).
    pub(crate) heads: Vec<u32>,
    /// Arc label index of each word (`None` for a root).
    pub(crate) labels: Vec<Option<u16>>,
    /// Whether each word starts a sentence.
    pub(crate) sent_starts: Vec<bool>,
}

/// The highest-scoring valid action's index.
pub(crate) fn best_valid(state: &State, scores: &[f32], n_labels: usize) -> usize {
    let valid = [Action::Shift, Action::Break, Action::Left(0), Action::Right(0)]
        .map(|a| state.is_valid(a));
    let mut best = (usize::MAX, f32::NEG_INFINITY);
    for (i, &score) in scores.iter().enumerate() {
        let kind = match i {
            0 | 1 => i,
            i if i < 2 + n_labels => 2,
            _ => 3,
        };
        if valid[kind] && (best.0 == usize::MAX || score > best.1) {
            best = (i, score);
        }
    }
    best.0
}

impl Component for Parser {
    fn name(&self) -> &'static str {
        "parser"
    }

    fn process(&self, doc: &mut Doc<'_>) -> Result<(), ComponentError> {
        let tensor = tensor_of(doc, self.name())?;
        let width = tensor.cols();
        let words: Vec<usize> =
            (0..doc.len()).filter(|&i| !doc.tokens()[i].lex().is(LexFlags::IS_SPACE)).collect();
        let gathered;
        let x = if words.len() == doc.len() {
            tensor.as_slice()
        } else {
            gathered =
                words.iter().flat_map(|&i| tensor.row(i).iter().copied()).collect::<Vec<_>>();
            &gathered[..]
        };
        debug_assert_eq!(x.len(), words.len() * width);
        let mut scratch = ParseScratch::default();
        // Sentence starts set before parsing (gold segmentation) split the words into runs
        // parsed separately; the parser decides boundaries only inside runs whose words do
        // not all have a preset `sent_start`.
        let mut runs = vec![0];
        runs.extend((1..words.len()).filter(|&w| doc.tokens()[words[w]].sent_start == Some(true)));
        runs.push(words.len());
        let mut parses = Vec::with_capacity(runs.len());
        for bounds in runs.windows(2) {
            let run = &words[bounds[0]..bounds[1]];
            let breaks = run.iter().any(|&i| doc.tokens()[i].sent_start.is_none());
            let x = &x[bounds[0] * width..bounds[1] * width];
            parses.push(self.parse(x, breaks, &mut scratch));
        }
        let space = StringKey::of(SPACE_LABEL);
        let tokens = doc.tokens_mut();
        for (bounds, parse) in runs.windows(2).zip(&parses) {
            for (w, &i) in words[bounds[0]..bounds[1]].iter().enumerate() {
                let token = &mut tokens[i];
                token.head = Some(words[bounds[0] + parse.heads[w] as usize]);
                token.dep = Some(self.label_key(parse.labels[w]));
                token.sent_start = Some(parse.sent_starts[w]);
            }
        }
        let mut previous = None;
        for (i, token) in tokens.iter_mut().enumerate() {
            if token.lex().is(LexFlags::IS_SPACE) {
                let head = previous.or_else(|| words.first().copied()).unwrap_or(i);
                token.head = Some(head);
                token.dep = Some(space);
                token.sent_start = Some(i == 0);
            } else {
                previous = Some(i);
            }
        }
        Ok(())
    }
}

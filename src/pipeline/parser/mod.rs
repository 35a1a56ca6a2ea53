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
//! An ensemble parser has several networks, one per member of the pipeline ensemble, each
//! reading its member's columns of the tensor; the decoder picks from the mean of their
//! action scores.
//!
//! Whitespace tokens are not parsed: each is attached to the nearest preceding word
//! (`dep`), as spaCy does. They still guide segmentation: a blank line (whitespace with two
//! or more line breaks) ends a paragraph, parsed as a run of its own, and a single line
//! break makes a sentence boundary likelier (`decoder`). The decoder also bounds sentence
//! length, and the network's precomputed rows are held for a sliding window of words
//! (`window`), so memory stays bounded however long a document is.

pub(crate) mod decoder;
pub(crate) mod model;
pub(crate) mod oracle;
pub(crate) mod projectivize;
pub(crate) mod state;
pub(crate) mod window;

use self::decoder::Decoder;
pub(crate) use self::decoder::best_valid;
use self::model::{ParserModel, StateActivations};
use self::projectivize::{deprojectivize, split_label};
use self::state::{Action, State};
use self::window::Window;
use super::nn::Params;
use super::{Component, ComponentError, ComponentKind, tensor_of};
use crate::doc::{Doc, TokenIdx};
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
    /// One network per ensemble member, in tensor column order.
    pub(crate) members: Vec<ParserModel>,
}

impl Parser {
    /// A parser over arc labels `labels` (possibly decorated by lifting).
    ///
    /// # Panics
    ///
    /// Panics if the model does not have `labels.len()` labels.
    pub(crate) fn new(labels: Vec<String>, model: ParserModel) -> Self {
        Self::ensemble(labels, vec![model]).expect("one model makes an ensemble")
    }

    /// A parser whose `members` each read their own columns of the tensor, in order;
    /// `None` if there are none.
    ///
    /// # Panics
    ///
    /// Panics if a member does not have `labels.len()` labels.
    pub(crate) fn ensemble(labels: Vec<String>, members: Vec<ParserModel>) -> Option<Self> {
        assert!(members.iter().all(|m| m.n_labels == labels.len()), "one label row per label");
        if members.is_empty() {
            return None;
        }
        let plain = labels.iter().map(|l| StringKey::of(split_label(l).0)).collect();
        Some(Self { labels, plain, members })
    }

    /// A zeroed copy of the networks (gradient accumulators).
    pub(crate) fn zeros_like(&self) -> Self {
        Self { members: self.members.iter().map(ParserModel::zeros_like).collect(), ..self.clone() }
    }

    /// The network of a parser with one member (as training builds them).
    ///
    /// # Panics
    ///
    /// Panics if the parser is an ensemble.
    pub(crate) fn single_mut(&mut self) -> &mut ParserModel {
        assert_eq!(self.members.len(), 1, "an ensemble parser is not trained");
        &mut self.members[0]
    }

    /// Width of the tensor rows the parser reads (its members' widths added up).
    pub(crate) fn width(&self) -> usize {
        self.members.iter().map(|m| m.lower.n_in).sum()
    }

    /// Greedily parses words with vectors `x` (n × width, each member's columns side by
    /// side) into their final state, finding sentence boundaries if `breaks`, helped by
    /// the words that start a line.
    fn decode(&self, x: &[f32], run: Run<'_>, scratch: &mut ParseScratch) -> State {
        let n = x.len() / self.width();
        scratch.prepare(self, x);
        let mut state = State::with_breaks(n, run.breaks);
        let mut decoder = Decoder::new(self.labels.len(), run.breaks, run.line_starts);
        while !state.is_final() {
            // With an empty stack, shifting is the only valid action: no need to score it.
            if state.stack_len() == 0 {
                state.apply(Action::Shift);
                continue;
            }
            // Features read the sentence in progress and the buffer's first three words.
            let need = (state.b(0).min(n as u32) as usize + 3).min(n);
            let scores = scratch.score(self, x, &state, decoder.first_read(), need);
            state.apply(decoder.next(&state, scores));
        }
        state
    }

    /// Parses words with vectors `x` (n × width) and undoes pseudo-projective lifts.
    pub(crate) fn parse(&self, x: &[f32], breaks: bool, scratch: &mut ParseScratch) -> Parse {
        self.parse_run(x, Run { breaks, line_starts: &[] }, scratch)
    }

    /// [`Parser::parse`] of a run whose words starting a line are known.
    fn parse_run(&self, x: &[f32], run: Run<'_>, scratch: &mut ParseScratch) -> Parse {
        let state = self.decode(x, run, scratch);
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

impl Params for Parser {
    fn params(&self) -> Vec<&[f32]> {
        self.members.iter().flat_map(Params::params).collect()
    }

    fn params_mut(&mut self) -> Vec<&mut [f32]> {
        self.members.iter_mut().flat_map(Params::params_mut).collect()
    }
}

/// Buffers reused across the runs of words a parser call handles.
#[derive(Debug, Default)]
pub(crate) struct ParseScratch {
    /// Per member: its precomputed rows, its activations and (in an ensemble) its columns
    /// of the run's word vectors.
    members: Vec<MemberScratch>,
    /// The mean of the members' scores (in an ensemble).
    scores: Vec<f32>,
}

/// One parser member's buffers.
#[derive(Debug, Default)]
struct MemberScratch {
    window: Window,
    act: StateActivations,
    x: Vec<f32>,
}

impl ParseScratch {
    /// Readies the buffers for parsing the run with word vectors `x`.
    fn prepare(&mut self, parser: &Parser, x: &[f32]) {
        self.members.resize_with(parser.members.len(), MemberScratch::default);
        let stride = parser.width();
        let mut column = 0;
        for (scratch, model) in self.members.iter_mut().zip(&parser.members) {
            scratch.window.clear();
            let width = model.lower.n_in;
            if parser.members.len() > 1 {
                scratch.x.clear();
                for row in x.chunks_exact(stride) {
                    scratch.x.extend_from_slice(&row[column..column + width]);
                }
            }
            column += width;
        }
    }

    /// The action scores of `state` (the mean of the members' scores), whose features read
    /// words `first..need` of the run with word vectors `x` (as given to [`Self::prepare`]).
    fn score(
        &mut self,
        parser: &Parser,
        x: &[f32],
        state: &State,
        first: usize,
        need: usize,
    ) -> &[f32] {
        let single = parser.members.len() == 1;
        for (scratch, model) in self.members.iter_mut().zip(&parser.members) {
            let x = if single { x } else { &scratch.x };
            scratch.window.cover(model, x, first, need);
            model.score_window(state, scratch.window.rows(), &mut scratch.act);
        }
        if single {
            return &self.members[0].act.scores;
        }
        self.scores.clear();
        self.scores.extend_from_slice(&self.members[0].act.scores);
        for member in &self.members[1..] {
            for (sum, s) in self.scores.iter_mut().zip(&member.act.scores) {
                *sum += s;
            }
        }
        let share = 1.0 / self.members.len() as f32;
        self.scores.iter_mut().for_each(|s| *s *= share);
        &self.scores
    }
}

/// What is known of a run of words before parsing it.
#[derive(Clone, Copy, Debug)]
struct Run<'a> {
    /// Whether the run may hold several sentences.
    breaks: bool,
    /// Whether each word starts a line (empty: none does).
    line_starts: &'a [bool],
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

impl Component for Parser {
    fn name(&self) -> &'static str {
        ComponentKind::Parser.name()
    }

    fn needs(&self) -> &'static [ComponentKind] {
        ComponentKind::Parser.needs()
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
        // Sentence starts set before parsing (gold segmentation) and blank lines split the
        // words into runs parsed separately; the parser decides boundaries only inside runs
        // whose words do not all have a preset `sent_start`.
        let newlines = newlines_before(doc, &words);
        let mut runs = vec![0];
        runs.extend((1..words.len()).filter(|&w| match doc.tokens()[words[w]].sent_start {
            Some(start) => start,
            None => newlines[w] >= 2,
        }));
        runs.push(words.len());
        let line_starts: Vec<bool> = newlines.iter().map(|&n| n > 0).collect();
        let mut parses = Vec::with_capacity(runs.len());
        for bounds in runs.windows(2) {
            let (first, end) = (bounds[0], bounds[1]);
            let breaks = words[first..end].iter().any(|&i| doc.tokens()[i].sent_start.is_none());
            let run = Run { breaks, line_starts: &line_starts[first..end] };
            let x = &x[first * width..end * width];
            parses.push(self.parse_run(x, run, &mut scratch));
        }
        let space = StringKey::of(SPACE_LABEL);
        let tokens = doc.tokens_mut();
        for (bounds, parse) in runs.windows(2).zip(&parses) {
            for (w, &i) in words[bounds[0]..bounds[1]].iter().enumerate() {
                let token = &mut tokens[i];
                token.head = Some(TokenIdx::new(words[bounds[0] + parse.heads[w] as usize]));
                token.dep = Some(self.label_key(parse.labels[w]));
                token.sent_start = Some(parse.sent_starts[w]);
            }
        }
        let mut previous = None;
        for (i, token) in tokens.iter_mut().enumerate() {
            if token.lex().is(LexFlags::IS_SPACE) {
                let head = previous.or_else(|| words.first().copied()).unwrap_or(i);
                token.head = Some(TokenIdx::new(head));
                token.dep = Some(space);
                token.sent_start = Some(i == 0);
            } else {
                previous = Some(i);
            }
        }
        Ok(())
    }
}

/// The number of line breaks in the whitespace tokens before each word (`words`: the
/// indices of a document's non-whitespace tokens).
fn newlines_before(doc: &Doc<'_>, words: &[usize]) -> Vec<u32> {
    let mut end = None;
    words
        .iter()
        .map(|&i| {
            let span = doc.tokens()[i].span();
            // Fused words may share bytes: no gap then.
            let gap = end.and_then(|end| doc.text().get(end..span.byte_start)).unwrap_or("");
            end = Some(span.byte_end);
            gap.matches('\n').count() as u32
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::decoder::MAX_SENTENCE_WORDS;
    use super::*;
    use crate::doc::Tensor;
    use crate::pipeline::nn::Rng;
    use crate::vocab::Vocab;

    const WIDTH: usize = 4;

    /// A token's text and whether a space follows it.
    type Word = (&'static str, bool);

    /// A parser over two labels whose action scores are the biases `[Shift, Break, Left,
    /// Right]` (per label) plus, if `noise`, random weights.
    fn parser_scoring(biases: [f32; 4], noise: bool) -> Parser {
        let mut rng = Rng::new(5);
        let mut model = ParserModel::new(WIDTH, 4, 2, 2, &mut rng);
        if !noise {
            model.upper.w.fill(0.0);
        }
        model.upper.b = vec![biases[0], biases[1], biases[2], biases[2], biases[3], biases[3]];
        Parser::new(vec!["nsubj".into(), "punct".into()], model)
    }

    #[test]
    fn blank_lines_split_runs_and_line_breaks_may_end_sentences() {
        let never_breaks = [1.0, -10.0, -5.0, 0.0];
        let breaks_near_lines = [1.0, 0.0, -5.0, 0.0];
        // (words with the space after each, scores, tokens starting a sentence)
        let cases: [(&[Word], [f32; 4], &[usize]); 6] = [
            (&[("a", true), ("b", false), ("\n\n", false), ("c", false)], never_breaks, &[0, 3]),
            (&[("a", true), ("b", false), (" \n \n", false), ("c", false)], never_breaks, &[0, 3]),
            (&[("a", true), ("b", false), ("\n", false), ("c", false)], never_breaks, &[0]),
            (&[("a", true), ("b", false), ("\n", false), ("c", false)], breaks_near_lines, &[0, 3]),
            (&[("a", true), ("b", true), ("c", false)], breaks_near_lines, &[0]),
            (
                &[("a", false), ("\n\n", false), ("b", false), ("\n\n\n", false), ("c", false)],
                never_breaks,
                &[0, 2, 4],
            ),
        ];
        let vocab = Vocab::new();
        let zone = vocab.zone();
        for (words, biases, starts) in cases {
            let (texts, spaces): (Vec<&str>, Vec<bool>) = words.iter().copied().unzip();
            let mut doc = Doc::from_words(&zone, &texts, &spaces);
            doc.set_tensor(Some(Tensor::zeros(doc.len(), WIDTH)));
            parser_scoring(biases, false).process(&mut doc).unwrap();
            let found: Vec<usize> =
                (0..doc.len()).filter(|&i| doc.tokens()[i].sent_start == Some(true)).collect();
            assert_eq!(found, starts, "{texts:?}");
            assert!(doc.tokens().iter().all(|t| t.head.is_some() && t.sent_start.is_some()));
        }
    }

    #[test]
    fn huge_runs_parse_into_bounded_sentences() {
        // Issue 3: a network that (almost) never breaks must not swallow 50,000 words.
        let n = 50_000;
        let mut rng = Rng::new(8);
        let x: Vec<f32> = (0..n * WIDTH).map(|_| rng.normal(1.0)).collect();
        let parser = parser_scoring([3.0, -10.0, 0.0, 0.0], true);
        let parse = parser.parse(&x, true, &mut ParseScratch::default());
        let mut starts: Vec<usize> = (0..n).filter(|&w| parse.sent_starts[w]).collect();
        assert!(starts.len() >= n / MAX_SENTENCE_WORDS, "{} sentences", starts.len());
        starts.push(n);
        assert!(starts.windows(2).all(|s| s[1] - s[0] <= MAX_SENTENCE_WORDS));
        assert!(parse.heads.iter().all(|&h| (h as usize) < n));
        let roots = (0..n).filter(|&w| parse.heads[w] as usize == w).count();
        assert_eq!(roots, starts.len() - 1, "one root per sentence");
    }
}

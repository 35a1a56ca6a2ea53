//! Training the parser: label sets, gold trees and one batch's gradient with the dynamic
//! oracle.
//!
//! # Overview
//!
//! [`labels`] projectivizes every training paragraph and collects the (possibly decorated)
//! arc labels. [`gold`] turns a paragraph into the oracle's [`Gold`]. [`ParserTrainer`]
//! runs the parser over each paragraph of a batch, scoring every state it reaches, and
//! backpropagates the loss `-log Σ p(zero-cost actions)` into the parser and the tensor.
//! After the first epoch it follows its own predictions (exploration) so it learns to
//! recover from its mistakes.

use std::collections::BTreeMap;

use super::corpus::Paragraph;
use super::teacher::TeacherParse;
use crate::pipeline::nn::{Rng, softmax};
use crate::pipeline::parser::model::{StateActivations, label_features, token_features};
use crate::pipeline::parser::oracle::{Gold, costs};
use crate::pipeline::parser::projectivize::projectivize;
use crate::pipeline::parser::state::{Action, State};
use crate::pipeline::parser::{Parser, ROOT_LABEL, best_valid};

/// The paragraph's gold heads (paragraph indices) and projectivized labels, or `None` if a
/// word lacks a head or label.
fn projective_tree(paragraph: &Paragraph) -> Option<(Vec<u32>, Vec<String>)> {
    let mut heads: Vec<u32> =
        paragraph.heads().into_iter().map(|h| h.map(|h| h as u32)).collect::<Option<_>>()?;
    let mut labels: Vec<String> =
        paragraph.words().map(|w| w.deprel.clone()).collect::<Option<_>>()?;
    projectivize(&mut heads, &mut labels);
    Some((heads, labels))
}

/// The arc labels of the training paragraphs after projectivization, seen at least
/// `min_count` times (sorted, without the root label).
pub(crate) fn labels<'a>(
    paragraphs: impl Iterator<Item = &'a Paragraph>,
    min_count: usize,
) -> Vec<String> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for (heads, labels) in paragraphs.filter_map(projective_tree) {
        for (i, label) in labels.into_iter().enumerate() {
            if heads[i] as usize != i {
                *counts.entry(label).or_default() += 1;
            }
        }
    }
    counts.into_iter().filter(|(l, n)| *n >= min_count && l != ROOT_LABEL).map(|(l, _)| l).collect()
}

/// The oracle's view of a paragraph, or `None` if it is not fully annotated.
pub(crate) fn gold(paragraph: &Paragraph, parser: &Parser) -> Option<Gold> {
    let (heads, labels) = projective_tree(paragraph)?;
    let index: BTreeMap<&str, u16> =
        parser.labels.iter().enumerate().map(|(i, l)| (l.as_str(), i as u16)).collect();
    let labels =
        labels.iter().map(|l| index.get(l.as_str()).copied().unwrap_or(u16::MAX)).collect();
    Some(Gold::new(heads, labels, paragraph.sent_starts()))
}

/// How [`ParserTrainer::paragraph`] learns from one paragraph.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ParserStep {
    /// The factor of the loss gradient (one over the batch's words).
    pub(crate) scale: f32,
    /// The probability per state of following the parser's own best action when it is
    /// wrong, rather than the best zero-cost one.
    pub(crate) explore: f32,
}

/// Parser training state: the exploration generator and scratch reused across paragraphs.
#[derive(Debug)]
pub(crate) struct ParserTrainer {
    rng: Rng,
    precomputed: Vec<f32>,
    d_precomputed: Vec<f32>,
    act: StateActivations,
    costs: Vec<u32>,
}

impl ParserTrainer {
    /// A trainer whose exploration draws from `seed`.
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            rng: Rng::new(seed),
            precomputed: Vec::new(),
            d_precomputed: Vec::new(),
            act: StateActivations::default(),
            costs: Vec::new(),
        }
    }

    /// Runs the parser over one paragraph with vectors `x`, adding `step.scale ×` the loss
    /// gradient into `grad` and `dx`. With probability `step.explore` per state it follows
    /// its own best action, else the best zero-cost one. With a `teacher` (started on the
    /// paragraph), each state's target mixes in the teacher's distribution. Returns the
    /// summed loss.
    pub(crate) fn paragraph(
        &mut self,
        parser: &Parser,
        grad: &mut Parser,
        gold: &Gold,
        (x, dx): (&[f32], &mut [f32]),
        step: ParserStep,
        mut teacher: Option<&mut TeacherParse<'_>>,
    ) -> f64 {
        let ParserStep { scale, explore } = step;
        let model = &parser.members[0];
        let n_labels = parser.labels.len();
        let n_actions = Action::count(n_labels);
        model.precompute(x, &mut self.precomputed);
        self.d_precomputed.clear();
        self.d_precomputed.resize(self.precomputed.len(), 0.0);
        self.costs.resize(n_actions, 0);
        let mut state = State::new(gold.heads.len());
        let mut loss = 0.0;
        let mut probs = vec![0.0; n_actions];
        while !state.is_final() {
            model.score(&state, &self.precomputed, &mut self.act);
            costs(&state, gold, n_labels, &mut self.costs);
            let min_cost = self.costs.iter().copied().min().expect("an action is valid");
            // Softmax over valid actions only.
            for ((p, &s), &c) in probs.iter_mut().zip(&self.act.scores).zip(&self.costs) {
                *p = if c == u32::MAX { f32::NEG_INFINITY } else { s };
            }
            softmax(&mut probs);
            let gold_mass: f32 = probs
                .iter()
                .zip(&self.costs)
                .filter(|&(_, &c)| c == min_cost)
                .map(|(p, _)| p)
                .sum();
            let gold_target =
                |p: f32, c: u32| if c == min_cost { p / gold_mass.max(1e-12) } else { 0.0 };
            let d: Vec<f32> = match teacher.as_deref_mut() {
                None => {
                    loss -= f64::from(gold_mass.max(1e-12).ln());
                    probs
                        .iter()
                        .zip(&self.costs)
                        .map(|(&p, &c)| scale * (p - gold_target(p, c)))
                        .collect()
                }
                Some(teacher) => {
                    let weight = teacher.weight;
                    let taught = teacher.probs(&state, &self.costs);
                    loss -= f64::from((1.0 - weight) * gold_mass.max(1e-12).ln());
                    probs
                        .iter()
                        .zip(&self.costs)
                        .zip(taught)
                        .map(|((&p, &c), &q)| {
                            loss -= f64::from(weight * q * p.max(1e-12).ln());
                            scale * (p - (1.0 - weight) * gold_target(p, c) - weight * q)
                        })
                        .collect()
                }
            };
            let features = (token_features(&state), label_features(&state, n_labels));
            model.backward_state(
                features,
                &self.act,
                &d,
                &mut self.d_precomputed,
                grad.single_mut(),
            );
            let predicted = best_valid(&state, &self.act.scores, n_labels);
            let next = if self.costs[predicted] == min_cost || self.rng.unit() < explore {
                predicted
            } else {
                // The best-scoring zero-cost action.
                (0..n_actions)
                    .filter(|&i| self.costs[i] == min_cost)
                    .max_by(|&a, &b| self.act.scores[a].total_cmp(&self.act.scores[b]))
                    .expect("a minimum exists")
            };
            state.apply(Action::from_index(next, n_labels));
        }
        model.lower.backward(x, &self.d_precomputed, Some(dx), &mut grad.single_mut().lower);
        loss
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::conllu::ConlluReader;
    use crate::pipeline::nn::{Adam, AdamConfig};
    use crate::pipeline::parser::ParseScratch;
    use crate::pipeline::parser::model::ParserModel;
    use crate::train::corpus::Corpus;

    const TEXT: &str = "\
# newpar
1\tDogs\tdog\tNOUN\tNNS\t_\t2\tnsubj\t_\t_
2\tbark\tbark\tVERB\tVBP\t_\t0\troot\t_\t_
3\t.\t.\tPUNCT\t.\t_\t2\tpunct\t_\t_

1\tCats\tcat\tNOUN\tNNS\t_\t2\tnsubj\t_\t_
2\tpurr\tpurr\tVERB\tVBP\t_\t0\troot\t_\t_
3\t.\t.\tPUNCT\t.\t_\t2\tpunct\t_\t_

";

    #[test]
    fn learns_to_parse_and_split_a_paragraph() {
        let corpus: Corpus = ConlluReader::new(TEXT.as_bytes()).map(Result::unwrap).collect();
        let paragraph = &corpus.paragraphs[0];
        let labels = labels(corpus.paragraphs.iter(), 1);
        assert_eq!(labels, ["nsubj", "punct"]);
        let mut rng = Rng::new(3);
        let parser = Parser::new(labels, ParserModel::new(4, 8, 2, 2, &mut rng));
        let gold = gold(paragraph, &parser).unwrap();
        // Distinct vectors per word: one-hot on word class (noun, verb, punct).
        let x: Vec<f32> = [0, 1, 2, 0, 1, 2]
            .iter()
            .flat_map(|&c| {
                (0..4).map(move |j| {
                    if j == c {
                        1.0
                    } else if j == 3 {
                        0.5
                    } else {
                        0.0
                    }
                })
            })
            .collect();
        let mut parser = parser;
        let mut grad = parser.zeros_like();
        let mut adam = Adam::new(AdamConfig { learn_rate: 0.01, ..AdamConfig::default() });
        let mut trainer = ParserTrainer::new(4);
        for _ in 0..200 {
            let mut dx = vec![0.0; x.len()];
            let step = ParserStep { scale: 1.0, explore: 0.0 };
            trainer.paragraph(&parser, &mut grad, &gold, (&x, &mut dx), step, None);
            adam.update(&mut parser, &mut grad, 1.0);
        }
        let parse = parser.parse(&x, true, &mut ParseScratch::default());
        assert_eq!(parse.heads, gold.heads);
        assert_eq!(parse.sent_starts, gold.sent_starts);
        assert_eq!((parse.labels[0], parse.labels[1], parse.labels[2]), (Some(0), None, Some(1)));
    }

    #[test]
    fn a_teachers_step_gives_the_slope_of_the_mixed_loss() {
        let corpus: Corpus = ConlluReader::new(TEXT.as_bytes()).map(Result::unwrap).collect();
        let labels = labels(corpus.paragraphs.iter(), 1);
        let mut rng = Rng::new(5);
        let student = Parser::new(labels.clone(), ParserModel::new(4, 8, 2, 2, &mut rng));
        // An ensemble of two as the teacher, as distillation uses it.
        let members = (0..2).map(|_| ParserModel::new(4, 8, 2, 2, &mut rng)).collect();
        let teacher = Parser::ensemble(labels, members).unwrap();
        let gold = gold(&corpus.paragraphs[0], &student).unwrap();
        let x: Vec<f32> = (0..24).map(|_| rng.normal(1.0)).collect();
        let taught: Vec<f32> = (0..48).map(|_| rng.normal(1.0)).collect();
        let step = ParserStep { scale: 1.0, explore: 0.0 };
        let loss = |x: &[f32], dx: &mut [f32]| {
            let mut teacher = TeacherParse::new(&teacher, 0.4);
            teacher.start(&taught);
            let mut grad = student.zeros_like();
            ParserTrainer::new(1).paragraph(
                &student,
                &mut grad,
                &gold,
                (x, dx),
                step,
                Some(&mut teacher),
            )
        };
        crate::pipeline::nn::check::assert_loss_slope(&x, 1e-3, 2e-2, loss);
    }
}

//! The parser's network: token vectors at a few stack and buffer positions, plus the labels
//! of their children, through a maxout hidden layer to one score per action.
//!
//! # Overview
//!
//! The hidden layer is linear in each feature, so its contribution from every token is
//! computed once per document by one matrix product ([`ParserModel::precompute`]: tokens ×
//! slots·hidden·pieces, spaCy's "precomputable affine"). Scoring a state then only sums
//! [`TOKEN_SLOTS`] precomputed rows, a padding row for empty slots and [`LABEL_SLOTS`]
//! label rows, takes the maxout, and applies the small output layer, so each transition
//! costs a few thousand multiply-adds.

use super::state::{NONE, State};
use crate::pipeline::nn::{Dense, Params, Rng, argmax, max_pieces, simd};

/// Token positions read per state: s0, s1, s2, b0, b1, b2, the two leftmost and two
/// rightmost children of s0, the leftmost and rightmost child of s1, and the two leftmost
/// children of b0.
pub(crate) const TOKEN_SLOTS: usize = 14;
/// Label positions read per state: the arc labels of s0's leftmost and rightmost
/// children, s1's rightmost child and b0's leftmost child.
pub(crate) const LABEL_SLOTS: usize = 4;

/// The feature tokens of `state` ([`NONE`] for empty slots).
pub(crate) fn token_features(state: &State) -> [u32; TOKEN_SLOTS] {
    let (s0, s1, b0) = (state.s(0), state.s(1), state.b(0));
    [
        s0,
        s1,
        state.s(2),
        b0,
        state.b(1),
        state.b(2),
        state.left(s0, 0),
        state.left(s0, 1),
        state.right(s0, 0),
        state.right(s0, 1),
        state.left(s1, 0),
        state.right(s1, 0),
        state.left(b0, 0),
        state.left(b0, 1),
    ]
}

/// The feature labels of `state`: label indices, or `n_labels` for an empty slot.
pub(crate) fn label_features(state: &State, n_labels: usize) -> [u32; LABEL_SLOTS] {
    let (s0, s1, b0) = (state.s(0), state.s(1), state.b(0));
    [state.left(s0, 0), state.right(s0, 0), state.right(s1, 0), state.left(b0, 0)]
        .map(|w| if w == NONE { n_labels as u32 } else { u32::from(state.label(w)) })
}

/// The parser's weights.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ParserModel {
    /// Token vector → every slot's hidden pre-activations.
    pub(crate) lower: Dense,
    /// Pre-activations of empty token slots (`TOKEN_SLOTS × hidden·pieces`).
    pub(crate) pad: Vec<f32>,
    /// Pre-activations of each label slot and label (`LABEL_SLOTS × (n_labels + 1) ×
    /// hidden·pieces`; the last label row is "no child").
    pub(crate) label_rows: Vec<f32>,
    /// Hidden units → action scores.
    pub(crate) upper: Dense,
    pub(crate) hidden: usize,
    pub(crate) pieces: usize,
    pub(crate) n_labels: usize,
}

/// Scratch for scoring one state.
#[derive(Clone, Debug, Default)]
pub(crate) struct StateActivations {
    pub(crate) pre: Vec<f32>,
    pub(crate) hidden: Vec<f32>,
    pub(crate) scores: Vec<f32>,
}

impl ParserModel {
    /// A freshly initialised model over token vectors of `width`.
    pub(crate) fn new(
        width: usize,
        hidden: usize,
        pieces: usize,
        n_labels: usize,
        rng: &mut Rng,
    ) -> Self {
        let hp = hidden * pieces;
        let mut upper = Dense::new(hidden, super::state::Action::count(n_labels), rng);
        upper.w.iter_mut().for_each(|w| *w *= 0.1);
        Self {
            lower: Dense::new(width, TOKEN_SLOTS * hp, rng),
            pad: (0..TOKEN_SLOTS * hp).map(|_| rng.normal(0.1)).collect(),
            label_rows: (0..LABEL_SLOTS * (n_labels + 1) * hp).map(|_| rng.normal(0.1)).collect(),
            upper,
            hidden,
            pieces,
            n_labels,
        }
    }

    /// A zeroed copy (a gradient accumulator).
    pub(crate) fn zeros_like(&self) -> Self {
        Self {
            lower: self.lower.zeros_like(),
            pad: vec![0.0; self.pad.len()],
            label_rows: vec![0.0; self.label_rows.len()],
            upper: self.upper.zeros_like(),
            ..*self
        }
    }

    /// Width of one slot's pre-activations.
    pub(crate) fn hp(&self) -> usize {
        self.hidden * self.pieces
    }

    /// Every token's contribution to every slot: `x` (n × width) → `out` (n × slots·hp).
    pub(crate) fn precompute(&self, x: &[f32], out: &mut Vec<f32>) {
        out.resize(x.len() / self.lower.n_in * self.lower.n_out, 0.0);
        self.lower.forward(x, out);
    }

    /// Scores every action in `state` into `act.scores`, given the document's precomputed
    /// rows.
    pub(crate) fn score(&self, state: &State, precomputed: &[f32], act: &mut StateActivations) {
        self.score_window(state, (precomputed, 0), act);
    }

    /// [`ParserModel::score`] given the precomputed rows of the words from `first` on
    /// (`rows`, `first`), which must hold every word the state's features read.
    pub(crate) fn score_window(
        &self,
        state: &State,
        (rows, first): (&[f32], usize),
        act: &mut StateActivations,
    ) {
        let hp = self.hp();
        let tokens = token_features(state);
        let labels = label_features(state, self.n_labels);
        let rows: [&[f32]; TOKEN_SLOTS + LABEL_SLOTS] =
            std::array::from_fn(|slot| match tokens.get(slot) {
                Some(&NONE) => &self.pad[slot * hp..(slot + 1) * hp],
                Some(&token) => &rows[((token as usize - first) * TOKEN_SLOTS + slot) * hp..][..hp],
                None => {
                    let slot = slot - TOKEN_SLOTS;
                    let label = labels[slot] as usize;
                    &self.label_rows[(slot * (self.n_labels + 1) + label) * hp..][..hp]
                }
            });
        score_rows(&rows, self.pieces, &self.upper, act);
    }

    /// Backpropagates the score gradient `d_scores` of a state scored into `act` (with
    /// features `tokens`/`labels`): the output layer's gradient goes to `grad`, and the
    /// pre-activation gradient to the precomputed rows' gradient `d_precomputed`, the
    /// padding rows or the label rows.
    pub(crate) fn backward_state(
        &self,
        (tokens, labels): ([u32; TOKEN_SLOTS], [u32; LABEL_SLOTS]),
        act: &StateActivations,
        d_scores: &[f32],
        d_precomputed: &mut [f32],
        grad: &mut ParserModel,
    ) {
        let hp = self.hp();
        let n_out = self.upper.n_out;
        let mut d_hidden = vec![0.0; self.hidden];
        for (gb, d) in grad.upper.b.iter_mut().zip(d_scores) {
            *gb += d;
        }
        let rows = self.upper.w.chunks_exact(n_out).zip(grad.upper.w.chunks_exact_mut(n_out));
        for ((row, grad_row), (h, dh)) in rows.zip(act.hidden.iter().zip(&mut d_hidden)) {
            let mut sum = 0.0;
            for ((w, g), d) in row.iter().zip(grad_row.iter_mut()).zip(d_scores) {
                *g += d * h;
                sum += d * w;
            }
            *dh = sum;
        }
        // The gradient goes to the winning piece of each unit, found again from the
        // pre-activations (inference has no use for it, so scoring does not record it).
        let mut d_pre = vec![0.0; hp];
        let groups = d_pre.chunks_exact_mut(self.pieces).zip(act.pre.chunks_exact(self.pieces));
        for ((d_group, group), dh) in groups.zip(&d_hidden) {
            d_group[argmax(group).0] = *dh;
        }
        for (slot, token) in tokens.into_iter().enumerate() {
            let row = if token == NONE {
                &mut grad.pad[slot * hp..(slot + 1) * hp]
            } else {
                let start = (token as usize * TOKEN_SLOTS + slot) * hp;
                &mut d_precomputed[start..start + hp]
            };
            add(row, &d_pre);
        }
        for (slot, label) in labels.into_iter().enumerate() {
            let start = (slot * (self.n_labels + 1) + label as usize) * hp;
            add(&mut grad.label_rows[start..start + hp], &d_pre);
        }
    }
}

simd! {
    /// The scores of one state: the sum of its feature `rows` (its pre-activations), their
    /// maxout over `pieces`, and the output layer `upper`.
    fn score_rows(
        rows: &[&[f32]; TOKEN_SLOTS + LABEL_SLOTS],
        pieces: usize,
        upper: &Dense,
        act: &mut StateActivations,
    ) {
        let [first, rest @ ..] = rows;
        act.pre.clear();
        act.pre.extend_from_slice(first);
        for row in rest {
            add(&mut act.pre, row);
        }
        act.hidden.resize(act.pre.len() / pieces, 0.0);
        max_pieces(&act.pre, pieces, &mut act.hidden, None);
        act.scores.resize(upper.n_out, 0.0);
        upper.forward(&act.hidden, &mut act.scores);
    }
}

#[inline(always)]
fn add(dst: &mut [f32], src: &[f32]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d += s;
    }
}

impl Params for ParserModel {
    fn params(&self) -> Vec<&[f32]> {
        let mut p = self.lower.params();
        p.extend([&self.pad[..], &self.label_rows[..]]);
        p.extend(self.upper.params());
        p
    }

    fn params_mut(&mut self) -> Vec<&mut [f32]> {
        let mut p = self.lower.params_mut();
        p.extend([&mut self.pad[..], &mut self.label_rows[..]]);
        p.extend(self.upper.params_mut());
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::nn::check::{Probe, assert_gradients};
    use crate::pipeline::parser::state::Action;

    /// States reached on a 4-word input, with their features.
    fn states() -> Vec<State> {
        let mut state = State::new(4);
        let mut seen = vec![state.clone()];
        for action in
            [Action::Shift, Action::Shift, Action::Left(1), Action::Shift, Action::Right(0)]
        {
            state.apply(action);
            seen.push(state.clone());
        }
        seen
    }

    #[test]
    fn state_gradients_match_finite_differences() {
        let mut rng = Rng::new(12);
        let model = ParserModel::new(3, 2, 2, 2, &mut rng);
        let x: Vec<f32> = (0..12).map(|_| rng.normal(1.0)).collect();
        let states = states();
        let forward = |m: &ParserModel, x: &[f32]| {
            let (mut pre, mut act) = (Vec::new(), StateActivations::default());
            m.precompute(x, &mut pre);
            let mut out = Vec::new();
            for s in &states {
                m.score(s, &pre, &mut act);
                out.extend_from_slice(&act.scores);
            }
            out
        };
        assert_gradients(Probe {
            layer: model,
            input: x,
            forward,
            backward: |m: &ParserModel, x: &[f32], dy: &[f32], g: &mut ParserModel| {
                let (mut pre, mut act) = (Vec::new(), StateActivations::default());
                m.precompute(x, &mut pre);
                let mut d_pre = vec![0.0; pre.len()];
                let n_actions = m.upper.n_out;
                for (s, d) in states.iter().zip(dy.chunks_exact(n_actions)) {
                    m.score(s, &pre, &mut act);
                    let feats = (token_features(s), label_features(s, m.n_labels));
                    m.backward_state(feats, &act, d, &mut d_pre, g);
                }
                let mut dx = vec![0.0; x.len()];
                m.lower.backward(x, &d_pre, Some(&mut dx), &mut g.lower);
                dx
            },
            zeros: ParserModel::zeros_like,
        });
    }
}

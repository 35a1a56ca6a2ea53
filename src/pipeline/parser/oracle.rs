//! The dynamic oracle: how many gold arcs (and sentence boundaries) each action loses.
//!
//! # Overview
//!
//! Arc-hybrid is arc-decomposable (Goldberg & Nivre, 2013): the cost of an action is the
//! number of gold arcs that become unreachable, which depends only on the stack, the
//! buffer front and the gold tree. [`costs`] extends those counts with one point per gold
//! sentence boundary that `Shift` or `Break` misses. Training follows the model's own
//! (possibly wrong) predictions and learns, in every state it reaches, to prefer the
//! zero-cost actions — the parser learns to recover from its own mistakes.

use super::state::{Action, NONE, State};

/// The gold analysis of a paragraph, as the oracle needs it.
#[derive(Clone, Debug)]
pub(crate) struct Gold {
    /// Head of each word (its own index for a root).
    pub(crate) heads: Vec<u32>,
    /// Label index of each word's arc (`u16::MAX` for a root or an unknown label).
    pub(crate) labels: Vec<u16>,
    /// Whether each word starts a sentence.
    pub(crate) sent_starts: Vec<bool>,
    /// Gold children of each word.
    children: Vec<Vec<u32>>,
}

impl Gold {
    /// Gold data from heads, labels and sentence starts.
    ///
    /// # Panics
    ///
    /// Panics if the slices differ in length or a head is out of range.
    pub(crate) fn new(heads: Vec<u32>, labels: Vec<u16>, sent_starts: Vec<bool>) -> Self {
        assert!(
            heads.len() == labels.len() && heads.len() == sent_starts.len(),
            "one entry per word"
        );
        let mut children = vec![Vec::new(); heads.len()];
        for (dep, &head) in heads.iter().enumerate() {
            if head as usize != dep {
                children[head as usize].push(dep as u32);
            }
        }
        Self { heads, labels, sent_starts, children }
    }

    fn is_root(&self, word: u32) -> bool {
        self.heads[word as usize] == word
    }

    /// Gold children of `word` still in the buffer (at or after `b`).
    fn children_in_buffer(&self, word: u32, b: u32) -> usize {
        self.children[word as usize].iter().filter(|&&d| d >= b).count()
    }
}

/// Writes the cost of every action into `out` (`u32::MAX` for invalid actions).
pub(crate) fn costs(state: &State, gold: &Gold, n_labels: usize, out: &mut [u32]) {
    let (s0, s1, b) = (state.s(0), state.s(1), state.b(0));
    let label_cost = |word: u32, label: u16| u32::from(gold.labels[word as usize] != label);
    // Loss of s0's own arc and its children when it is attached (to `head`) now.
    let reduce = |head: u32| -> (u32, bool) {
        let g = gold.heads[s0 as usize];
        let b_front = if b == NONE { u32::MAX } else { b };
        let children = gold.children_in_buffer(s0, b_front) as u32;
        let arc_found = g == head;
        let head_reachable = gold.is_root(s0) || g == s1 || (b != NONE && g >= b);
        (children + u32::from(!arc_found && head_reachable), arc_found)
    };
    for (i, slot) in out.iter_mut().enumerate().take(Action::count(n_labels)) {
        let action = Action::from_index(i, n_labels);
        *slot = if !state.is_valid(action) {
            u32::MAX
        } else {
            match action {
                Action::Shift => {
                    let lost_children =
                        gold.children[b as usize].iter().filter(|&&d| state.in_stack(d)).count()
                            as u32;
                    let g = gold.heads[b as usize];
                    let lost_head = u32::from(g != b && g != s0 && state.in_stack(g));
                    let boundary = u32::from(gold.sent_starts[b as usize] && state.stack_len() > 0);
                    lost_children + lost_head + boundary
                }
                Action::Break => {
                    let g = gold.heads[s0 as usize];
                    let lost_head = u32::from(!gold.is_root(s0) && g >= b);
                    let children = gold.children_in_buffer(s0, b) as u32;
                    lost_head + children + u32::from(!gold.sent_starts[b as usize])
                }
                Action::Left(label) => {
                    let (cost, found) = reduce(b);
                    cost + if found { label_cost(s0, label) } else { 0 }
                }
                Action::Right(label) => {
                    let (cost, found) = reduce(s1);
                    cost + if found { label_cost(s0, label) } else { 0 }
                }
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// "Dogs bark . Cats purr ." (labels 0 = nsubj, 1 = punct).
    fn gold() -> Gold {
        Gold::new(
            vec![1, 1, 1, 4, 4, 4],
            vec![0, u16::MAX, 1, 0, u16::MAX, 1],
            vec![true, false, false, true, false, false],
        )
    }

    fn zero_cost(state: &State, gold: &Gold) -> Vec<Action> {
        let mut out = vec![0; Action::count(2)];
        costs(state, gold, 2, &mut out);
        (0..out.len()).filter(|&i| out[i] == 0).map(|i| Action::from_index(i, 2)).collect()
    }

    #[test]
    fn following_zero_cost_actions_rebuilds_the_gold_trees() {
        let gold = gold();
        let mut state = State::new(6);
        while !state.is_final() {
            let options = zero_cost(&state, &gold);
            assert!(!options.is_empty(), "no zero-cost action");
            state.apply(options[0]);
        }
        let (heads, labels, starts) = state.result();
        assert_eq!(heads, gold.heads);
        assert_eq!(starts, gold.sent_starts);
        assert_eq!((labels[0], labels[2], labels[3], labels[5]), (0, 1, 0, 1));
    }

    #[test]
    fn costs_count_lost_arcs_boundaries_and_labels() {
        let gold = gold();
        let mut state = State::new(6);
        state.apply(Action::Shift); // stack [Dogs], b = bark
        let mut out = vec![0; Action::count(2)];
        costs(&state, &gold, 2, &mut out);
        let cost = |a: Action| out[a.index(2)];
        assert_eq!(cost(Action::Left(0)), 0);
        assert_eq!(cost(Action::Left(1)), 1, "wrong label");
        assert_eq!(cost(Action::Shift), 1, "Dogs could no longer attach to bark");
        assert_eq!(cost(Action::Break), 2, "loses Dogs→bark and the boundary");
        assert_eq!(cost(Action::Right(0)), u32::MAX, "invalid");
        for a in [Action::Left(0), Action::Shift, Action::Shift, Action::Right(1)] {
            state.apply(a);
        }
        // stack [bark], b = Cats (a gold sentence start).
        costs(&state, &gold, 2, &mut out);
        assert_eq!(out[Action::Break.index(2)], 0);
        assert_eq!(out[Action::Shift.index(2)], 1, "misses the boundary");
        assert_eq!(out[Action::Left(0).index(2)], 1, "bark is a root");
    }
}

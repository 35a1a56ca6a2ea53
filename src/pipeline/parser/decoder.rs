//! Greedy decoding with bounded sentences: the parser's action choice at inference.
//!
//! # Overview
//!
//! [`Decoder`] picks the best-scoring valid action in each state, as the parser was trained
//! to, with one addition. `Break` is only valid when the stack holds a single item, so
//! after a greedy mistake that leaves words on the stack (e.g. a `Shift` where a sentence
//! ended) the parser may not break again for a long time and swallow much of a long
//! document into one "sentence" (issue 3). The decoder therefore *closes* the current
//! sentence, reducing the stack with the best-scoring `Right` arcs until `Break` is valid
//! and then breaking, when
//!
//! - the sentence has [`WANTED_BREAK_WORDS`] words or more and `Break` is the best-scoring
//!   action of all, valid or not: the network asks for a boundary the stack forbids (not
//!   sooner, where the parser's own choice scores better on EWT);
//! - the next word starts a line and `Break` scores within [`LINE_BREAK_MARGIN`] of
//!   `Shift`: a line break makes a boundary likelier than the network, which never saw one,
//!   can tell; or
//! - the sentence has reached one word short of [`MAX_SENTENCE_WORDS`]: the next word may
//!   already head some of its words (a `Left` arc empties the stack) and must then join
//!   it, so no sentence is longer than the bound.
//!
//! Runs known to be one sentence (`breaks` false) are decoded plainly.

use super::state::{Action, NONE, State};

/// Words a parsed sentence never exceeds (the longest sentence in EWT train has 159).
pub(crate) const MAX_SENTENCE_WORDS: usize = 256;
/// Words a sentence needs before a `Break` the stack forbids closes it.
pub(crate) const WANTED_BREAK_WORDS: u32 = 60;
/// How far `Break` may score below `Shift` before a line start and still close the sentence.
pub(crate) const LINE_BREAK_MARGIN: f32 = 2.0;

/// The action chooser of one parse. See the [module docs](self).
#[derive(Debug)]
pub(crate) struct Decoder<'a> {
    n_labels: usize,
    /// Whether sentences are bounded (the run may hold several sentences).
    breaks: bool,
    /// Whether each word starts a line (empty: none does).
    line_starts: &'a [bool],
    /// The first word of the current sentence.
    start: u32,
    /// The first word later states may read: `start`, or the leftmost child it took from
    /// the sentence before (`Left` may attach words to the buffer front before a `Break`).
    first_read: u32,
    /// Whether the current sentence is being closed.
    closing: bool,
}

impl<'a> Decoder<'a> {
    /// A decoder for actions over `n_labels` arc labels, finding sentence boundaries if
    /// `breaks`, helped by the words that start a line (`line_starts`, possibly empty).
    pub(crate) fn new(n_labels: usize, breaks: bool, line_starts: &'a [bool]) -> Self {
        Self { n_labels, breaks, line_starts, start: 0, first_read: 0, closing: false }
    }

    /// The first word that this or a later state may read.
    pub(crate) fn first_read(&self) -> usize {
        self.first_read as usize
    }

    /// The action to apply in `state`, whose actions scored `scores`.
    pub(crate) fn next(&mut self, state: &State, scores: &[f32]) -> Action {
        let best = Action::from_index(best_valid(state, scores, self.n_labels), self.n_labels);
        let b0 = state.b(0);
        if !self.breaks || b0 == NONE || state.stack_len() == 0 {
            return best;
        }
        if !self.closing {
            let len = b0 - self.start;
            let (shift, brk) = (scores[0], scores[1]);
            let wanted = len >= WANTED_BREAK_WORDS && scores.iter().all(|&s| s <= brk);
            let line = self.line_starts.get(b0 as usize).copied().unwrap_or(false)
                && brk + LINE_BREAK_MARGIN > shift;
            let full = len as usize + 1 >= MAX_SENTENCE_WORDS;
            self.closing = wanted || line || full;
        }
        let action = if !self.closing {
            best
        } else if state.stack_len() == 1 {
            Action::Break
        } else {
            Action::Right(best_label(&scores[2 + self.n_labels..]))
        };
        if action == Action::Break {
            self.closing = false;
            self.start = b0;
            self.first_read = b0.min(state.left(b0, 0));
        }
        action
    }
}

/// The index of the highest score (the first on ties).
fn best_label(scores: &[f32]) -> u16 {
    let best = (0..scores.len()).fold(0, |best, i| if scores[i] > scores[best] { i } else { best });
    best as u16
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Scores over two labels: `[Shift, Break, Left(0), Left(1), Right(0), Right(1)]`.
    type Scores = [f32; 6];
    const WANTS_BREAK: Scores = [1.0, 5.0, 0.0, 0.0, 0.0, 0.5];
    const WANTS_SHIFT: Scores = [5.0, 0.0, 0.0, 0.0, 1.0, 0.0];

    /// A state that has shifted its first `words` words.
    fn shifted(n: usize, words: usize, breaks: bool) -> State {
        let mut state = State::with_breaks(n, breaks);
        (0..words).for_each(|_| state.apply(Action::Shift));
        state
    }

    #[test]
    fn decoder_closes_sentences_only_when_asked_by_length_break_or_line() {
        let n = 400;
        let mut lines = vec![false; n];
        lines[3] = true;
        let near_line: Scores = [1.0, -0.5, 0.0, 0.0, 0.0, 0.0];
        let far_line: Scores = [1.0, -1.5, 0.0, 0.0, 0.0, 0.0];
        // (words shifted, run may break, line starts, scores, expected action)
        let cases: [(usize, bool, &[bool], Scores, Action); 11] = [
            (1, true, &[], WANTS_BREAK, Action::Break),
            (30, true, &[], WANTS_BREAK, Action::Shift),
            (70, true, &[], WANTS_BREAK, Action::Right(1)),
            (70, false, &[], WANTS_BREAK, Action::Shift),
            (254, true, &[], WANTS_SHIFT, Action::Shift),
            (255, true, &[], WANTS_SHIFT, Action::Right(0)),
            (255, false, &[], WANTS_SHIFT, Action::Shift),
            (3, true, &lines, near_line, Action::Right(0)),
            (3, true, &lines, far_line, Action::Shift),
            (3, true, &[], near_line, Action::Shift),
            (2, true, &lines, near_line, Action::Shift),
        ];
        for (words, breaks, lines, scores, expected) in cases {
            let state = shifted(n, words, breaks);
            let mut decoder = Decoder::new(2, breaks, lines);
            assert_eq!(decoder.next(&state, &scores), expected, "{words} words, {scores:?}");
        }
    }

    #[test]
    fn closing_reduces_the_whole_stack_then_breaks() {
        let mut state = shifted(100, 70, true);
        let mut decoder = Decoder::new(2, true, &[]);
        let mut actions = vec![decoder.next(&state, &WANTS_BREAK)];
        state.apply(actions[0]);
        while actions.last() != Some(&Action::Break) {
            // The network no longer asks for a break, but the sentence is being closed.
            actions.push(decoder.next(&state, &WANTS_SHIFT));
            state.apply(*actions.last().unwrap());
        }
        assert_eq!(actions.len(), 70);
        assert!(actions[..69].iter().all(|a| matches!(a, Action::Right(_))));
        assert_eq!((decoder.start, decoder.first_read()), (70, 70));
        assert_eq!(decoder.next(&state, &WANTS_SHIFT), Action::Shift);
        assert!(state.result().2[70], "the next word starts a sentence");
    }

    #[test]
    fn sentences_never_exceed_the_bound_when_the_network_never_breaks() {
        for (n, expected) in [(600, vec![255, 255, 90]), (256, vec![255, 1]), (5, vec![5])] {
            let mut state = State::new(n);
            let mut decoder = Decoder::new(2, true, &[]);
            while !state.is_final() {
                state.apply(decoder.next(&state, &WANTS_SHIFT));
            }
            let starts: Vec<usize> = (0..n).filter(|&w| state.result().2[w]).collect();
            let lengths: Vec<usize> =
                starts.iter().zip(starts.iter().skip(1).chain([&n])).map(|(a, b)| b - a).collect();
            assert_eq!(lengths, expected, "{n} words");
        }
    }

    #[test]
    fn best_label_takes_the_first_of_equal_scores() {
        for (scores, best) in [(&[0.0, 2.0, 2.0][..], 1), (&[3.0][..], 0), (&[-1.0, -2.0][..], 0)] {
            assert_eq!(best_label(scores), best, "{scores:?}");
        }
    }
}

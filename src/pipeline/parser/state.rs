//! The arc-hybrid transition system, extended with a `Break` transition that ends a
//! sentence, so one left-to-right pass over a paragraph finds its sentences and their trees.
//!
//! # Overview
//!
//! A [`State`] holds a stack, the front of the buffer (`b`) and the arcs built so far.
//! The transitions ([`Action`]) are:
//!
//! - `Shift`: push `b` onto the stack;
//! - `Left(l)`: attach the stack top `s0` to `b` with label `l` and pop it;
//! - `Right(l)`: attach `s0` to the item below it, `s1`, with label `l` and pop it;
//! - `Break`: when `s0` is the only item left, make it the root of its sentence, pop it
//!   and mark `b` as the first word of a new sentence.
//!
//! When the buffer is empty, `Right` reduces the stack to one item, which becomes the last
//! sentence's root. Every sequence of valid actions therefore ends in a well-formed forest
//! of projective trees, one per sentence.

/// "No token": an empty feature slot or a missing head.
pub(crate) const NONE: u32 = u32::MAX;

/// One transition. Labels index the parser's arc labels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Action {
    Shift,
    Break,
    Left(u16),
    Right(u16),
}

impl Action {
    /// Number of actions with `n_labels` arc labels.
    pub(crate) fn count(n_labels: usize) -> usize {
        2 + 2 * n_labels
    }

    /// The action's index among [`Action::count`] outputs.
    #[cfg(test)]
    pub(crate) fn index(self, n_labels: usize) -> usize {
        match self {
            Action::Shift => 0,
            Action::Break => 1,
            Action::Left(l) => 2 + usize::from(l),
            Action::Right(l) => 2 + n_labels + usize::from(l),
        }
    }

    /// The action with index `i`.
    pub(crate) fn from_index(i: usize, n_labels: usize) -> Action {
        match i {
            0 => Action::Shift,
            1 => Action::Break,
            i if i < 2 + n_labels => Action::Left((i - 2) as u16),
            i => Action::Right((i - 2 - n_labels) as u16),
        }
    }
}

/// A parse in progress over `n` words.
#[derive(Clone, Debug)]
pub(crate) struct State {
    stack: Vec<u32>,
    in_stack: Vec<bool>,
    b: u32,
    heads: Vec<u32>,
    labels: Vec<u16>,
    /// The two leftmost and two rightmost children of each word.
    lefts: Vec<[u32; 2]>,
    rights: Vec<[u32; 2]>,
    sent_starts: Vec<bool>,
    /// Whether `Break` is allowed (false when the words are known to form one sentence).
    breaks: bool,
}

impl State {
    /// The initial state over `n` words that form one sentence or (`breaks`) several.
    pub(crate) fn with_breaks(n: usize, breaks: bool) -> Self {
        Self { breaks, ..Self::new(n) }
    }

    /// The initial state over `n` words, which may form several sentences.
    pub(crate) fn new(n: usize) -> Self {
        let mut sent_starts = vec![false; n];
        if let Some(first) = sent_starts.first_mut() {
            *first = true;
        }
        Self {
            stack: Vec::with_capacity(16),
            in_stack: vec![false; n],
            b: 0,
            heads: vec![NONE; n],
            labels: vec![0; n],
            lefts: vec![[NONE; 2]; n],
            rights: vec![[NONE; 2]; n],
            sent_starts,
            breaks: true,
        }
    }

    fn n(&self) -> u32 {
        self.heads.len() as u32
    }

    /// Stack item `i` from the top (0 = top), or [`NONE`].
    pub(crate) fn s(&self, i: usize) -> u32 {
        self.stack.len().checked_sub(i + 1).map_or(NONE, |at| self.stack[at])
    }

    /// Buffer item `i` from the front, or [`NONE`].
    pub(crate) fn b(&self, i: usize) -> u32 {
        let at = self.b + i as u32;
        if at < self.n() { at } else { NONE }
    }

    /// The stack size.
    pub(crate) fn stack_len(&self) -> usize {
        self.stack.len()
    }

    /// Whether `word` is on the stack.
    pub(crate) fn in_stack(&self, word: u32) -> bool {
        self.in_stack[word as usize]
    }

    /// The `k`-th leftmost (`k` = 0 or 1) child of `word`, or [`NONE`].
    pub(crate) fn left(&self, word: u32, k: usize) -> u32 {
        if word == NONE { NONE } else { self.lefts[word as usize][k] }
    }

    /// The `k`-th rightmost (`k` = 0 or 1) child of `word`, or [`NONE`].
    pub(crate) fn right(&self, word: u32, k: usize) -> u32 {
        if word == NONE { NONE } else { self.rights[word as usize][k] }
    }

    /// The label index of the arc into `word` (meaningful once it has a head).
    pub(crate) fn label(&self, word: u32) -> u16 {
        self.labels[word as usize]
    }

    /// Whether no action is left.
    pub(crate) fn is_final(&self) -> bool {
        self.b >= self.n() && self.stack.len() <= 1
    }

    /// Whether `action` may be applied.
    pub(crate) fn is_valid(&self, action: Action) -> bool {
        let buffer = self.b < self.n();
        match action {
            Action::Shift => buffer,
            Action::Break => self.breaks && buffer && self.stack.len() == 1,
            Action::Left(_) => buffer && !self.stack.is_empty(),
            Action::Right(_) => self.stack.len() >= 2,
        }
    }

    /// Applies a valid action.
    ///
    /// # Panics
    ///
    /// Panics (in debug builds) if the action is not valid.
    pub(crate) fn apply(&mut self, action: Action) {
        debug_assert!(self.is_valid(action), "invalid action {action:?}");
        match action {
            Action::Shift => {
                self.in_stack[self.b as usize] = true;
                self.stack.push(self.b);
                self.b += 1;
            }
            Action::Break => {
                let root = self.pop();
                self.heads[root as usize] = root;
                self.sent_starts[self.b as usize] = true;
            }
            Action::Left(label) => {
                let dep = self.pop();
                self.attach(self.b, dep, label);
            }
            Action::Right(label) => {
                let dep = self.pop();
                let head = *self.stack.last().expect("Right needs two stack items");
                self.attach(head, dep, label);
            }
        }
        if self.is_final()
            && let Some(root) = self.stack.pop()
        {
            self.in_stack[root as usize] = false;
            self.heads[root as usize] = root;
        }
    }

    fn pop(&mut self) -> u32 {
        let top = self.stack.pop().expect("the action needs a stack item");
        self.in_stack[top as usize] = false;
        top
    }

    fn attach(&mut self, head: u32, dep: u32, label: u16) {
        self.heads[dep as usize] = head;
        self.labels[dep as usize] = label;
        let left = dep < head;
        let list =
            if left { &mut self.lefts[head as usize] } else { &mut self.rights[head as usize] };
        let closer = |a: u32, b: u32| if left { a < b } else { a > b };
        if list[0] == NONE || closer(dep, list[0]) {
            list[1] = list[0];
            list[0] = dep;
        } else if list[1] == NONE || closer(dep, list[1]) {
            list[1] = dep;
        }
    }

    /// The head of each word (its own index for a root) and the label index of each
    /// non-root arc, and whether each word starts a sentence. Only meaningful once final.
    pub(crate) fn result(&self) -> (&[u32], &[u16], &[bool]) {
        (&self.heads, &self.labels, &self.sent_starts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_indices_round_trip() {
        for action in [
            Action::Shift,
            Action::Break,
            Action::Left(0),
            Action::Left(4),
            Action::Right(0),
            Action::Right(4),
        ] {
            assert_eq!(Action::from_index(action.index(5), 5), action);
        }
        assert_eq!(Action::count(5), 12);
    }

    #[test]
    fn two_sentences_parse_into_two_trees() {
        // "Dogs bark . Cats purr ." with labels 0 = nsubj, 1 = punct.
        use Action::*;
        let mut state = State::new(6);
        for action in
            [Shift, Left(0), Shift, Shift, Right(1), Break, Shift, Left(0), Shift, Shift, Right(1)]
        {
            assert!(state.is_valid(action), "{action:?}");
            state.apply(action);
        }
        assert!(state.is_final());
        let (heads, labels, starts) = state.result();
        assert_eq!(heads, [1, 1, 1, 4, 4, 4]);
        assert_eq!(&labels[..3], [0, 0, 1]);
        assert_eq!(starts, [true, false, false, true, false, false]);
        assert_eq!(state.left(1, 0), 0);
        assert_eq!(state.right(1, 0), 2);
    }

    #[test]
    fn validity_follows_stack_and_buffer() {
        let mut state = State::new(2);
        let cases = [
            (Action::Shift, true),
            (Action::Break, false),
            (Action::Left(0), false),
            (Action::Right(0), false),
        ];
        for (action, valid) in cases {
            assert_eq!(state.is_valid(action), valid, "{action:?}");
        }
        state.apply(Action::Shift);
        assert!(state.is_valid(Action::Break) && state.is_valid(Action::Left(0)));
        assert!(!state.is_valid(Action::Right(0)));
        state.apply(Action::Shift);
        assert!(state.is_valid(Action::Right(0)) && !state.is_valid(Action::Shift));
        state.apply(Action::Right(0));
        assert!(state.is_final());
        assert_eq!(state.result().0, [0, 0]);
        let mut one_sentence = State::with_breaks(2, false);
        one_sentence.apply(Action::Shift);
        assert!(!one_sentence.is_valid(Action::Break));
    }

    #[test]
    fn children_keep_the_two_outermost_on_each_side() {
        let mut state = State::new(5);
        // Words 0, 1, 2 become left children of 3 (attached right to left), 4 a right child.
        for action in [
            Action::Shift,
            Action::Shift,
            Action::Shift,
            Action::Left(0),
            Action::Left(0),
            Action::Left(0),
        ] {
            state.apply(action);
        }
        assert_eq!((state.left(3, 0), state.left(3, 1)), (0, 1));
        for action in [Action::Shift, Action::Shift, Action::Right(1)] {
            state.apply(action);
        }
        assert_eq!((state.right(3, 0), state.right(3, 1)), (4, NONE));
        assert_eq!(state.s(0), NONE);
        assert_eq!(state.result().0, [3, 3, 3, 3, 3]);
    }
}

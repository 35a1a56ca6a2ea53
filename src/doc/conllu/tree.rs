//! The dependency-tree check of a sentence's HEAD column, as the CoNLL 2018 evaluator
//! makes it.

use std::fmt;

use super::ConlluSentence;

/// A way the HEADs of a sentence fail to form one dependency tree. Words are 0-based
/// indices into [`ConlluSentence::words`]; the messages give their 1-based CoNLL-U IDs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TreeDefect {
    /// A HEAD names a word past the end of the sentence.
    HeadOutOfRange {
        /// The word whose HEAD it is.
        word: usize,
        /// The HEAD.
        head: usize,
        /// The number of words in the sentence.
        len: usize,
    },
    /// A word is its own head.
    SelfLoop {
        /// The word.
        word: usize,
    },
    /// Two words hang from the root (HEAD 0).
    MultipleRoots {
        /// The first root.
        first: usize,
        /// The second root.
        second: usize,
    },
    /// No word hangs from the root although every word has a HEAD.
    NoRoot,
    /// Following the HEADs from a word leads back to it.
    Cycle {
        /// The words of the cycle in HEAD order, from the one that comes first in the
        /// sentence (each word's head is the next, the last's is the first).
        words: Vec<usize>,
    },
}

impl TreeDefect {
    /// The word the defect is reported at: the word with the bad HEAD, the second root, the
    /// first word of a cycle, or the sentence's first word when it has no root.
    pub fn word(&self) -> usize {
        match self {
            Self::HeadOutOfRange { word, .. } | Self::SelfLoop { word } => *word,
            Self::MultipleRoots { second, .. } => *second,
            Self::NoRoot => 0,
            Self::Cycle { words } => words.first().copied().unwrap_or(0),
        }
    }
}

impl fmt::Display for TreeDefect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid tree: ")?;
        match self {
            Self::HeadOutOfRange { word, head, len } => {
                write!(f, "word {} has HEAD {head}, past the last word ({len})", word + 1)
            }
            Self::SelfLoop { word } => write!(f, "word {} is its own head", word + 1),
            Self::MultipleRoots { first, second } => write!(
                f,
                "words {} and {} both have HEAD 0 (a sentence has one root)",
                first + 1,
                second + 1
            ),
            Self::NoRoot => f.write_str("the sentence has no root (no word has HEAD 0)"),
            Self::Cycle { words } => {
                let ids: Vec<String> =
                    words.iter().chain(words.first()).map(|word| (word + 1).to_string()).collect();
                write!(f, "the HEADs form a cycle: {}", ids.join(" → "))
            }
        }
    }
}

impl ConlluSentence {
    /// The first way the HEADs fail to form one tree, checked as the CoNLL 2018 evaluator
    /// does: every HEAD within the sentence, no word its own head, exactly one root, no
    /// cycle. `None` for a valid tree.
    ///
    /// A HEAD of `_` leaves its word unattached: a sentence with no HEADs at all (never
    /// parsed) passes, and one with some is valid when attaching the rest could complete a
    /// tree (no cycle, at most one root).
    pub fn tree_defect(&self) -> Option<TreeDefect> {
        let heads: Vec<Option<usize>> = self.words.iter().map(|word| word.head).collect();
        if heads.iter().all(Option::is_none) {
            return None;
        }
        let len = heads.len();
        for (word, &head) in heads.iter().enumerate() {
            match head {
                Some(head) if head > len => {
                    return Some(TreeDefect::HeadOutOfRange { word, head, len });
                }
                Some(head) if head == word + 1 => return Some(TreeDefect::SelfLoop { word }),
                _ => {}
            }
        }
        let mut roots = (0..len).filter(|&word| heads[word] == Some(0));
        match (roots.next(), roots.next()) {
            (Some(first), Some(second)) => {
                return Some(TreeDefect::MultipleRoots { first, second });
            }
            (None, _) if heads.iter().all(Option::is_some) => return Some(TreeDefect::NoRoot),
            _ => {}
        }
        find_cycle(&heads).map(|words| TreeDefect::Cycle { words })
    }
}

/// The first cycle of `heads` (1-based, 0 for the root, `None` unattached; all in range and
/// none a self-loop), rotated to start at its first word.
fn find_cycle(heads: &[Option<usize>]) -> Option<Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Seen {
        Not,
        OnPath,
        Done,
    }
    let mut seen = vec![Seen::Not; heads.len()];
    let mut path = Vec::new();
    for start in 0..heads.len() {
        let mut word = Some(start);
        while let Some(w) = word.filter(|&w| seen[w] == Seen::Not) {
            seen[w] = Seen::OnPath;
            path.push(w);
            word = heads[w].filter(|&head| head > 0).map(|head| head - 1);
        }
        if let Some(w) = word.filter(|&w| seen[w] == Seen::OnPath) {
            let at = path.iter().position(|&p| p == w).expect("a word on the path");
            let mut cycle = path.split_off(at);
            let first = (0..cycle.len()).min_by_key(|&k| cycle[k]).expect("a non-empty cycle");
            cycle.rotate_left(first);
            return Some(cycle);
        }
        for w in path.drain(..) {
            seen[w] = Seen::Done;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::conllu::ConlluWord;

    /// A sentence whose words have these HEADs (`None` for `_`).
    fn sentence(heads: &[Option<usize>]) -> ConlluSentence {
        let word = |head| ConlluWord { form: "w".into(), head, ..ConlluWord::default() };
        ConlluSentence { words: heads.iter().copied().map(word).collect(), ..Default::default() }
    }

    #[test]
    fn each_defect_is_found_and_named() {
        use TreeDefect::*;
        let (s, u) = (Some, None);
        type Case<'a> = (&'a [Option<usize>], Option<TreeDefect>, &'a str);
        let cases: [Case<'_>; 13] = [
            (&[s(0), s(1), s(2)], None, ""),
            (&[s(2), s(0), s(2), s(3)], None, ""),
            (&[u, u, u], None, ""),
            (&[], None, ""),
            // Unattached words may complete the tree, the root among them.
            (&[s(0), u, s(2)], None, ""),
            (&[u, s(1), u], None, ""),
            (
                &[s(0), s(4)],
                Some(HeadOutOfRange { word: 1, head: 4, len: 2 }),
                "word 2 has HEAD 4, past the last word (2)",
            ),
            (&[s(0), s(2), s(1)], Some(SelfLoop { word: 1 }), "word 2 is its own head"),
            (
                &[s(0), s(1), s(0)],
                Some(MultipleRoots { first: 0, second: 2 }),
                "words 1 and 3 both have HEAD 0 (a sentence has one root)",
            ),
            (&[s(2), s(1)], Some(NoRoot), "the sentence has no root (no word has HEAD 0)"),
            (
                &[s(0), s(4), s(2), s(3)],
                Some(Cycle { words: vec![1, 3, 2] }),
                "the HEADs form a cycle: 2 → 4 → 3 → 2",
            ),
            (
                &[u, s(3), s(2), s(0)],
                Some(Cycle { words: vec![1, 2] }),
                "the HEADs form a cycle: 2 → 3 → 2",
            ),
            // Word 1 leads into the cycle but is not part of it.
            (
                &[s(2), s(3), s(2), s(0)],
                Some(Cycle { words: vec![1, 2] }),
                "the HEADs form a cycle: 2 → 3 → 2",
            ),
        ];
        for (heads, expected, message) in cases {
            let defect = sentence(heads).tree_defect();
            assert_eq!(defect, expected, "{heads:?}");
            if let Some(defect) = defect {
                assert_eq!(defect.to_string(), format!("invalid tree: {message}"), "{heads:?}");
            }
        }
    }

    #[test]
    fn a_defect_is_reported_at_the_word_at_fault() {
        let cases: [(TreeDefect, usize); 5] = [
            (TreeDefect::HeadOutOfRange { word: 3, head: 9, len: 4 }, 3),
            (TreeDefect::SelfLoop { word: 2 }, 2),
            (TreeDefect::MultipleRoots { first: 1, second: 5 }, 5),
            (TreeDefect::NoRoot, 0),
            (TreeDefect::Cycle { words: vec![4, 6] }, 4),
        ];
        for (defect, word) in cases {
            assert_eq!(defect.word(), word, "{defect:?}");
        }
    }
}

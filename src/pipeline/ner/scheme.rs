//! The BILUO tag scheme: which tags exist for a label set and which may follow which.
//!
//! # Overview
//!
//! Every token gets one tag: `O` (outside), or for an entity type `B` (begins a multi-token
//! entity), `I` (inside), `L` (last token) or `U` (a one-token entity). Tags are small
//! integers ([`TagId`]): `O` is 0 and type `l` owns `1 + 4l ..= 4 + 4l` in B, I, L, U order.
//! [`TagScheme::allowed`] is the grammar of valid sequences, which the CRF's decoding and
//! training both obey, so every decoded sequence spells whole entities.
//!
//! BILUO rather than BIO: marking the last token and single-token entities separately gives
//! the emission layer more specific targets (Ratinov and Roth 2009 found it better than BIO,
//! and spaCy's NER uses it), at the cost of 13 tags instead of 7.

use crate::doc::EntIob;
use crate::vocab::StringKey;

/// A tag's index in the scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub(crate) struct TagId(pub(crate) u8);

/// What a tag says about its token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Move {
    /// Outside every entity.
    Out,
    /// First token of a multi-token entity of type `.0`.
    Begin(u32),
    /// Inner token of an entity.
    In(u32),
    /// Last token of a multi-token entity.
    Last(u32),
    /// A one-token entity.
    Unit(u32),
}

/// An entity as the scheme sees it: tokens `[start, end)` and a label index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Entity {
    /// First token.
    pub(crate) start: usize,
    /// One past the last token.
    pub(crate) end: usize,
    /// Index into [`TagScheme::labels`].
    pub(crate) label: u32,
}

/// The BILUO tags over a list of entity labels.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct TagScheme {
    labels: Vec<String>,
    keys: Vec<StringKey>,
}

impl TagScheme {
    /// The scheme over `labels` (in class order).
    ///
    /// # Panics
    ///
    /// Panics if there are more than 63 labels (tags must fit in a byte).
    pub(crate) fn new(labels: Vec<String>) -> Self {
        assert!(labels.len() < 64, "at most 63 entity labels");
        let keys = labels.iter().map(|l| StringKey::of(l)).collect();
        Self { labels, keys }
    }

    /// The entity labels.
    pub(crate) fn labels(&self) -> &[String] {
        &self.labels
    }

    /// The string key of label `label`.
    pub(crate) fn key(&self, label: u32) -> StringKey {
        self.keys[label as usize]
    }

    /// Number of tags.
    pub(crate) fn n_tags(&self) -> usize {
        1 + 4 * self.labels.len()
    }

    /// The tag of a move.
    pub(crate) fn tag(&self, m: Move) -> TagId {
        let at = |label: u32, slot: u32| {
            debug_assert!((label as usize) < self.labels.len(), "label out of range");
            TagId((1 + 4 * label + slot) as u8)
        };
        match m {
            Move::Out => TagId(0),
            Move::Begin(l) => at(l, 0),
            Move::In(l) => at(l, 1),
            Move::Last(l) => at(l, 2),
            Move::Unit(l) => at(l, 3),
        }
    }

    /// The move of a tag.
    pub(crate) fn move_of(&self, tag: TagId) -> Move {
        let Some(t) = u32::from(tag.0).checked_sub(1) else { return Move::Out };
        let label = t / 4;
        match t % 4 {
            0 => Move::Begin(label),
            1 => Move::In(label),
            2 => Move::Last(label),
            _ => Move::Unit(label),
        }
    }

    /// Whether `next` may follow `prev`; `None` stands for the start (as `prev`) or the end
    /// (as `next`) of the sequence.
    pub(crate) fn allowed(&self, prev: Option<TagId>, next: Option<TagId>) -> bool {
        let open = prev.map(|p| self.move_of(p)).and_then(|m| match m {
            Move::Begin(l) | Move::In(l) => Some(l),
            Move::Out | Move::Last(_) | Move::Unit(_) => None,
        });
        match (open, next.map(|n| self.move_of(n))) {
            (Some(l), Some(Move::In(m) | Move::Last(m))) => l == m,
            (Some(_), _) => false,
            (None, None | Some(Move::Out | Move::Begin(_) | Move::Unit(_))) => true,
            (None, Some(Move::In(_) | Move::Last(_))) => false,
        }
    }

    /// The tags of `n` tokens holding `entities` (sorted, non-overlapping, inside `0..n`).
    pub(crate) fn tags_of(&self, n: usize, entities: &[Entity]) -> Vec<TagId> {
        let mut tags = vec![TagId(0); n];
        for e in entities {
            if e.end - e.start == 1 {
                tags[e.start] = self.tag(Move::Unit(e.label));
                continue;
            }
            tags[e.start] = self.tag(Move::Begin(e.label));
            for tag in &mut tags[e.start + 1..e.end - 1] {
                *tag = self.tag(Move::In(e.label));
            }
            tags[e.end - 1] = self.tag(Move::Last(e.label));
        }
        tags
    }

    /// The entities a valid tag sequence spells.
    pub(crate) fn entities(&self, tags: &[TagId]) -> Vec<Entity> {
        let mut entities = Vec::new();
        let mut start = 0;
        for (i, &tag) in tags.iter().enumerate() {
            match self.move_of(tag) {
                Move::Begin(_) => start = i,
                Move::Last(label) => entities.push(Entity { start, end: i + 1, label }),
                Move::Unit(label) => entities.push(Entity { start: i, end: i + 1, label }),
                Move::Out | Move::In(_) => {}
            }
        }
        entities
    }

    /// The token annotation of a tag: its IOB code and entity type.
    pub(crate) fn annotation(&self, tag: TagId) -> (EntIob, Option<StringKey>) {
        match self.move_of(tag) {
            Move::Out => (EntIob::Outside, None),
            Move::Begin(l) | Move::Unit(l) => (EntIob::Begin, Some(self.key(l))),
            Move::In(l) | Move::Last(l) => (EntIob::Inside, Some(self.key(l))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scheme() -> TagScheme {
        TagScheme::new(vec!["LOC".into(), "PER".into()])
    }

    #[test]
    fn tags_and_moves_round_trip() {
        let s = scheme();
        assert_eq!(s.n_tags(), 9);
        for t in 0..s.n_tags() as u8 {
            assert_eq!(s.tag(s.move_of(TagId(t))), TagId(t));
        }
        assert_eq!(s.move_of(TagId(8)), Move::Unit(1));
    }

    #[test]
    fn transitions_follow_biluo() {
        let s = scheme();
        let t = |m| Some(s.tag(m));
        let cases = [
            (None, t(Move::Out), true),
            (None, t(Move::Begin(0)), true),
            (None, t(Move::Unit(1)), true),
            (None, t(Move::In(0)), false),
            (None, t(Move::Last(0)), false),
            (t(Move::Begin(0)), t(Move::In(0)), true),
            (t(Move::Begin(0)), t(Move::Last(0)), true),
            (t(Move::Begin(0)), t(Move::Last(1)), false),
            (t(Move::Begin(0)), t(Move::Out), false),
            (t(Move::In(1)), t(Move::In(1)), true),
            (t(Move::In(1)), t(Move::Begin(1)), false),
            (t(Move::Last(0)), t(Move::Begin(0)), true),
            (t(Move::Unit(0)), t(Move::Unit(0)), true),
            (t(Move::Out), t(Move::In(0)), false),
            (t(Move::Begin(1)), None, false),
            (t(Move::In(1)), None, false),
            (t(Move::Last(1)), None, true),
            (t(Move::Out), None, true),
            (None, None, true),
        ];
        for (prev, next, want) in cases {
            assert_eq!(s.allowed(prev, next), want, "{prev:?} -> {next:?}");
        }
    }

    #[test]
    fn entities_round_trip_through_tags() {
        let s = scheme();
        let e = |start, end, label| Entity { start, end, label };
        let entities = vec![e(0, 1, 1), e(2, 5, 0), e(5, 7, 1)];
        let tags = s.tags_of(8, &entities);
        let moves: Vec<_> = tags.iter().map(|&t| s.move_of(t)).collect();
        use Move::*;
        assert_eq!(moves, [Unit(1), Out, Begin(0), In(0), Last(0), Begin(1), Last(1), Out]);
        assert_eq!(s.entities(&tags), entities);
        let mut prev = None;
        for &tag in tags.iter().map(Some).chain([None]).collect::<Vec<_>>().iter() {
            assert!(s.allowed(prev, tag.copied()));
            prev = tag.copied();
        }
        let labels = tags.iter().map(|&t| s.annotation(t)).collect::<Vec<_>>();
        assert_eq!(labels[0], (EntIob::Begin, Some(StringKey::of("PER"))));
        assert_eq!(labels[3], (EntIob::Inside, Some(StringKey::of("LOC"))));
        assert_eq!(labels[7], (EntIob::Outside, None));
    }
}

//! Memory zones: per-request overlays on the permanent vocabulary.
//!
//! # Overview
//!
//! A [`Zone`] snapshots the permanent part of a [`super::Vocab`] when it opens (its
//! *generation*). Lookups see permanent entries first, then the overlays of the zone and its
//! ancestors; anything missing is interned into the zone's own overlay, never into the
//! shared part. Documents borrow the zone they were made in, so the borrow checker rejects
//! any use of a transient lexeme after its zone is gone. Dropping the zone frees its overlay
//! and takes its entries off the shared counters, whether it ends normally, by `?`, by
//! panic, or because the future holding it was dropped.
//!
//! Zones share nothing mutable but atomic counters, so any number of them live at once on
//! any number of threads without contention. A zone is `Send + Sync` (its overlay is an
//! append-only map behind a lock that is only taken on a permanent-vocabulary miss), so a
//! service can hold one in an `Arc` for the length of a request.

use std::mem::size_of;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use elsa::sync::FrozenMap;

use super::{LexFlags, Lexeme, LexemeAttrs, Permanent, StringKey, ZoneCounters};

/// Rough per-entry overhead of an overlay hash map slot, counted in [`Zone::bytes`].
const MAP_ENTRY_BYTES: usize = size_of::<(StringKey, usize)>() + 1;

/// A memory zone: a snapshot of the permanent vocabulary plus a private overlay.
///
/// `Zone<'static>` comes from [`super::Vocab::zone`] and can move between threads or sit in
/// an `Arc`; [`Zone::child`] opens a nested zone that borrows its parent.
///
/// ```
/// use nlpd::vocab::{LexFlags, Vocab};
///
/// let vocab = Vocab::new();
/// {
///     let zone = vocab.zone();
///     let lex = zone.lexeme("blorfing");
///     assert!(lex.is(LexFlags::IS_OOV));
///     assert_eq!(zone.string(lex.lower), Some("blorfing"));
///     assert_eq!(vocab.stats().transient_lexemes, 1);
/// }
/// assert_eq!(vocab.stats().transient_lexemes, 0);
/// ```
///
/// Nothing borrowed from a zone outlives it:
///
/// ```compile_fail
/// use nlpd::vocab::Vocab;
///
/// let vocab = Vocab::new();
/// let lexeme = {
///     let zone = vocab.zone();
///     zone.lexeme("ephemeral")
/// };
/// println!("{lexeme:?}");
/// ```
pub struct Zone<'p> {
    permanent: Arc<Permanent>,
    counters: Arc<ZoneCounters>,
    parent: Option<&'p Zone<'p>>,
    strings: FrozenMap<StringKey, Box<str>>,
    lexemes: FrozenMap<StringKey, Box<Lexeme>>,
    counts: OverlayCounts,
}

/// Sizes of one zone's own overlay.
#[derive(Debug, Default)]
struct OverlayCounts {
    lexemes: AtomicUsize,
    strings: AtomicUsize,
    bytes: AtomicUsize,
}

impl std::fmt::Debug for Zone<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Zone")
            .field("generation", &self.generation())
            .field("depth", &self.depth())
            .field("counts", &self.counts)
            .finish()
    }
}

impl Zone<'static> {
    pub(super) fn open(permanent: Arc<Permanent>, counters: Arc<ZoneCounters>) -> Self {
        counters.active_zones.fetch_add(1, Ordering::Relaxed);
        Zone {
            permanent,
            counters,
            parent: None,
            strings: FrozenMap::default(),
            lexemes: FrozenMap::default(),
            counts: OverlayCounts::default(),
        }
    }
}

impl<'p> Zone<'p> {
    /// Opens a nested zone. It sees this zone's transient entries; its own are freed when it
    /// is dropped, while this zone's stay.
    pub fn child(&self) -> Zone<'_> {
        self.counters.active_zones.fetch_add(1, Ordering::Relaxed);
        Zone {
            permanent: Arc::clone(&self.permanent),
            counters: Arc::clone(&self.counters),
            parent: Some(self),
            strings: FrozenMap::default(),
            lexemes: FrozenMap::default(),
            counts: OverlayCounts::default(),
        }
    }

    /// The generation (number of permanent lexemes) this zone sees.
    pub fn generation(&self) -> usize {
        self.permanent.lexemes.len()
    }

    /// How many zones enclose this one (0 for a top-level zone).
    pub fn depth(&self) -> usize {
        self.ancestors().count() - 1
    }

    /// The lexeme of `text`: the permanent one if the snapshot has it, else the one already
    /// in this zone or an enclosing one, else a new transient lexeme in this zone (flagged
    /// `IS_OOV`).
    pub fn lexeme(&self, text: &str) -> &Lexeme {
        let key = StringKey::of(text);
        if let Some(lexeme) = self.find_lexeme(key) {
            return lexeme;
        }
        let attrs = LexemeAttrs::of(text);
        let lexeme = Lexeme {
            orth: self.intern(text),
            lower: self.intern(&attrs.lower),
            norm: self.intern(&attrs.norm),
            shape: self.intern(&attrs.shape),
            prefix: self.intern(&attrs.prefix),
            suffix: self.intern(&attrs.suffix),
            flags: attrs.flags.with(LexFlags::IS_OOV, true),
        };
        self.counts.lexemes.fetch_add(1, Ordering::Relaxed);
        self.counters.transient_lexemes.fetch_add(1, Ordering::Relaxed);
        self.grow(size_of::<Lexeme>() + MAP_ENTRY_BYTES);
        self.lexemes.insert(key, Box::new(lexeme))
    }

    /// The lexeme with text key `key`, if the snapshot or an overlay in scope has it.
    pub fn find_lexeme(&self, key: StringKey) -> Option<&Lexeme> {
        if let Some(lexeme) = self.permanent.lexeme(key) {
            return Some(lexeme);
        }
        self.ancestors().find_map(|zone| zone.lexemes.get(&key))
    }

    /// Interns `text`, into this zone's overlay unless it is already in scope, and returns
    /// its key.
    pub fn intern(&self, text: &str) -> StringKey {
        let key = StringKey::of(text);
        if self.string(key).is_none() {
            self.counts.strings.fetch_add(1, Ordering::Relaxed);
            self.counters.transient_strings.fetch_add(1, Ordering::Relaxed);
            self.grow(text.len() + MAP_ENTRY_BYTES);
            self.strings.insert(key, text.into());
        }
        key
    }

    /// The text of `key`, from the snapshot or an overlay in scope.
    pub fn string(&self, key: StringKey) -> Option<&str> {
        if let Some(text) = self.permanent.strings.text(key) {
            return Some(text);
        }
        self.ancestors().find_map(|zone| zone.strings.get(&key))
    }

    /// Transient lexemes in this zone's own overlay.
    pub fn transient_lexemes(&self) -> usize {
        self.counts.lexemes.load(Ordering::Relaxed)
    }

    /// Transient strings in this zone's own overlay.
    pub fn transient_strings(&self) -> usize {
        self.counts.strings.load(Ordering::Relaxed)
    }

    /// Bytes held by this zone's own overlay (payload plus map entries).
    pub fn bytes(&self) -> usize {
        self.counts.bytes.load(Ordering::Relaxed)
    }

    fn ancestors(&self) -> impl Iterator<Item = &Zone<'_>> {
        std::iter::successors(Some(self), |zone| zone.parent)
    }

    fn grow(&self, bytes: usize) {
        self.counts.bytes.fetch_add(bytes, Ordering::Relaxed);
        self.counters.bytes.fetch_add(bytes, Ordering::Relaxed);
    }
}

impl Drop for Zone<'_> {
    fn drop(&mut self) {
        let counters = &self.counters;
        counters.transient_lexemes.fetch_sub(self.transient_lexemes(), Ordering::Relaxed);
        counters.transient_strings.fetch_sub(self.transient_strings(), Ordering::Relaxed);
        counters.bytes.fetch_sub(self.bytes(), Ordering::Relaxed);
        counters.active_zones.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::super::Vocab;
    use super::*;

    fn vocab_with(words: &[&str]) -> Vocab {
        let mut vocab = Vocab::new();
        for word in words {
            vocab.add(word);
        }
        vocab
    }

    #[test]
    fn permanent_words_stay_out_of_the_overlay() {
        let vocab = vocab_with(&["the", "cat"]);
        let zone = vocab.zone();
        assert!(!zone.lexeme("cat").is(LexFlags::IS_OOV));
        assert_eq!(zone.transient_lexemes(), 0);
        assert_eq!(zone.transient_strings(), 0);
    }

    #[test]
    fn nested_zones_see_parents_and_roll_back_only_their_own() {
        let vocab = vocab_with(&["the"]);
        let outer = vocab.zone();
        let outer_key = outer.lexeme("Zorblax").orth;
        {
            let inner = outer.child();
            assert_eq!(inner.depth(), 1);
            assert_eq!(inner.lexeme("Zorblax").orth, outer_key);
            assert_eq!(inner.transient_lexemes(), 0, "parent's lexeme is reused");
            inner.lexeme("quuxly");
            assert_eq!(vocab.stats().active_zones, 2);
            assert_eq!(vocab.stats().transient_lexemes, 2);
        }
        assert_eq!(vocab.stats().active_zones, 1);
        assert_eq!(vocab.stats().transient_lexemes, 1);
        assert_eq!(outer.string(outer_key), Some("Zorblax"));
        assert_eq!(outer.find_lexeme(StringKey::of("quuxly")), None);
        drop(outer);
        assert_eq!(vocab.stats(), vocab_with(&["the"]).stats());
    }

    #[test]
    fn bytes_are_counted_and_returned() {
        let vocab = Vocab::new();
        let zone = vocab.zone();
        zone.lexeme("abcdefgh");
        assert!(zone.bytes() > 8);
        assert_eq!(vocab.stats().zone_bytes, zone.bytes());
        drop(zone);
        assert_eq!(vocab.stats().zone_bytes, 0);
    }
}

//! The vocabulary: permanent strings and lexemes, plus per-request memory zones.
//!
//! # Overview
//!
//! [`Vocab`] is a cheap, clonable handle on an append-only *permanent part* (a
//! [`StringStore`] and a lexeme table) built when a model loads. Its number of lexemes is
//! the vocabulary's *generation*. [`Vocab::zone`] opens a [`Zone`]: a snapshot of the
//! permanent part plus an overlay of its own, into which every string or lexeme the
//! permanent part lacks is interned. Dropping the zone frees the overlay, so however many
//! never-seen words a request contains, the shared vocabulary never grows.
//!
//! Growing the permanent part takes `&mut Vocab`. Zones hold their own snapshot (an `Arc`),
//! so growth while zones are open copies the table once and leaves every open zone looking
//! at the generation it started with.
//!
//! [`VocabStats`] reports the counters the service publishes on `/metrics`.

mod english;
mod lexeme;
mod strings;
mod zone;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rustc_hash::FxHashMap;

pub use lexeme::{LexFlags, Lexeme, LexemeAttrs, LexemeId, word_shape};
pub use strings::{StringKey, StringStore};
pub use zone::Zone;

/// A handle on a vocabulary. Clones share the same permanent part and counters.
#[derive(Clone, Debug, Default)]
pub struct Vocab {
    permanent: Arc<Permanent>,
    counters: Arc<ZoneCounters>,
}

/// The permanent, append-only part of a vocabulary.
#[derive(Clone, Debug, Default)]
pub(crate) struct Permanent {
    strings: StringStore,
    lexemes: Vec<Lexeme>,
    index: FxHashMap<StringKey, LexemeId>,
}

impl Permanent {
    fn lexeme(&self, key: StringKey) -> Option<&Lexeme> {
        self.index.get(&key).map(|id| &self.lexemes[id.index()])
    }
}

/// Live counts summed over every open zone of a vocabulary.
#[derive(Debug, Default)]
pub(crate) struct ZoneCounters {
    active_zones: AtomicUsize,
    transient_lexemes: AtomicUsize,
    transient_strings: AtomicUsize,
    bytes: AtomicUsize,
}

/// A point-in-time view of a vocabulary's size, as published on `/metrics`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize)]
pub struct VocabStats {
    /// Lexemes in the permanent part (the generation).
    pub permanent_lexemes: usize,
    /// Strings in the permanent part.
    pub permanent_strings: usize,
    /// Lexemes in the overlays of all open zones.
    pub transient_lexemes: usize,
    /// Strings in the overlays of all open zones.
    pub transient_strings: usize,
    /// Zones currently open.
    pub active_zones: usize,
    /// Bytes held by the overlays of all open zones.
    pub zone_bytes: usize,
}

impl Vocab {
    /// An empty vocabulary.
    pub fn new() -> Self {
        Self::default()
    }

    /// Opens a memory zone on the current generation. See [`Zone`].
    pub fn zone(&self) -> Zone<'static> {
        Zone::open(Arc::clone(&self.permanent), Arc::clone(&self.counters))
    }

    /// Adds `text` as a permanent lexeme (and its derived strings as permanent strings),
    /// returning its id. Adding an existing text returns the existing id.
    ///
    /// # Panics
    ///
    /// Panics if the vocabulary already holds `u32::MAX` lexemes.
    pub fn add(&mut self, text: &str) -> LexemeId {
        let key = StringKey::of(text);
        if let Some(&id) = self.permanent.index.get(&key) {
            return id;
        }
        let permanent = Arc::make_mut(&mut self.permanent);
        let attrs = LexemeAttrs::of(text);
        let lexeme = Lexeme {
            orth: permanent.strings.intern(text),
            lower: permanent.strings.intern(&attrs.lower),
            norm: permanent.strings.intern(&attrs.norm),
            shape: permanent.strings.intern(&attrs.shape),
            prefix: permanent.strings.intern(&attrs.prefix),
            suffix: permanent.strings.intern(&attrs.suffix),
            flags: attrs.flags,
        };
        let id = LexemeId::new(u32::try_from(permanent.lexemes.len()).expect("vocabulary is full"));
        permanent.lexemes.push(lexeme);
        permanent.index.insert(key, id);
        id
    }

    /// Makes room for at least `additional` more permanent lexemes, and for half as many
    /// again strings (a word list's shapes, affixes and lowercase forms are mostly shared:
    /// English's 19,849 model words bring 26,758 strings with the labels), so loading a
    /// model's word list grows each table about once.
    pub fn reserve(&mut self, additional: usize) {
        let permanent = Arc::make_mut(&mut self.permanent);
        permanent.lexemes.reserve(additional);
        permanent.index.reserve(additional);
        permanent.strings.reserve(additional + additional / 2);
    }

    /// Adds `text` as a permanent string (labels, lemmas) and returns its key.
    pub fn intern(&mut self, text: &str) -> StringKey {
        let key = StringKey::of(text);
        if self.permanent.strings.contains(key) {
            return key;
        }
        Arc::make_mut(&mut self.permanent).strings.intern(text)
    }

    /// The permanent lexeme `id`.
    ///
    /// # Panics
    ///
    /// Panics if `id` does not come from this vocabulary.
    pub fn lexeme(&self, id: LexemeId) -> &Lexeme {
        &self.permanent.lexemes[id.index()]
    }

    /// The permanent text of `key`.
    pub fn string(&self, key: StringKey) -> Option<&str> {
        self.permanent.strings.text(key)
    }

    /// The permanent lexemes' texts in id order.
    pub fn lexeme_texts(&self) -> impl Iterator<Item = &str> {
        self.permanent.lexemes.iter().map(|lex| {
            self.permanent
                .strings
                .text(lex.orth)
                .expect("a lexeme's text is interned. This is a bug.")
        })
    }

    /// The generation: the number of permanent lexemes.
    pub fn generation(&self) -> usize {
        self.permanent.lexemes.len()
    }

    /// Current sizes of the permanent part and of all open zones.
    pub fn stats(&self) -> VocabStats {
        let load = |counter: &AtomicUsize| counter.load(Ordering::Relaxed);
        VocabStats {
            permanent_lexemes: self.permanent.lexemes.len(),
            permanent_strings: self.permanent.strings.len(),
            transient_lexemes: load(&self.counters.transient_lexemes),
            transient_strings: load(&self.counters.transient_strings),
            active_zones: load(&self.counters.active_zones),
            zone_bytes: load(&self.counters.bytes),
        }
    }

    /// A 64-bit digest of the whole permanent part (every string and every lexeme, in
    /// order). Two vocabularies with equal digests hold the same data.
    pub fn digest(&self) -> u64 {
        let mut hasher = xxhash_rust::xxh3::Xxh3::new();
        for text in self.permanent.strings.iter() {
            hasher.update(&(text.len() as u64).to_le_bytes());
            hasher.update(text.as_bytes());
        }
        for lex in &self.permanent.lexemes {
            for key in [lex.orth, lex.lower, lex.norm, lex.shape, lex.prefix, lex.suffix] {
                hasher.update(&key.as_u64().to_le_bytes());
            }
            hasher.update(&lex.flags.bits().to_le_bytes());
        }
        for (key, id) in sorted(&self.permanent.index) {
            hasher.update(&key.as_u64().to_le_bytes());
            hasher.update(&(id.index() as u64).to_le_bytes());
        }
        hasher.digest()
    }
}

fn sorted(index: &FxHashMap<StringKey, LexemeId>) -> Vec<(StringKey, LexemeId)> {
    let mut entries: Vec<_> = index.iter().map(|(k, v)| (*k, *v)).collect();
    entries.sort_unstable();
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permanent_lexemes_are_not_oov_and_dedupe() {
        let mut vocab = Vocab::new();
        let a = vocab.add("Apple");
        assert_eq!(vocab.add("Apple"), a);
        assert_eq!(vocab.generation(), 1);
        let lex = vocab.lexeme(a);
        assert!(!lex.is(LexFlags::IS_OOV));
        assert_eq!(vocab.string(lex.lower), Some("apple"));
        assert_eq!(vocab.string(lex.shape), Some("Xxxxx"));
        assert_eq!(vocab.lexeme_texts().collect::<Vec<_>>(), ["Apple"]);
    }

    #[test]
    fn digest_tracks_content() {
        let mut a = Vocab::new();
        let mut b = Vocab::new();
        assert_eq!(a.digest(), b.digest());
        a.add("one");
        assert_ne!(a.digest(), b.digest());
        b.add("one");
        assert_eq!(a.digest(), b.digest());
        b.intern("label");
        assert_ne!(a.digest(), b.digest());
    }

    #[test]
    fn growth_leaves_open_zones_on_their_generation() {
        let mut vocab = Vocab::new();
        vocab.add("old");
        let zone = vocab.zone();
        vocab.add("new");
        assert_eq!(zone.generation(), 1);
        assert!(zone.lexeme("new").is(LexFlags::IS_OOV));
        assert_eq!(vocab.generation(), 2);
        drop(zone);
        assert!(!vocab.zone().lexeme("new").is(LexFlags::IS_OOV));
    }
}

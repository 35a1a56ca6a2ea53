//! String keys and the permanent string store.
//!
//! # Overview
//!
//! Every string nlpd handles (token texts, lowercase forms, shapes, affixes, lemmas, labels)
//! is identified by a [`StringKey`]: the 64-bit XXH3 hash (`xxh3_64`, seed 0) of its UTF-8
//! bytes. The key is the same on every platform and in every run, so model files and
//! hashed features can rely on it. [`StringStore`] maps keys back to text for the
//! permanent part of the vocabulary; zones keep their own overlay (see [`super::Zone`]).

use rustc_hash::FxHashMap;

/// A stable 64-bit key for a string: `xxh3_64(text.as_bytes())`.
///
/// ```
/// use nlpd::vocab::StringKey;
/// assert_eq!(StringKey::of("hello"), StringKey::of("hello"));
/// assert_ne!(StringKey::of("hello"), StringKey::of("Hello"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(transparent)]
pub struct StringKey(u64);

impl StringKey {
    /// Hashes `text` into its key.
    #[inline]
    pub fn of(text: &str) -> Self {
        Self(xxhash_rust::xxh3::xxh3_64(text.as_bytes()))
    }

    /// The raw 64-bit value.
    pub const fn as_u64(self) -> u64 {
        self.0
    }
}

/// The permanent strings of a vocabulary: append-only, keyed by [`StringKey`].
#[derive(Clone, Debug, Default)]
pub struct StringStore {
    texts: Vec<Box<str>>,
    index: FxHashMap<StringKey, u32>,
    bytes: usize,
}

impl StringStore {
    /// Adds `text` if it is not there yet and returns its key.
    ///
    /// # Panics
    ///
    /// Panics if the store already holds `u32::MAX` strings.
    pub fn intern(&mut self, text: &str) -> StringKey {
        let key = StringKey::of(text);
        if !self.index.contains_key(&key) {
            let slot = u32::try_from(self.texts.len()).expect("string store is full");
            self.texts.push(text.into());
            self.bytes += text.len();
            self.index.insert(key, slot);
        }
        key
    }

    /// The text of `key`, if the store holds it.
    #[inline]
    pub fn text(&self, key: StringKey) -> Option<&str> {
        self.index.get(&key).map(|&slot| &*self.texts[slot as usize])
    }

    /// Whether the store holds `key`.
    #[inline]
    pub fn contains(&self, key: StringKey) -> bool {
        self.index.contains_key(&key)
    }

    /// Makes room for at least `additional` more strings.
    pub fn reserve(&mut self, additional: usize) {
        self.texts.reserve(additional);
        self.index.reserve(additional);
    }

    /// Number of strings held.
    pub fn len(&self) -> usize {
        self.texts.len()
    }

    /// Whether the store is empty.
    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }

    /// Total UTF-8 bytes of the strings held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The strings in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.texts.iter().map(|text| &**text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The keys are part of the model format: these values must never change. They were
    /// cross-checked against the Python `xxhash` package's `xxh3_64_intdigest`.
    #[test]
    fn keys_are_pinned() {
        let pinned = [
            ("", 0x2d06_8005_38d3_94c2),
            ("the", 0xcb12_8363_1cf3_3d7d),
            ("don't", 0x0c7e_f667_e291_0fd2),
            ("Ünïcödé", 0x315d_1c81_360c_8bb8),
        ];
        for (text, raw) in pinned {
            assert_eq!(StringKey::of(text).as_u64(), raw, "key of {text:?}");
        }
    }

    #[test]
    fn intern_is_idempotent() {
        let mut store = StringStore::default();
        let a = store.intern("apple");
        let b = store.intern("apple");
        assert_eq!(a, b);
        assert_eq!(store.len(), 1);
        assert_eq!(store.text(a), Some("apple"));
        assert_eq!(store.bytes(), 5);
        assert_eq!(store.text(StringKey::of("pear")), None);
    }
}

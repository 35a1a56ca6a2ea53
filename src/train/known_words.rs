//! The words a tok2vec knows: those seen often enough in the training documents (see
//! [`Tok2Vec`] for how unknown words are read).

use rustc_hash::{FxHashMap, FxHashSet};

use crate::doc::Doc;
use crate::pipeline::tok2vec::Tok2Vec;

/// The identity keys (norm, lowercase) of `tok2vec`'s attributes for the words of `docs` seen
/// at least `min_count` times.
pub(crate) fn known_words<'z>(
    tok2vec: &Tok2Vec,
    docs: impl IntoIterator<Item = Doc<'z>>,
    min_count: usize,
) -> FxHashSet<u64> {
    let mut counts: FxHashMap<u64, usize> = FxHashMap::default();
    let mut keys = Vec::new();
    let attrs = &tok2vec.attrs;
    for doc in docs {
        keys.clear();
        tok2vec.push_keys(&doc, &mut keys);
        for token in keys.chunks_exact(attrs.len()) {
            for (&key, attr) in token.iter().zip(attrs) {
                if attr.is_identity() {
                    *counts.entry(key).or_default() += 1;
                }
            }
        }
    }
    counts.into_iter().filter(|&(_, n)| n >= min_count).map(|(key, _)| key).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::nn::Rng;
    use crate::pipeline::tok2vec::{Attr, EmbedConfig, Tok2VecConfig, UNKNOWN_WORD};
    use crate::vocab::{StringKey, Vocab};

    #[test]
    fn words_seen_often_enough_keep_their_identity_and_others_read_unknown() {
        let embed = |attr| EmbedConfig { attr, rows: 10, width: 2 };
        let config = Tok2VecConfig {
            embed: vec![embed(Attr::Norm), embed(Attr::Suffix(2))],
            width: 4,
            depth: 1,
            window: 1,
            dilations: Vec::new(),
            pieces: 2,
            min_word_count: 2,
        };
        let mut tok2vec = Tok2Vec::new(&config, &mut Rng::new(1));
        let vocab = Vocab::new();
        let zone = vocab.zone();
        let doc = |text: &str| {
            let words: Vec<&str> = text.split(' ').collect();
            Doc::from_words(&zone, &words, &vec![true; words.len()])
        };
        let docs = [doc("the cat sat"), doc("The dog sat")];
        let known = known_words(&tok2vec, docs, config.min_word_count);
        let norm = |w: &str| StringKey::of(w).as_u64();
        assert_eq!(known, [norm("the"), norm("sat")].into_iter().collect());

        tok2vec.known = Some(known);
        let mut keys = Vec::new();
        tok2vec.push_keys(&doc("the cat"), &mut keys);
        assert_eq!(keys[0], norm("the"), "a known word keeps its norm");
        assert_eq!(keys[2], UNKNOWN_WORD, "an unknown word reads the shared key");
        assert_ne!(keys[3], UNKNOWN_WORD, "affixes are never hidden");

        let mut hidden = keys.clone();
        tok2vec.hide_words(&mut hidden, 1.0, &mut Rng::new(2));
        assert_eq!((hidden[0], hidden[1]), (UNKNOWN_WORD, keys[1]), "word dropout hides identity");
    }
}

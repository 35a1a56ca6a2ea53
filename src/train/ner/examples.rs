//! Training examples of the recogniser: sentences as feature keys and gold tags, and the
//! two ways training varies them (mention replacement and word dropout).
//!
//! # Overview
//!
//! [`prepare`] turns IOB2 sentences into [`Example`]s with the recogniser's feature keys
//! (unknown words already read as unknown) and gold entities. Each epoch, training sees
//! every example through [`MentionBank::augment`], which may swap an entity mention for
//! another mention of the same type from the training data: the context then has to carry
//! the decision, not the memorised name, which is what unseen names need. [`batch_keys`]
//! then hides the identity of a share of the known words.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::doc::conllu::Keep;
use crate::pipeline::ner::scheme::{Entity, TagId};
use crate::pipeline::ner::{EntityRecognizer, UNKNOWN_WORD};
use crate::pipeline::nn::Rng;
use crate::pipeline::tok2vec::Tok2Vec;
use crate::train::iob2::{
    EntitySpan, EntityType, Iob2Error, Iob2Reader, Iob2Sentence, entity_spans,
};
use crate::train::trainer::TrainError;
use crate::vocab::Vocab;

/// A sentence prepared for training: feature keys (token-major), gold entities and tags.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Example {
    pub(super) keys: Vec<u64>,
    /// The gold entities of the recogniser's labels.
    pub(super) entities: Vec<Entity>,
    pub(super) tags: Vec<TagId>,
    /// Every gold entity (for scoring, as `nlpd evaluate` counts them).
    pub(super) spans: Vec<EntitySpan>,
}

impl Example {
    /// Number of tokens.
    pub(super) fn len(&self) -> usize {
        self.tags.len()
    }
}

/// Reads an IOB2 file.
pub(super) fn read(path: &Path) -> Result<Vec<Iob2Sentence>, TrainError> {
    let err = |source| TrainError::ReadIob2 { path: path.to_owned(), source };
    let file = File::open(path).map_err(|source| err(Iob2Error::Io { line: 0, source }))?;
    Iob2Reader::new(BufReader::new(file)).collect::<Result<_, _>>().map_err(err)
}

/// The entity types that occur in `sentences`, in [`EntityType::ALL`] order.
pub(super) fn labels(sentences: &[Iob2Sentence]) -> Vec<String> {
    let seen: Vec<EntityType> =
        sentences.iter().flat_map(|s| entity_spans(&s.tags)).map(|span| span.label).collect();
    EntityType::ALL.iter().filter(|t| seen.contains(t)).map(|t| t.as_str().to_owned()).collect()
}

/// The identity keys (norm, lowercase) of words seen at least `min_count` times.
pub(super) fn known_words(
    sentences: &[Iob2Sentence],
    tok2vec: &Tok2Vec,
    min_count: usize,
) -> FxHashSet<u64> {
    let vocab = Vocab::new();
    let zone = vocab.zone();
    let mut counts: FxHashMap<u64, usize> = FxHashMap::default();
    let mut keys = Vec::new();
    let attrs = &tok2vec.attrs;
    for sentence in sentences {
        keys.clear();
        tok2vec.push_keys(&sentence.to_doc(&zone, Keep::Words), &mut keys);
        for token in keys.chunks_exact(attrs.len()) {
            for (&key, &attr) in token.iter().zip(attrs) {
                if EntityRecognizer::is_identity(attr) {
                    *counts.entry(key).or_default() += 1;
                }
            }
        }
    }
    counts.into_iter().filter(|&(_, n)| n >= min_count).map(|(key, _)| key).collect()
}

/// The examples of `sentences` for `model`.
pub(super) fn prepare(sentences: &[Iob2Sentence], model: &EntityRecognizer) -> Vec<Example> {
    let vocab = Vocab::new();
    let zone = vocab.zone();
    let label_of = |t: EntityType| model.labels().iter().position(|l| l == t.as_str());
    sentences
        .iter()
        .map(|sentence| {
            let doc = sentence.to_doc(&zone, Keep::Words);
            let mut keys = Vec::new();
            model.push_keys(&doc, &mut keys);
            let spans = entity_spans(&sentence.tags);
            let entities: Vec<Entity> = spans
                .iter()
                .filter_map(|s| {
                    let label = label_of(s.label)? as u32;
                    Some(Entity { start: s.start, end: s.end, label })
                })
                .collect();
            let tags = model.scheme.tags_of(doc.len(), &entities);
            Example { keys, entities, tags, spans }
        })
        .collect()
}

/// The feature keys of every training mention, by label.
#[derive(Debug)]
pub(super) struct MentionBank {
    /// Per label, each mention's keys (tokens × attributes).
    mentions: Vec<Vec<Vec<u64>>>,
    n_attrs: usize,
}

impl MentionBank {
    /// The mentions of `examples`, for a model of `n_labels` labels reading `n_attrs` keys
    /// per token.
    pub(super) fn new(examples: &[Example], n_labels: usize, n_attrs: usize) -> Self {
        let mut mentions = vec![Vec::new(); n_labels];
        for example in examples {
            for e in &example.entities {
                mentions[e.label as usize]
                    .push(example.keys[e.start * n_attrs..e.end * n_attrs].to_vec());
            }
        }
        Self { mentions, n_attrs }
    }

    /// `example` with each entity mention replaced, with probability `rate`, by a random
    /// mention of the same label (tags recomputed by `model`'s scheme).
    pub(super) fn augment(
        &self,
        example: &Example,
        rate: f32,
        model: &EntityRecognizer,
        rng: &mut Rng,
    ) -> Example {
        if rate <= 0.0 || example.entities.is_empty() {
            return example.clone();
        }
        let a = self.n_attrs;
        let mut keys = Vec::with_capacity(example.keys.len());
        let mut entities = Vec::with_capacity(example.entities.len());
        let mut done = 0;
        for e in &example.entities {
            keys.extend_from_slice(&example.keys[done * a..e.start * a]);
            let start = keys.len() / a;
            let pool = &self.mentions[e.label as usize];
            if rng.unit() < rate {
                keys.extend_from_slice(&pool[rng.below(pool.len())]);
            } else {
                keys.extend_from_slice(&example.keys[e.start * a..e.end * a]);
            }
            entities.push(Entity { start, end: keys.len() / a, label: e.label });
            done = e.end;
        }
        keys.extend_from_slice(&example.keys[done * a..]);
        let tags = model.scheme.tags_of(keys.len() / a, &entities);
        // Spans only matter for scoring, which never sees augmented examples.
        Example { keys, entities, tags, spans: Vec::new() }
    }
}

/// The feature keys of a batch, with word identities hidden at rate `word_dropout`.
pub(super) fn batch_keys(
    model: &EntityRecognizer,
    batch: &[Example],
    word_dropout: f32,
    rng: &mut Rng,
) -> Vec<u64> {
    let attrs = &model.tok2vec.attrs;
    let mut keys: Vec<u64> = batch.iter().flat_map(|e| e.keys.iter().copied()).collect();
    if word_dropout > 0.0 {
        for token in keys.chunks_exact_mut(attrs.len()) {
            if rng.unit() < word_dropout {
                for (key, &attr) in token.iter_mut().zip(attrs) {
                    if EntityRecognizer::is_identity(attr) {
                        *key = UNKNOWN_WORD;
                    }
                }
            }
        }
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::ner::scheme::Move;

    #[test]
    fn mention_replacement_keeps_tags_aligned_with_keys() {
        let labels = vec!["PER".to_string(), "LOC".to_string()];
        let config = crate::pipeline::ner::tests::tiny_config();
        let mut rng = Rng::new(5);
        let tok2vec = Tok2Vec::new(&config, &mut rng);
        let model = EntityRecognizer::new(labels, FxHashSet::default(), tok2vec, &mut rng);
        let a = model.tok2vec.attrs.len();
        // Tokens are numbered through their keys: token i has keys i·10 + attribute.
        let example = |n: usize, entities: Vec<Entity>| Example {
            keys: (0..n).flat_map(|i| (0..a).map(move |k| (i * 10 + k) as u64)).collect(),
            tags: model.scheme.tags_of(n, &entities),
            entities,
            spans: Vec::new(),
        };
        let e = |start, end, label| Entity { start, end, label };
        let long_person = example(5, vec![e(1, 4, 0)]);
        let short_person = example(3, vec![e(0, 1, 0), e(2, 3, 1)]);
        let bank = MentionBank::new(std::slice::from_ref(&long_person), 2, a);
        assert_eq!(bank.augment(&short_person, 0.0, &model, &mut rng), short_person);
        let bank = MentionBank::new(&[long_person, example(2, vec![e(0, 2, 1)])], 2, a);
        let out = bank.augment(&short_person, 1.0, &model, &mut rng);
        assert_eq!(out.entities, [e(0, 3, 0), e(4, 6, 1)]);
        assert_eq!(out.len() * a, out.keys.len());
        let first_keys: Vec<u64> = out.keys.iter().step_by(a).copied().collect();
        // The bank's person (tokens 1..4), the sentence's own `O` token 1, the bank's place.
        assert_eq!(first_keys, [10, 20, 30, 10, 0, 10]);
        let moves: Vec<_> = out.tags.iter().map(|&t| model.scheme.move_of(t)).collect();
        assert_eq!(&moves[..4], [Move::Begin(0), Move::In(0), Move::Last(0), Move::Out]);
    }
}

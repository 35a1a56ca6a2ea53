//! `ner`: named entities (PER, ORG, LOC) as token IOB codes and types.
//!
//! # Overview
//!
//! [`EntityRecognizer`] tags every token with a BILUO tag (module `scheme`) and writes the
//! result as each token's `ent_iob` and `ent_type`, so [`Doc::ents`] lists the entities:
//!
//! ```text
//! tokens ──► own tok2vec (hash embeddings + CNN, as the shared one) ──► Dense ──► emissions
//!        ──► linear-chain CRF, Viterbi over valid BILUO sequences  ──► ent_iob, ent_type
//! ```
//!
//! Its encoder knows the words it saw often enough in training (see [`Tok2Vec`]): an unseen
//! name reads the shared unknown-word key, so the recogniser relies on shape, affixes and
//! context, as it should.
//!
//! The recogniser has an encoder of its own (the [`Tok2Vec`] code, its own weights), as
//! spaCy's small English pipeline does: it trains on Universal NER independently of the
//! tagger and parser, and it needs no earlier component. The CRF's decoder only considers
//! valid tag sequences, so every entity is whole and has one type; whitespace tokens are
//! never inside an entity.
//!
//! Inference is a few batched matrix products per document plus an `O(n · 13²)` Viterbi
//! pass, into buffers allocated once per document.

mod crf;
mod persist;
pub(crate) mod scheme;

pub(crate) use self::crf::{Crf, Viterbi};

use self::scheme::{Move, TagScheme};
use super::nn::{Dense, Params, Rng};
use super::tok2vec::Tok2Vec;
use super::{Component, ComponentError};
use crate::doc::Doc;
use crate::vocab::LexFlags;

/// The named-entity recogniser. See the [module docs](self).
#[derive(Clone, Debug, PartialEq)]
pub struct EntityRecognizer {
    pub(crate) tok2vec: Tok2Vec,
    pub(crate) scheme: TagScheme,
    /// Token vector → one score per tag.
    pub(crate) output: Dense,
    pub(crate) crf: Crf,
}

impl EntityRecognizer {
    /// A freshly initialised recogniser over entity `labels`, on top of `tok2vec`.
    pub(crate) fn new(labels: Vec<String>, tok2vec: Tok2Vec, rng: &mut Rng) -> Self {
        let scheme = TagScheme::new(labels);
        let mut output = Dense::new(tok2vec.width(), scheme.n_tags(), rng);
        // Small initial scores: start near the uniform distribution.
        output.w.iter_mut().for_each(|w| *w *= 0.1);
        let crf = Crf::new(&scheme);
        Self { tok2vec, scheme, output, crf }
    }

    /// A zeroed copy (a gradient accumulator).
    pub(crate) fn zeros_like(&self) -> Self {
        Self {
            tok2vec: self.tok2vec.zeros_like(),
            scheme: self.scheme.clone(),
            output: self.output.zeros_like(),
            crf: self.crf.zeros_like(),
        }
    }

    /// The entity labels, in class order.
    pub fn labels(&self) -> &[String] {
        self.scheme.labels()
    }

    /// Tag scores (tokens × tags) of a batch of documents, given their feature keys and
    /// lengths; `vectors` receives the encoder's output.
    pub(crate) fn emissions(
        &self,
        keys: &[u64],
        lengths: &[usize],
        vectors: &mut Vec<f32>,
        emissions: &mut Vec<f32>,
    ) {
        self.tok2vec.forward(keys, lengths, vectors, None, None);
        let n: usize = lengths.iter().sum();
        emissions.resize(n * self.scheme.n_tags(), 0.0);
        self.output.forward(vectors, emissions);
    }
}

impl Params for EntityRecognizer {
    fn params(&self) -> Vec<&[f32]> {
        let mut p = self.tok2vec.params();
        p.extend(self.output.params());
        p.extend(self.crf.params());
        p
    }

    fn params_mut(&mut self) -> Vec<&mut [f32]> {
        let mut p = self.tok2vec.params_mut();
        p.extend(self.output.params_mut());
        p.extend(self.crf.params_mut());
        p
    }
}

impl Component for EntityRecognizer {
    fn name(&self) -> &'static str {
        "ner"
    }

    fn process(&self, doc: &mut Doc<'_>) -> Result<(), ComponentError> {
        let n = doc.len();
        if n == 0 {
            return Ok(());
        }
        let (mut keys, mut vectors, mut emissions) = (Vec::new(), Vec::new(), Vec::new());
        self.tok2vec.push_keys(doc, &mut keys);
        self.emissions(&keys, &[n], &mut vectors, &mut emissions);
        let t = self.scheme.n_tags();
        let outside = usize::from(self.scheme.tag(Move::Out).0);
        // A whitespace token may only be outside.
        for (token, row) in doc.tokens().iter().zip(emissions.chunks_exact_mut(t)) {
            if token.lex().is(LexFlags::IS_SPACE) {
                for (tag, score) in row.iter_mut().enumerate() {
                    if tag != outside {
                        *score = f32::NEG_INFINITY;
                    }
                }
            }
        }
        let mut tags = Vec::with_capacity(n);
        self.crf.decode(&emissions, &mut Viterbi::default(), &mut tags);
        for (token, &tag) in doc.tokens_mut().iter_mut().zip(&tags) {
            (token.ent_iob, token.ent_type) = self.scheme.annotation(tag);
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::doc::EntIob;
    use crate::pipeline::tok2vec::{Attr, EmbedConfig, Tok2VecConfig};
    use crate::vocab::{StringKey, Vocab};

    /// A small encoder for tests.
    pub(crate) fn tiny_config() -> Tok2VecConfig {
        let embed = |attr| EmbedConfig { attr, rows: 50, width: 8 };
        Tok2VecConfig {
            embed: vec![embed(Attr::Norm), embed(Attr::Shape), embed(Attr::Suffix(3))],
            width: 16,
            depth: 1,
            window: 1,
            dilations: Vec::new(),
            pieces: 2,
            min_word_count: 0,
        }
    }

    #[test]
    fn process_writes_whole_entities_and_keeps_whitespace_outside() {
        let mut rng = Rng::new(3);
        let labels = vec!["LOC".into(), "PER".into()];
        let tok2vec = Tok2Vec::new(&tiny_config(), &mut rng);
        let mut ner = EntityRecognizer::new(labels, tok2vec, &mut rng);
        // Make B-PER, I-PER and L-PER attractive everywhere: the raw argmax per token would be
        // an invalid sequence, so this checks the decoder, not the weights.
        ner.output.w.fill(0.0);
        for (m, bias) in [(Move::Begin(1), 3.0), (Move::In(1), 2.0), (Move::Last(1), 1.0)] {
            ner.output.b[usize::from(ner.scheme.tag(m).0)] = bias;
        }
        let mut vocab = Vocab::new();
        for label in ner.labels() {
            vocab.intern(label);
        }
        let zone = vocab.zone();
        let words = ["Ada", "met", "\n", "Bo", "in", "Oslo"];
        let mut doc = Doc::from_words(&zone, &words, &[true, false, false, true, true, false]);
        ner.process(&mut doc).unwrap();
        let iob: Vec<EntIob> = doc.tokens().iter().map(|t| t.ent_iob).collect();
        assert_eq!(iob[2], EntIob::Outside, "whitespace is never inside an entity");
        let per = StringKey::of("PER");
        let ents = doc.ents();
        assert!(!ents.is_empty());
        for span in &ents {
            assert_eq!(span.label(), Some(per));
            assert!(!(span.start()..span.end()).contains(&2));
        }
        // Every token is annotated: inside an entity (with its type) or outside.
        for token in doc.tokens() {
            assert_eq!(token.ent_iob == EntIob::Outside, token.ent_type.is_none());
        }
        let mut empty = Doc::from_words(&zone, &[], &[]);
        ner.process(&mut empty).unwrap();
        assert!(empty.ents().is_empty());
    }
}

//! `ner`: named entities (PER, ORG, LOC) as token IOB codes and types.
//!
//! # Overview
//!
//! [`EntityRecognizer`] tags every token with a BILUO tag (module `scheme`) and writes the
//! result as each token's `ent_iob` and `ent_type`, so [`Doc::ents`] lists the entities:
//!
//! ```text
//! tokens ──► own tok2vec (hash embeddings + CNN, as the shared one) ──► Dense ──► emissions
//!            (summed over the members of an ensemble)
//!        ──► linear-chain CRF, Viterbi over valid BILUO sequences  ──► ent_iob, ent_type
//! ```
//!
//! A recogniser may be an ensemble (`EntityRecognizer::ensemble`): several encoders
//! trained alone from different seeds, whose emission scores and CRF scores add up, so
//! decoding finds the sequence the members agree on best. Each member costs one encoder
//! pass.
//!
//! Its encoder knows the words it saw often enough in training (see [`Encoder`]): an unseen
//! name reads the shared unknown-word key, so the recogniser relies on shape, affixes and
//! context, as it should.
//!
//! The recogniser has an encoder of its own (the [`Encoder`] code, its own weights), as
//! spaCy's small English pipeline does: it trains on Universal NER independently of the
//! tagger and parser, and it needs no earlier component. The CRF's decoder only considers
//! valid tag sequences, so every entity is whole and has one type; whitespace tokens are
//! never inside an entity.
//!
//! After decoding, a name found anywhere in the document is marked wherever else it occurs
//! there, with the type most of its mentions got (module `mentions`).
//!
//! Inference is a few batched matrix products per document plus an `O(n · 13²)` Viterbi
//! pass, into buffers allocated once per document.

mod crf;
mod mentions;
pub(crate) mod scheme;

pub(crate) use self::crf::{Crf, Viterbi};

use self::scheme::{Move, TagScheme};
use super::nn::{Dense, Params, Rng};
use super::tok2vec::Encoder;
use super::{Component, ComponentError, ComponentKind, features_of};
use crate::doc::Doc;
use crate::vocab::{LexFlags, StringKey};

/// The named-entity recogniser. See the [module docs](self).
#[derive(Clone, Debug, PartialEq)]
pub struct EntityRecognizer {
    /// The encoders, whose emission scores add up (one unless an ensemble).
    pub(crate) members: Vec<NerEncoder>,
    pub(crate) scheme: TagScheme,
    pub(crate) crf: Crf,
}

/// One member of a recogniser: an encoder and its tag scores.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct NerEncoder {
    pub(crate) tok2vec: Encoder,
    /// Token vector → one score per tag.
    pub(crate) output: Dense,
}

/// Buffers of [`EntityRecognizer::emissions`], reused across batches.
#[derive(Debug, Default)]
pub(crate) struct EmissionScratch {
    /// A member's encoder output.
    vectors: Vec<f32>,
    /// A member's tag scores.
    scores: Vec<f32>,
}

impl NerEncoder {
    fn zeros_like(&self) -> Self {
        Self { tok2vec: self.tok2vec.zeros_like(), output: self.output.zeros_like() }
    }
}

impl EntityRecognizer {
    /// A freshly initialised recogniser over entity `labels`, on top of `tok2vec`.
    pub(crate) fn new(labels: Vec<String>, tok2vec: Encoder, rng: &mut Rng) -> Self {
        let scheme = TagScheme::new(labels);
        let mut output = Dense::new(tok2vec.width(), scheme.n_tags(), rng);
        // Small initial scores: start near the uniform distribution.
        output.w.iter_mut().for_each(|w| *w *= 0.1);
        let crf = Crf::new(&scheme);
        Self { members: vec![NerEncoder { tok2vec, output }], scheme, crf }
    }

    /// The ensemble of `models` (recognisers over the same labels and features): their
    /// members together, scored by the sum of their CRFs.
    ///
    /// # Panics
    ///
    /// Panics if `models` is empty or its recognisers differ in labels or features.
    pub(crate) fn ensemble(models: Vec<EntityRecognizer>) -> Self {
        let mut models = models.into_iter();
        let mut ensemble = models.next().expect("an ensemble has members");
        for model in models {
            assert_eq!(model.scheme, ensemble.scheme, "ensemble members share their labels");
            for (sum, part) in ensemble.crf.params_mut().into_iter().zip(model.crf.params()) {
                sum.iter_mut().zip(part).for_each(|(s, p)| *s += p);
            }
            ensemble.members.extend(model.members);
        }
        assert!(ensemble.features_agree(), "ensemble members read the same features");
        ensemble
    }

    /// Whether every member reads the same feature keys (attributes and known words) and
    /// transformer features, so one key list and one feature array serve them all.
    pub(crate) fn features_agree(&self) -> bool {
        let first = &self.members[0].tok2vec;
        self.members.iter().all(|m| {
            m.tok2vec.attrs == first.attrs
                && m.tok2vec.known == first.known
                && m.tok2vec.feature_width() == first.feature_width()
        })
    }

    /// The encoder that computes the feature keys of every member.
    pub(crate) fn features(&self) -> &Encoder {
        &self.members[0].tok2vec
    }

    /// A zeroed copy (a gradient accumulator).
    pub(crate) fn zeros_like(&self) -> Self {
        Self {
            members: self.members.iter().map(NerEncoder::zeros_like).collect(),
            scheme: self.scheme.clone(),
            crf: self.crf.zeros_like(),
        }
    }

    /// The entity labels, in class order.
    pub fn labels(&self) -> &[String] {
        self.scheme.labels()
    }

    /// Tag scores (tokens × tags) of a batch of documents, given their feature keys,
    /// transformer features (empty if the encoders read none) and lengths, summed over the
    /// members.
    pub(crate) fn emissions(
        &self,
        keys: &[u64],
        features: &[f32],
        lengths: &[usize],
        scratch: &mut EmissionScratch,
        emissions: &mut Vec<f32>,
    ) {
        let EmissionScratch { vectors, scores } = scratch;
        let n: usize = lengths.iter().sum();
        emissions.clear();
        emissions.resize(n * self.scheme.n_tags(), 0.0);
        scores.resize(emissions.len(), 0.0);
        for member in &self.members {
            member.tok2vec.forward(keys, features, lengths, vectors, None, None);
            member.output.forward(vectors, scores);
            emissions.iter_mut().zip(scores.iter()).for_each(|(e, s)| *e += s);
        }
    }
}

impl Params for EntityRecognizer {
    fn params(&self) -> Vec<&[f32]> {
        let mut p = Vec::new();
        for member in &self.members {
            p.extend(member.tok2vec.params());
            p.extend(member.output.params());
        }
        p.extend(self.crf.params());
        p
    }

    fn params_mut(&mut self) -> Vec<&mut [f32]> {
        let mut p = Vec::new();
        for member in &mut self.members {
            p.extend(member.tok2vec.params_mut());
            p.extend(member.output.params_mut());
        }
        p.extend(self.crf.params_mut());
        p
    }
}

impl Component for EntityRecognizer {
    fn name(&self) -> &'static str {
        ComponentKind::Ner.name()
    }

    fn needs(&self) -> &'static [ComponentKind] {
        if self.features().feature_width() > 0 { &[ComponentKind::Transformer] } else { &[] }
    }

    fn process(&self, doc: &mut Doc<'_>) -> Result<(), ComponentError> {
        let n = doc.len();
        if n == 0 {
            return Ok(());
        }
        let (mut keys, mut emissions) = (Vec::new(), Vec::new());
        let mut scratch = EmissionScratch::default();
        self.features().push_keys(doc, &mut keys);
        let features = features_of(doc, self.features().feature_width(), self.name())?;
        // Each sentence alone, as in training: context does not leak across a boundary.
        let lengths: Vec<usize> = doc.sents().iter().map(|s| s.end() - s.start()).collect();
        self.emissions(&keys, features, &lengths, &mut scratch, &mut emissions);
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
        let (mut tags, mut sentence_tags) = (Vec::with_capacity(n), Vec::new());
        let mut viterbi = Viterbi::default();
        let mut rows = emissions.as_slice();
        for length in lengths {
            let (sentence, rest) = rows.split_at(length * t);
            self.crf.decode(sentence, &mut viterbi, &mut sentence_tags);
            tags.append(&mut sentence_tags);
            rows = rest;
        }
        let mut entities = self.scheme.entities(&tags);
        if !entities.is_empty() {
            let words: Vec<StringKey> = doc.tokens().iter().map(|t| t.lex().orth).collect();
            let capitalised: Vec<bool> =
                doc.iter().map(|t| t.text().chars().any(char::is_uppercase)).collect();
            mentions::harmonise(&words, &capitalised, &mut entities, self.labels().len());
            tags = self.scheme.tags_of(n, &entities);
        }
        for (token, &tag) in doc.tokens_mut().iter_mut().zip(&tags) {
            (token.ent_iob, token.ent_type) = self.scheme.annotation(tag);
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::doc::{EntIob, Span};
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

    /// A LOC/PER recogniser whose tag scores ignore the tokens: `b`, `i` and `l` for B-PER,
    /// I-PER and L-PER, 0 for every other tag.
    fn per_everywhere(b: f32, i: f32, l: f32) -> EntityRecognizer {
        let mut rng = Rng::new(3);
        let labels = vec!["LOC".into(), "PER".into()];
        let tok2vec = Encoder::new(&tiny_config(), 0, &mut rng);
        let mut ner = EntityRecognizer::new(labels, tok2vec, &mut rng);
        let output = &mut ner.members[0].output;
        output.w.fill(0.0);
        for (m, bias) in [(Move::Begin(1), b), (Move::In(1), i), (Move::Last(1), l)] {
            output.b[usize::from(ner.scheme.tag(m).0)] = bias;
        }
        ner
    }

    #[test]
    fn process_writes_whole_entities_and_keeps_whitespace_outside() {
        // B-PER, I-PER and L-PER are attractive everywhere: the raw argmax per token would be
        // an invalid sequence, so this checks the decoder, not the weights.
        let ner = per_everywhere(3.0, 2.0, 1.0);
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

    #[test]
    fn each_sentence_is_decoded_alone() {
        // I-PER scores so well that the best valid sequence is one entity over all the tokens
        // it may cover, which must stop at a sentence boundary.
        let ner = per_everywhere(3.0, 2.5, 1.0);
        let vocab = Vocab::new();
        let zone = vocab.zone();
        // Lowercase words: no names to spread between the sentences.
        let mut doc = Doc::from_words(&zone, &["ada", "met", "bo", "cy", "saw"], &[true; 5]);
        for (i, token) in doc.tokens_mut().iter_mut().enumerate() {
            token.sent_start = Some(i == 0 || i == 3);
        }
        ner.process(&mut doc).unwrap();
        let spans: Vec<_> = doc.ents().iter().map(Span::tokens).collect();
        assert_eq!(spans, [0..3, 3..5]);
    }

    #[test]
    fn an_ensemble_adds_its_members_scores() {
        let labels = || vec!["LOC".into(), "PER".into()];
        let mut rng = Rng::new(5);
        let mut one =
            EntityRecognizer::new(labels(), Encoder::new(&tiny_config(), 0, &mut rng), &mut rng);
        let mut two =
            EntityRecognizer::new(labels(), Encoder::new(&tiny_config(), 0, &mut rng), &mut rng);
        one.crf.trans.iter_mut().for_each(|v| *v = rng.normal(1.0));
        two.crf.trans.iter_mut().for_each(|v| *v = rng.normal(1.0));
        let vocab = Vocab::new();
        let zone = vocab.zone();
        let doc = Doc::from_words(&zone, &["Ada", "met", "Bo"], &[true, true, false]);
        let mut keys = Vec::new();
        one.features().push_keys(&doc, &mut keys);
        let scores = |ner: &EntityRecognizer| {
            let mut emissions = Vec::new();
            ner.emissions(&keys, &[], &[3], &mut EmissionScratch::default(), &mut emissions);
            emissions
        };
        let (a, b) = (scores(&one), scores(&two));
        let ensemble = EntityRecognizer::ensemble(vec![one.clone(), two.clone()]);
        assert_eq!(ensemble.members.len(), 2);
        for ((sum, a), b) in scores(&ensemble).iter().zip(&a).zip(&b) {
            assert!((sum - (a + b)).abs() < 1e-5);
        }
        for ((sum, a), b) in ensemble.crf.trans.iter().zip(&one.crf.trans).zip(&two.crf.trans) {
            assert!((sum - (a + b)).abs() < 1e-6);
        }
    }
}

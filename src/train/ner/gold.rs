//! The recogniser's gold sentences: feature keys and gold tags, for training and scoring.
//!
//! # Overview
//!
//! [`gold_sentences`] turns IOB2 sentences into [`GoldSentence`]s with the recogniser's feature keys
//! (unknown words already read as unknown) and gold entities; [`batch_keys`] then hides
//! the identity of a share of the known words in each training batch (word dropout).

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use crate::doc::ReadError;
use crate::doc::conllu::Keep;
use crate::doc::iob2::{
    EntitySpan, EntityType, Iob2Document, Iob2Reader, Iob2Sentence, entity_spans,
};
use crate::pipeline::ner::EntityRecognizer;
use crate::pipeline::ner::scheme::{Entity, TagId};
use crate::pipeline::nn::Rng;
use crate::pipeline::transformer::Transformer;
use crate::train::TrainError;
use crate::train::features::transformer_features;
use crate::vocab::Vocab;

/// A sentence prepared for training: feature keys (token-major), the transformer's
/// features (empty without a transformer), gold entities and tags.
#[derive(Debug)]
pub(super) struct GoldSentence {
    pub(super) keys: Vec<u64>,
    pub(super) features: Vec<f32>,
    pub(super) tags: Vec<TagId>,
    /// Every gold entity (for scoring, as `nlpd evaluate` counts them).
    pub(super) spans: Vec<EntitySpan>,
}

impl GoldSentence {
    /// Number of tokens.
    pub(super) fn len(&self) -> usize {
        self.tags.len()
    }
}

/// Reads an IOB2 file.
pub(super) fn read(path: &Path) -> Result<Vec<Iob2Sentence>, TrainError> {
    let err = |source| TrainError::ReadIob2 { path: path.to_owned(), source };
    let file = File::open(path).map_err(|source| err(ReadError::Io { line: 0, source }))?;
    Iob2Reader::new(BufReader::new(file)).collect::<Result<_, _>>().map_err(err)
}

/// The entity types that occur in `sentences`, in [`EntityType::ALL`] order.
pub(super) fn labels(sentences: &[Iob2Sentence]) -> Vec<String> {
    let seen: Vec<EntityType> =
        sentences.iter().flat_map(|s| entity_spans(&s.tags)).map(|span| span.label).collect();
    EntityType::ALL.iter().filter(|t| seen.contains(t)).map(|t| t.as_str().to_owned()).collect()
}

/// The features of `transformer` for each of `sentences` (empty arrays without one),
/// computed over each sentence's whole document (from one `# newdoc` to the next), as
/// `nlpd parse --input iob2` computes them: the transformer reads its context across
/// sentence boundaries, though the recogniser decodes each sentence alone.
pub(super) fn sentence_features(
    sentences: &[Iob2Sentence],
    transformer: Option<&Transformer>,
) -> Vec<Vec<f32>> {
    let Some(transformer) = transformer else { return vec![Vec::new(); sentences.len()] };
    let vocab = Vocab::new();
    let zone = vocab.zone();
    let width = transformer.width();
    let mut features = Vec::with_capacity(sentences.len());
    // Sentences before the first `# newdoc` are documents of their own.
    let mut in_document = sentences.first().is_some_and(|s| s.meta.newdoc.is_some());
    for document in sentences.chunk_by(|_, next| {
        let continues = in_document && next.meta.newdoc.is_none();
        in_document |= next.meta.newdoc.is_some();
        continues
    }) {
        let document = Iob2Document { sentences: document.to_vec() };
        let all = transformer_features(Some(transformer), &mut document.to_doc(&zone, Keep::Words));
        let mut rows = all.as_slice();
        for sentence in &document.sentences {
            let (own, rest) = rows.split_at(sentence.tokens.len() * width);
            features.push(own.to_vec());
            rows = rest;
        }
    }
    features
}

/// The gold sentences of `sentences` for `model`, with their transformer `features` (from
/// [`sentence_features`]).
pub(super) fn gold_sentences(
    sentences: &[Iob2Sentence],
    features: &[Vec<f32>],
    model: &EntityRecognizer,
) -> Vec<GoldSentence> {
    let vocab = Vocab::new();
    let zone = vocab.zone();
    let label_of = |t: EntityType| model.labels().iter().position(|l| l == t.as_str());
    sentences
        .iter()
        .zip(features)
        .map(|(sentence, features)| {
            let doc = sentence.to_doc(&zone, Keep::Words);
            let mut keys = Vec::new();
            model.features().push_keys(&doc, &mut keys);
            let spans = entity_spans(&sentence.tags);
            let entities: Vec<Entity> = spans
                .iter()
                .filter_map(|s| {
                    let label = label_of(s.label)? as u32;
                    Some(Entity { start: s.start, end: s.end, label })
                })
                .collect();
            let tags = model.scheme.tags_of(doc.len(), &entities);
            GoldSentence { keys, features: features.clone(), tags, spans }
        })
        .collect()
}

/// The feature keys of a batch, with word identities hidden at rate `word_dropout`.
pub(super) fn batch_keys(
    model: &EntityRecognizer,
    batch: &[&GoldSentence],
    word_dropout: f32,
    rng: &mut Rng,
) -> Vec<u64> {
    let mut keys: Vec<u64> = batch.iter().flat_map(|e| e.keys.iter().copied()).collect();
    model.features().hide_words(&mut keys, word_dropout, rng);
    keys
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::conllu::SentenceMeta;
    use crate::pipeline::transformer::tests::{TINY_WINDOWS, tiny};

    #[test]
    fn sentence_features_are_read_in_their_whole_document() {
        let transformer = tiny(TINY_WINDOWS);
        let sentence = |words: &str, newdoc: bool| Iob2Sentence {
            meta: SentenceMeta { newdoc: newdoc.then(String::new), ..SentenceMeta::default() },
            tokens: words.split(' ').map(str::to_owned).collect(),
            tags: vec![crate::doc::iob2::EntityTag::Outside; words.split(' ').count()],
            text: None,
        };
        // A sentence before any `# newdoc`, then two documents of two sentences and one.
        let sentences = [
            sentence("hello the cafe", false),
            sentence("the cafe", true),
            sentence("a hello", false),
            sentence("cafe the a", true),
        ];
        let features = sentence_features(&sentences, Some(&transformer));
        let vocab = Vocab::new();
        let zone = vocab.zone();
        let read = |group: &[Iob2Sentence]| {
            let document = Iob2Document { sentences: group.to_vec() };
            transformer_features(Some(&transformer), &mut document.to_doc(&zone, Keep::Words))
        };
        let want = [read(&sentences[..1]), read(&sentences[1..3]), read(&sentences[3..])].concat();
        assert_eq!(features.concat(), want);
        let rows: Vec<usize> = features.iter().map(|f| f.len() / transformer.width()).collect();
        assert_eq!(rows, [3, 2, 2, 3]);
        assert_ne!(features[1], read(&sentences[1..2]), "the next sentence is context");
        assert_eq!(sentence_features(&sentences, None), vec![Vec::<f32>::new(); 4]);
    }
}

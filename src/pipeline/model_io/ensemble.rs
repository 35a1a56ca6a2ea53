//! Joining trained pipelines into one ensemble model file.
//!
//! # Overview
//!
//! Pipelines trained alike from different seeds make different mistakes; an ensemble
//! averages their scores. [`join_ensemble`] builds one model file from several:
//!
//! - `tok2vec` holds every member's encoder, and the tensor has their vectors side by side;
//! - the tagger's and the morphologizer's heads become one linear head over that wider
//!   tensor whose scores are the mean of the members' scores (each member's weights, scaled
//!   by its share, stacked one under another; the biases averaged), so they cost one matrix
//!   product as before;
//! - the parser keeps each member's network and averages their action scores per state
//!   (see [`crate::pipeline::parser`]);
//! - everything else (lemmatizer, recogniser, doc_cleaner, vocabulary) comes from the first
//!   file: the lemmatizer and the vocabulary are learned from the treebank alone, and the
//!   recogniser has its own encoder.
//!
//! Members must have the same labels in the same order, as pipelines trained from one
//! configuration do. A member may itself be an ensemble: it then weighs as many members.

use super::components::Persist;
use super::{ModelLoadError, ModelReader, PipelineWriter, Sections};
use crate::pipeline::ComponentKind;
use crate::pipeline::classifier::SoftmaxHead;
use crate::pipeline::morphologizer::Morphologizer;
use crate::pipeline::nn::Dense;
use crate::pipeline::parser::Parser;
use crate::pipeline::tagger::Tagger;
use crate::pipeline::tok2vec::Tok2Vec;
use crate::vocab::Vocab;

/// The jointly trained components of a model file that read the tensor: what an ensemble
/// joins, and what a teacher lends its outputs to a distilled student
/// (`crate::train::teacher`).
#[derive(Debug)]
pub(crate) struct JointComponents {
    pub(crate) tok2vec: Tok2Vec,
    pub(crate) tagger: Tagger,
    pub(crate) morphologizer: Morphologizer,
    pub(crate) parser: Parser,
}

impl JointComponents {
    /// Loads the components from the model file `bytes`.
    pub(crate) fn load(bytes: &[u8]) -> Result<Self, ModelLoadError> {
        let sections = Sections::parse(bytes)?;
        let mut vocab = Vocab::new();
        Ok(Self {
            tok2vec: read_part(&sections, ComponentKind::Tok2Vec, &mut vocab)?,
            tagger: read_part(&sections, ComponentKind::Tagger, &mut vocab)?,
            morphologizer: read_part(&sections, ComponentKind::Morphologizer, &mut vocab)?,
            parser: read_part(&sections, ComponentKind::Parser, &mut vocab)?,
        })
    }
}

/// Reads the whole section of component `kind` as a `P`.
pub(crate) fn read_part<P: Persist>(
    sections: &Sections<'_>,
    kind: ComponentKind,
    vocab: &mut Vocab,
) -> Result<P, ModelLoadError> {
    let mut r = sections.get(kind.name())?;
    let part = P::load(&mut r, vocab)?;
    r.finish()?;
    Ok(part)
}

/// The model file of the ensemble of the pipelines in `files` (at least one), in order.
/// See the [module docs](self).
///
/// # Errors
///
/// Returns a [`ModelLoadError`] if a file is not a valid model file, lacks one of the
/// tok2vec, tagger, morphologizer and parser components, or its labels differ from the
/// first file's.
pub fn join_ensemble(files: &[&[u8]]) -> Result<Vec<u8>, ModelLoadError> {
    let members =
        files.iter().map(|bytes| JointComponents::load(bytes)).collect::<Result<Vec<_>, _>>()?;
    let Some(first) = members.first() else {
        return Err(mismatch(ComponentKind::Tok2Vec, "no model files to join"));
    };
    // Each file's share of the mean: its own member count out of all.
    let counts: Vec<usize> = members.iter().map(|m| m.tok2vec.members.len()).collect();
    let total = counts.iter().sum::<usize>() as f32;
    let shares: Vec<f32> = counts.iter().map(|&c| c as f32 / total).collect();

    let tok2vec = Tok2Vec::new(members.iter().flat_map(|m| m.tok2vec.members.clone()).collect());
    let heads = |pick: fn(&JointComponents) -> &SoftmaxHead, kind| {
        let heads: Vec<&SoftmaxHead> = members.iter().map(pick).collect();
        mean_head(&heads, &shares).ok_or_else(|| mismatch(kind, "members' labels differ"))
    };
    let (tag, pos) = (
        heads(|m| &m.tagger.tag, ComponentKind::Tagger)?,
        heads(|m| &m.tagger.pos, ComponentKind::Tagger)?,
    );
    if members.iter().any(|m| m.tagger.pairs != first.tagger.pairs) {
        return Err(mismatch(ComponentKind::Tagger, "members' tag pairs differ"));
    }
    let tagger = Tagger::new(tag, pos, first.tagger.pairs.clone())
        .ok_or_else(|| mismatch(ComponentKind::Tagger, "invalid tag pairs"))?;
    let morphologizer =
        Morphologizer::new(heads(|m| &m.morphologizer.feats, ComponentKind::Morphologizer)?);
    if members.iter().any(|m| m.parser.labels != first.parser.labels) {
        return Err(mismatch(ComponentKind::Parser, "members' arc labels differ"));
    }
    let networks = members.iter().flat_map(|m| m.parser.members.clone()).collect();
    let parser = Parser::ensemble(first.parser.labels.clone(), networks)
        .ok_or_else(|| mismatch(ComponentKind::Parser, "no ensemble members"))?;

    let mut bytes = PipelineWriter::with_component(files[0], ComponentKind::Tok2Vec, &tok2vec)?;
    bytes = PipelineWriter::with_component(&bytes, ComponentKind::Tagger, &tagger)?;
    bytes = PipelineWriter::with_component(&bytes, ComponentKind::Morphologizer, &morphologizer)?;
    PipelineWriter::with_component(&bytes, ComponentKind::Parser, &parser)
}

/// A head scoring the `shares`-weighted mean of the scores of `heads` over their inputs
/// side by side, or `None` if their labels differ.
fn mean_head(heads: &[&SoftmaxHead], shares: &[f32]) -> Option<SoftmaxHead> {
    let labels = heads[0].labels();
    if heads.iter().any(|h| h.labels() != labels) {
        return None;
    }
    let n_out = labels.len();
    let (mut w, mut b) = (Vec::new(), vec![0.0; n_out]);
    for (head, &share) in heads.iter().zip(shares) {
        // Rows are inputs: stacking them reads each member's columns of the tensor.
        w.extend(head.layer.w.iter().map(|v| v * share));
        for (sum, bias) in b.iter_mut().zip(&head.layer.b) {
            *sum += bias * share;
        }
    }
    let n_in = heads.iter().map(|h| h.layer.n_in).sum();
    Some(SoftmaxHead::from_parts(labels.to_vec(), Dense::from_parts(n_in, n_out, w, b)))
}

/// The error for members that cannot be joined.
fn mismatch(kind: ComponentKind, reason: &str) -> ModelLoadError {
    ModelReader::new(kind.name(), &[]).malformed(reason)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::Pipeline;

    #[test]
    fn an_ensemble_of_one_pipeline_twice_annotates_as_it_does() {
        let model = super::super::DEFAULT_MODEL;
        let joined = join_ensemble(&[model, model]).unwrap();
        let (single, double) = (Pipeline::load(model).unwrap(), Pipeline::load(&joined).unwrap());
        let text = "Ms. Smith flew to Paris on Tuesday. She met the mayor there!";
        let annotations = |pipeline: &Pipeline| {
            let zone = pipeline.vocab().zone();
            let doc = pipeline.process(&zone, text).unwrap();
            let tokens = doc.tokens();
            tokens
                .iter()
                .map(|t| (t.tag, t.pos, t.morph, t.head, t.dep, t.sent_start))
                .collect::<Vec<_>>()
        };
        assert_eq!(annotations(&double), annotations(&single));
        let tensor_width = |bytes: &[u8]| {
            let sections = Sections::parse(bytes).unwrap();
            read_part::<Tok2Vec>(&sections, ComponentKind::Tok2Vec, &mut Vocab::new())
                .unwrap()
                .width()
        };
        assert_eq!(tensor_width(&joined), 2 * tensor_width(model));
    }

    #[test]
    fn members_with_other_labels_or_components_are_refused() {
        let model = super::super::DEFAULT_MODEL;
        let sections = Sections::parse(model).unwrap();
        let tagger: Tagger =
            read_part(&sections, ComponentKind::Tagger, &mut Vocab::new()).unwrap();
        let mut labels = tagger.tag.labels().to_vec();
        labels[0] = "XX".into();
        let tag = SoftmaxHead::from_parts(labels, tagger.tag.layer.clone());
        let relabelled = Tagger::new(tag, tagger.pos.clone(), tagger.pairs.clone()).unwrap();
        let other =
            PipelineWriter::with_component(model, ComponentKind::Tagger, &relabelled).unwrap();
        let err = join_ensemble(&[model, &other]).unwrap_err();
        assert!(err.to_string().contains("labels differ"), "{err}");

        let mut writer = PipelineWriter::default();
        writer.add(ComponentKind::Tagger, &tagger);
        let err = join_ensemble(&[model, &writer.into_bytes()]).unwrap_err();
        assert!(err.to_string().contains(ComponentKind::Tok2Vec.name()), "{err}");
        assert!(join_ensemble(&[]).is_err(), "nothing to join");
    }
}

//! The processing pipeline: a tokenizer and an ordered list of components.
//!
//! # Overview
//!
//! A [`Pipeline`] is loaded once per process and shared (`Arc`) by every request. It owns
//! the [`Vocab`], the [`Tokenizer`] and the [`Component`]s, all read-only at inference time,
//! so no locking is needed on the hot path. Each call works inside a caller's [`Zone`].

use thiserror::Error;

use crate::doc::{Doc, Tensor};
use crate::tokenizer::Tokenizer;
use crate::vocab::{Vocab, Zone};

pub(crate) mod classifier;
pub mod doc_cleaner;
mod kind;
pub mod lemmatizer;
pub mod model_io;
pub mod morphologizer;
pub mod ner;
pub(crate) mod nn;
pub mod parser;
pub use nn::AdamConfig;
pub mod tagger;
pub mod tok2vec;
pub mod transformer;

pub use self::kind::ComponentKind;

/// One processing step over a document (tagger, parser, doc_cleaner…).
pub trait Component: Send + Sync {
    /// The component's name, as used in configs and the `components` request field (a
    /// built-in component's [`ComponentKind::name`]).
    fn name(&self) -> &'static str;

    /// The components whose annotations this one reads (run before it whenever it runs).
    fn needs(&self) -> &'static [ComponentKind] {
        &[]
    }

    /// Annotates `doc` in place.
    ///
    /// # Errors
    ///
    /// Returns an error if the document cannot be processed (see [`ComponentError`]).
    fn process(&self, doc: &mut Doc<'_>) -> Result<(), ComponentError>;
}

/// The arithmetic a loaded pipeline's layers compute in. Training always computes in f32.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Precision {
    /// Weights and activations quantised to 8 bits, products summed in 32-bit integers
    /// (AVX-512 VNNI where the CPU has it, else portable code with the same results). The
    /// tok2vec mixers, whose inputs are embeddings of different scales, are quantised with
    /// those inputs equalised; the recogniser's own mixer stays in f32.
    #[default]
    Int8,
    /// 32-bit floats throughout, as in training.
    F32,
}

/// Errors raised by pipeline components.
#[derive(Debug, Error)]
pub enum ComponentError {
    /// Occurs when a component needs an annotation that no earlier component set.
    #[error("component `{component}` needs `{needs}`, which no earlier component sets")]
    MissingInput {
        /// The component that failed.
        component: &'static str,
        /// What it needed.
        needs: &'static str,
    },
}

/// The tensor `tok2vec` wrote on `doc`, or the error `component` reports without it.
fn tensor_of<'d>(doc: &'d Doc<'_>, component: &'static str) -> Result<&'d Tensor, ComponentError> {
    doc.tensor()
        .filter(|t| t.rows() == doc.len())
        .ok_or(ComponentError::MissingInput { component, needs: "Doc.tensor (run tok2vec first)" })
}

/// The transformer's features on `doc` (tokens × `width`; empty when `width` is 0, for an
/// encoder that reads none), or the error `component` reports without them.
fn features_of<'d>(
    doc: &'d Doc<'_>,
    width: usize,
    component: &'static str,
) -> Result<&'d [f32], ComponentError> {
    if width == 0 {
        return Ok(&[]);
    }
    doc.user_data()
        .get(transformer::TRF_FEATURES)
        .filter(|t| t.rows() == doc.len() && t.cols() == width)
        .map(Tensor::as_slice)
        .ok_or(ComponentError::MissingInput {
            component,
            needs: "trf_data.features of the encoder's width (run transformer first)",
        })
}

/// Errors raised when choosing components to run.
#[derive(Debug, Error)]
pub enum PipelineError {
    /// Occurs when a requested component is not in the pipeline.
    #[error("unknown component `{name}`; this pipeline has: {available}")]
    UnknownComponent {
        /// The requested name.
        name: String,
        /// The pipeline's component names, comma-separated.
        available: String,
    },
    /// Occurs when a component fails.
    #[error(transparent)]
    Component(#[from] ComponentError),
}

/// A tokenizer plus components, shared read-only by every request.
pub struct Pipeline {
    vocab: Vocab,
    tokenizer: Tokenizer,
    components: Vec<Box<dyn Component>>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<_> = self.components.iter().map(|c| c.name()).collect();
        f.debug_struct("Pipeline")
            .field("generation", &self.vocab.generation())
            .field("components", &names)
            .finish()
    }
}

impl Pipeline {
    /// A pipeline from its parts.
    pub fn new(vocab: Vocab, tokenizer: Tokenizer, components: Vec<Box<dyn Component>>) -> Self {
        Self { vocab, tokenizer, components }
    }

    /// The tokenizer-only English pipeline.
    pub fn tokenizer_only() -> Self {
        Self::new(Vocab::new(), Tokenizer::english(), Vec::new())
    }

    /// The vocabulary.
    pub fn vocab(&self) -> &Vocab {
        &self.vocab
    }

    /// The tokenizer.
    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    /// The component names, in order.
    pub fn component_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.components.iter().map(|c| c.name())
    }

    /// Tokenizes `text` and runs every component.
    ///
    /// # Errors
    ///
    /// Returns an error if a component fails.
    pub fn process<'z>(&self, zone: &'z Zone<'z>, text: &str) -> Result<Doc<'z>, PipelineError> {
        let mut doc = self.tokenizer.tokenize(zone, text);
        self.annotate(&mut doc, None)?;
        Ok(doc)
    }

    /// Runs the components on an existing document: all of them, or only those named in
    /// `only` and the components they need (transitively), in pipeline order.
    ///
    /// # Errors
    ///
    /// Returns an error if a name in `only` is unknown or a component fails.
    pub fn annotate(
        &self,
        doc: &mut Doc<'_>,
        only: Option<&[String]>,
    ) -> Result<(), PipelineError> {
        let selected = match only {
            Some(names) => Some(self.with_needs(names)?),
            None => None,
        };
        for (i, component) in self.components.iter().enumerate() {
            if selected.as_ref().is_none_or(|s| s[i]) {
                component.process(doc)?;
            }
        }
        Ok(())
    }

    /// Which components run for the request `names`: a flag per component, set for the
    /// named ones and everything they need that the pipeline has (a component whose input
    /// is missing reports it when it runs).
    fn with_needs(&self, names: &[String]) -> Result<Vec<bool>, PipelineError> {
        let position = |name: &str| self.components.iter().position(|c| c.name() == name);
        let mut pending = Vec::with_capacity(names.len());
        for name in names {
            pending.push(position(name).ok_or_else(|| PipelineError::UnknownComponent {
                name: name.clone(),
                available: self.component_names().collect::<Vec<_>>().join(", "),
            })?);
        }
        let mut selected = vec![false; self.components.len()];
        while let Some(i) = pending.pop() {
            if !std::mem::replace(&mut selected[i], true) {
                pending
                    .extend(self.components[i].needs().iter().filter_map(|n| position(n.name())));
            }
        }
        Ok(selected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_requested_component_brings_what_it_needs_and_nothing_else() {
        let nlp = Pipeline::default_english();
        let zone = nlp.vocab().zone();
        let only = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        let mut doc = nlp.tokenizer().tokenize(&zone, "The dogs barked at the mailman.");
        nlp.annotate(&mut doc, Some(&only(&[ComponentKind::Lemmatizer.name()]))).unwrap();
        let dogs = &doc.tokens()[1];
        assert!(dogs.tag.is_some(), "the tagger ran for the lemmatizer");
        assert_eq!(doc.token(1).resolve(dogs.lemma), "dog");
        assert!(dogs.head.is_none(), "the parser did not run");
        assert!(doc.tensor().is_some(), "tok2vec ran for the tagger; doc_cleaner did not");

        let mut doc = nlp.tokenizer().tokenize(&zone, "text");
        let err = nlp
            .annotate(&mut doc, Some(&only(&[ComponentKind::Tagger.name(), "nope"])))
            .unwrap_err();
        assert!(matches!(err, PipelineError::UnknownComponent { name, .. } if name == "nope"));
        assert!(doc.tokens()[0].tag.is_none(), "nothing runs for an invalid request");
    }
}

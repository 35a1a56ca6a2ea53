//! `morphologizer`: UD morphological features.
//!
//! # Overview
//!
//! [`Morphologizer`] predicts each token's whole FEATS string ("Number=Sing|Person=3") as
//! one class with a softmax head over `Doc.tensor`. English has few feature bundles (about
//! 230 in EWT train), so one class per bundle is both accurate and fast; the tagger
//! predicts POS separately. A token without features gets the empty string; whitespace
//! tokens always do.

use super::classifier::SoftmaxHead;
use super::{Component, ComponentError, ComponentKind, tensor_of};
use crate::doc::Doc;
use crate::vocab::{LexFlags, StringKey};

/// The morphologizer component. See the [module docs](self).
#[derive(Clone, Debug, PartialEq)]
pub struct Morphologizer {
    pub(crate) feats: SoftmaxHead,
}

impl Morphologizer {
    /// A morphologizer over a head whose labels are FEATS strings ("" for none).
    pub(crate) fn new(feats: SoftmaxHead) -> Self {
        Self { feats }
    }

    /// A zeroed copy (a gradient accumulator).
    pub(crate) fn zeros_like(&self) -> Self {
        Self { feats: self.feats.zeros_like() }
    }
}

impl Component for Morphologizer {
    fn name(&self) -> &'static str {
        ComponentKind::Morphologizer.name()
    }

    fn needs(&self) -> &'static [ComponentKind] {
        ComponentKind::Morphologizer.needs()
    }

    fn process(&self, doc: &mut Doc<'_>) -> Result<(), ComponentError> {
        let tensor = tensor_of(doc, self.name())?;
        let (mut scores, mut best) = (Vec::new(), Vec::new());
        self.feats.predict(tensor.as_slice(), &mut scores, &mut best);
        let empty = StringKey::of("");
        for (token, &class) in doc.tokens_mut().iter_mut().zip(&best) {
            token.morph = Some(if token.lex().is(LexFlags::IS_SPACE) {
                empty
            } else {
                self.feats.key(class)
            });
        }
        Ok(())
    }
}

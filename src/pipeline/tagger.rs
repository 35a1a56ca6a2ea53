//! `tagger`: fine-grained (Penn Treebank XPOS) and universal (UPOS) part-of-speech tags.
//!
//! # Overview
//!
//! [`Tagger`] reads `Doc.tensor` and predicts both tag sets with two softmax heads (a
//! second head costs one small matrix product and lets UPOS disagree with a deterministic
//! XPOS→UPOS map where the treebank does, e.g. `NNP` → `PROPN` or `X`). Whitespace tokens get
//! the fixed tag `_SP` and POS `SPACE`, as in spaCy.

use super::classifier::SoftmaxHead;
use super::{Component, ComponentError, tensor_of};
use crate::doc::{Doc, Pos};
use crate::vocab::{LexFlags, StringKey};

/// The fine-grained tag of whitespace tokens.
pub const SPACE_TAG: &str = "_SP";

/// The tagger component. See the [module docs](self).
#[derive(Clone, Debug, PartialEq)]
pub struct Tagger {
    pub(crate) tag: SoftmaxHead,
    pub(crate) pos: SoftmaxHead,
    pos_of_class: Vec<Pos>,
}

impl Tagger {
    /// A tagger from its two heads; `pos` labels must be UPOS names.
    ///
    /// Returns `None` if a `pos` label is not a UPOS name.
    pub(crate) fn new(tag: SoftmaxHead, pos: SoftmaxHead) -> Option<Self> {
        let pos_of_class = pos.labels().iter().map(|l| Pos::from_name(l)).collect::<Option<_>>()?;
        Some(Self { tag, pos, pos_of_class })
    }

    /// Zeroed copies of both heads (gradient accumulators).
    pub(crate) fn zeros_like(&self) -> Self {
        Self { tag: self.tag.zeros_like(), pos: self.pos.zeros_like(), ..self.clone() }
    }
}

impl Component for Tagger {
    fn name(&self) -> &'static str {
        "tagger"
    }

    fn needs(&self) -> &'static [&'static str] {
        &["tok2vec"]
    }

    fn process(&self, doc: &mut Doc<'_>) -> Result<(), ComponentError> {
        let tensor = tensor_of(doc, self.name())?;
        let (mut scores, mut tags, mut pos) = (Vec::new(), Vec::new(), Vec::new());
        self.tag.predict(tensor.as_slice(), &mut scores, &mut tags);
        self.pos.predict(tensor.as_slice(), &mut scores, &mut pos);
        let space = StringKey::of(SPACE_TAG);
        for ((token, &t), &p) in doc.tokens_mut().iter_mut().zip(&tags).zip(&pos) {
            if token.lex().is(LexFlags::IS_SPACE) {
                token.tag = Some(space);
                token.pos = Some(Pos::Space);
            } else {
                token.tag = Some(self.tag.key(t));
                token.pos = Some(self.pos_of_class[p as usize]);
            }
        }
        Ok(())
    }
}

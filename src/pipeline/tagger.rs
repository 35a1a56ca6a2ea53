//! `tagger`: fine-grained (Penn Treebank XPOS) and universal (UPOS) part-of-speech tags.
//!
//! # Overview
//!
//! [`Tagger`] reads `Doc.tensor` and scores both tag sets with two softmax heads (a
//! second head costs one small matrix product and lets UPOS disagree with a deterministic
//! XPOS→UPOS map where the treebank does, e.g. `NNP` → `PROPN` or `X`). It then picks, per
//! token, the pair of tags with the highest joint log-probability among the pairs the
//! training treebank has, so a token is never `NN` and `VERB` at once: where the heads
//! disagree, the more confident one decides. Whitespace tokens get the fixed tag `_SP` and
//! POS `SPACE`, as in spaCy.

use super::classifier::SoftmaxHead;
use super::{Component, ComponentError, ComponentKind, tensor_of};
use crate::doc::{Doc, Pos};
use crate::vocab::{LexFlags, StringKey};

/// The fine-grained tag of whitespace tokens.
pub const SPACE_TAG: &str = "_SP";

/// The tagger component. See the [module docs](self).
#[derive(Clone, Debug, PartialEq)]
pub struct Tagger {
    pub(crate) tag: SoftmaxHead,
    pub(crate) pos: SoftmaxHead,
    /// For each XPOS class, the UPOS classes it may go with (seen with it in training).
    pub(crate) pairs: Vec<Vec<u32>>,
    pos_of_class: Vec<Pos>,
}

/// Buffers of [`Tagger::predict`] (the trainer's dev scoring reuses them across documents).
#[derive(Debug, Default)]
pub(crate) struct TagScratch {
    tag_scores: Vec<f32>,
    pos_scores: Vec<f32>,
}

impl Tagger {
    /// A tagger from its two heads and the UPOS classes each XPOS class may go with;
    /// `pos` labels must be UPOS names.
    ///
    /// Returns `None` if a `pos` label is not a UPOS name, or `pairs` does not give each
    /// XPOS class at least one UPOS class.
    pub(crate) fn new(tag: SoftmaxHead, pos: SoftmaxHead, pairs: Vec<Vec<u32>>) -> Option<Self> {
        let pos_of_class = pos.labels().iter().map(|l| Pos::from_name(l)).collect::<Option<_>>()?;
        let n_pos = pos.labels().len() as u32;
        let valid = pairs.len() == tag.labels().len()
            && pairs.iter().all(|p| !p.is_empty() && p.iter().all(|&c| c < n_pos));
        valid.then_some(Self { tag, pos, pairs, pos_of_class })
    }

    /// Zeroed copies of both heads (gradient accumulators).
    pub(crate) fn zeros_like(&self) -> Self {
        Self { tag: self.tag.zeros_like(), pos: self.pos.zeros_like(), ..self.clone() }
    }

    /// The XPOS and UPOS class of every row of `tensor`: the allowed pair with the highest
    /// joint log-probability.
    pub(crate) fn predict(
        &self,
        tensor: &[f32],
        scratch: &mut TagScratch,
        tags: &mut Vec<u32>,
        pos: &mut Vec<u32>,
    ) {
        let TagScratch { tag_scores, pos_scores } = scratch;
        self.tag.scores(tensor, tag_scores);
        self.pos.scores(tensor, pos_scores);
        let (n_tags, n_pos) = (self.tag.labels().len(), self.pos.labels().len());
        tags.clear();
        pos.clear();
        for (tag_row, pos_row) in
            tag_scores.chunks_exact(n_tags).zip(pos_scores.chunks_exact(n_pos))
        {
            // Each row's log-normaliser is the same for every pair, so the raw scores rank
            // pairs as their joint log-probabilities do.
            let mut best = (0, 0, f32::NEG_INFINITY);
            for (t, allowed) in self.pairs.iter().enumerate() {
                for &p in allowed {
                    let score = tag_row[t] + pos_row[p as usize];
                    if score > best.2 {
                        best = (t as u32, p, score);
                    }
                }
            }
            tags.push(best.0);
            pos.push(best.1);
        }
    }
}

impl Component for Tagger {
    fn name(&self) -> &'static str {
        ComponentKind::Tagger.name()
    }

    fn needs(&self) -> &'static [ComponentKind] {
        ComponentKind::Tagger.needs()
    }

    fn process(&self, doc: &mut Doc<'_>) -> Result<(), ComponentError> {
        let tensor = tensor_of(doc, self.name())?;
        let (mut tags, mut pos) = (Vec::new(), Vec::new());
        self.predict(tensor.as_slice(), &mut TagScratch::default(), &mut tags, &mut pos);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::nn::{Dense, Rng};

    /// A head over `labels` whose scores are `biases` whatever the input (one column).
    fn head(labels: &[&str], biases: &[f32]) -> SoftmaxHead {
        let mut layer = Dense::new(1, labels.len(), &mut Rng::new(1));
        layer.w.fill(0.0);
        layer.b.copy_from_slice(biases);
        SoftmaxHead::from_parts(labels.iter().map(|&l| l.to_owned()).collect(), layer)
    }

    #[test]
    fn picks_the_best_pair_the_treebank_allows() {
        // Alone, the heads would say NN (2.0 > 1.5) and PROPN (1.0 > 0.0), a pair never
        // seen; of the allowed pairs NNP + PROPN scores 2.5 and NN + NOUN 2.0.
        let tag = head(&["NN", "NNP"], &[2.0, 1.5]);
        let pos = head(&["NOUN", "PROPN"], &[0.0, 1.0]);
        let tagger = Tagger::new(tag, pos, vec![vec![0], vec![1]]).unwrap();
        let (mut tags, mut pos) = (Vec::new(), Vec::new());
        tagger.predict(&[0.5, -0.5], &mut TagScratch::default(), &mut tags, &mut pos);
        assert_eq!((tags, pos), (vec![1, 1], vec![1, 1]));
        // With every pair allowed, each head decides alone.
        let tagger = Tagger { pairs: vec![vec![0, 1], vec![0, 1]], ..tagger };
        let (mut tags, mut pos) = (Vec::new(), Vec::new());
        tagger.predict(&[0.5], &mut TagScratch::default(), &mut tags, &mut pos);
        assert_eq!((tags, pos), (vec![0], vec![1]));
    }

    #[test]
    fn refuses_pairs_that_leave_a_tag_without_upos_or_name_no_class() {
        let tag = || head(&["NN", "NNP"], &[0.0, 0.0]);
        let pos = || head(&["NOUN", "PROPN"], &[0.0, 0.0]);
        assert!(Tagger::new(tag(), pos(), vec![vec![0], vec![]]).is_none());
        assert!(Tagger::new(tag(), pos(), vec![vec![0], vec![2]]).is_none());
        assert!(Tagger::new(tag(), pos(), vec![vec![0]]).is_none());
        assert!(
            Tagger::new(tag(), head(&["NOUN", "NOPE"], &[0.0, 0.0]), vec![vec![0]; 2]).is_none()
        );
    }
}

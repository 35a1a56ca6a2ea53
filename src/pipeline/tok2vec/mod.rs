//! `tok2vec`: contextual token vectors from hash embeddings and a convolutional encoder.
//!
//! # Overview
//!
//! [`Tok2Vec`] writes `Doc.tensor`, which every later component reads. Each of its
//! [`Encoder`]s turns a token into a vector of `width`:
//!
//! ```text
//! per token: [norm | shape | prefix… | suffix…] hash embeddings   (HashEmbed per Attr)
//!            [| transformer features]          (in a pipeline on a transformer)
//!        ──► Maxout + LayerNorm to `width`                          (the mixer)
//!        ──► depth × residual blocks: concat the window of ±w neighbours (at a
//!            per-block dilation d: the tokens at offsets -w·d … w·d in steps of d)
//!                                      ──► Maxout + LayerNorm ──► add to the input
//! ```
//!
//! This is the architecture of spaCy's CNN pipelines (`MultiHashEmbed` +
//! `MaxoutWindowEncoder`). Features are string keys, hashed into small tables, so the model
//! needs no vocabulary: any token, even one first seen in a request's zone, gets a vector.
//! Affixes are read from the token text with ASCII case folded. The forward pass is shared
//! by inference and training; training passes a `Tok2VecCache` to keep what the backward
//! pass needs.
//!
//! A tok2vec may know its words: then word identity (the norm and lowercase features) is
//! only used for words seen often enough in training, and every other word reads one shared
//! "unknown word" key, which training also shows for a share of known words (word
//! dropout). A hash embedding would otherwise give an unseen word the row trained for some
//! unrelated word that shares its hash bucket; the unknown key instead carries what the model
//! learned about words it had not seen, so it relies on shape, affixes and context.
//!
//! In a pipeline on a pretrained transformer, an encoder's mixer also reads the
//! transformer's features of each token (the named array `trf_data.features`, see
//! [`crate::pipeline::transformer`]) after its embeddings: the transformer brings what it
//! learned of English from far more text than the treebank, and the embeddings keep what
//! the uncased transformer cannot see (case, shape, affixes, spacing). Everything after
//! the mixer is unchanged, and so is every component that reads `Doc.tensor`. The backward
//! pass returns the gradient with respect to the features, for fine-tuning the
//! transformer.
//!
//! A [`Tok2Vec`] usually has one encoder. An ensemble of pipelines trained from different
//! seeds has one per member: each token's row of the tensor is then the members' vectors
//! side by side (tokens × members·width), and every later component reads its member's
//! columns (see [`crate::pipeline::model_io::ensemble`]).

mod encoder;
mod equalize;
mod features;

pub(crate) use self::encoder::{Block, Dropout, Tok2VecCache};
pub use self::encoder::{EmbedConfig, Encoder, Tok2VecConfig};
pub use self::features::Attr;

use super::{Component, ComponentError, ComponentKind, features_of};
use crate::doc::{Doc, Tensor};

/// The tok2vec component: one encoder, or one per member of an ensemble. See the
/// [module docs](self).
#[derive(Clone, Debug, PartialEq)]
pub struct Tok2Vec {
    pub(crate) members: Vec<Encoder>,
    /// Whether each member reads the same feature keys as the one before it (see
    /// [`Encoder::reads_keys_of`]): ensemble members usually do, and then share them.
    same_keys: Vec<bool>,
}

impl Tok2Vec {
    /// A component over `members` (at least one), whose vectors are laid side by side.
    ///
    /// # Panics
    ///
    /// Panics if `members` is empty.
    pub(crate) fn new(members: Vec<Encoder>) -> Self {
        assert!(!members.is_empty(), "a tok2vec needs an encoder");
        let same_keys = std::iter::once(false)
            .chain(members.windows(2).map(|pair| pair[1].reads_keys_of(&pair[0])))
            .collect();
        Self { members, same_keys }
    }

    /// Width of each token's row of the tensor (the members' widths added up).
    pub fn width(&self) -> usize {
        self.members.iter().map(Encoder::width).sum()
    }

    /// Width of the transformer features the members read (0 if they read none).
    pub fn feature_width(&self) -> usize {
        self.members.iter().map(Encoder::feature_width).max().unwrap_or(0)
    }
}

impl Component for Tok2Vec {
    fn name(&self) -> &'static str {
        ComponentKind::Tok2Vec.name()
    }

    fn needs(&self) -> &'static [ComponentKind] {
        if self.feature_width() > 0 { &[ComponentKind::Transformer] } else { &[] }
    }

    fn process(&self, doc: &mut Doc<'_>) -> Result<(), ComponentError> {
        let n = doc.len();
        let (mut keys, mut out) = (Vec::new(), Vec::new());
        let all_features = features_of(doc, self.feature_width(), self.name())?;
        let features =
            |encoder: &Encoder| if encoder.feature_width() > 0 { all_features } else { &[] };
        let tensor = if let [encoder] = &self.members[..] {
            encoder.push_keys(doc, &mut keys);
            encoder.forward(&keys, features(encoder), &[n], &mut out, None, None);
            out
        } else {
            let width = self.width();
            let mut tensor = vec![0.0; n * width];
            let mut column = 0;
            for (encoder, &same_keys) in self.members.iter().zip(&self.same_keys) {
                if !same_keys {
                    keys.clear();
                    encoder.push_keys(doc, &mut keys);
                }
                encoder.forward(&keys, features(encoder), &[n], &mut out, None, None);
                let w = encoder.width();
                for (row, vector) in tensor.chunks_exact_mut(width).zip(out.chunks_exact(w)) {
                    row[column..column + w].copy_from_slice(vector);
                }
                column += w;
            }
            tensor
        };
        doc.set_tensor(Some(Tensor::from_vec(n, self.width(), tensor)));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::nn::Rng;
    use crate::pipeline::tok2vec::encoder::tests::tiny_config;
    use crate::vocab::Vocab;

    #[test]
    fn process_writes_a_tensor_and_documents_do_not_leak_into_each_other() {
        let model = Encoder::new(&tiny_config(), 0, &mut Rng::new(8));
        let vocab = Vocab::new();
        let zone = vocab.zone();
        let mut alone = Doc::from_words(&zone, &["cat", "sat"], &[true, false]);
        Tok2Vec::new(vec![model.clone()]).process(&mut alone).unwrap();
        let tensor = alone.tensor().unwrap();
        assert_eq!((tensor.rows(), tensor.cols()), (2, 4));
        // The same words after another document in one batch get the same vectors.
        let other = Doc::from_words(&zone, &["dogs", "bark", "loudly"], &[true, true, false]);
        let mut keys = Vec::new();
        model.push_keys(&other, &mut keys);
        model.push_keys(&alone, &mut keys);
        let mut out = Vec::new();
        model.forward(&keys, &[], &[3, 2], &mut out, None, None);
        for (a, b) in out[12..].iter().zip(tensor.as_slice()) {
            assert!((a - b).abs() < 1e-5);
        }
    }

    #[test]
    fn members_vectors_lie_side_by_side_in_each_row() {
        let first = Encoder::new(&tiny_config(), 0, &mut Rng::new(8));
        let second = Encoder::new(&tiny_config(), 0, &mut Rng::new(9));
        let vocab = Vocab::new();
        let zone = vocab.zone();
        let tensor_of = |tok2vec: Tok2Vec| {
            let mut doc = Doc::from_words(&zone, &["cats", "sat", "down"], &[true, true, false]);
            tok2vec.process(&mut doc).unwrap();
            doc.tensor().unwrap().clone()
        };
        let (a, b) = (
            tensor_of(Tok2Vec::new(vec![first.clone()])),
            tensor_of(Tok2Vec::new(vec![second.clone()])),
        );
        let both = tensor_of(Tok2Vec::new(vec![first, second]));
        assert_eq!((both.rows(), both.cols()), (3, 8));
        for i in 0..3 {
            assert_eq!(both.row(i), [a.row(i), b.row(i)].concat(), "row {i}");
        }
    }

    #[test]
    fn an_encoder_reading_features_takes_them_from_the_transformer_array() {
        use crate::pipeline::transformer::TRF_FEATURES;
        let model = Encoder::new(&tiny_config(), 3, &mut Rng::new(8));
        let tok2vec = Tok2Vec::new(vec![model.clone()]);
        assert_eq!(tok2vec.needs(), [ComponentKind::Transformer]);
        let vocab = Vocab::new();
        let zone = vocab.zone();
        let mut doc = Doc::from_words(&zone, &["cat", "sat"], &[true, false]);
        let err = tok2vec.process(&mut doc).unwrap_err();
        assert!(err.to_string().contains("trf_data.features"), "{err}");
        let features = [0.5, -1.0, 0.25, 2.0, 0.0, -0.5];
        doc.user_data_mut().insert(TRF_FEATURES.into(), Tensor::from_vec(2, 3, features.to_vec()));
        tok2vec.process(&mut doc).unwrap();
        let (mut keys, mut out) = (Vec::new(), Vec::new());
        model.push_keys(&doc, &mut keys);
        model.forward(&keys, &features, &[2], &mut out, None, None);
        assert_eq!(doc.tensor().unwrap().as_slice(), out);
        let mut other = Doc::from_words(&zone, &["cat", "sat"], &[true, false]);
        other.user_data_mut().insert(TRF_FEATURES.into(), Tensor::zeros(2, 3));
        tok2vec.process(&mut other).unwrap();
        assert_ne!(other.tensor(), doc.tensor(), "the features count");
    }
}

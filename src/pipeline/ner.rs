//! `ner`: named entities (PER, ORG, LOC) as BILUO tags with constrained decoding.
//!
//! # Overview
//!
//! [`EntityRecognizer`] scores a BILUO tag for every token with a softmax head over
//! `Doc.tensor` (`B`egin, `I`nside, `L`ast, `U`nit-length, `O`utside), optionally after a
//! maxout hidden layer of its own, and decodes the best
//! tag sequence that forms well-nested entities (Viterbi over log-probabilities where the
//! impossible transitions, such as `O` → `I-PER` or `B-PER` → `I-ORG`, are excluded). BILUO
//! marks entity ends explicitly, which helps exact-span accuracy over plain BIO. Entities
//! never cross sentence starts set before it runs, nor whitespace tokens. A penalty on the
//! log-probability of `O`, tuned on dev after training, trades precision for recall.

use super::classifier::{HeadStats, SoftmaxHead};
use super::nn::{Maxout, Params};
use super::{Component, ComponentError, tensor_of};
use crate::doc::{Doc, EntIob};
use crate::vocab::{LexFlags, StringKey};

/// The tag of a token outside every entity.
pub const OUTSIDE: &str = "O";

/// A BILUO tag's position part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Biluo {
    Begin,
    Inside,
    Last,
    Unit,
    Outside,
}

impl Biluo {
    /// Splits a tag such as "L-ORG" into its position and type (`None` for "O").
    pub(crate) fn parse(tag: &str) -> Option<(Biluo, Option<&str>)> {
        if tag == OUTSIDE {
            return Some((Biluo::Outside, None));
        }
        let (position, label) = tag.split_once('-')?;
        let position = match position {
            "B" => Biluo::Begin,
            "I" => Biluo::Inside,
            "L" => Biluo::Last,
            "U" => Biluo::Unit,
            _ => return None,
        };
        Some((position, Some(label)))
    }

    /// Whether an entity is open after this tag (the next tag must continue it).
    fn opens(self) -> bool {
        matches!(self, Biluo::Begin | Biluo::Inside)
    }

    /// Whether this tag continues an open entity.
    fn continues(self) -> bool {
        matches!(self, Biluo::Inside | Biluo::Last)
    }
}

/// The BILUO tags of entities given as `(start, end, label)` token spans over `n` tokens.
pub(crate) fn biluo_tags(n: usize, entities: &[(usize, usize, &str)]) -> Vec<String> {
    let mut tags = vec![OUTSIDE.to_owned(); n];
    for &(start, end, label) in entities {
        if end == start + 1 {
            tags[start] = format!("U-{label}");
        } else {
            tags[start] = format!("B-{label}");
            for tag in &mut tags[start + 1..end - 1] {
                *tag = format!("I-{label}");
            }
            tags[end - 1] = format!("L-{label}");
        }
    }
    tags
}

/// The entity recognizer component. See the [module docs](self).
#[derive(Clone, Debug, PartialEq)]
pub struct EntityRecognizer {
    pub(crate) head: SoftmaxHead,
    pub(crate) hidden: Option<Maxout>,
    /// Subtracted from the log-probability of `O` when decoding.
    pub(crate) outside_penalty: f32,
    /// Position and entity-type key of each class.
    classes: Vec<(Biluo, Option<StringKey>)>,
}

impl EntityRecognizer {
    /// A recognizer over a head whose labels are BILUO tags.
    ///
    /// Returns `None` if a label is not a BILUO tag.
    /// Returns `None` if a label is not a BILUO tag or the hidden layer's width does not
    /// match the head's input.
    pub(crate) fn new(head: SoftmaxHead, hidden: Option<Maxout>) -> Option<Self> {
        let classes = head
            .labels()
            .iter()
            .map(|l| Biluo::parse(l).map(|(p, label)| (p, label.map(StringKey::of))))
            .collect::<Option<_>>()?;
        if hidden.as_ref().is_some_and(|h| h.n_out() != head.layer.n_in) {
            return None;
        }
        Some(Self { head, hidden, outside_penalty: 0.0, classes })
    }

    /// A zeroed copy (a gradient accumulator).
    pub(crate) fn zeros_like(&self) -> Self {
        Self {
            head: self.head.zeros_like(),
            hidden: self.hidden.as_ref().map(Maxout::zeros_like),
            ..self.clone()
        }
    }

    /// Width of the token vectors it reads.
    pub(crate) fn input_width(&self) -> usize {
        self.hidden.as_ref().map_or(self.head.layer.n_in, |h| h.affine.n_in)
    }

    /// Class scores (`n × classes`) for token vectors `x` (`n × width`).
    pub(crate) fn scores(&self, x: &[f32], scores: &mut Vec<f32>) {
        let mut best = Vec::new();
        match &self.hidden {
            Some(hidden) => {
                let n = x.len() / hidden.affine.n_in;
                let (mut pre, mut h) =
                    (vec![0.0; n * hidden.affine.n_out], vec![0.0; n * hidden.n_out()]);
                hidden.forward(x, &mut pre, &mut h, None);
                self.head.predict(&h, scores, &mut best);
            }
            None => self.head.predict(x, scores, &mut best),
        }
    }

    /// Cross-entropy against `gold` classes: adds `scale ×` the gradient into `dx` and
    /// `grad`.
    pub(crate) fn loss_grad(
        &self,
        x: &[f32],
        gold: &[Option<u32>],
        scale: f32,
        dx: &mut [f32],
        grad: &mut EntityRecognizer,
    ) -> HeadStats {
        let (Some(hidden), Some(grad_hidden)) = (&self.hidden, &mut grad.hidden) else {
            return self.head.loss_grad(x, gold, scale, dx, &mut grad.head);
        };
        let n = gold.len();
        let mut pre = vec![0.0; n * hidden.affine.n_out];
        let (mut h, mut arg) = (vec![0.0; n * hidden.n_out()], vec![0; n * hidden.n_out()]);
        hidden.forward(x, &mut pre, &mut h, Some(&mut arg));
        let mut dh = vec![0.0; h.len()];
        let stats = self.head.loss_grad(&h, gold, scale, &mut dh, &mut grad.head);
        hidden.backward(x, &dh, &arg, &mut pre, Some(dx), grad_hidden);
        stats
    }

    /// Whether class `b` may follow class `a` (`None`: the start or end of a segment).
    fn allowed(&self, a: Option<usize>, b: Option<usize>) -> bool {
        let a = a.map(|a| self.classes[a]);
        let b = b.map(|b| self.classes[b]);
        match (a, b) {
            (Some((pa, ta)), Some((pb, tb))) => {
                if pa.opens() {
                    pb.continues() && ta == tb
                } else {
                    !pb.continues()
                }
            }
            (None, Some((pb, _))) => !pb.continues(),
            (Some((pa, _)), None) => !pa.opens(),
            (None, None) => true,
        }
    }

    /// The best well-formed tag sequence for rows of class scores `scores` (`n × classes`),
    /// written into `best`; `back` is scratch.
    pub(crate) fn viterbi(&self, scores: &mut [f32], back: &mut Vec<u32>, best: &mut Vec<u32>) {
        let k = self.classes.len();
        let n = scores.len() / k;
        best.clear();
        if n == 0 {
            return;
        }
        for row in scores.chunks_exact_mut(k) {
            super::nn::softmax(row);
            row.iter_mut().for_each(|p| *p = p.max(1e-12).ln());
            for (score, (position, _)) in row.iter_mut().zip(&self.classes) {
                if *position == Biluo::Outside {
                    *score -= self.outside_penalty;
                }
            }
        }
        back.clear();
        back.resize(n * k, 0);
        let mut prev: Vec<f32> = (0..k)
            .map(|c| if self.allowed(None, Some(c)) { scores[c] } else { f32::NEG_INFINITY })
            .collect();
        let mut next = vec![0.0; k];
        for t in 1..n {
            for c in 0..k {
                let (from, score) = (0..k)
                    .filter(|&p| self.allowed(Some(p), Some(c)))
                    .map(|p| (p, prev[p]))
                    .fold((0, f32::NEG_INFINITY), |acc, x| if x.1 > acc.1 { x } else { acc });
                next[c] = score + scores[t * k + c];
                back[t * k + c] = from as u32;
            }
            std::mem::swap(&mut prev, &mut next);
        }
        let last = (0..k)
            .filter(|&c| self.allowed(Some(c), None))
            .max_by(|&a, &b| prev[a].total_cmp(&prev[b]))
            .expect("O may end a sequence");
        best.resize(n, 0);
        best[n - 1] = last as u32;
        for t in (1..n).rev() {
            best[t - 1] = back[t * k + best[t] as usize];
        }
    }
}

impl Component for EntityRecognizer {
    fn name(&self) -> &'static str {
        "ner"
    }

    fn process(&self, doc: &mut Doc<'_>) -> Result<(), ComponentError> {
        let tensor = tensor_of(doc, self.name())?;
        let (mut scores, mut back, mut path) = (Vec::new(), Vec::new(), Vec::new());
        self.scores(tensor.as_slice(), &mut scores);
        let k = self.classes.len();
        // Decode each segment between sentence starts and whitespace tokens separately.
        let mut tags = vec![EntIob::Outside; doc.len()];
        let mut types = vec![None; doc.len()];
        let breaks = |i: usize| {
            let token = &doc.tokens()[i];
            token.lex().is(LexFlags::IS_SPACE) || (i > 0 && token.sent_start == Some(true))
        };
        let mut start = 0;
        while start < doc.len() {
            if doc.tokens()[start].lex().is(LexFlags::IS_SPACE) {
                start += 1;
                continue;
            }
            let end = (start + 1..doc.len()).find(|&i| breaks(i)).unwrap_or(doc.len());
            self.viterbi(&mut scores[start * k..end * k], &mut back, &mut path);
            for (i, &class) in (start..end).zip(&path) {
                let (position, label) = self.classes[class as usize];
                tags[i] = match position {
                    Biluo::Begin | Biluo::Unit => EntIob::Begin,
                    Biluo::Inside | Biluo::Last => EntIob::Inside,
                    Biluo::Outside => EntIob::Outside,
                };
                types[i] = label;
            }
            start = end;
        }
        for ((token, iob), label) in doc.tokens_mut().iter_mut().zip(tags).zip(types) {
            token.ent_iob = iob;
            token.ent_type = label;
        }
        Ok(())
    }
}

impl Params for EntityRecognizer {
    fn params(&self) -> Vec<&[f32]> {
        let mut p = self.head.params();
        p.extend(self.hidden.iter().flat_map(Params::params));
        p
    }

    fn params_mut(&mut self) -> Vec<&mut [f32]> {
        let mut p = self.head.params_mut();
        p.extend(self.hidden.iter_mut().flat_map(Params::params_mut));
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::nn::{Dense, Rng};

    fn recognizer() -> EntityRecognizer {
        let labels = ["O", "B-PER", "I-PER", "L-PER", "U-PER", "U-LOC"].map(String::from).to_vec();
        let layer = Dense::new(2, labels.len(), &mut Rng::new(1));
        EntityRecognizer::new(SoftmaxHead::from_parts(labels, layer), None).unwrap()
    }

    #[test]
    fn biluo_tags_mark_unit_and_multi_token_entities() {
        let tags = biluo_tags(6, &[(0, 1, "LOC"), (2, 5, "PER")]);
        assert_eq!(tags, ["U-LOC", "O", "B-PER", "I-PER", "L-PER", "O"]);
        assert_eq!(Biluo::parse("L-ORG"), Some((Biluo::Last, Some("ORG"))));
        assert_eq!(Biluo::parse("X-ORG"), None);
    }

    #[test]
    fn viterbi_repairs_ill_formed_greedy_tags() {
        let ner = recognizer();
        // Greedy argmax per token would be: I-PER, B-PER, O (ill-formed twice).
        let rows: [[f32; 6]; 3] = [
            [0.0, 2.0, 2.5, 0.0, 0.0, 0.0],
            [0.0, 3.0, 0.0, 2.9, 0.0, 0.0],
            [3.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        ];
        let mut scores: Vec<f32> = rows.iter().flatten().copied().collect();
        let (mut back, mut best) = (Vec::new(), Vec::new());
        ner.viterbi(&mut scores, &mut back, &mut best);
        assert_eq!(best, [1, 3, 0], "B-PER L-PER O");
    }

    #[test]
    fn transitions_follow_biluo_rules() {
        let ner = recognizer();
        let cases = [
            (None, Some(2), false),
            (None, Some(1), true),
            (Some(1), Some(2), true),
            (Some(1), Some(0), false),
            (Some(1), Some(5), false),
            (Some(3), Some(4), true),
            (Some(2), None, false),
            (Some(4), None, true),
        ];
        for (a, b, want) in cases {
            assert_eq!(ner.allowed(a, b), want, "{a:?} → {b:?}");
        }
    }
}

#[cfg(test)]
mod gradient_tests {
    use super::*;
    use crate::pipeline::nn::Rng;
    use crate::pipeline::nn::check::{Probe, assert_gradients};

    #[test]
    fn hidden_layer_gradients_match_finite_differences() {
        let mut rng = Rng::new(31);
        let labels = ["O", "U-PER", "U-LOC"].map(String::from).to_vec();
        let head = SoftmaxHead::new(labels, 3, &mut rng);
        let ner = EntityRecognizer::new(head, Some(Maxout::new(4, 3, 2, &mut rng))).unwrap();
        let x: Vec<f32> = (0..8).map(|_| rng.normal(1.0)).collect();
        let gold = [Some(1), Some(0)];
        // The probe's loss is Σ r ⊙ output; the output here is the cross-entropy itself.
        let loss = |m: &EntityRecognizer, x: &[f32]| {
            let mut grad = m.zeros_like();
            vec![m.loss_grad(x, &gold, 1.0, &mut vec![0.0; x.len()], &mut grad).loss as f32]
        };
        assert_gradients(Probe {
            layer: ner,
            input: x,
            forward: loss,
            backward: |m: &EntityRecognizer, x: &[f32], dy: &[f32], g: &mut EntityRecognizer| {
                let mut dx = vec![0.0; x.len()];
                let mut local = m.zeros_like();
                m.loss_grad(x, &gold, 1.0, &mut dx, &mut local);
                for (acc, p) in g.params_mut().into_iter().zip(local.params()) {
                    acc.iter_mut().zip(p).for_each(|(a, v)| *a += dy[0] * v);
                }
                dx.iter().map(|d| d * dy[0]).collect()
            },
            zeros: EntityRecognizer::zeros_like,
        });
    }
}

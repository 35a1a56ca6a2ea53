//! Dev scoring of the recogniser during training, and the precision/recall calibration.

use super::gold::GoldSentence;
use crate::doc::iob2::{EntitySpan, EntityType};
use crate::pipeline::ner::scheme::Move;
use crate::pipeline::ner::{EmissionScratch, EntityRecognizer, Viterbi};
use crate::train::evaluate::{NerScores, NerTally};

/// The penalties on `O` that [`calibrate`] tries (0 keeps the trained model).
const OUTSIDE_PENALTIES: [f32; 9] = [0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0];

/// Sentences scored together in one batched forward pass.
const BATCH: usize = 64;

/// Exact-span scores of `model` on prepared sentences, as `nlpd evaluate` counts them.
pub(super) fn span_scores(model: &EntityRecognizer, examples: &[GoldSentence]) -> NerScores {
    let mut tally = NerTally::default();
    let (mut keys, mut features, mut lengths) = (Vec::new(), Vec::new(), Vec::new());
    let (mut scratch, mut emissions, mut tags) =
        (EmissionScratch::default(), Vec::new(), Vec::new());
    let mut viterbi = Viterbi::default();
    let t = model.scheme.n_tags();
    for chunk in examples.chunks(BATCH) {
        keys.clear();
        keys.extend(chunk.iter().flat_map(|e| e.keys.iter().copied()));
        features.clear();
        features.extend(chunk.iter().flat_map(|e| e.features.iter().copied()));
        lengths.clear();
        lengths.extend(chunk.iter().map(GoldSentence::len));
        model.emissions(&keys, &features, &lengths, &mut scratch, &mut emissions);
        let mut offset = 0;
        for example in chunk {
            let rows = offset * t..(offset + example.len()) * t;
            offset += example.len();
            model.crf.decode(&emissions[rows], &mut viterbi, &mut tags);
            let predicted: Vec<EntitySpan> = model
                .scheme
                .entities(&tags)
                .into_iter()
                .filter_map(|e| {
                    let label = EntityType::from_name(&model.labels()[e.label as usize])?;
                    Some(EntitySpan { start: e.start, end: e.end, label })
                })
                .collect();
            tally.add(&example.spans, &predicted);
        }
    }
    tally.scores()
}

/// Lowers the score of `O` by the amount in [`OUTSIDE_PENALTIES`] that maximises dev F1;
/// returns the model, its dev scores and the penalty.
///
/// Trained on few entities, the recogniser is cautious: its precision is well above its
/// recall. Every tag sequence pays the penalty once per token outside an entity, so a
/// larger one trades precision for recall; the choice is made on dev and folded into the
/// (first member's) output layer's bias, so inference is unchanged.
pub(super) fn calibrate(
    mut model: EntityRecognizer,
    scores: NerScores,
    dev: &[GoldSentence],
) -> (EntityRecognizer, NerScores, f32) {
    let outside = usize::from(model.scheme.tag(Move::Out).0);
    let mut best = (scores, 0.0);
    for &penalty in &OUTSIDE_PENALTIES[1..] {
        let mut shifted = model.clone();
        shifted.members[0].output.b[outside] -= penalty;
        let scores = span_scores(&shifted, dev);
        if scores.overall.f1 > best.0.overall.f1 {
            best = (scores, penalty);
        }
    }
    let (scores, penalty) = best;
    model.members[0].output.b[outside] -= penalty;
    (model, scores, penalty)
}

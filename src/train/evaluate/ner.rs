//! Exact-span NER scores over IOB2 files.

use std::collections::HashSet;
use std::io::BufRead;

use serde::Serialize;

use super::{EvalError, Score, Side};
use crate::doc::ReadError;
use crate::doc::iob2::{EntitySpan, EntityType, Iob2Reader, Iob2Sentence, entity_spans};

/// Micro-averaged and per-type exact-span scores.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct NerScores {
    /// All types together (micro average).
    pub overall: Score,
    /// Persons.
    #[serde(rename = "PER")]
    pub per: Score,
    /// Organisations.
    #[serde(rename = "ORG")]
    pub org: Score,
    /// Locations.
    #[serde(rename = "LOC")]
    pub loc: Score,
}

impl NerScores {
    /// `overall` then each type, with their names, in table order.
    pub fn rows(&self) -> [(&'static str, Score); 4] {
        [("overall", self.overall), ("PER", self.per), ("ORG", self.org), ("LOC", self.loc)]
    }
}

/// Correct, system and gold entity counts of one type.
#[derive(Clone, Copy, Debug, Default)]
struct Counts {
    correct: usize,
    system: usize,
    gold: usize,
}

/// Exact-span counts accumulated sentence by sentence (for IOB2 files or a model's
/// predictions during training).
#[derive(Clone, Debug, Default)]
pub struct NerTally {
    counts: [Counts; EntityType::ALL.len()],
}

impl NerTally {
    /// Adds one sentence's gold and system entities: a system entity is correct when the
    /// gold has one with the same tokens and type.
    pub fn add(&mut self, gold: &[EntitySpan], system: &[EntitySpan]) {
        let index = |t: EntityType| EntityType::ALL.iter().position(|&a| a == t).unwrap_or(0);
        let gold: HashSet<_> = gold.iter().collect();
        let system: HashSet<_> = system.iter().collect();
        for span in &gold {
            self.counts[index(span.label)].gold += 1;
        }
        for span in &system {
            let c = &mut self.counts[index(span.label)];
            c.system += 1;
            c.correct += usize::from(gold.contains(span));
        }
    }

    /// The micro-averaged and per-type scores so far.
    pub fn scores(&self) -> NerScores {
        let score = |c: Counts| Score::new(c.correct, c.system, c.gold);
        let total = self.counts.iter().fold(Counts::default(), |a, c| Counts {
            correct: a.correct + c.correct,
            system: a.system + c.system,
            gold: a.gold + c.gold,
        });
        let [per, org, loc] = self.counts.map(score);
        NerScores { overall: score(total), per, org, loc }
    }
}

/// Scores the entities of `system` against `gold`: an entity is correct when the system has
/// one with the same tokens and type. Both files must hold the same sentences and tokens.
///
/// # Errors
///
/// Returns [`EvalError::Iob2`] if a file is malformed or unreadable,
/// [`EvalError::SentenceCount`] if the files have different numbers of sentences, and
/// [`EvalError::TokenMismatch`] if a sentence's tokens differ.
pub fn score_ner(gold: impl BufRead, system: impl BufRead) -> Result<NerScores, EvalError> {
    let read = |side| {
        move |sentence: Result<Iob2Sentence, ReadError>| {
            sentence.map_err(|source| EvalError::Iob2 { side, source })
        }
    };
    let mut gold = Iob2Reader::new(gold).map(read(Side::Gold));
    let mut system = Iob2Reader::new(system).map(read(Side::System));
    let mut tally = NerTally::default();
    let mut sentences = 0;
    loop {
        match (gold.next().transpose()?, system.next().transpose()?) {
            (Some(g), Some(s)) => {
                sentences += 1;
                add(&mut tally, &g, &s, sentences)?;
            }
            (None, None) => break,
            (g, s) => {
                // One file ended early: count the rest of the other for the message.
                let gold = sentences + usize::from(g.is_some()) + count_rest(gold)?;
                let system = sentences + usize::from(s.is_some()) + count_rest(system)?;
                return Err(EvalError::SentenceCount { gold, system });
            }
        }
    }
    Ok(tally.scores())
}

/// How many sentences are left in `sentences`.
fn count_rest<T>(
    mut sentences: impl Iterator<Item = Result<T, EvalError>>,
) -> Result<usize, EvalError> {
    sentences.try_fold(0, |n, sentence| sentence.map(|_| n + 1))
}

/// Adds the entities of sentence number `n` (1-based).
fn add(
    tally: &mut NerTally,
    gold: &Iob2Sentence,
    system: &Iob2Sentence,
    n: usize,
) -> Result<(), EvalError> {
    if gold.tokens != system.tokens {
        let k = gold.tokens.iter().zip(&system.tokens).take_while(|(g, s)| g == s).count();
        let token = |tokens: &[String]| tokens.get(k).cloned().unwrap_or_default();
        return Err(EvalError::TokenMismatch {
            sentence: n,
            token: k + 1,
            gold: token(&gold.tokens),
            system: token(&system.tokens),
        });
    }
    tally.add(&entity_spans(&gold.tags), &entity_spans(&system.tags));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(sentences: &[&[(&str, &str)]]) -> String {
        let mut out = String::new();
        for (k, sentence) in sentences.iter().enumerate() {
            out.push_str(&format!("# sent_id = {k}\n"));
            for (i, (token, tag)) in sentence.iter().enumerate() {
                out.push_str(&format!("{}\t{token}\t{tag}\t-\n", i + 1));
            }
            out.push('\n');
        }
        out
    }

    #[test]
    fn exact_spans_are_counted_per_type() {
        let gold = file(&[
            &[("Ada", "B-PER"), ("Lovelace", "I-PER"), ("met", "O"), ("IBM", "B-ORG")],
            &[("in", "O"), ("New", "B-LOC"), ("York", "I-LOC"), ("Mets", "B-OTH")],
        ]);
        let system = file(&[
            // A partial person, a right organisation.
            &[("Ada", "B-PER"), ("Lovelace", "O"), ("met", "O"), ("IBM", "B-ORG")],
            // A right location; OTH and stray tags are not entities.
            &[("in", "B-O"), ("New", "B-LOC"), ("York", "I-LOC"), ("Mets", "O")],
        ]);
        let scores = score_ner(gold.as_bytes(), system.as_bytes()).unwrap();
        let got: Vec<_> =
            scores.rows().iter().map(|(name, s)| (*name, [s.correct, s.system, s.gold])).collect();
        assert_eq!(
            got,
            [("overall", [2, 3, 3]), ("PER", [0, 1, 1]), ("ORG", [1, 1, 1]), ("LOC", [1, 1, 1])]
        );
    }

    #[test]
    fn files_must_hold_the_same_sentences_and_tokens() {
        let one = file(&[&[("a", "O")]]);
        let two = file(&[&[("a", "O")], &[("b", "O")], &[("c", "O")]]);
        let other = file(&[&[("z", "O")]]);
        let cases = [
            (one.clone(), two.clone(), "sentence count differs: gold 1, system 3"),
            (two, one.clone(), "sentence count differs: gold 3, system 1"),
            (one, other, "tokens differ in sentence 1, token 1: gold `a` vs system `z`"),
        ];
        for (gold, system, message) in cases {
            let err = score_ner(gold.as_bytes(), system.as_bytes()).unwrap_err();
            assert_eq!(err.to_string(), message);
        }
    }
}

//! Training data for the entity recognizer: Universal NER tags joined to the treebank's
//! paragraphs by sentence id, as BILUO classes, and exact-span scoring on dev.
//!
//! # Overview
//!
//! [`NerTags::read`] reads an IOB2 file (OTH and stray tags already read as `O`) into a map
//! from `sent_id` to entity spans. [`NerTags::classes`] gives a paragraph's gold BILUO
//! classes, `None` for sentences the file lacks or tokenizes differently, so those
//! contribute no loss. [`SpanCounts`] accumulates exact-span matches for an F1.

use std::collections::{BTreeSet, HashMap};
use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use super::corpus::Paragraph;
use super::iob2::{EntitySpan, EntityType, Iob2Reader, entity_spans};
use super::trainer::TrainError;
use crate::pipeline::classifier::SoftmaxHead;
use crate::pipeline::ner::{Biluo, OUTSIDE, biluo_tags};

/// The BILUO labels over PER, ORG and LOC, in class order.
pub(crate) fn labels() -> Vec<String> {
    let mut labels = vec![OUTSIDE.to_owned()];
    for kind in ["LOC", "ORG", "PER"] {
        labels.extend(["B", "I", "L", "U"].map(|p| format!("{p}-{kind}")));
    }
    labels
}

/// Entity spans of every sentence of an IOB2 file, by sentence id.
#[derive(Debug, Default)]
pub(crate) struct NerTags {
    by_sentence: HashMap<String, (usize, Vec<EntitySpan>)>,
}

impl NerTags {
    /// Reads `path`.
    pub(crate) fn read(path: &Path) -> Result<Self, TrainError> {
        let err = |reason: String| TrainError::Ner { path: path.to_owned(), reason };
        let file = File::open(path).map_err(|e| err(e.to_string()))?;
        let mut by_sentence = HashMap::new();
        for sentence in Iob2Reader::new(BufReader::new(file)) {
            let sentence = sentence.map_err(|e| err(e.to_string()))?;
            if let Some(id) = sentence.meta.sent_id.clone() {
                by_sentence.insert(id, (sentence.tokens.len(), entity_spans(&sentence.tags)));
            }
        }
        Ok(Self { by_sentence })
    }

    /// The entity spans of each sentence of `paragraph` (paragraph token offsets), or `None`
    /// for a sentence without matching annotations.
    pub(crate) fn spans(&self, paragraph: &Paragraph) -> Vec<Option<Vec<EntitySpan>>> {
        let mut offset = 0;
        let mut out = Vec::with_capacity(paragraph.sentences.len());
        for sentence in &paragraph.sentences {
            let n = sentence.words.len();
            let found = sentence.meta.sent_id.as_ref().and_then(|id| self.by_sentence.get(id));
            out.push(found.filter(|(len, _)| *len == n).map(|(_, spans)| {
                spans
                    .iter()
                    .map(|s| EntitySpan { start: s.start + offset, end: s.end + offset, ..*s })
                    .collect()
            }));
            offset += n;
        }
        out
    }

    /// The gold class of every word of `paragraph` under `head`'s labels.
    pub(crate) fn classes(&self, paragraph: &Paragraph, head: &SoftmaxHead) -> Vec<Option<u32>> {
        let mut classes = Vec::with_capacity(paragraph.len());
        for (sentence, spans) in paragraph.sentences.iter().zip(self.spans(paragraph)) {
            let n = sentence.words.len();
            match spans {
                Some(spans) => {
                    let base = classes.len();
                    let local: Vec<_> = spans
                        .iter()
                        .map(|s| (s.start - base, s.end - base, s.label.as_str()))
                        .collect();
                    classes.extend(biluo_tags(n, &local).iter().map(|t| head.class_of(t)));
                }
                None => classes.extend(std::iter::repeat_n(None, n)),
            }
        }
        classes
    }
}

/// The entities of a decoded class path (BILUO labels of `head`), offset by `offset`.
pub(crate) fn path_spans(head: &SoftmaxHead, path: &[u32], offset: usize) -> Vec<EntitySpan> {
    let mut spans = Vec::new();
    let mut start = 0;
    for (i, &class) in path.iter().enumerate() {
        let Some((position, Some(label))) = Biluo::parse(&head.labels()[class as usize]) else {
            continue;
        };
        let Some(label) = EntityType::from_name(label) else { continue };
        if matches!(position, Biluo::Begin | Biluo::Unit) {
            start = i;
        }
        if matches!(position, Biluo::Last | Biluo::Unit) {
            spans.push(EntitySpan { start: start + offset, end: i + 1 + offset, label });
        }
    }
    spans
}

/// Exact-span match counts.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct SpanCounts {
    correct: usize,
    predicted: usize,
    gold: usize,
}

impl SpanCounts {
    /// Adds one segment's predicted and gold spans.
    pub(crate) fn add(&mut self, predicted: &[EntitySpan], gold: &[EntitySpan]) {
        let gold_set: BTreeSet<_> = gold.iter().collect();
        self.correct += predicted.iter().filter(|s| gold_set.contains(s)).count();
        self.predicted += predicted.len();
        self.gold += gold.len();
    }

    /// F1 in percent.
    pub(crate) fn f1(&self) -> f64 {
        200.0 * self.correct as f64 / (self.predicted + self.gold).max(1) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::conllu::ConlluReader;
    use crate::pipeline::nn::Rng;
    use crate::train::corpus::Corpus;

    #[test]
    fn tags_join_paragraphs_by_sentence_id() {
        let conllu = "# sent_id = a\n1\tAda\tAda\tPROPN\tNNP\t_\t0\troot\t_\t_\n2\tsang\tsing\tVERB\tVBD\t_\t1\tdep\t_\t_\n\n\
                      # sent_id = b\n1\tIn\tin\tADP\tIN\t_\t2\tcase\t_\t_\n2\tNew\tNew\tPROPN\tNNP\t_\t0\troot\t_\t_\n3\tYork\tYork\tPROPN\tNNP\t_\t2\tflat\t_\t_\n\n\
                      # sent_id = c\n1\tHi\thi\tINTJ\tUH\t_\t0\troot\t_\t_\n\n";
        let iob2 = "# sent_id = a\n1\tAda\tB-PER\n2\tsang\tO\n\n# sent_id = b\n1\tIn\tO\n2\tNew\tB-LOC\n3\tYork\tI-LOC\n\n";
        let dir = std::env::temp_dir().join(format!("nlpd-ner-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.iob2");
        std::fs::write(&path, iob2).unwrap();
        let tags = NerTags::read(&path).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let mut corpus = Corpus::default();
        for sentence in ConlluReader::new(conllu.as_bytes()) {
            corpus.push(sentence.unwrap());
        }
        let paragraph = Paragraph {
            sentences: corpus.paragraphs.iter().flat_map(|p| p.sentences.clone()).collect(),
        };
        let spans = tags.spans(&paragraph);
        assert_eq!(spans[1], Some(vec![EntitySpan { start: 3, end: 5, label: EntityType::Loc }]));
        assert_eq!(spans[2], None);
        let head = SoftmaxHead::new(labels(), 2, &mut Rng::new(1));
        let classes = tags.classes(&paragraph, &head);
        let names: Vec<_> =
            classes.iter().map(|c| c.map(|c| head.labels()[c as usize].as_str())).collect();
        assert_eq!(
            names,
            [Some("U-PER"), Some("O"), Some("O"), Some("B-LOC"), Some("L-LOC"), None]
        );
        let path: Vec<u32> = classes[..5].iter().map(|c| c.unwrap()).collect();
        assert_eq!(
            path_spans(&head, &path, 0),
            [spans[0].clone().unwrap(), spans[1].clone().unwrap()].concat()
        );
        let mut counts = SpanCounts::default();
        counts.add(&spans[1].clone().unwrap(), &spans[1].clone().unwrap());
        assert_eq!(counts.f1(), 100.0);
    }
}

//! Training corpora: CoNLL-U sentences grouped into paragraphs.
//!
//! # Overview
//!
//! [`Corpus::read`] reads a CoNLL-U file with the project's reader and groups its sentences
//! into [`Paragraph`]s (a paragraph starts at each `# newpar` or `# newdoc`). Paragraphs are
//! the training unit: the raw-text setting feeds whole paragraphs to the pipeline, so the
//! encoder and the parser (which also finds sentence boundaries) train on the same shape.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use crate::doc::ReadError;
use crate::doc::conllu::{ConlluDocument, ConlluReader, ConlluSentence, ConlluWord};
use crate::doc::{Doc, Pos};
use crate::vocab::Zone;

use super::TrainError;

/// Consecutive sentences of one paragraph.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Paragraph {
    /// The sentences, with gold annotations.
    pub sentences: Vec<ConlluSentence>,
}

impl Paragraph {
    /// Every word, in order.
    pub fn words(&self) -> impl Iterator<Item = &ConlluWord> {
        self.sentences.iter().flat_map(|s| &s.words)
    }

    /// Number of words.
    pub fn len(&self) -> usize {
        self.sentences.iter().map(|s| s.words.len()).sum()
    }

    /// Whether the paragraph has no words.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A Doc of exactly these words (no annotations), with gold sentence starts.
    pub fn to_doc<'z>(&self, zone: &'z Zone<'z>) -> Doc<'z> {
        let document = ConlluDocument { sentences: self.sentences.clone() };
        document.to_doc(zone, crate::doc::conllu::Keep::Words)
    }

    /// The gold head of each word as an index into the paragraph (its own index for a
    /// root), or `None` where the file has none.
    pub fn heads(&self) -> Vec<Option<usize>> {
        let mut heads = Vec::with_capacity(self.len());
        let mut offset = 0;
        for sentence in &self.sentences {
            for (i, word) in sentence.words.iter().enumerate() {
                heads.push(word.head.map(|h| if h == 0 { offset + i } else { offset + h - 1 }));
            }
            offset += sentence.words.len();
        }
        heads
    }

    /// Whether each word starts a sentence.
    pub fn sent_starts(&self) -> Vec<bool> {
        self.sentences.iter().flat_map(|s| (0..s.words.len()).map(|i| i == 0)).collect()
    }

    /// The gold UPOS of each word.
    pub fn upos(&self) -> Vec<Option<Pos>> {
        self.words().map(|w| w.upos).collect()
    }
}

/// The paragraphs of one CoNLL-U file.
#[derive(Clone, Debug, Default)]
pub struct Corpus {
    /// The paragraphs, in file order.
    pub paragraphs: Vec<Paragraph>,
}

impl Corpus {
    /// Reads `path`.
    ///
    /// # Errors
    ///
    /// Returns [`TrainError::ReadConllu`] if the file cannot be opened or is not valid CoNLL-U.
    pub fn read(path: &Path) -> Result<Self, TrainError> {
        let read_err = |source: ReadError| TrainError::ReadConllu { path: path.to_owned(), source };
        let file =
            File::open(path).map_err(|source| read_err(ReadError::Io { line: 0, source }))?;
        ConlluReader::new(BufReader::new(file)).map(|s| s.map_err(read_err)).collect()
    }

    /// Appends a sentence, opening a new paragraph at `# newpar` / `# newdoc`.
    pub fn push(&mut self, sentence: ConlluSentence) {
        let starts = sentence.meta.newpar.is_some() || sentence.meta.newdoc.is_some();
        match self.paragraphs.last_mut() {
            Some(paragraph) if !starts => paragraph.sentences.push(sentence),
            _ => self.paragraphs.push(Paragraph { sentences: vec![sentence] }),
        }
    }

    /// Number of words.
    pub fn words(&self) -> usize {
        self.paragraphs.iter().map(Paragraph::len).sum()
    }
}

impl FromIterator<ConlluSentence> for Corpus {
    /// The corpus of `sentences`, in order (see [`Corpus::push`]).
    fn from_iter<I: IntoIterator<Item = ConlluSentence>>(sentences: I) -> Self {
        let mut corpus = Corpus::default();
        sentences.into_iter().for_each(|s| corpus.push(s));
        corpus
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
# newdoc id = d1
# newpar id = p1
# text = Dogs bark.
1\tDogs\tdog\tNOUN\tNNS\tNumber=Plur\t2\tnsubj\t_\t_
2\tbark\tbark\tVERB\tVBP\t_\t0\troot\t_\tSpaceAfter=No
3\t.\t.\tPUNCT\t.\t_\t2\tpunct\t_\t_

# text = Cats too.
1\tCats\tcat\tNOUN\tNNS\tNumber=Plur\t0\troot\t_\t_
2\ttoo\ttoo\tADV\tRB\t_\t1\tadvmod\t_\tSpaceAfter=No
3\t.\t.\tPUNCT\t.\t_\t1\tpunct\t_\tSpaceAfter=No

# newpar id = p2
# text = Yes
1\tYes\tyes\tINTJ\tUH\t_\t0\troot\t_\t_

";

    #[test]
    fn sentences_group_into_paragraphs_with_paragraph_heads() {
        let corpus: Corpus = ConlluReader::new(TEXT.as_bytes()).map(Result::unwrap).collect();
        assert_eq!(corpus.paragraphs.len(), 2);
        assert_eq!(corpus.words(), 7);
        let first = &corpus.paragraphs[0];
        assert_eq!(first.heads(), [1, 1, 1, 3, 3, 3].map(Some));
        assert_eq!(first.sent_starts(), [true, false, false, true, false, false]);
        let vocab = crate::vocab::Vocab::new();
        let zone = vocab.zone();
        assert_eq!(first.to_doc(&zone).text(), "Dogs bark. Cats too.");
    }
}

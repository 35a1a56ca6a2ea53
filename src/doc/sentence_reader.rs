//! The sentence iterator shared by the line-based readers (CoNLL-U, IOB2).
//!
//! # Overview
//!
//! A format implements [`ReadSentence`]: it reads the next sentence of its input.
//! [`SentenceReader`] turns such a parser into an iterator that stops after the first error,
//! since a parser that failed mid-sentence is at no sentence boundary to resume from.
//! [`ConlluReader`](super::conllu::ConlluReader) and [`Iob2Reader`](super::iob2::Iob2Reader)
//! are this reader over their format's parser; [`SentenceReader::documents`] groups the
//! sentences of either into documents.

use std::iter::Peekable;

use super::ReadError;

/// Reads a line-based format one sentence at a time.
pub trait ReadSentence {
    /// One sentence of the format.
    type Sentence;

    /// Reads the next sentence, or `None` at the end of the input.
    ///
    /// # Errors
    ///
    /// Returns an error if a line is invalid in the format or the input cannot be read.
    fn read_sentence(&mut self) -> Result<Option<Self::Sentence>, ReadError>;
}

/// Reads sentences with a [`ReadSentence`] parser. Iterating yields each sentence or the
/// first error, after which the iterator ends.
#[derive(Debug)]
pub struct SentenceReader<P> {
    parser: P,
    failed: bool,
}

impl<P> SentenceReader<P> {
    /// A reader that reads with `parser`.
    pub(crate) fn from_parser(parser: P) -> Self {
        Self { parser, failed: false }
    }

    /// The parser, for format-specific state such as the current line number.
    pub(crate) fn parser(&self) -> &P {
        &self.parser
    }
}

/// A sentence of a format that marks where documents start (`# newdoc`).
pub trait DocumentSentence: Sized {
    /// A document of the format: consecutive sentences.
    type Document;

    /// Whether a `# newdoc` comes before the sentence.
    fn starts_document(&self) -> bool;

    /// The document made of `sentences`.
    fn document(sentences: Vec<Self>) -> Self::Document;
}

impl<P: ReadSentence> SentenceReader<P>
where
    P::Sentence: DocumentSentence,
{
    /// Groups the sentences into documents: a document starts at each `# newdoc`; sentences
    /// before the first `# newdoc` (all of them in a file without one) are documents of their
    /// own.
    pub fn documents(self) -> Documents<P> {
        Documents { sentences: self.peekable(), in_marked_document: false }
    }
}

/// The documents of an input; see [`SentenceReader::documents`].
pub struct Documents<P: ReadSentence> {
    sentences: Peekable<SentenceReader<P>>,
    in_marked_document: bool,
}

impl<P: ReadSentence> std::fmt::Debug for Documents<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Self { in_marked_document, .. } = self;
        f.debug_struct("Documents").field("in_marked_document", in_marked_document).finish()
    }
}

impl<P: ReadSentence> Iterator for Documents<P>
where
    P::Sentence: DocumentSentence,
{
    type Item = Result<<P::Sentence as DocumentSentence>::Document, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        let first = match self.sentences.next()? {
            Ok(sentence) => sentence,
            Err(err) => return Some(Err(err)),
        };
        self.in_marked_document |= first.starts_document();
        let mut sentences = vec![first];
        if self.in_marked_document {
            // An error ends the document here and is reported by the next call.
            while let Some(sentence) =
                self.sentences.next_if(|next| next.as_ref().is_ok_and(|s| !s.starts_document()))
            {
                sentences.extend(sentence.ok());
            }
        }
        Some(Ok(P::Sentence::document(sentences)))
    }
}

impl<P: ReadSentence> Iterator for SentenceReader<P> {
    type Item = Result<P::Sentence, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let result = self.parser.read_sentence();
        self.failed = result.is_err();
        result.transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the parser returns.
    type Step = Result<Option<u32>, ReadError>;
    /// What iterating yields: a sentence, or the line of an error.
    type Yielded = Result<u32, usize>;

    /// Replays scripted steps: `Some(n)` a sentence, `None` the end, `Err` an error; the end
    /// once they run out.
    struct Script(std::vec::IntoIter<Step>);

    impl ReadSentence for Script {
        type Sentence = u32;

        fn read_sentence(&mut self) -> Step {
            self.0.next().unwrap_or(Ok(None))
        }
    }

    fn bad(line: usize) -> ReadError {
        ReadError::BadLine { line, reason: "scripted".into() }
    }

    #[test]
    fn yields_sentences_until_the_end_or_the_first_error() {
        let cases: [(Vec<Step>, Vec<Yielded>); 4] = [
            (vec![], vec![]),
            (vec![Ok(Some(1)), Ok(Some(2))], vec![Ok(1), Ok(2)]),
            (vec![Ok(Some(1)), Err(bad(3)), Ok(Some(2))], vec![Ok(1), Err(3)]),
            (vec![Err(bad(1)), Err(bad(2))], vec![Err(1)]),
        ];
        for (script, expected) in cases {
            let mut reader = SentenceReader::from_parser(Script(script.into_iter()));
            let got: Vec<Yielded> = reader
                .by_ref()
                .map(|item| {
                    item.map_err(|err| match err {
                        ReadError::BadLine { line, .. } => line,
                        ReadError::Io { .. } => unreachable!("no I/O in the script"),
                    })
                })
                .collect();
            assert_eq!(got, expected);
            assert!(reader.next().is_none(), "the reader stays ended");
        }
    }
}

//! The sentence writer shared by the line-based formats (CoNLL-U, IOB2).
//!
//! # Overview
//!
//! [`SentenceWriter`] walks a [`Doc`]'s sentences, leaves whitespace tokens out, numbers the
//! sentences and writes the comments that open each one (`# newdoc`, `# newpar`, `# sent_id`,
//! `# text`) and the blank line that closes it. A format implements [`WriteSentence`] to
//! write the word lines in between.
//! [`ConlluWriter`](super::conllu::ConlluWriter) and [`Iob2Writer`](super::iob2::Iob2Writer)
//! are this writer with their format.

use std::io::{self, Write};

use super::Doc;
use super::conllu::SentenceMeta;
use crate::vocab::LexFlags;

/// Writes the word lines of one sentence in a line-based format.
pub trait WriteSentence {
    /// Writes the words of one sentence, one line each.
    ///
    /// # Errors
    ///
    /// Returns an error if writing fails.
    fn write_words(&self, out: &mut impl Write, sentence: SentenceWords<'_, '_>) -> io::Result<()>;
}

/// One sentence of a [`Doc`] as a [`WriteSentence`] format gets it: its non-whitespace
/// tokens (at least one) and the text around them.
#[derive(Clone, Copy, Debug)]
pub struct SentenceWords<'a, 'z> {
    doc: &'a Doc<'z>,
    /// Token indices of every non-whitespace token of `doc`, in order.
    all: &'a [usize],
    /// The sentence's part of `all`.
    start: usize,
    end: usize,
}

impl<'a, 'z> SentenceWords<'a, 'z> {
    /// The document.
    pub fn doc(&self) -> &'a Doc<'z> {
        self.doc
    }

    /// Token indices of the sentence's words, in order.
    pub fn indices(&self) -> &'a [usize] {
        &self.all[self.start..self.end]
    }

    /// Whether text (whitespace) follows the `k`-th word of the sentence before the next
    /// word of the document, or before its end.
    ///
    /// # Panics
    ///
    /// Panics if the sentence has no `k`-th word.
    pub fn space_after(&self, k: usize) -> bool {
        let g = self.start + k;
        assert!(g < self.end, "word {k} is past the end of the sentence");
        let end = self.doc.token(self.all[g]).span().byte_end;
        let next = self
            .all
            .get(g + 1)
            .map_or(self.doc.text().len(), |&i| self.doc.token(i).span().byte_start);
        next > end
    }

    /// The text from the first word's start to the last word's end.
    fn text(&self) -> &'a str {
        let words = self.indices();
        let (first, last) = (self.doc.token(words[0]), self.doc.token(words[words.len() - 1]));
        &self.doc.text()[first.span().byte_start..last.span().byte_end]
    }
}

/// Writes documents in the format `F`, numbering sentences that have no `sent_id` of their
/// own (1, 2, … across everything this writer writes, so ids stay unique in one file).
///
/// A document is first rendered ([`SentenceWriter::render`], which needs no writer, so
/// worker threads can do it for documents ahead of their turn) and then written in order
/// ([`SentenceWriter::write_rendered`]), which fills in the running sentence numbers;
/// [`SentenceWriter::write_doc`] does both.
#[derive(Debug)]
pub struct SentenceWriter<W, F> {
    out: W,
    sentences: usize,
    /// The rendering buffer [`SentenceWriter::write_doc`] reuses.
    scratch: RenderedSentences,
    format: std::marker::PhantomData<F>,
}

/// A document's sentences in a line-based format, written before it is known how many
/// sentences precede them: the bytes, with a gap wherever a running sentence number goes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RenderedSentences {
    bytes: Vec<u8>,
    /// Where each running number goes: a byte offset into `bytes` and the index of its
    /// sentence in the document.
    gaps: Vec<(usize, usize)>,
    /// Sentences rendered (each takes a number, whether or not it shows it).
    sentences: usize,
}

impl<W: Write, F: WriteSentence + Default> SentenceWriter<W, F> {
    /// A writer into `out` (wrap files and stdout in a `BufWriter`).
    pub fn new(out: W) -> Self {
        Self {
            out,
            sentences: 0,
            scratch: RenderedSentences::default(),
            format: std::marker::PhantomData,
        }
    }

    /// The underlying writer.
    pub fn into_inner(self) -> W {
        self.out
    }

    /// Writes the sentences of `doc`. The `n`-th sentence written takes the `n`-th item of
    /// `metas` (`# newdoc`, `# newpar`, `# sent_id`); sentences past the end of `metas` get
    /// no `# newdoc`/`# newpar` and a running `sent_id`. Whitespace tokens are left out and
    /// sentences made only of them are skipped.
    ///
    /// # Errors
    ///
    /// Returns an error if writing fails.
    pub fn write_doc<'m>(
        &mut self,
        doc: &Doc<'_>,
        metas: impl IntoIterator<Item = &'m SentenceMeta>,
    ) -> io::Result<()> {
        let mut rendered = std::mem::take(&mut self.scratch);
        Self::render_into(doc, metas, &mut rendered)?;
        let written = self.write_rendered(&rendered);
        self.scratch = rendered;
        written
    }

    /// The sentences of `doc` as [`SentenceWriter::write_doc`] writes them, to be written
    /// by [`SentenceWriter::write_rendered`].
    ///
    /// # Errors
    ///
    /// Returns an error if the format fails to write a sentence.
    pub fn render<'m>(
        doc: &Doc<'_>,
        metas: impl IntoIterator<Item = &'m SentenceMeta>,
    ) -> io::Result<RenderedSentences> {
        let mut rendered = RenderedSentences::default();
        Self::render_into(doc, metas, &mut rendered)?;
        Ok(rendered)
    }

    /// [`SentenceWriter::render`] into a buffer (whose contents it replaces).
    fn render_into<'m>(
        doc: &Doc<'_>,
        metas: impl IntoIterator<Item = &'m SentenceMeta>,
        rendered: &mut RenderedSentences,
    ) -> io::Result<()> {
        let RenderedSentences { bytes, gaps, sentences } = rendered;
        bytes.clear();
        gaps.clear();
        *sentences = 0;
        let format = F::default();
        let words: Vec<usize> =
            doc.iter().filter(|t| !t.lex().is(LexFlags::IS_SPACE)).map(|t| t.i()).collect();
        let mut metas = metas.into_iter();
        for sent in doc.sents() {
            let start = words.partition_point(|&i| i < sent.start());
            let end = words.partition_point(|&i| i < sent.end());
            if start == end {
                continue;
            }
            let sentence = SentenceWords { doc, all: &words, start, end };
            let (meta, text, index) = (metas.next(), sentence.text(), *sentences);
            SentenceMeta::write_comments(meta, text, bytes, |bytes| {
                gaps.push((bytes.len(), index));
                Ok(())
            })?;
            format.write_words(bytes, sentence)?;
            writeln!(bytes)?;
            *sentences += 1;
        }
        Ok(())
    }

    /// Writes a document [rendered](SentenceWriter::render) for this format, numbering its
    /// sentences after those written before.
    ///
    /// # Errors
    ///
    /// Returns an error if writing fails.
    pub fn write_rendered(&mut self, rendered: &RenderedSentences) -> io::Result<()> {
        let mut at = 0;
        for &(offset, index) in &rendered.gaps {
            self.out.write_all(&rendered.bytes[at..offset])?;
            write!(self.out, "{}", self.sentences + index + 1)?;
            at = offset;
        }
        self.out.write_all(&rendered.bytes[at..])?;
        self.sentences += rendered.sentences;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::TokenData;
    use crate::vocab::Vocab;

    /// A format with one line per word: its text.
    #[derive(Default)]
    struct Forms;

    impl WriteSentence for Forms {
        fn write_words(
            &self,
            out: &mut impl Write,
            words: SentenceWords<'_, '_>,
        ) -> io::Result<()> {
            let doc = words.doc();
            words.indices().iter().try_for_each(|&i| writeln!(out, "{}", doc.token(i).text()))
        }
    }

    #[test]
    fn skips_whitespace_and_numbers_sentences_across_docs() {
        let vocab = Vocab::new();
        let zone = vocab.zone();
        // Sentences: "a b", "\n" (whitespace only), "c".
        let text = "a b \n c";
        let spans = [(0, 1, true), (2, 3, true), (4, 5, true), (6, 7, false)];
        let tokens = spans
            .iter()
            .map(|&(start, end, space)| {
                TokenData::new(zone.lexeme(&text[start..end]), start, end, space)
            })
            .collect();
        let mut doc = Doc::new(&zone, text.to_owned(), tokens);
        for i in [2, 3] {
            doc.tokens_mut()[i].sent_start = Some(true);
        }
        let named = SentenceMeta { sent_id: Some("x".into()), ..SentenceMeta::default() };
        // (metas of each write_doc call, expected output of both calls)
        let cases: [(&[SentenceMeta], &str); 2] = [
            (
                &[],
                "# sent_id = 1\n# text = a b\na\nb\n\n# sent_id = 2\n# text = c\nc\n\n\
                 # sent_id = 3\n# text = a b\na\nb\n\n# sent_id = 4\n# text = c\nc\n\n",
            ),
            (
                std::slice::from_ref(&named),
                "# sent_id = x\n# text = a b\na\nb\n\n# sent_id = 2\n# text = c\nc\n\n\
                 # sent_id = x\n# text = a b\na\nb\n\n# sent_id = 4\n# text = c\nc\n\n",
            ),
        ];
        for (metas, expected) in cases {
            let mut out = SentenceWriter::<_, Forms>::new(Vec::new());
            for _ in 0..2 {
                out.write_doc(&doc, metas).unwrap();
            }
            assert_eq!(String::from_utf8(out.into_inner()).unwrap(), expected, "{metas:?}");
        }
    }
}

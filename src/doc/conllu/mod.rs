//! CoNLL-U reading and writing.
//!
//! # Overview
//!
//! [`ConlluReader`] streams a CoNLL-U file as [`ConlluSentence`]s: plain owned data (words
//! with every annotation column, multiword tokens, sentence metadata) that training and
//! evaluation use without any zone. [`ConlluReader::documents`] groups the sentences into
//! [`ConlluDocument`]s (one per `# newdoc`), and [`ConlluDocument::to_doc`] turns one into a
//! [`Doc`] that keeps the given words, spacing, multiword tokens and sentence breaks, with or
//! without the gold annotations ([`Keep`]). [`ConlluSentence::tree_defect`] checks that the
//! HEADs form one tree ([`TreeDefect`] says how they fail), which
//! [`ConlluReader::with_tree_check`] requires of every sentence.
//!
//! [`ConlluWriter`] writes a [`Doc`] back: `# newdoc`/`# newpar`/`# sent_id`/`# text`
//! comments, one line per word, range lines (`3-4  don't`) for words the tokenizer fused,
//! `SpaceAfter=No`, `_` for unset columns and HEAD 0 for roots. Whitespace tokens are not
//! words in CoNLL-U, so the writer leaves them out (the spacing stays right).
//!
//! ```
//! use nlpd::doc::conllu::{ConlluReader, ConlluWriter, Keep};
//! use nlpd::vocab::Vocab;
//!
//! let input = "# sent_id = s1\n# text = Hi!\n\
//!              1\tHi\thi\tINTJ\tUH\t_\t0\troot\t_\tSpaceAfter=No\n\
//!              2\t!\t!\tPUNCT\t.\t_\t1\tpunct\t_\tSpaceAfter=No\n\n";
//! let vocab = Vocab::new();
//! let zone = vocab.zone();
//! let mut out = ConlluWriter::new(Vec::new());
//! for document in ConlluReader::new(input.as_bytes()).documents() {
//!     let document = document?;
//!     let doc = document.to_doc(&zone, Keep::Annotations);
//!     out.write_doc(&doc, document.metas())?;
//! }
//! assert_eq!(String::from_utf8(out.into_inner()).unwrap(), input);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod read;
mod tree;
mod write;

pub use read::{ConlluParser, ConlluReader};
pub use tree::TreeDefect;
pub use write::{ConlluFormat, ConlluWriter};

use super::{Doc, Pos, TokenIdx};
use crate::vocab::Zone;

/// The sentence-level comments a CoNLL-U file carries besides `# text`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SentenceMeta {
    /// `# newdoc` before this sentence: `Some(id)` (an empty id for a bare `# newdoc`).
    pub newdoc: Option<String>,
    /// `# newpar` before this sentence: `Some(id)` (an empty id for a bare `# newpar`).
    pub newpar: Option<String>,
    /// `# sent_id`.
    pub sent_id: Option<String>,
}

impl SentenceMeta {
    /// The metadata of a document's first sentence when the document has no id.
    pub fn new_document() -> Self {
        Self { newdoc: Some(String::new()), ..Self::default() }
    }

    /// Reads one comment line (without its `#`): `newdoc`, `newpar` and `sent_id` are kept
    /// here and `text` in `text`; other comments are ignored.
    pub fn read_comment(&mut self, comment: &str, text: &mut Option<String>) {
        let comment = comment.trim_start();
        let (key, value) = match comment.split_once('=') {
            Some((key, value)) => (key.trim(), value.strip_prefix(' ').unwrap_or(value)),
            None => (comment.trim(), ""),
        };
        match key {
            "newdoc" | "newdoc id" => self.newdoc = Some(value.trim().to_owned()),
            "newpar" | "newpar id" => self.newpar = Some(value.trim().to_owned()),
            "sent_id" => self.sent_id = Some(value.trim().to_owned()),
            "text" => *text = Some(value.to_owned()),
            _ => {}
        }
    }

    /// Writes the comments that open a sentence: `# newdoc`, `# newpar` (when set),
    /// `# sent_id` and `# text` (other whitespace than spaces becomes a space, since a
    /// comment is one line). A sentence without an id of its own gets what `number` writes
    /// after `# sent_id = ` (its running number).
    ///
    /// # Errors
    ///
    /// Returns an error if writing fails.
    pub fn write_comments<W: std::io::Write>(
        meta: Option<&Self>,
        text: &str,
        out: &mut W,
        number: impl FnOnce(&mut W) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        if let Some(meta) = meta {
            for (key, value) in [("newdoc", &meta.newdoc), ("newpar", &meta.newpar)] {
                match value.as_deref() {
                    Some("") => writeln!(out, "# {key}")?,
                    Some(id) => writeln!(out, "# {key} id = {id}")?,
                    None => {}
                }
            }
        }
        match meta.and_then(|meta| meta.sent_id.as_deref()) {
            Some(id) => writeln!(out, "# sent_id = {id}")?,
            None => {
                write!(out, "# sent_id = ")?;
                number(out)?;
                writeln!(out)?;
            }
        }
        let text = text.replace(|c: char| c.is_whitespace() && c != ' ', " ");
        writeln!(out, "# text = {text}")
    }
}

/// One syntactic word (a line with an integer ID). `None` stands for `_`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConlluWord {
    /// FORM.
    pub form: String,
    /// LEMMA.
    pub lemma: Option<String>,
    /// UPOS.
    pub upos: Option<Pos>,
    /// XPOS (Penn tag in English treebanks).
    pub xpos: Option<String>,
    /// FEATS, as written ("Number=Sing|Person=3").
    pub feats: Option<String>,
    /// HEAD: 0 for the root, else the 1-based ID of the head word in the sentence.
    pub head: Option<usize>,
    /// DEPREL.
    pub deprel: Option<String>,
    /// Whether a space follows the word (false with `SpaceAfter=No`, and for every word of a
    /// multiword token but the last, which takes the range line's value).
    pub space_after: bool,
}

/// A multiword token: one surface token (`don't`) holding several words (`do`, `n't`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MultiwordToken {
    /// 0-based index of its first word in [`ConlluSentence::words`].
    pub first: usize,
    /// 0-based index of its last word (inclusive).
    pub last: usize,
    /// The surface form.
    pub form: String,
}

/// One sentence of a CoNLL-U file, as owned data.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConlluSentence {
    /// `# newdoc`, `# newpar` and `# sent_id`.
    pub meta: SentenceMeta,
    /// `# text`.
    pub text: Option<String>,
    /// The syntactic words, in order (empty nodes are skipped).
    pub words: Vec<ConlluWord>,
    /// The multiword tokens, in order.
    pub multiword_tokens: Vec<MultiwordToken>,
}

/// Consecutive sentences forming one document (see [`ConlluReader::documents`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConlluDocument {
    /// The sentences.
    pub sentences: Vec<ConlluSentence>,
}

/// What [`ConlluDocument::to_doc`] carries over into the [`Doc`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keep {
    /// Words, spacing, multiword tokens and sentence breaks only: the input of a pipeline
    /// that re-annotates pre-tokenised text.
    Words,
    /// Everything above plus LEMMA, UPOS, XPOS, FEATS, HEAD and DEPREL.
    Annotations,
}

impl ConlluDocument {
    /// The metadata of each sentence, for [`ConlluWriter::write_doc`].
    pub fn metas(&self) -> impl Iterator<Item = &SentenceMeta> {
        self.sentences.iter().map(|sentence| &sentence.meta)
    }

    /// Number of words over all sentences.
    pub fn word_count(&self) -> usize {
        self.sentences.iter().map(|sentence| sentence.words.len()).sum()
    }

    /// A [`Doc`] with exactly these words (its text is the words joined by their spacing),
    /// multiword tokens marked as fused words, and each sentence's first word starting a
    /// sentence (the others marked as not starting one). With [`Keep::Annotations`] the
    /// annotation columns are copied too; heads become absolute token indices.
    ///
    /// The words of a multiword token are joined without space, so the text matches the
    /// surface form whenever the words spell it, as they do in English.
    pub fn to_doc<'z>(&self, zone: &'z Zone<'z>, keep: Keep) -> Doc<'z> {
        let words = self.sentences.iter().flat_map(|sentence| &sentence.words);
        let forms: Vec<&str> = words.clone().map(|word| word.form.as_str()).collect();
        let spaces: Vec<bool> = words.map(|word| word.space_after).collect();
        let mut doc = Doc::from_words(zone, &forms, &spaces);
        let mut offset = 0;
        for sentence in &self.sentences {
            let tokens = &mut doc.tokens_mut()[offset..offset + sentence.words.len()];
            for (i, (token, word)) in tokens.iter_mut().zip(&sentence.words).enumerate() {
                token.sent_start = Some(i == 0);
                if keep == Keep::Annotations {
                    let intern = |text: &Option<String>| text.as_deref().map(|t| zone.intern(t));
                    token.lemma = intern(&word.lemma);
                    token.pos = word.upos;
                    token.tag = intern(&word.xpos);
                    token.morph = intern(&word.feats);
                    token.dep = intern(&word.deprel);
                    token.head = word.head.map(|head| {
                        TokenIdx::new(match head {
                            0 => offset + i,
                            head => offset + head - 1,
                        })
                    });
                }
            }
            for mwt in &sentence.multiword_tokens {
                for token in &mut tokens[mwt.first..mwt.last] {
                    *token = token.fused();
                }
            }
            offset += sentence.words.len();
        }
        doc
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::Vocab;

    /// Written for these tests: a document with paragraphs, a multiword token, a word
    /// without a following space, and every annotation column.
    const ANNOTATED: &str = "\
# newdoc id = mail-1
# newpar id = mail-1-p1
# sent_id = mail-1-s1
# text = I don't know Zoë's cat.
1\tI\tI\tPRON\tPRP\tCase=Nom|Number=Sing|Person=1|PronType=Prs\t4\tnsubj\t_\t_
2-3\tdon't\t_\t_\t_\t_\t_\t_\t_\t_
2\tdo\tdo\tAUX\tVBP\tMood=Ind|Tense=Pres|VerbForm=Fin\t4\taux\t_\t_
3\tn't\tnot\tPART\tRB\tPolarity=Neg\t4\tadvmod\t_\t_
4\tknow\tknow\tVERB\tVB\tVerbForm=Inf\t0\troot\t_\t_
5-6\tZoë's\t_\t_\t_\t_\t_\t_\t_\t_
5\tZoë\tZoë\tPROPN\tNNP\tNumber=Sing\t7\tnmod:poss\t_\t_
6\t's\t's\tPART\tPOS\t_\t5\tcase\t_\t_
7\tcat\tcat\tNOUN\tNN\tNumber=Sing\t4\tobj\t_\tSpaceAfter=No
8\t.\t.\tPUNCT\t.\t_\t4\tpunct\t_\t_

# newpar id = mail-1-p2
# sent_id = mail-1-s2
# text = Thanks!
1\tThanks\tthanks\tNOUN\tNNS\tNumber=Plur\t0\troot\t_\tSpaceAfter=No
2\t!\t!\tPUNCT\t.\t_\t1\tpunct\t_\tSpaceAfter=No

";

    fn round_trip(input: &str, keep: Keep) -> String {
        let vocab = Vocab::new();
        let mut out = ConlluWriter::new(Vec::new());
        for document in ConlluReader::new(input.as_bytes()).documents() {
            let document = document.expect("valid CoNLL-U");
            let zone = vocab.zone();
            let doc = document.to_doc(&zone, keep);
            out.write_doc(&doc, document.metas()).expect("writing to a Vec");
        }
        String::from_utf8(out.into_inner()).expect("UTF-8")
    }

    #[test]
    fn annotated_sentences_round_trip_exactly() {
        assert_eq!(round_trip(ANNOTATED, Keep::Annotations), ANNOTATED);
    }

    #[test]
    fn keeping_words_drops_annotation_columns() {
        let words_only = round_trip(ANNOTATED, Keep::Words);
        insta::assert_snapshot!(words_only);
        assert_eq!(round_trip(&words_only, Keep::Annotations), words_only);
    }

    #[test]
    fn doc_keeps_words_spacing_fusion_and_sentences() {
        let document = ConlluReader::new(ANNOTATED.as_bytes()).documents().next().unwrap().unwrap();
        assert_eq!(document.word_count(), 10);
        let vocab = Vocab::new();
        let zone = vocab.zone();
        let doc = document.to_doc(&zone, Keep::Annotations);
        assert_eq!(doc.text(), "I don't know Zoë's cat. Thanks!");
        let fused: Vec<_> =
            doc.iter().filter(|t| t.data().fused_with_next()).map(|t| t.text()).collect();
        assert_eq!(fused, ["do", "Zoë"]);
        assert_eq!(doc.sents(), [crate::doc::Span::new(0, 8), crate::doc::Span::new(8, 10)]);
        let heads: Vec<_> = doc.iter().map(|t| t.data().head).collect();
        let expected = [3, 3, 3, 3, 6, 4, 3, 3, 8, 8].map(|i| Some(TokenIdx::new(i)));
        assert_eq!(heads, expected);
        assert_eq!(doc.token(5).resolve(doc.token(5).data().dep), "case");
    }
}

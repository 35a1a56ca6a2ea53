//! IOB2 sentences and documents as [`Doc`]s, and the entities of Docs as IOB2.

use std::io::{self, Write};

use super::{EntityTag, Iob2Document, Iob2Sentence};
use crate::doc::conllu::{Keep, SentenceMeta};
use crate::doc::{Doc, DocumentSentence, EntIob, SentenceWords, SentenceWriter, WriteSentence};
use crate::vocab::Zone;

impl Iob2Sentence {
    /// A one-sentence [`Doc`] with exactly these tokens, spaced as `# text` shows (or with a
    /// space between every two tokens when there is no text or it does not spell the
    /// tokens). With [`Keep::Annotations`] the entity tags are copied too.
    pub fn to_doc<'z>(&self, zone: &'z Zone<'z>, keep: Keep) -> Doc<'z> {
        sentences_to_doc(std::slice::from_ref(self), zone, keep)
    }

    /// Whether a space follows each token (see [`Self::to_doc`]).
    fn spaces(&self) -> Vec<bool> {
        let words: Vec<&str> = self.tokens.iter().map(String::as_str).collect();
        let n = words.len();
        self.text
            .as_deref()
            .and_then(|text| spacing(text, &words))
            .unwrap_or_else(|| (0..n).map(|i| i + 1 < n).collect())
    }
}

impl Iob2Document {
    /// The metadata of each sentence.
    pub fn metas(&self) -> impl Iterator<Item = &SentenceMeta> {
        self.sentences.iter().map(|sentence| &sentence.meta)
    }

    /// A [`Doc`] of every sentence in order, each spaced as [`Iob2Sentence::to_doc`] spaces
    /// it with a space between sentences, and each sentence's first token starting a
    /// sentence. With [`Keep::Annotations`] the entity tags are copied too.
    pub fn to_doc<'z>(&self, zone: &'z Zone<'z>, keep: Keep) -> Doc<'z> {
        sentences_to_doc(&self.sentences, zone, keep)
    }
}

impl DocumentSentence for Iob2Sentence {
    type Document = Iob2Document;

    fn starts_document(&self) -> bool {
        self.meta.newdoc.is_some()
    }

    fn document(sentences: Vec<Self>) -> Iob2Document {
        Iob2Document { sentences }
    }
}

/// The [`Doc`] of consecutive `sentences`; see [`Iob2Document::to_doc`].
fn sentences_to_doc<'z>(sentences: &[Iob2Sentence], zone: &'z Zone<'z>, keep: Keep) -> Doc<'z> {
    let words: Vec<&str> = sentences.iter().flat_map(|s| &s.tokens).map(String::as_str).collect();
    let mut spaces = Vec::with_capacity(words.len());
    for (k, sentence) in sentences.iter().enumerate() {
        spaces.extend(sentence.spaces());
        if let Some(last) = spaces.last_mut().filter(|_| k + 1 < sentences.len()) {
            *last = true;
        }
    }
    let mut doc = Doc::from_words(zone, &words, &spaces);
    let mut offset = 0;
    for sentence in sentences {
        let tokens = &mut doc.tokens_mut()[offset..offset + sentence.tokens.len()];
        offset += sentence.tokens.len();
        for (i, (token, tag)) in tokens.iter_mut().zip(&sentence.tags).enumerate() {
            token.sent_start = Some(i == 0);
            if keep == Keep::Annotations {
                let label = |t: super::EntityType| Some(zone.intern(t.as_str()));
                (token.ent_iob, token.ent_type) = match *tag {
                    EntityTag::Outside => (EntIob::Outside, None),
                    EntityTag::Begin(t) => (EntIob::Begin, label(t)),
                    EntityTag::Inside(t) => (EntIob::Inside, label(t)),
                };
            }
        }
    }
    doc
}

/// Whether a space follows each word in `text`, or `None` if the words do not spell it.
fn spacing(text: &str, words: &[&str]) -> Option<Vec<bool>> {
    let mut rest = text;
    let mut spaces = Vec::with_capacity(words.len());
    for word in words {
        rest = rest.trim_start().strip_prefix(word)?;
        spaces.push(rest.starts_with(char::is_whitespace));
    }
    Some(spaces)
}

/// Writes the entities of documents as IOB2 (`ID<TAB>TOKEN<TAB>TAG`), one block per
/// sentence opened by the same comments as [`ConlluWriter`](crate::doc::conllu::ConlluWriter)
/// writes. Whitespace tokens are left out; tokens outside any entity (or without an entity
/// type) are tagged `O`.
pub type Iob2Writer<W> = SentenceWriter<W, Iob2Format>;

/// The IOB2 format of [`Iob2Writer`]: writes the token lines of a sentence.
#[derive(Clone, Copy, Debug, Default)]
pub struct Iob2Format;

impl WriteSentence for Iob2Format {
    fn write_words(&self, out: &mut impl Write, words: SentenceWords<'_, '_>) -> io::Result<()> {
        for (k, &i) in words.indices().iter().enumerate() {
            let token = words.doc().token(i);
            let data = token.data();
            let prefix = match data.ent_iob {
                EntIob::Begin => "B-",
                EntIob::Inside => "I-",
                EntIob::Outside | EntIob::Missing => "",
            };
            let (id, text) = (k + 1, token.text());
            match (prefix, token.resolve(data.ent_type)) {
                ("", _) | (_, "") => writeln!(out, "{id}\t{text}\tO")?,
                (prefix, label) => writeln!(out, "{id}\t{text}\t{prefix}{label}")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::iob2::Iob2Reader;
    use crate::vocab::Vocab;

    /// Written for these tests.
    const FILE: &str = "\
# newdoc id = d1
# sent_id = d1-1
# text = Ada met Bo (of Acme Ltd.) in Oslo.
1\tAda\tB-PER
2\tmet\tO
3\tBo\tB-PER
4\t(\tO
5\tof\tO
6\tAcme\tB-ORG
7\tLtd.\tI-ORG
8\t)\tO
9\tin\tO
10\tOslo\tB-LOC
11\t.\tO

";

    #[test]
    fn sentences_round_trip_through_docs() {
        let vocab = Vocab::new();
        let mut out = Iob2Writer::new(Vec::new());
        for sentence in Iob2Reader::new(FILE.as_bytes()) {
            let sentence = sentence.unwrap();
            let zone = vocab.zone();
            let doc = sentence.to_doc(&zone, Keep::Annotations);
            assert_eq!(Some(doc.text()), sentence.text.as_deref());
            out.write_doc(&doc, [&sentence.meta]).unwrap();
        }
        assert_eq!(String::from_utf8(out.into_inner()).unwrap(), FILE);
    }

    #[test]
    fn documents_group_sentences_by_newdoc_and_round_trip() {
        let file = "\
# newdoc id = d1
# sent_id = d1-1
# text = Ada met Bo.
1\tAda\tB-PER
2\tmet\tO
3\tBo\tB-PER
4\t.\tO

# sent_id = d1-2
# text = Bo left
1\tBo\tB-PER
2\tleft\tO

# newdoc id = d2
# sent_id = d2-1
# text = Oslo
1\tOslo\tB-LOC

";
        let vocab = Vocab::new();
        let mut out = Iob2Writer::new(Vec::new());
        let documents: Vec<Iob2Document> =
            Iob2Reader::new(file.as_bytes()).documents().collect::<Result<_, _>>().unwrap();
        assert_eq!(documents.iter().map(|d| d.sentences.len()).collect::<Vec<_>>(), [2, 1]);
        for document in &documents {
            let zone = vocab.zone();
            let doc = document.to_doc(&zone, Keep::Annotations);
            out.write_doc(&doc, document.metas()).unwrap();
        }
        assert_eq!(String::from_utf8(out.into_inner()).unwrap(), file);
        let zone = vocab.zone();
        let doc = documents[0].to_doc(&zone, Keep::Words);
        assert_eq!(doc.text(), "Ada met Bo. Bo left");
        assert_eq!(doc.sents().iter().map(|s| s.start()).collect::<Vec<_>>(), [0, 4]);
    }

    #[test]
    fn spacing_follows_the_text_when_it_spells_the_tokens() {
        type Case = (&'static str, &'static [&'static str], Option<Vec<bool>>);
        let cases: [Case; 4] = [
            ("Hi, you.", &["Hi", ",", "you", "."], Some(vec![false, true, false, false])),
            ("  a  b ", &["a", "b"], Some(vec![true, true])),
            ("ab", &["a", "c"], None),
            ("a", &["a", "b"], None),
        ];
        for (text, words, expected) in cases {
            assert_eq!(spacing(text, words), expected, "{text:?}");
        }
        let vocab = Vocab::new();
        let zone = vocab.zone();
        let sentence = Iob2Sentence {
            tokens: vec!["x".into(), "y".into()],
            tags: vec![EntityTag::Outside; 2],
            ..Iob2Sentence::default()
        };
        let doc = sentence.to_doc(&zone, Keep::Words);
        assert_eq!(doc.text(), "x y");
        assert!(doc.iter().all(|t| t.data().ent_iob == EntIob::Missing));
    }
}

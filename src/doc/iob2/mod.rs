//! IOB2 named-entity files in the Universal NER layout.
//!
//! # Overview
//!
//! [`Iob2Reader`] streams [`Iob2Sentence`]s from files of `ID<TAB>TOKEN<TAB>TAG[<TAB>…]`
//! lines, sentences separated by blank lines, `#` comments (`# newdoc`, `# newpar`,
//! `# sent_id` and `# text` are kept). [`Iob2Sentence::to_doc`] makes a [`Doc`] of a
//! sentence and [`Iob2Writer`] writes a Doc's entities back as IOB2. Only the
//! Universal NER v1 types are kept ([`EntityType`]: PER, ORG, LOC): `B-OTH`/`I-OTH`, stray
//! tags such as `B-O`, and every other `B-`/`I-` type read as [`EntityTag::Outside`].
//! [`entity_spans`] turns a tag sequence into exact entity spans the way conlleval does (an
//! `I-X` that does not continue an X entity starts a new one).

mod doc;

use std::io::BufRead;

pub use doc::{Iob2Format, Iob2Writer};

#[cfg(doc)]
use crate::doc::Doc;
use crate::doc::conllu::SentenceMeta;
use crate::doc::{ReadError, ReadSentence, SentenceReader};

/// The entity types Universal NER scores.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EntityType {
    /// A person.
    Per,
    /// An organisation.
    Org,
    /// A location.
    Loc,
}

impl EntityType {
    /// Every type, in scoring-table order.
    pub const ALL: [EntityType; 3] = [EntityType::Per, EntityType::Org, EntityType::Loc];

    /// The label ("PER").
    pub fn as_str(self) -> &'static str {
        match self {
            EntityType::Per => "PER",
            EntityType::Org => "ORG",
            EntityType::Loc => "LOC",
        }
    }

    /// Parses a label.
    pub fn from_name(name: &str) -> Option<EntityType> {
        EntityType::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

/// The tag of one token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EntityTag {
    /// Outside any scored entity.
    Outside,
    /// Begins an entity.
    Begin(EntityType),
    /// Inside an entity.
    Inside(EntityType),
}

impl EntityTag {
    /// Reads a tag: `O`, or `B-`/`I-` followed by a type; unscored types are [`Self::Outside`].
    /// Returns `None` for anything else.
    pub fn parse(tag: &str) -> Option<EntityTag> {
        if tag == "O" {
            return Some(EntityTag::Outside);
        }
        let (prefix, label) = tag.split_once('-')?;
        let make = match prefix {
            "B" => EntityTag::Begin,
            "I" => EntityTag::Inside,
            _ => return None,
        };
        Some(EntityType::from_name(label).map_or(EntityTag::Outside, make))
    }
}

/// An entity: tokens `[start, end)` of a sentence and its type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntitySpan {
    /// First token.
    pub start: usize,
    /// One past the last token.
    pub end: usize,
    /// The type.
    pub label: EntityType,
}

/// The entities of a tag sequence, in order.
pub fn entity_spans(tags: &[EntityTag]) -> Vec<EntitySpan> {
    let mut spans: Vec<EntitySpan> = Vec::new();
    let mut open: Option<(usize, EntityType)> = None;
    for (i, tag) in tags.iter().copied().chain([EntityTag::Outside]).enumerate() {
        let continues = matches!((tag, open), (EntityTag::Inside(t), Some((_, o))) if t == o);
        if continues {
            continue;
        }
        if let Some((start, label)) = open.take() {
            spans.push(EntitySpan { start, end: i, label });
        }
        if let EntityTag::Begin(label) | EntityTag::Inside(label) = tag {
            open = Some((i, label));
        }
    }
    spans
}

/// One sentence: its tokens and their tags.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Iob2Sentence {
    /// `# newdoc`, `# newpar` and `# sent_id`.
    pub meta: SentenceMeta,
    /// `# text`: the sentence text, which tells where spaces go between the tokens.
    pub text: Option<String>,
    /// The tokens.
    pub tokens: Vec<String>,
    /// One tag per token.
    pub tags: Vec<EntityTag>,
}

/// Consecutive sentences of one document (from [`SentenceReader::documents`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Iob2Document {
    /// The sentences.
    pub sentences: Vec<Iob2Sentence>,
}

/// Reads IOB2 sentence by sentence; iterating yields each sentence or the first error (after
/// which the iterator ends).
pub type Iob2Reader<R> = SentenceReader<Iob2Parser<R>>;

/// The IOB2 parser behind [`Iob2Reader`]: reads one sentence at a time.
#[derive(Debug)]
pub struct Iob2Parser<R> {
    input: R,
    line: usize,
    buf: String,
}

impl<R: BufRead> Iob2Reader<R> {
    /// A reader over `input`.
    pub fn new(input: R) -> Self {
        SentenceReader::from_parser(Iob2Parser { input, line: 0, buf: String::new() })
    }
}

impl<R: BufRead> ReadSentence for Iob2Parser<R> {
    type Sentence = Iob2Sentence;

    fn read_sentence(&mut self) -> Result<Option<Iob2Sentence>, ReadError> {
        let mut sentence = Iob2Sentence::default();
        loop {
            self.buf.clear();
            match self.input.read_line(&mut self.buf) {
                Ok(0) => break,
                Ok(_) => self.line += 1,
                Err(source) => return Err(ReadError::Io { line: self.line + 1, source }),
            }
            let line = self.buf.trim_end_matches(['\n', '\r']).trim_start_matches('\u{feff}');
            if line.is_empty() {
                if !sentence.tokens.is_empty() {
                    break;
                }
                sentence = Iob2Sentence::default();
            } else if let Some(comment) = line.strip_prefix('#') {
                sentence.meta.read_comment(comment, &mut sentence.text);
            } else {
                let mut cols = line.split('\t');
                let (Some(_id), Some(token), Some(tag)) = (cols.next(), cols.next(), cols.next())
                else {
                    let reason = "expected ID, TOKEN and TAG columns separated by tabs".into();
                    return Err(ReadError::BadLine { line: self.line, reason });
                };
                let tag = EntityTag::parse(tag).ok_or_else(|| ReadError::BadLine {
                    line: self.line,
                    reason: format!("bad tag `{tag}` (expected O, B-TYPE or I-TYPE)"),
                })?;
                sentence.tokens.push(token.to_owned());
                sentence.tags.push(tag);
            }
        }
        Ok((!sentence.tokens.is_empty()).then_some(sentence))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use EntityTag::{Begin as B, Inside as I, Outside as O};
    use EntityType::{Loc, Org, Per};

    #[test]
    fn tags_map_unscored_types_to_outside() {
        let cases = [
            ("O", Some(O)),
            ("B-PER", Some(B(Per))),
            ("I-LOC", Some(I(Loc))),
            ("B-OTH", Some(O)),
            ("I-OTH", Some(O)),
            ("B-O", Some(O)),
            ("B-", Some(O)),
            ("X-PER", None),
            ("PER", None),
            ("", None),
        ];
        for (tag, expected) in cases {
            assert_eq!(EntityTag::parse(tag), expected, "{tag:?}");
        }
    }

    #[test]
    fn spans_follow_conlleval() {
        let span = |start, end, label| EntitySpan { start, end, label };
        let cases: [(&[EntityTag], Vec<EntitySpan>); 5] = [
            (&[B(Per), I(Per), O], vec![span(0, 2, Per)]),
            (&[B(Per), B(Per)], vec![span(0, 1, Per), span(1, 2, Per)]),
            (&[I(Org), I(Org)], vec![span(0, 2, Org)]),
            (&[B(Per), I(Loc), I(Loc)], vec![span(0, 1, Per), span(1, 3, Loc)]),
            (&[O, B(Loc)], vec![span(1, 2, Loc)]),
        ];
        for (tags, expected) in cases {
            assert_eq!(entity_spans(tags), expected, "{tags:?}");
        }
    }

    #[test]
    fn reads_sentences_and_reports_bad_lines() {
        let input =
            "# sent_id = s1\n# text = Ada ran\n1\tAda\tB-PER\t-\n2\tran\tO\n\n\n1\tOslo\tB-LOC\n";
        let sentences: Vec<_> =
            Iob2Reader::new(input.as_bytes()).collect::<Result<_, _>>().unwrap();
        assert_eq!(sentences.len(), 2);
        assert_eq!(sentences[0].meta.sent_id.as_deref(), Some("s1"));
        assert_eq!(sentences[0].text.as_deref(), Some("Ada ran"));
        assert_eq!(sentences[0].tokens, ["Ada", "ran"]);
        assert_eq!(sentences[1].tags, [B(Loc)]);

        for (input, line, reason) in [
            ("1\tAda\tB-PER\n2\tran\n", 2, "expected ID, TOKEN and TAG"),
            ("1\tAda\tPERSON\n", 1, "bad tag `PERSON`"),
        ] {
            let mut reader = Iob2Reader::new(input.as_bytes());
            match reader.next() {
                Some(Err(ReadError::BadLine { line: got, reason: why })) => {
                    assert_eq!(got, line);
                    assert!(why.contains(reason), "{why}");
                }
                other => panic!("{input:?} gave {other:?}"),
            }
            assert!(reader.next().is_none());
        }
    }
}

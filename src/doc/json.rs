//! JSON serialisation of a [`Doc`] in the layout of spaCy's `Doc.to_json()`.
//!
//! # Overview
//!
//! [`DocJson`] (from [`Doc::to_json`]) is a borrowed view of a document that serialises
//! in spaCy's layout without copying the text or any annotation string.

use serde::{Serialize, Serializer};

use super::{Doc, EntIob, Span, Token, TokenData, TokenIdx};

/// A borrowed view of a [`Doc`], returned by [`Doc::to_json`], that serialises (with any serde
/// serializer, e.g. `serde_json::to_writer`) without copying the text or any annotation
/// string. The layout is spaCy's, so code written against `doc.to_json()` keeps working:
///
/// ```json
/// {"text": "…",
///  "ents":   [{"start": 0, "end": 5, "label": "PER", …}],
///  "sents":  [{"start": 0, "end": 12, …}],
///  "tokens": [{"id": 0, "start": 0, "end": 5, "tag": "NNP", "pos": "PROPN",
///              "morph": "Number=Sing", "lemma": "Alice", "dep": "nsubj", "head": 1, …}]}
/// ```
///
/// Offsets are in characters (Unicode scalar values), as Python counts them, and `head` is
/// an absolute token index (a root is its own head). As with spaCy's `has_annotation`, a
/// field is left out entirely when no component set it on any token (`ents` without entity
/// annotation, `sents` without sentence boundaries, `tag` without a tagger…); a token that
/// lacks an annotation others have gets `""`.
///
/// Our extras, beside spaCy's fields: per token its `text`, its `whitespace` (`" "` or
/// `""`) and `ent_iob` (`"B"`, `"I"`, `"O"`, with entity annotation); per sentence and entity
/// its token span `start_token`/`end_token` (end exclusive); per entity its `text`.
#[derive(Debug, Serialize)]
pub struct DocJson<'a> {
    /// The document text.
    pub text: &'a str,
    /// Named entities, present when entity annotation was set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ents: Option<Vec<SpanJson<'a>>>,
    /// Sentences, present when sentence boundaries were set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sents: Option<Vec<SpanJson<'a>>>,
    /// The tokens, serialised lazily from the document.
    pub tokens: TokensJson<'a>,
}

/// A sentence or an entity: character offsets, token offsets and, for entities, the label
/// and text.
#[derive(Debug, Serialize)]
pub struct SpanJson<'a> {
    /// Character offset of the first character.
    pub start: usize,
    /// Character offset one past the last character.
    pub end: usize,
    /// The entity label (entities only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<&'a str>,
    /// The covered text (entities only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<&'a str>,
    /// Index of the first token.
    pub start_token: usize,
    /// Index one past the last token.
    pub end_token: usize,
}

/// The token list of a [`DocJson`]; each token is built while it is serialised.
#[derive(Debug)]
pub struct TokensJson<'a> {
    doc: &'a Doc<'a>,
    fields: Annotated,
}

/// One token in spaCy's layout plus our extras. Annotation fields are `None` (left out) when
/// no token of the document has them.
#[derive(Debug, Serialize)]
pub struct TokenJson<'a> {
    /// Token index.
    pub id: usize,
    /// Character offset of the first character.
    pub start: usize,
    /// Character offset one past the last character.
    pub end: usize,
    /// The token text.
    pub text: &'a str,
    /// The whitespace after the token (`" "` or `""`).
    pub whitespace: &'static str,
    /// Fine-grained tag.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<&'a str>,
    /// Universal POS tag.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pos: Option<&'static str>,
    /// Morphological features ("Number=Sing|Person=3").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub morph: Option<&'a str>,
    /// Lemma.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lemma: Option<&'a str>,
    /// Dependency label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dep: Option<&'a str>,
    /// Absolute index of the head token (its own index for a root).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head: Option<usize>,
    /// Entity IOB code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ent_iob: Option<&'static str>,
}

/// Which annotations some token of the document carries (spaCy's `has_annotation`).
#[derive(Clone, Copy, Debug, Default)]
struct Annotated {
    tag: bool,
    pos: bool,
    morph: bool,
    lemma: bool,
    dep: bool,
    sents: bool,
    ents: bool,
}

impl Annotated {
    fn of(tokens: &[TokenData<'_>]) -> Self {
        let any = |f: fn(&TokenData<'_>) -> bool| tokens.iter().any(f);
        let dep = any(|t| t.dep.is_some() || t.head.is_some());
        Self {
            tag: any(|t| t.tag.is_some()),
            pos: any(|t| t.pos.is_some()),
            morph: any(|t| t.morph.is_some()),
            lemma: any(|t| t.lemma.is_some()),
            dep,
            // A parse implies sentences, as in spaCy.
            sents: dep || any(|t| t.sent_start.is_some()),
            ents: any(|t| t.ent_iob != EntIob::Missing),
        }
    }
}

impl<'z> Doc<'z> {
    /// A borrowed view of the document in spaCy's `Doc.to_json()` layout, ready for
    /// `serde_json::to_writer`. See [`DocJson`].
    ///
    /// ```
    /// use nlpd::doc::Doc;
    /// use nlpd::vocab::Vocab;
    ///
    /// let vocab = Vocab::new();
    /// let zone = vocab.zone();
    /// let doc = Doc::from_words(&zone, &["Hi", "!"], &[false, false]);
    /// let json = serde_json::to_value(doc.to_json())?;
    /// assert_eq!(json["tokens"][1]["start"], 2);
    /// assert!(json.get("ents").is_none());
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn to_json(&self) -> DocJson<'_> {
        let fields = Annotated::of(self.tokens());
        let entity = |span: Span| {
            let label = span.label().and_then(|key| self.zone().string(key)).unwrap_or("");
            self.span_json(span, Some(label))
        };
        DocJson {
            text: self.text(),
            ents: fields.ents.then(|| self.ents().into_iter().map(entity).collect()),
            sents: fields
                .sents
                .then(|| self.sents().into_iter().map(|span| self.span_json(span, None)).collect()),
            tokens: TokensJson { doc: self, fields },
        }
    }
}

impl Doc<'_> {
    /// A sentence (no label) or an entity (label and text) as JSON.
    fn span_json<'a>(&'a self, span: Span, label: Option<&'a str>) -> SpanJson<'a> {
        let text_span = self.text_span(span);
        SpanJson {
            start: text_span.char_start,
            end: text_span.char_end,
            label,
            text: label.map(|_| &self.text()[text_span.bytes()]),
            start_token: span.start(),
            end_token: span.end(),
        }
    }
}

impl<'a> TokensJson<'a> {
    fn token(&self, token: Token<'a, 'a>) -> TokenJson<'a> {
        let (data, fields) = (token.data(), self.fields);
        let span = token.span();
        TokenJson {
            id: token.i(),
            start: span.char_start,
            end: span.char_end,
            text: token.text(),
            whitespace: token.whitespace(),
            tag: fields.tag.then(|| token.resolve(data.tag)),
            pos: fields.pos.then(|| data.pos.map_or("", |pos| pos.as_str())),
            morph: fields.morph.then(|| token.resolve(data.morph)),
            lemma: fields.lemma.then(|| token.resolve(data.lemma)),
            dep: fields.dep.then(|| token.resolve(data.dep)),
            head: fields.dep.then(|| data.head.map_or(token.i(), TokenIdx::index)),
            ent_iob: fields.ents.then(|| match data.ent_iob {
                // A token left unannotated in an annotated document is outside any entity.
                EntIob::Missing => EntIob::Outside.as_str(),
                iob => iob.as_str(),
            }),
        }
    }
}

impl Serialize for TokensJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.doc.iter().map(|token| self.token(token)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::Pos;
    use crate::vocab::Vocab;

    #[test]
    fn tokenized_doc_has_only_offsets() {
        let vocab = Vocab::new();
        let zone = vocab.zone();
        let doc = Doc::from_words(&zone, &["Naïve", "café", "!"], &[true, false, false]);
        insta::assert_json_snapshot!(doc.to_json(), @r#"
        {
          "text": "Naïve café!",
          "tokens": [
            {
              "id": 0,
              "start": 0,
              "end": 5,
              "text": "Naïve",
              "whitespace": " "
            },
            {
              "id": 1,
              "start": 6,
              "end": 10,
              "text": "café",
              "whitespace": ""
            },
            {
              "id": 2,
              "start": 10,
              "end": 11,
              "text": "!",
              "whitespace": ""
            }
          ]
        }
        "#);
    }

    #[test]
    fn annotated_doc_has_every_field() {
        let vocab = Vocab::new();
        let zone = vocab.zone();
        let words = ["Ada", "sleeps", ".", "Zoë", "waits"];
        let mut doc = Doc::from_words(&zone, &words, &[true, false, true, true, false]);
        // tag, pos, morph, dep, head, lemma, IOB, entity type
        type Row = (
            &'static str,
            Pos,
            &'static str,
            &'static str,
            usize,
            &'static str,
            EntIob,
            Option<&'static str>,
        );
        let rows: [Row; 5] = [
            ("NNP", Pos::Propn, "Number=Sing", "nsubj", 1, "Ada", EntIob::Begin, Some("PER")),
            ("VBZ", Pos::Verb, "Tense=Pres", "root", 1, "sleep", EntIob::Outside, None),
            (".", Pos::Punct, "", "punct", 1, ".", EntIob::Outside, None),
            ("NNP", Pos::Propn, "Number=Sing", "nsubj", 4, "Zoë", EntIob::Begin, Some("PER")),
            ("VBZ", Pos::Verb, "Tense=Pres", "root", 4, "wait", EntIob::Missing, None),
        ];
        for (token, (tag, pos, morph, dep, head, lemma, iob, label)) in
            doc.tokens_mut().iter_mut().zip(rows)
        {
            token.tag = Some(zone.intern(tag));
            token.pos = Some(pos);
            token.morph = (!morph.is_empty()).then(|| zone.intern(morph));
            token.dep = Some(zone.intern(dep));
            token.head = Some(TokenIdx::new(head));
            token.lemma = Some(zone.intern(lemma));
            token.ent_iob = iob;
            token.ent_type = label.map(|label| zone.intern(label));
        }
        doc.tokens_mut()[3].sent_start = Some(true);
        insta::assert_json_snapshot!(doc.to_json());
    }

    #[test]
    fn each_annotation_appears_only_when_set() {
        type Setter = fn(&mut TokenData<'_>);
        let cases: [(Setter, &[&str]); 6] = [
            (|t| t.pos = Some(Pos::Noun), &["pos"]),
            (|t| t.tag = Some(crate::vocab::StringKey::of("NN")), &["tag"]),
            (|t| t.morph = Some(crate::vocab::StringKey::of("")), &["morph"]),
            (|t| t.lemma = Some(crate::vocab::StringKey::of("x")), &["lemma"]),
            (|t| t.head = Some(TokenIdx::new(0)), &["dep", "head", "sents"]),
            (|t| t.ent_iob = EntIob::Outside, &["ent_iob", "ents"]),
        ];
        let base = ["id", "start", "end", "text", "whitespace"];
        for (set, extra) in cases {
            let vocab = Vocab::new();
            let zone = vocab.zone();
            let mut doc = Doc::from_words(&zone, &["a", "b"], &[true, false]);
            set(&mut doc.tokens_mut()[1]);
            let json = serde_json::to_value(doc.to_json()).unwrap();
            let mut keys: Vec<String> = json["tokens"][0]
                .as_object()
                .unwrap()
                .keys()
                .chain(json.as_object().unwrap().keys().filter(|k| *k == "ents" || *k == "sents"))
                .cloned()
                .collect();
            let mut expected: Vec<String> =
                base.iter().chain(extra).map(|k| (*k).to_owned()).collect();
            keys.sort();
            expected.sort();
            assert_eq!(keys, expected, "after setting {extra:?}");
        }
    }
}

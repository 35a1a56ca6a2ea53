//! CoNLL-U writer.

use std::io::{self, Write};

use crate::doc::{SentenceWords, SentenceWriter, Token, WriteSentence};

/// Writes documents as CoNLL-U: comments, one line per word, range lines for fused words
/// (see the [module docs](super)).
pub type ConlluWriter<W> = SentenceWriter<W, ConlluFormat>;

/// The CoNLL-U format of [`ConlluWriter`]: writes the word and range lines of a sentence.
#[derive(Clone, Copy, Debug, Default)]
pub struct ConlluFormat;

impl WriteSentence for ConlluFormat {
    fn write_words(&self, out: &mut impl Write, words: SentenceWords<'_, '_>) -> io::Result<()> {
        let (doc, sentence) = (words.doc(), words.indices());
        let mut k = 0;
        while k < sentence.len() {
            // A surface token: this word and the following words the tokenizer fused to it.
            let mut last = k;
            while last + 1 < sentence.len()
                && sentence[last + 1] == sentence[last] + 1
                && doc.tokens()[sentence[last]].fused_with_next()
            {
                last += 1;
            }
            let misc = |space| if space { "_" } else { "SpaceAfter=No" };
            if last > k {
                let surface = &doc.text()[doc.token(sentence[k]).span().byte_start
                    ..doc.token(sentence[last]).span().byte_end];
                let misc = misc(words.space_after(last));
                writeln!(out, "{}-{}\t{surface}\t_\t_\t_\t_\t_\t_\t_\t{misc}", k + 1, last + 1)?;
            }
            for w in k..=last {
                let space = last > k || words.space_after(w);
                write_word(out, doc.token(sentence[w]), w + 1, sentence, misc(space))?;
            }
            k = last + 1;
        }
        Ok(())
    }
}

/// Writes one word line: `id` is its 1-based ID, `sentence` the token indices of its
/// sentence's words (to number its head).
fn write_word(
    out: &mut impl Write,
    token: Token<'_, '_>,
    id: usize,
    sentence: &[usize],
    misc: &str,
) -> io::Result<()> {
    let data = token.data();
    let column = |key| match token.resolve(key) {
        "" => "_",
        text => text,
    };
    let upos = data.pos.map_or("_", |pos| pos.as_str());
    write!(
        out,
        "{id}\t{}\t{}\t{upos}\t{}\t{}\t",
        token.text(),
        column(data.lemma),
        column(data.tag),
        column(data.morph)
    )?;
    // A root is its own head; a head outside the sentence (or on whitespace) has no ID.
    match data.head {
        Some(head) if head.index() == token.i() => write!(out, "0")?,
        Some(head) => match sentence.binary_search(&head.index()) {
            Ok(k) => write!(out, "{}", k + 1)?,
            Err(_) => write!(out, "_")?,
        },
        None => write!(out, "_")?,
    }
    writeln!(out, "\t{}\t_\t{misc}", column(data.dep))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::conllu::SentenceMeta;
    use crate::doc::{Doc, TokenData, TokenIdx};
    use crate::vocab::Vocab;

    fn write(doc: &Doc<'_>, metas: &[SentenceMeta]) -> String {
        let mut out = ConlluWriter::new(Vec::new());
        out.write_doc(doc, metas).unwrap();
        String::from_utf8(out.into_inner()).unwrap()
    }

    #[test]
    fn whitespace_tokens_are_skipped_and_spacing_kept() {
        let vocab = Vocab::new();
        let zone = vocab.zone();
        let text = "We can't.\n\n  Bye";
        // (start, end, space_after, fused): "We" "ca" "n't" "." "\n\n " "Bye"
        let spans = [
            (0, 2, true, false),
            (3, 5, false, true),
            (5, 8, false, false),
            (8, 9, false, false),
            (9, 12, true, false),
            (13, 16, false, false),
        ];
        let tokens = spans
            .iter()
            .map(|&(start, end, space, fused)| {
                let token = TokenData::new(zone.lexeme(&text[start..end]), start, end, space);
                if fused { token.fused() } else { token }
            })
            .collect();
        let mut doc = Doc::new(&zone, text.to_owned(), tokens);
        doc.tokens_mut()[5].sent_start = Some(true);
        doc.tokens_mut()[0].head = Some(TokenIdx::new(0));
        doc.tokens_mut()[1].head = Some(TokenIdx::new(0));
        doc.tokens_mut()[3].head = Some(TokenIdx::new(5));
        insta::assert_snapshot!(write(&doc, &[SentenceMeta::new_document()]), @r"
        # newdoc
        # sent_id = 1
        # text = We can't.
        1	We	_	_	_	_	0	_	_	_
        2-3	can't	_	_	_	_	_	_	_	SpaceAfter=No
        2	ca	_	_	_	_	1	_	_	_
        3	n't	_	_	_	_	_	_	_	_
        4	.	_	_	_	_	_	_	_	_

        # sent_id = 2
        # text = Bye
        1	Bye	_	_	_	_	_	_	_	SpaceAfter=No

        ");
    }

    #[test]
    fn fusion_stops_at_sentence_ends_and_sent_ids_keep_counting() {
        let vocab = Vocab::new();
        let zone = vocab.zone();
        let mut doc = Doc::from_words(&zone, &["a", "b", "c"], &[false, false, false]);
        for i in 0..2 {
            let token = &mut doc.tokens_mut()[i];
            *token = token.fused();
        }
        doc.tokens_mut()[2].sent_start = Some(true);
        let mut out = ConlluWriter::new(Vec::new());
        let metas = [SentenceMeta { sent_id: Some("x".into()), ..SentenceMeta::default() }];
        out.write_doc(&doc, &metas).unwrap();
        out.write_doc(&doc, &[]).unwrap();
        let text = String::from_utf8(out.into_inner()).unwrap();
        let comments: Vec<_> = text.lines().filter(|l| l.starts_with("# sent_id")).collect();
        assert_eq!(comments, ["# sent_id = x", "# sent_id = 2", "# sent_id = 3", "# sent_id = 4"]);
        assert!(text.contains("1-2\tab\t"), "{text}");
        assert!(!text.contains("2-3"), "{text}");
    }
}

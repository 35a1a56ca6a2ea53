//! Streaming CoNLL-U reader.

use std::io::BufRead;

use super::{ConlluDocument, ConlluSentence, ConlluWord, MultiwordToken};
use crate::doc::{DocumentSentence, Pos, ReadError, ReadSentence, SentenceReader};

/// Reads CoNLL-U sentence by sentence from any buffered reader, holding one sentence in
/// memory at a time. Iterating yields each sentence or the first error (after which the
/// iterator ends).
///
/// Validates what the [`Doc`](crate::doc::Doc) model relies on: ten tab-separated columns,
/// word IDs counting up from 1, range lines covering words that follow, numeric HEADs within
/// the sentence, and UD UPOS tags ([`ConlluReader::with_tree_check`] adds that the HEADs form
/// a tree). Empty nodes (`8.1`) are skipped; DEPS and every MISC item but `SpaceAfter=No` are
/// dropped.
pub type ConlluReader<R> = SentenceReader<ConlluParser<R>>;

/// The CoNLL-U parser behind [`ConlluReader`]: reads one sentence at a time.
#[derive(Debug)]
pub struct ConlluParser<R> {
    input: R,
    line: usize,
    buf: String,
    /// Line number of each word of the sentence being read, to report bad HEADs.
    word_lines: Vec<usize>,
    /// Line number of each range line of the sentence being read.
    range_lines: Vec<usize>,
    /// The `SpaceAfter` of the latest range line, for the range's last word.
    range_space: bool,
    /// Whether every sentence's HEADs must form a tree.
    check_trees: bool,
}

impl<R: BufRead> ConlluReader<R> {
    /// A reader over `input`.
    pub fn new(input: R) -> Self {
        Self::reading(input, false)
    }

    /// A reader over `input` that also refuses a sentence whose HEADs do not form one tree
    /// (see [`ConlluSentence::tree_defect`]), with an error at the line of the word at
    /// fault, as the CoNLL 2018 evaluator refuses such files. Training and parsing read
    /// without this check.
    pub fn with_tree_check(input: R) -> Self {
        Self::reading(input, true)
    }

    fn reading(input: R, check_trees: bool) -> Self {
        SentenceReader::from_parser(ConlluParser {
            input,
            line: 0,
            buf: String::new(),
            word_lines: Vec::new(),
            range_lines: Vec::new(),
            range_space: true,
            check_trees,
        })
    }

    /// The number of lines read so far.
    pub fn line(&self) -> usize {
        self.parser().line
    }
}

impl<R: BufRead> ReadSentence for ConlluParser<R> {
    type Sentence = ConlluSentence;

    fn read_sentence(&mut self) -> Result<Option<ConlluSentence>, ReadError> {
        let mut sentence = ConlluSentence::default();
        let mut has_rows = false;
        self.word_lines.clear();
        self.range_lines.clear();
        let mut buf = std::mem::take(&mut self.buf);
        let result = loop {
            buf.clear();
            match self.input.read_line(&mut buf) {
                Ok(0) => break Ok(()),
                Ok(_) => self.line += 1,
                Err(source) => break Err(ReadError::Io { line: self.line + 1, source }),
            }
            let mut line = buf.trim_end_matches(['\n', '\r']);
            if self.line == 1 {
                line = line.strip_prefix('\u{feff}').unwrap_or(line);
            }
            if line.trim().is_empty() {
                if has_rows {
                    break Ok(());
                }
                // A block of comments alone describes no sentence.
                sentence = ConlluSentence::default();
            } else if let Some(comment) = line.strip_prefix('#') {
                sentence.meta.read_comment(comment, &mut sentence.text);
            } else {
                has_rows = true;
                if let Err(err) = self.read_row(line, &mut sentence) {
                    break Err(err);
                }
            }
        };
        self.buf = buf;
        result?;
        if !has_rows {
            return Ok(None);
        }
        self.check_sentence(&sentence)?;
        Ok(Some(sentence))
    }
}

impl<R: BufRead> ConlluParser<R> {
    fn bad(&self, line: usize, reason: impl Into<String>) -> ReadError {
        ReadError::BadLine { line, reason: reason.into() }
    }

    fn read_row(&mut self, line: &str, sentence: &mut ConlluSentence) -> Result<(), ReadError> {
        let n = self.line;
        let mut cols = [""; 10];
        let mut count = 0;
        for col in line.split('\t') {
            if let Some(slot) = cols.get_mut(count) {
                *slot = col;
            }
            count += 1;
        }
        if count != cols.len() {
            let reason = format!("expected 10 tab-separated columns, found {count}");
            return Err(self.bad(n, reason));
        }
        let [id, form, lemma, upos, xpos, feats, head, deprel, _deps, misc] = cols;
        if let Some((major, minor)) = id.split_once('.') {
            if !is_number(major) || !is_number(minor) {
                return Err(self.bad(n, format!("bad empty-node ID `{id}`")));
            }
            return Ok(());
        }
        if form.is_empty() {
            return Err(self.bad(n, "empty FORM"));
        }
        let next_id = sentence.words.len() + 1;
        let space_after = !misc.split('|').any(|item| item == "SpaceAfter=No");
        let open_range = sentence.multiword_tokens.last().filter(|m| m.last + 1 >= next_id);
        if let Some((first, last)) = id.split_once('-') {
            let (first, last) = (self.number(first, id)?, self.number(last, id)?);
            if let Some(open) = open_range {
                let open = format!("{}-{}", open.first + 1, open.last + 1);
                return Err(self.bad(n, format!("range `{id}` overlaps range `{open}`")));
            }
            if first != next_id || last <= first {
                let reason = format!(
                    "range `{id}` must start at the next word ID ({next_id}) and span two or \
                     more words"
                );
                return Err(self.bad(n, reason));
            }
            sentence.multiword_tokens.push(MultiwordToken {
                first: first - 1,
                last: last - 1,
                form: form.to_owned(),
            });
            self.range_lines.push(n);
            self.range_space = space_after;
            return Ok(());
        }
        let number = self.number(id, id)?;
        if number != next_id {
            return Err(self.bad(n, format!("expected word ID {next_id}, found `{id}`")));
        }
        let upos = match upos {
            "_" => None,
            tag => Some(
                Pos::from_name(tag)
                    .ok_or_else(|| self.bad(n, format!("unknown UPOS tag `{tag}`")))?,
            ),
        };
        let head = match head {
            "_" => None,
            head => Some(self.number(head, head)?),
        };
        // Inside a multiword token the surface token's spacing belongs to its last word.
        let space_after = match open_range {
            Some(mwt) if mwt.last + 1 == number => self.range_space,
            Some(_) => false,
            None => space_after,
        };
        self.word_lines.push(n);
        sentence.words.push(ConlluWord {
            form: form.to_owned(),
            lemma: column(lemma),
            upos,
            xpos: column(xpos),
            feats: column(feats),
            head,
            deprel: column(deprel),
            space_after,
        });
        Ok(())
    }

    /// Parses a decimal number in column text `field` (of value `value`).
    fn number(&self, value: &str, field: &str) -> Result<usize, ReadError> {
        if !is_number(value) {
            return Err(self.bad(self.line, format!("`{field}` is not a number")));
        }
        value.parse().map_err(|_| self.bad(self.line, format!("`{field}` is too large")))
    }

    /// Checks what only the whole sentence shows: heads in range, ranges complete, and with
    /// `check_trees` the heads forming a tree.
    fn check_sentence(&self, sentence: &ConlluSentence) -> Result<(), ReadError> {
        let n = sentence.words.len();
        for (word, &line) in sentence.words.iter().zip(&self.word_lines) {
            if let Some(head) = word.head.filter(|&head| head > n) {
                return Err(self.bad(line, format!("HEAD {head} is past the last word ({n})")));
            }
        }
        for (mwt, &line) in sentence.multiword_tokens.iter().zip(&self.range_lines) {
            if mwt.last >= n {
                let range = format!("{}-{}", mwt.first + 1, mwt.last + 1);
                return Err(self.bad(line, format!("range `{range}` runs past the last word")));
            }
        }
        if let Some(defect) = self.check_trees.then(|| sentence.tree_defect()).flatten() {
            return Err(self.bad(self.word_lines[defect.word()], defect.to_string()));
        }
        Ok(())
    }
}

impl DocumentSentence for ConlluSentence {
    type Document = ConlluDocument;

    fn starts_document(&self) -> bool {
        self.meta.newdoc.is_some()
    }

    fn document(sentences: Vec<Self>) -> ConlluDocument {
        ConlluDocument { sentences }
    }
}

fn column(text: &str) -> Option<String> {
    (text != "_").then(|| text.to_owned())
}

fn is_number(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::conllu::SentenceMeta;

    fn row(id: &str, form: &str, head: &str, misc: &str) -> String {
        format!("{id}\t{form}\t_\tX\t_\t_\t{head}\t_\t_\t{misc}\n")
    }

    #[test]
    fn reads_words_ranges_comments_and_skips_empty_nodes() {
        let input = [
            "\u{feff}# newdoc\r\n",
            "# sent_id = a\r\n",
            "# text =  two  spaces\r\n",
            "# global.columns = ignored\r\n",
            &row("1-2", "can't", "_", "SpaceAfter=No"),
            &row("1", "ca", "0", "_"),
            &row("2", "n't", "1", "SpaceAfter=No"),
            &row("2.1", "gap", "_", "_"),
            &row("3", "go", "1", "Foo=Bar|SpaceAfter=No"),
            "\n",
        ]
        .concat();
        let sentences: Vec<_> =
            ConlluReader::new(input.as_bytes()).collect::<Result<_, _>>().unwrap();
        let [sentence] = &sentences[..] else { panic!("one sentence: {sentences:?}") };
        assert_eq!(
            sentence.meta,
            SentenceMeta { newdoc: Some(String::new()), sent_id: Some("a".into()), newpar: None }
        );
        assert_eq!(sentence.text.as_deref(), Some(" two  spaces"));
        let words: Vec<_> =
            sentence.words.iter().map(|w| (w.form.as_str(), w.head, w.space_after)).collect();
        assert_eq!(
            words,
            [("ca", Some(0), false), ("n't", Some(1), false), ("go", Some(1), false)]
        );
        assert_eq!(
            sentence.multiword_tokens,
            [MultiwordToken { first: 0, last: 1, form: "can't".into() }]
        );
        assert_eq!(sentence.words[0].upos, Some(Pos::X));
        assert_eq!(sentence.words[0].lemma, None);
    }

    #[test]
    fn errors_name_the_line_and_stop_the_reader() {
        let ok = row("1", "a", "0", "_");
        let cases: [(String, usize, &str); 10] = [
            (format!("{ok}1\ta\n"), 2, "expected 10 tab-separated columns, found 2"),
            (format!("# c\n{ok}{}", row("3", "b", "1", "_")), 3, "expected word ID 2, found `3`"),
            (ok.replace("\tX\t", "\tNOPE\t"), 1, "unknown UPOS tag `NOPE`"),
            (row("1", "a", "x", "_"), 1, "`x` is not a number"),
            (format!("{ok}{}", row("2", "b", "7", "_")), 2, "HEAD 7 is past the last word (2)"),
            (
                format!("{}{ok}\n", row("1-2", "ab", "_", "_")),
                1,
                "range `1-2` runs past the last word",
            ),
            (
                format!("{ok}{}", row("3-4", "ab", "_", "_")),
                2,
                "range `3-4` must start at the next word ID (2)",
            ),
            (
                format!("{}{}", row("1-2", "ab", "_", "_"), row("1-3", "ab", "_", "_")),
                2,
                "overlaps range `1-2`",
            ),
            (row("1.x", "a", "_", "_"), 1, "bad empty-node ID `1.x`"),
            (row("1", "", "0", "_"), 1, "empty FORM"),
        ];
        for (input, line, reason) in cases {
            let input = format!("{input}\n{ok}\n");
            let mut reader = ConlluReader::new(input.as_bytes());
            match reader.next() {
                Some(Err(ReadError::BadLine { line: got, reason: why })) => {
                    assert_eq!(got, line, "{input:?}");
                    assert!(why.contains(reason), "{why:?} should contain {reason:?}");
                }
                other => panic!("{input:?} gave {other:?}"),
            }
            assert!(reader.next().is_none(), "the reader stops after an error");
        }
    }

    #[test]
    fn invalid_utf8_is_an_io_error_with_its_line() {
        let mut input = row("1", "a", "0", "_").into_bytes();
        input.extend(b"2\t\xff\n");
        let err = ConlluReader::new(&input[..]).next().unwrap().unwrap_err();
        assert!(matches!(err, ReadError::Io { line: 2, .. }), "{err:?}");
    }

    #[test]
    fn documents_follow_newdoc_marks() {
        let sentence =
            |comment: &str, form: &str| format!("{comment}{}\n", row("1", form, "0", "_"));
        let input = [
            sentence("", "a"),
            sentence("", "b"),
            sentence("# newdoc id = d1\n", "c"),
            sentence("", "d"),
            sentence("# newdoc\n", "e"),
        ]
        .concat();
        let docs: Vec<Vec<String>> = ConlluReader::new(input.as_bytes())
            .documents()
            .map(|doc| doc.unwrap().sentences.iter().map(|s| s.words[0].form.clone()).collect())
            .collect();
        assert_eq!(docs, [vec!["a"], vec!["b"], vec!["c", "d"], vec!["e"]]);
    }
}

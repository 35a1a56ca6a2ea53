//! The CoNLL 2018 UD shared-task metrics, aligned by character offsets.

use std::collections::{HashMap, HashSet};
use std::io::BufRead;

use serde::Serialize;

use super::{EvalError, Score, Side};
use crate::doc::Pos;
use crate::doc::conllu::{ConlluReader, ConlluSentence};
use crate::vocab::StringKey;

/// The universal features of UD v2: UFeats compares only these (layered features such as
/// `Number[psor]` and language-specific ones are dropped), as CoNLL 2018 does.
const UNIVERSAL_FEATURES: [&str; 21] = [
    "PronType", "NumType", "Poss", "Reflex", "Foreign", "Abbr", "Gender", "Animacy", "Number",
    "Case", "Definite", "Degree", "VerbForm", "Mood", "Tense", "Aspect", "Voice", "Evident",
    "Polarity", "Person", "Polite",
];

/// Where a syntactic word lies: character offsets in the text with whitespace removed, plus
/// its position inside a multiword token whose words do not spell the token (they then share
/// the token's span).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct WordKey {
    start: u32,
    end: u32,
    part: Option<u32>,
}

/// Head of a word: another word (global index), the root, or unknown (`_`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Head {
    Word(usize),
    Root,
    Unknown,
}

/// What the metrics compare about one word. Strings are held by key.
#[derive(Clone, Debug)]
struct EvalWord {
    key: WordKey,
    /// `None` for `_`, which in gold matches any lemma.
    lemma: Option<StringKey>,
    upos: Option<Pos>,
    xpos: Option<StringKey>,
    /// The sorted universal features joined by `|`.
    feats: StringKey,
    head: Head,
    /// The universal part of DEPREL (before `:`).
    deprel: Option<StringKey>,
}

/// The parts of one CoNLL-U file that the metrics look at, keyed by character offsets over
/// the text with all whitespace removed. Compact: no word text is kept.
#[derive(Debug, Default)]
pub struct Treebank {
    chars: String,
    len: u32,
    tokens: Vec<(u32, u32)>,
    sentences: Vec<(u32, u32)>,
    words: Vec<EvalWord>,
}

impl Treebank {
    /// Adds the next sentence of the file.
    ///
    /// # Panics
    ///
    /// Panics past 4 G characters.
    pub fn push(&mut self, sentence: &ConlluSentence) {
        let sentence_start = self.len;
        let first_word = self.words.len();
        let mut mwts = sentence.multiword_tokens.iter().peekable();
        let mut i = 0;
        while i < sentence.words.len() {
            match mwts.next_if(|mwt| mwt.first == i) {
                Some(mwt) => {
                    let words = &sentence.words[mwt.first..=mwt.last];
                    let start = self.len;
                    let form = self.append(&mwt.form);
                    self.tokens.push((start, self.len));
                    let parts: Vec<String> = words.iter().map(|w| without_space(&w.form)).collect();
                    let spelled = parts.concat().to_lowercase() == form.to_lowercase();
                    let mut at = start;
                    for (k, (word, part)) in words.iter().zip(&parts).enumerate() {
                        let key = if spelled {
                            let end = at + char_len(part);
                            let key = WordKey { start: at, end, part: None };
                            at = end;
                            key
                        } else {
                            WordKey { start, end: self.len, part: Some(k as u32) }
                        };
                        self.push_word(key, word, first_word);
                    }
                    i = mwt.last + 1;
                }
                None => {
                    let word = &sentence.words[i];
                    let start = self.len;
                    self.append(&word.form);
                    self.tokens.push((start, self.len));
                    self.push_word(WordKey { start, end: self.len, part: None }, word, first_word);
                    i += 1;
                }
            }
        }
        self.sentences.push((sentence_start, self.len));
    }

    /// Appends `form` without whitespace to the text and returns what was appended.
    fn append(&mut self, form: &str) -> String {
        let form = without_space(form);
        self.chars.push_str(&form);
        self.len = u32::try_from(self.len as usize + char_len(&form) as usize)
            .expect("evaluation text is under 4 G characters");
        form
    }

    fn push_word(&mut self, key: WordKey, word: &crate::doc::conllu::ConlluWord, first: usize) {
        let feats: Vec<&str> = {
            let mut feats: Vec<&str> = word
                .feats
                .as_deref()
                .into_iter()
                .flat_map(|feats| feats.split('|'))
                .filter(|f| UNIVERSAL_FEATURES.contains(&f.split('=').next().unwrap_or("")))
                .collect();
            feats.sort_unstable();
            feats.dedup();
            feats
        };
        let key_of = |text: &Option<String>| text.as_deref().map(StringKey::of);
        self.words.push(EvalWord {
            key,
            lemma: key_of(&word.lemma),
            upos: word.upos,
            xpos: key_of(&word.xpos),
            feats: StringKey::of(&feats.join("|")),
            head: match word.head {
                None => Head::Unknown,
                Some(0) => Head::Root,
                Some(head) => Head::Word(first + head - 1),
            },
            deprel: word.deprel.as_deref().map(|d| StringKey::of(d.split(':').next().unwrap_or(d))),
        });
    }

    /// Reads a whole file, refusing invalid trees as the CoNLL 2018 evaluator does, in the
    /// system file as in the gold one: attachment scores over a cycle or a second root
    /// would be meaningless (see [`ConlluReader::with_tree_check`]; a sentence without any
    /// HEAD, as an unparsed system writes, passes).
    ///
    /// # Errors
    ///
    /// Returns [`EvalError::Conllu`] (naming `side`) if the input is malformed or unreadable,
    /// or a sentence's HEADs do not form a tree.
    pub fn read(input: impl BufRead, side: Side) -> Result<Self, EvalError> {
        let mut treebank = Self::default();
        for sentence in ConlluReader::with_tree_check(input) {
            treebank.push(&sentence.map_err(|source| EvalError::Conllu { side, source })?);
        }
        Ok(treebank)
    }
}

fn without_space(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

fn char_len(text: &str) -> u32 {
    text.chars().count() as u32
}

/// The CoNLL 2018 metrics of a system file against a gold file.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct ConlluScores {
    /// Surface tokens (a multiword token counts once).
    #[serde(rename = "Tokens")]
    pub tokens: Score,
    /// Sentence spans.
    #[serde(rename = "Sentences")]
    pub sentences: Score,
    /// Syntactic words.
    #[serde(rename = "Words")]
    pub words: Score,
    /// Universal POS tags.
    #[serde(rename = "UPOS")]
    pub upos: Score,
    /// Language-specific (Penn) tags.
    #[serde(rename = "XPOS")]
    pub xpos: Score,
    /// Universal features.
    #[serde(rename = "UFeats")]
    pub ufeats: Score,
    /// Lemmas.
    #[serde(rename = "Lemmas")]
    pub lemmas: Score,
    /// Unlabelled attachment.
    #[serde(rename = "UAS")]
    pub uas: Score,
    /// Labelled attachment (universal relation).
    #[serde(rename = "LAS")]
    pub las: Score,
}

impl ConlluScores {
    /// Every metric with its name, in the order of the CoNLL 2018 table.
    pub fn metrics(&self) -> [(&'static str, Score); 9] {
        [
            ("Tokens", self.tokens),
            ("Sentences", self.sentences),
            ("Words", self.words),
            ("UPOS", self.upos),
            ("XPOS", self.xpos),
            ("UFeats", self.ufeats),
            ("Lemmas", self.lemmas),
            ("UAS", self.uas),
            ("LAS", self.las),
        ]
    }
}

/// Scores `system` against `gold` (both CoNLL-U).
///
/// Tokens and sentences count as correct when the system has the same character span;
/// words are aligned by span, and the other metrics are scored over aligned words (a head is
/// right when the system's head word is aligned to the gold head word, or both are roots; a
/// gold lemma `_` matches anything).
///
/// # Errors
///
/// Returns [`EvalError::Conllu`] if a file is malformed or unreadable or holds an invalid
/// tree (see [`Treebank::read`]), and [`EvalError::TextMismatch`] if the files do not spell
/// the same text.
pub fn score_conllu(gold: impl BufRead, system: impl BufRead) -> Result<ConlluScores, EvalError> {
    let gold = Treebank::read(gold, Side::Gold)?;
    let system = Treebank::read(system, Side::System)?;
    compare(&gold, &system)
}

fn compare(gold: &Treebank, system: &Treebank) -> Result<ConlluScores, EvalError> {
    check_same_text(&gold.chars, &system.chars)?;
    let span_score = |g: &[(u32, u32)], s: &[(u32, u32)]| {
        let gold_set: HashSet<_> = g.iter().collect();
        let correct = s.iter().collect::<HashSet<_>>().intersection(&gold_set).count();
        Score::new(correct, s.len(), g.len())
    };

    // A system word aligns to the gold word with the same key (the last one, should two
    // gold words share a key).
    let gold_by_key: HashMap<WordKey, usize> =
        gold.words.iter().enumerate().map(|(i, w)| (w.key, i)).collect();
    let mut sys_to_gold = vec![None; system.words.len()];
    let pairs: Vec<(usize, usize)> = system
        .words
        .iter()
        .enumerate()
        .filter_map(|(j, w)| gold_by_key.get(&w.key).map(|&i| (i, j)))
        .collect();
    for &(i, j) in &pairs {
        sys_to_gold[j] = Some(i);
    }
    let head_ok = |g: &EvalWord, s: &EvalWord| match (g.head, s.head) {
        (Head::Root, h) | (h, Head::Root) => h == Head::Root,
        (Head::Word(g), Head::Word(s)) => sys_to_gold[s] == Some(g),
        _ => false,
    };
    let count = |ok: &dyn Fn(&EvalWord, &EvalWord) -> bool| {
        let correct = pairs.iter().filter(|&&(i, j)| ok(&gold.words[i], &system.words[j])).count();
        Score::new(correct, system.words.len(), gold.words.len()).with_aligned(pairs.len())
    };
    Ok(ConlluScores {
        tokens: span_score(&gold.tokens, &system.tokens),
        sentences: span_score(&gold.sentences, &system.sentences),
        words: Score::new(pairs.len(), system.words.len(), gold.words.len()),
        upos: count(&|g, s| g.upos == s.upos),
        xpos: count(&|g, s| g.xpos == s.xpos),
        ufeats: count(&|g, s| g.feats == s.feats),
        lemmas: count(&|g, s| g.lemma.is_none() || g.lemma == s.lemma),
        uas: count(&head_ok),
        las: count(&|g, s| head_ok(g, s) && g.deprel == s.deprel),
    })
}

fn check_same_text(gold: &str, system: &str) -> Result<(), EvalError> {
    if gold == system {
        return Ok(());
    }
    let offset = gold.chars().zip(system.chars()).take_while(|(g, s)| g == s).count();
    let snippet = |text: &str| text.chars().skip(offset).take(20).collect();
    Err(EvalError::TextMismatch { offset, gold: snippet(gold), system: snippet(system) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::ReadError;

    /// A gold sentence written for these tests: "I don't know." with "don't" as two words.
    const GOLD: &str = "\
1\tI\tI\tPRON\tPRP\tCase=Nom|Number=Sing\t4\tnsubj\t_\t_
2-3\tdon't\t_\t_\t_\t_\t_\t_\t_\t_
2\tdo\tdo\tAUX\tVBP\tMood=Ind\t4\taux\t_\t_
3\tn't\tnot\tPART\tRB\t_\t4\tadvmod\t_\t_
4\tknow\t_\tVERB\tVB\tVerbForm=Inf\t0\troot\t_\tSpaceAfter=No
5\t.\t.\tPUNCT\t.\t_\t4\tpunct\t_\t_

";

    fn counts(system: &str) -> Vec<(&'static str, [usize; 3])> {
        let scores = score_conllu(GOLD.as_bytes(), system.as_bytes()).expect("comparable");
        scores
            .metrics()
            .into_iter()
            .map(|(name, s)| (name, [s.correct, s.system, s.gold]))
            .collect()
    }

    #[test]
    fn identical_files_score_perfectly() {
        let scores = score_conllu(GOLD.as_bytes(), GOLD.as_bytes()).unwrap();
        for (name, score) in scores.metrics() {
            assert_eq!((score.precision, score.recall, score.f1), (1.0, 1.0, 1.0), "{name}");
        }
    }

    #[test]
    fn metrics_count_what_conll_2018_counts() {
        let cases = [
            (
                // Labels that differ only where CoNLL 2018 looks away: gold lemma `_`,
                // layered and language-specific features, relation subtypes.
                GOLD.replace("\tknow\t_\t", "\tknow\tKNOW\t")
                    .replace("Case=Nom|Number=Sing", "Number=Sing|Number[psor]=Sing|Case=Nom")
                    .replace("advmod", "advmod:neg"),
                [5, 5, 5],
                [5, 5, 5],
            ),
            (
                // One wrong of each kind; the wrong head (`.` on `I`) also costs LAS.
                GOLD.replace("PRON\tPRP", "NOUN\tNN")
                    .replace("Mood=Ind", "Mood=Sub")
                    .replace("\tnot\t", "\tnt\t")
                    .replace("\t4\tpunct", "\t1\tpunct"),
                [4, 5, 5],
                [4, 5, 5],
            ),
        ];
        for (system, tagged, parsed) in cases {
            let got = counts(&system);
            let expected = [
                ("Tokens", [4, 4, 4]),
                ("Sentences", [1, 1, 1]),
                ("Words", [5, 5, 5]),
                ("UPOS", tagged),
                ("XPOS", tagged),
                ("UFeats", tagged),
                ("Lemmas", tagged),
                ("UAS", parsed),
                ("LAS", parsed),
            ];
            assert_eq!(got, expected, "{system}");
        }
    }

    #[test]
    fn different_tokenization_aligns_by_characters() {
        // "don't" as one word and "know." as one word, split into two sentences.
        let system = "\
1\tI\tI\tPRON\tPRP\tCase=Nom|Number=Sing\t0\troot\t_\t_

1\tdon't\tdo\tAUX\tVBP\t_\t2\taux\t_\t_
2\tknow.\tknow\tVERB\tVB\t_\t0\troot\t_\t_

";
        assert_eq!(
            counts(system),
            [
                ("Tokens", [2, 3, 4]),
                ("Sentences", [0, 2, 1]),
                ("Words", [1, 3, 5]),
                ("UPOS", [1, 3, 5]),
                ("XPOS", [1, 3, 5]),
                ("UFeats", [1, 3, 5]),
                ("Lemmas", [1, 3, 5]),
                ("UAS", [0, 3, 5]),
                ("LAS", [0, 3, 5]),
            ]
        );
    }

    #[test]
    fn multiword_tokens_that_do_not_spell_their_words_align_by_position() {
        let gold = "1-2\tdu\t_\t_\t_\t_\t_\t_\t_\t_\n1\tde\t_\tADP\t_\t_\t0\troot\t_\t_\n\
                    2\tle\t_\tDET\t_\t_\t1\tdet\t_\t_\n\n";
        let one_word = "1\tdu\t_\tADP\t_\t_\t0\troot\t_\t_\n\n";
        let same = score_conllu(gold.as_bytes(), gold.as_bytes()).unwrap();
        assert_eq!((same.words.correct, same.las.correct), (2, 2));
        let merged = score_conllu(gold.as_bytes(), one_word.as_bytes()).unwrap();
        assert_eq!((merged.tokens.correct, merged.words.correct), (1, 0));
    }

    #[test]
    fn different_texts_are_refused_with_the_offset() {
        let system = GOLD.replace("know", "knew");
        let err = score_conllu(GOLD.as_bytes(), system.as_bytes()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the gold and system texts differ at non-space character 8: gold `ow.` vs system `ew.`"
        );
        let err = score_conllu(GOLD.as_bytes(), "1\tI\n".as_bytes()).unwrap_err();
        assert!(matches!(err, EvalError::Conllu { side: Side::System, .. }), "{err}");
    }

    #[test]
    fn invalid_trees_are_refused_in_either_file_at_their_line() {
        // Issue 19: the CoNLL 2018 evaluator refuses these; `nlpd evaluate` scored them.
        // GOLD's HEADs (lines 1, 3, 4, 5, 6) are 4 4 4 0 4; each case changes some.
        let with_heads = |heads: [&str; 5]| {
            let mut lines: Vec<String> = GOLD.lines().map(str::to_owned).collect();
            for (line, head) in [0, 2, 3, 4, 5].into_iter().zip(heads) {
                let mut cols: Vec<&str> = lines[line].split('\t').collect();
                cols[6] = head;
                lines[line] = cols.join("\t");
            }
            lines.join("\n") + "\n"
        };
        let cases = [
            (["4", "4", "4", "0", "5"], 6, "invalid tree: word 5 is its own head"),
            (["4", "4", "4", "0", "0"], 6, "invalid tree: words 4 and 5 both have HEAD 0"),
            (["4", "4", "4", "5", "4"], 1, "invalid tree: the sentence has no root"),
            (["0", "4", "4", "2", "4"], 3, "invalid tree: the HEADs form a cycle: 2 → 4 → 2"),
            (["4", "4", "4", "0", "9"], 6, "HEAD 9 is past the last word (5)"),
        ];
        for (heads, line, reason) in cases {
            let bad = with_heads(heads);
            for side in [Side::Gold, Side::System] {
                let (gold, system) = match side {
                    Side::Gold => (bad.as_str(), GOLD),
                    Side::System => (GOLD, bad.as_str()),
                };
                match score_conllu(gold.as_bytes(), system.as_bytes()) {
                    Err(EvalError::Conllu {
                        side: got,
                        source: ReadError::BadLine { line: at, reason: why },
                    }) => {
                        assert_eq!((got, at), (side, line), "{heads:?}");
                        assert!(why.starts_with(reason), "{why:?} should start with {reason:?}");
                    }
                    other => panic!("{heads:?} in the {side} file gave {other:?}"),
                }
            }
        }
        let unparsed = with_heads(["_"; 5]);
        assert!(score_conllu(GOLD.as_bytes(), unparsed.as_bytes()).is_ok(), "no HEADs at all");
    }
}

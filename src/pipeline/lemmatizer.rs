//! `lemmatizer`: lemmas from suffix-edit rules keyed by tag, plus an exception table, both
//! learned from the treebank.
//!
//! # Overview
//!
//! A `Rule` turns a form into its lemma: optionally lowercase it (or all but its first
//! letter, for names in capitals), optionally drop the commas that group digits
//! ("6,363,217" → "6363217", as the treebank lemmatizes numbers), strip `n` final
//! characters, append a string ("studies" → strip 3, append "y" → "study"). Training
//! (`crate::train`) finds, for each fine-grained tag, case class (lowercase, capitalised, in
//! capitals, digit groups) and form suffix, the rule that is most often right, and keeps a
//! suffix only where its rule differs from the rule of the next shorter suffix. Irregular
//! forms the rules get wrong ("went" → "go") go in an exception table keyed by form and tag.
//!
//! `Lemmatizer::lemmatize` tries the exception table (exact form, then lowercase form),
//! then the rules of the form's suffixes, longest first: the first whose result is a lemma
//! the treebank has for the tag's word class (its *lexicon*: "climbed"/VBD → "climb", not
//! "climbe") wins, else the longest suffix's. Lemmas that are not permanent strings are
//! interned into the document's zone, so unseen words never grow the shared vocabulary.

use rustc_hash::{FxHashMap, FxHashSet};

use super::{Component, ComponentError, ComponentKind};
use crate::doc::Doc;
use crate::vocab::{LexFlags, StringKey};

/// The longest suffix (in characters) the rule table is keyed by.
pub(crate) const MAX_SUFFIX: usize = 5;

/// What a rule does to the case of a form before its suffix edit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Case {
    /// Leave it.
    Keep = 0,
    /// Lowercase every character ("The" → "the").
    Lower = 1,
    /// Lowercase all but the first character ("SOUTER" → "Souter": EWT lemmatizes names
    /// written in capitals so).
    Title = 2,
}

impl Case {
    /// Every case change, in order of preference for equally short rules.
    pub(crate) const ALL: [Case; 3] = [Case::Keep, Case::Lower, Case::Title];
}

/// A suffix edit turning a form into its lemma.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Rule {
    /// The case change made first.
    pub(crate) case: Case,
    /// Drop the commas between digits first.
    pub(crate) ungroup: bool,
    /// Characters to remove from the end.
    pub(crate) strip: u8,
    /// Text to append.
    pub(crate) append: String,
}

impl Rule {
    /// The shortest rule that turns `form` into `lemma` (preferring to keep case, then
    /// the commas).
    pub(crate) fn between(form: &str, lemma: &str) -> Rule {
        let grouped = CaseClass::of(form) == CaseClass::Grouped;
        let (mut best, mut base) = (None::<(usize, Rule)>, String::new());
        let options = [false, true].into_iter().flat_map(|ungroup| Case::ALL.map(|c| (c, ungroup)));
        for (case, ungroup) in options {
            if ungroup && !grouped {
                continue;
            }
            let mut rule = Rule { case, ungroup, strip: 0, append: String::new() };
            rule.base(form, &mut base);
            let common = base.chars().zip(lemma.chars()).take_while(|(a, b)| a == b).count();
            rule.strip = u8::try_from(base.chars().count() - common).unwrap_or(u8::MAX);
            rule.append = lemma.chars().skip(common).collect();
            let cost = usize::from(rule.strip) + rule.append.chars().count();
            if best.as_ref().is_none_or(|(c, _)| cost < *c) {
                best = Some((cost, rule));
            }
        }
        best.expect("the plain edit is always a candidate").1
    }

    /// The form with the rule's case and comma changes, into `out`.
    fn base(&self, form: &str, out: &mut String) {
        out.clear();
        let mut chars = form.chars().peekable();
        let mut previous_digit = false;
        let mut first = true;
        while let Some(c) = chars.next() {
            let next_digit = chars.peek().is_some_and(char::is_ascii_digit);
            if self.ungroup && c == ',' && previous_digit && next_digit {
                continue;
            }
            previous_digit = c.is_ascii_digit();
            match self.case {
                Case::Lower => out.extend(c.to_lowercase()),
                Case::Title if !first => out.extend(c.to_lowercase()),
                Case::Keep | Case::Title => out.push(c),
            }
            first = false;
        }
    }

    /// Applies the rule to `form`, writing the lemma into `out`. Returns `false` (leaving
    /// `out` unspecified) if the form is too short for it.
    pub(crate) fn apply(&self, form: &str, out: &mut String) -> bool {
        self.base(form, out);
        let len = out.chars().count();
        if usize::from(self.strip) > len
            || (usize::from(self.strip) == len && self.append.is_empty())
        {
            return false;
        }
        let cut =
            out.char_indices().nth(len - usize::from(self.strip)).map_or(out.len(), |(i, _)| i);
        out.truncate(cut);
        out.push_str(&self.append);
        true
    }
}

/// Key of a rule-table node: (tag, case class of the form, lowercase suffix).
pub(crate) fn node_key(tag: StringKey, class: CaseClass, suffix: &str) -> u64 {
    let suffix = xxhash_rust::xxh3::xxh3_64(suffix.as_bytes());
    super::nn::mix64(tag.as_u64() ^ suffix.rotate_left(17) ^ class as u64)
}

/// The class of a form that rule nodes are keyed by, besides tag and suffix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum CaseClass {
    /// Starts with anything but an uppercase letter.
    Lower = 0,
    /// Starts with an uppercase letter.
    Upper = 1,
    /// Holds digits grouped by commas ("1,250").
    Grouped = 2,
    /// Written in capitals: [`CAPITALS_LETTERS`] letters or more and no lowercase letter
    /// ("SOUTER", not "USA"), which the treebank often lemmatizes in title case.
    Capitals = 3,
}

/// The fewest letters of a [`CaseClass::Capitals`] form: in EWT train, proper nouns in
/// capitals of five letters or more have a title-case lemma 153 times and keep their case 37
/// times; shorter ones (mostly acronyms) 40 and 892 times.
pub(crate) const CAPITALS_LETTERS: usize = 5;

impl CaseClass {
    /// The class of `form`.
    pub(crate) fn of(form: &str) -> CaseClass {
        let bytes = form.as_bytes();
        if bytes.windows(3).any(|w| w[0].is_ascii_digit() && w[1] == b',' && w[2].is_ascii_digit())
        {
            CaseClass::Grouped
        } else if form.chars().filter(|c| c.is_alphabetic()).count() >= CAPITALS_LETTERS
            && !form.chars().any(char::is_lowercase)
        {
            CaseClass::Capitals
        } else if form.chars().next().is_some_and(char::is_uppercase) {
            CaseClass::Upper
        } else {
            CaseClass::Lower
        }
    }

    /// The class with code `code` (its discriminant), if any.
    pub(crate) fn from_code(code: u8) -> Option<CaseClass> {
        [CaseClass::Lower, CaseClass::Upper, CaseClass::Grouped, CaseClass::Capitals]
            .get(usize::from(code))
            .copied()
    }
}

/// The last `n` characters of the lowercase form `lower` (all of it if shorter).
pub(crate) fn suffix(lower: &str, n: usize) -> &str {
    let start = if n == 0 {
        lower.len()
    } else {
        lower.char_indices().rev().nth(n - 1).map_or(0, |(i, _)| i)
    };
    &lower[start..]
}

/// The word class of a fine tag that the lexicon is keyed by: its first two characters
/// ("VBD" → "VB", "NNS" → "NN").
pub(crate) fn word_class(tag: &str) -> &str {
    tag.char_indices().nth(2).map_or(tag, |(i, _)| &tag[..i])
}

/// The hash of a word class (see [`word_class`]) that lexicon keys start from.
pub(crate) fn class_key(class: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(class.as_bytes())
}

/// Key of a lexicon entry: a word class (its [`class_key`]) and a lowercase lemma.
pub(crate) fn lexicon_key(class: u64, lemma: &str) -> u64 {
    super::nn::mix64(class ^ xxhash_rust::xxh3::xxh3_64(lemma.as_bytes()).rotate_left(29))
}

/// Scratch buffers of [`Lemmatizer::lemmatize`], reused across tokens.
#[derive(Debug, Default)]
pub(crate) struct LemmaScratch {
    lower: String,
    probe: String,
}

/// One rule-table entry, as stored in model files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RuleNode {
    pub(crate) tag: String,
    pub(crate) class: CaseClass,
    pub(crate) suffix: String,
    pub(crate) rule: u32,
}

/// One exception, as stored in model files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Exception {
    pub(crate) form: String,
    pub(crate) tag: String,
    pub(crate) lemma: String,
}

/// The lemmatizer component. See the [module docs](self).
#[derive(Clone, Debug, PartialEq)]
pub struct Lemmatizer {
    pub(crate) rules: Vec<Rule>,
    pub(crate) nodes: Vec<RuleNode>,
    pub(crate) exceptions: Vec<Exception>,
    /// Lexicon keys ([`lexicon_key`]) of the lemmas seen in training, per word class.
    pub(crate) lexicon: FxHashSet<u64>,
    node_index: FxHashMap<u64, u32>,
    exception_index: FxHashMap<(StringKey, StringKey), u32>,
    /// The [`class_key`] of every tag with rules.
    tag_classes: FxHashMap<StringKey, u64>,
}

impl Lemmatizer {
    /// A lemmatizer from its tables.
    pub(crate) fn new(
        rules: Vec<Rule>,
        nodes: Vec<RuleNode>,
        exceptions: Vec<Exception>,
        lexicon: FxHashSet<u64>,
    ) -> Self {
        let node_index = nodes
            .iter()
            .map(|n| (node_key(StringKey::of(&n.tag), n.class, &n.suffix), n.rule))
            .collect();
        let exception_index = exceptions
            .iter()
            .enumerate()
            .map(|(i, e)| ((StringKey::of(&e.form), StringKey::of(&e.tag)), i as u32))
            .collect();
        let tag_classes =
            nodes.iter().map(|n| (StringKey::of(&n.tag), class_key(word_class(&n.tag)))).collect();
        Self { rules, nodes, exceptions, lexicon, node_index, exception_index, tag_classes }
    }

    /// Whether `lemma` is in the lexicon of the word class `class` (a [`class_key`]);
    /// `probe` is scratch.
    fn is_known(&self, class: u64, lemma: &str, probe: &mut String) -> bool {
        probe.clear();
        probe.extend(lemma.chars().flat_map(char::to_lowercase));
        self.lexicon.contains(&lexicon_key(class, probe))
    }

    /// The lemma of `form` with fine-grained tag `tag`, written into `out`.
    pub(crate) fn lemmatize(
        &self,
        form: &str,
        tag: StringKey,
        scratch: &mut LemmaScratch,
        out: &mut String,
    ) {
        let LemmaScratch { lower, probe } = scratch;
        let exception = self.exception_index.get(&(StringKey::of(form), tag)).or_else(|| {
            lower.clear();
            lower.extend(form.chars().flat_map(char::to_lowercase));
            self.exception_index.get(&(StringKey::of(lower), tag))
        });
        if let Some(&i) = exception {
            out.clear();
            out.push_str(&self.exceptions[i as usize].lemma);
            return;
        }
        let class = CaseClass::of(form);
        let word_class = self.tag_classes.get(&tag);
        let longest = lower.chars().count().min(MAX_SUFFIX);
        let mut first = None;
        for n in (0..=longest).rev() {
            let Some(&rule) = self.node_index.get(&node_key(tag, class, suffix(lower, n))) else {
                continue;
            };
            let rule = &self.rules[rule as usize];
            if !rule.apply(form, out) {
                continue;
            }
            match word_class {
                Some(&word_class) if !self.is_known(word_class, out, probe) => {
                    first.get_or_insert(rule);
                }
                _ => return,
            }
        }
        match first {
            Some(rule) => {
                rule.apply(form, out);
            }
            None => {
                out.clear();
                out.push_str(form);
            }
        }
    }
}

impl Component for Lemmatizer {
    fn name(&self) -> &'static str {
        ComponentKind::Lemmatizer.name()
    }

    fn needs(&self) -> &'static [ComponentKind] {
        ComponentKind::Lemmatizer.needs()
    }

    fn process(&self, doc: &mut Doc<'_>) -> Result<(), ComponentError> {
        let zone = doc.zone();
        let (mut scratch, mut lemma) = (LemmaScratch::default(), String::new());
        for i in 0..doc.len() {
            let token = &doc.tokens()[i];
            let form = &doc.text()[token.span().bytes()];
            let key = if token.lex().is(LexFlags::IS_SPACE) {
                token.lex().orth
            } else {
                let tag = token.tag.ok_or(ComponentError::MissingInput {
                    component: ComponentKind::Lemmatizer.name(),
                    needs: "tag (run the tagger first)",
                })?;
                self.lemmatize(form, tag, &mut scratch, &mut lemma);
                zone.intern(&lemma)
            };
            doc.tokens_mut()[i].lemma = Some(key);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::Vocab;

    #[test]
    fn rules_are_the_shortest_edit_and_apply_back() {
        let cases = [
            ("studies", "study", false, false, 3, "y"),
            ("killed", "kill", false, false, 2, ""),
            ("The", "the", true, false, 0, ""),
            ("Al", "Al", false, false, 0, ""),
            ("went", "go", false, false, 4, "go"),
            ("naïves", "naïve", false, false, 1, ""),
            ("Ran", "run", true, false, 2, "un"),
            ("6,363,217", "6363217", false, true, 0, ""),
            ("1,000", "1,000", false, false, 0, ""),
            ("2,5s", "25", false, true, 1, ""),
        ];
        for (form, lemma, lower, ungroup, strip, append) in cases {
            let rule = Rule::between(form, lemma);
            let case = if lower { Case::Lower } else { Case::Keep };
            assert_eq!(rule, Rule { case, ungroup, strip, append: append.into() }, "{form}");
            let mut out = String::new();
            assert!(rule.apply(form, &mut out));
            assert_eq!(out, lemma);
        }
        let mut out = String::new();
        let strip = |strip| Rule { case: Case::Keep, ungroup: false, strip, append: String::new() };
        assert!(!strip(3).apply("ab", &mut out));
        assert!(!strip(2).apply("ab", &mut out));
        let ungroup = Rule { ungroup: true, ..strip(0) };
        assert!(ungroup.apply("a,1,2,b", &mut out));
        assert_eq!(out, "a,12,b", "only commas between digits go");
        assert_eq!(CaseClass::of("1,2"), CaseClass::Grouped);
        assert_eq!(CaseClass::of("Hi,"), CaseClass::Upper);
        assert_eq!(CaseClass::of("USA"), CaseClass::Upper);
        assert_eq!(CaseClass::of("O'NEILL"), CaseClass::Capitals);
        let title = Rule::between("SOUTER", "Souter");
        assert_eq!(title, Rule { case: Case::Title, ..strip(0) });
        assert!(title.apply("ÉMILE", &mut out));
        assert_eq!(out, "Émile");
        assert_eq!(CaseClass::of(",1"), CaseClass::Lower);
    }

    #[test]
    fn exceptions_win_then_a_known_lemma_then_the_longest_suffix() {
        let rules = vec![
            Rule { case: Case::Keep, ungroup: false, strip: 0, append: String::new() },
            Rule { case: Case::Lower, ungroup: false, strip: 1, append: String::new() },
            Rule { case: Case::Lower, ungroup: false, strip: 3, append: "y".into() },
            Rule { case: Case::Lower, ungroup: false, strip: 2, append: String::new() },
        ];
        let node = |suffix: &str, rule| RuleNode {
            tag: "NNS".into(),
            class: CaseClass::Lower,
            suffix: suffix.into(),
            rule,
        };
        let nodes = vec![
            node("", 0),
            node("s", 1),
            node("ies", 2),
            node("ies", 2),
            node("es", 3),
            node("oes", 1),
        ];
        let exceptions =
            vec![Exception { form: "mice".into(), tag: "NNS".into(), lemma: "mouse".into() }];
        assert_eq!((word_class("NNS"), word_class("X")), ("NN", "X"));
        let lexicon = [lexicon_key(class_key("NN"), "hero")].into_iter().collect();
        let lemmatizer = Lemmatizer::new(rules, nodes, exceptions, lexicon);
        let nns = StringKey::of("NNS");
        let (mut scratch, mut out) = (LemmaScratch::default(), String::new());
        for (form, want) in [
            ("cats", "cat"),
            ("studies", "study"),
            ("mice", "mouse"),
            ("sheep", "sheep"),
            ("s", "s"),
            ("heroes", "hero"),
            ("toes", "toe"),
        ] {
            lemmatizer.lemmatize(form, nns, &mut scratch, &mut out);
            assert_eq!(out, want, "{form}");
        }
        // Unknown tag: the form itself.
        lemmatizer.lemmatize("cats", StringKey::of("VBZ"), &mut scratch, &mut out);
        assert_eq!(out, "cats");

        let vocab = Vocab::new();
        let zone = vocab.zone();
        let mut doc = Doc::from_words(&zone, &["mice", "cats"], &[true, false]);
        assert!(lemmatizer.process(&mut doc).is_err());
        doc.tokens_mut().iter_mut().for_each(|t| t.tag = Some(nns));
        lemmatizer.process(&mut doc).unwrap();
        let lemmas: Vec<_> = doc.iter().map(|t| t.resolve(t.data().lemma)).collect();
        assert_eq!(lemmas, ["mouse", "cat"]);
    }
}

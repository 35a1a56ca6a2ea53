//! `lemmatizer`: lemmas from suffix-edit rules keyed by tag, plus an exception table, both
//! learned from the treebank.
//!
//! # Overview
//!
//! A `Rule` turns a form into its lemma: optionally lowercase it, strip `n` final
//! characters, append a string ("studies" → strip 3, append "y" → "study"). Training
//! (`crate::train`) finds, for each fine-grained tag, case class and form suffix, the rule
//! that is most often right, and keeps a suffix only where its rule differs from the
//! rule of the next shorter suffix. Irregular forms the rules get wrong ("went" → "go")
//! go in an exception table keyed by form and tag.
//!
//! `Lemmatizer::lemmatize` tries the exception table (exact form, then lowercase form),
//! then the longest known suffix. Lemmas that are not permanent strings are interned into
//! the document's zone, so unseen words never grow the shared vocabulary.

use rustc_hash::FxHashMap;

use super::{Component, ComponentError};
use crate::doc::Doc;
use crate::vocab::{LexFlags, StringKey};

/// The longest suffix (in characters) the rule table is keyed by.
pub(crate) const MAX_SUFFIX: usize = 5;

/// A suffix edit turning a form into its lemma.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Rule {
    /// Lowercase the form first.
    pub(crate) lower: bool,
    /// Characters to remove from the end.
    pub(crate) strip: u8,
    /// Text to append.
    pub(crate) append: String,
}

impl Rule {
    /// The shortest rule that turns `form` into `lemma` (preferring to keep case).
    pub(crate) fn between(form: &str, lemma: &str) -> Rule {
        let lowered = form.to_lowercase();
        let edit = |base: &str, lower: bool| {
            let common = base.chars().zip(lemma.chars()).take_while(|(a, b)| a == b).count();
            let strip = base.chars().count() - common;
            let append: String = lemma.chars().skip(common).collect();
            Rule { lower, strip: u8::try_from(strip).unwrap_or(u8::MAX), append }
        };
        let keep = edit(form, false);
        let low = edit(&lowered, true);
        let cost = |r: &Rule| usize::from(r.strip) + r.append.chars().count();
        if cost(&low) < cost(&keep) { low } else { keep }
    }

    /// Applies the rule to `form`, writing the lemma into `out`. Returns `false` (leaving
    /// `out` unspecified) if the form is too short for it.
    pub(crate) fn apply(&self, form: &str, out: &mut String) -> bool {
        out.clear();
        if self.lower {
            out.extend(form.chars().flat_map(char::to_lowercase));
        } else {
            out.push_str(form);
        }
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

/// Key of a rule-table node: (tag, whether the form starts uppercase, lowercase suffix).
pub(crate) fn node_key(tag: StringKey, upper: bool, suffix: &str) -> u64 {
    let suffix = xxhash_rust::xxh3::xxh3_64(suffix.as_bytes());
    super::nn::mix64(tag.as_u64() ^ suffix.rotate_left(17) ^ u64::from(upper))
}

/// Whether the form starts with an uppercase letter (the case class of rule nodes).
pub(crate) fn starts_upper(form: &str) -> bool {
    form.chars().next().is_some_and(char::is_uppercase)
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

/// One rule-table entry, as stored in model files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RuleNode {
    pub(crate) tag: String,
    pub(crate) upper: bool,
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
    node_index: FxHashMap<u64, u32>,
    exception_index: FxHashMap<(StringKey, StringKey), u32>,
}

impl Lemmatizer {
    /// A lemmatizer from its tables.
    pub(crate) fn new(rules: Vec<Rule>, nodes: Vec<RuleNode>, exceptions: Vec<Exception>) -> Self {
        let node_index = nodes
            .iter()
            .map(|n| (node_key(StringKey::of(&n.tag), n.upper, &n.suffix), n.rule))
            .collect();
        let exception_index = exceptions
            .iter()
            .enumerate()
            .map(|(i, e)| ((StringKey::of(&e.form), StringKey::of(&e.tag)), i as u32))
            .collect();
        Self { rules, nodes, exceptions, node_index, exception_index }
    }

    /// The lemma of `form` with fine-grained tag `tag`, written into `out` (`lower` is a
    /// scratch buffer).
    pub(crate) fn lemmatize(
        &self,
        form: &str,
        tag: StringKey,
        lower: &mut String,
        out: &mut String,
    ) {
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
        let upper = starts_upper(form);
        let longest = lower.chars().count().min(MAX_SUFFIX);
        for n in (0..=longest).rev() {
            if let Some(&rule) = self.node_index.get(&node_key(tag, upper, suffix(lower, n))) {
                if self.rules[rule as usize].apply(form, out) {
                    return;
                }
            }
        }
        out.clear();
        out.push_str(form);
    }
}

impl Component for Lemmatizer {
    fn name(&self) -> &'static str {
        "lemmatizer"
    }

    fn needs(&self) -> &'static [&'static str] {
        &["tagger"]
    }

    fn process(&self, doc: &mut Doc<'_>) -> Result<(), ComponentError> {
        let zone = doc.zone();
        let (mut lower, mut lemma) = (String::new(), String::new());
        for i in 0..doc.len() {
            let token = &doc.tokens()[i];
            let form = &doc.text()[token.span().bytes()];
            let key = if token.lex().is(LexFlags::IS_SPACE) {
                token.lex().orth
            } else {
                let tag = token.tag.ok_or(ComponentError::MissingInput {
                    component: "lemmatizer",
                    needs: "tag (run the tagger first)",
                })?;
                self.lemmatize(form, tag, &mut lower, &mut lemma);
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
            ("studies", "study", false, 3, "y"),
            ("killed", "kill", false, 2, ""),
            ("The", "the", true, 0, ""),
            ("Al", "Al", false, 0, ""),
            ("went", "go", false, 4, "go"),
            ("naïves", "naïve", false, 1, ""),
            ("Ran", "run", true, 2, "un"),
        ];
        for (form, lemma, lower, strip, append) in cases {
            let rule = Rule::between(form, lemma);
            assert_eq!(rule, Rule { lower, strip, append: append.into() }, "{form}");
            let mut out = String::new();
            assert!(rule.apply(form, &mut out));
            assert_eq!(out, lemma);
        }
        let mut out = String::new();
        assert!(!Rule { lower: false, strip: 3, append: String::new() }.apply("ab", &mut out));
        assert!(!Rule { lower: false, strip: 2, append: String::new() }.apply("ab", &mut out));
    }

    #[test]
    fn exceptions_win_then_the_longest_suffix() {
        let rules = vec![
            Rule { lower: false, strip: 0, append: String::new() },
            Rule { lower: true, strip: 1, append: String::new() },
            Rule { lower: true, strip: 3, append: "y".into() },
        ];
        let node = |suffix: &str, rule| RuleNode {
            tag: "NNS".into(),
            upper: false,
            suffix: suffix.into(),
            rule,
        };
        let nodes = vec![node("", 0), node("s", 1), node("ies", 2), node("ies", 2)];
        let exceptions =
            vec![Exception { form: "mice".into(), tag: "NNS".into(), lemma: "mouse".into() }];
        let lemmatizer = Lemmatizer::new(rules, nodes, exceptions);
        let nns = StringKey::of("NNS");
        let (mut lower, mut out) = (String::new(), String::new());
        for (form, want) in [
            ("cats", "cat"),
            ("studies", "study"),
            ("mice", "mouse"),
            ("sheep", "sheep"),
            ("s", "s"),
        ] {
            lemmatizer.lemmatize(form, nns, &mut lower, &mut out);
            assert_eq!(out, want, "{form}");
        }
        // Unknown tag: the form itself.
        lemmatizer.lemmatize("cats", StringKey::of("VBZ"), &mut lower, &mut out);
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

//! Learning the lemmatizer's tables from a treebank.
//!
//! # Overview
//!
//! [`induce`] counts, for every (fine tag, case class, lowercase suffix of 0..=5 chars), how
//! often each [`Rule`] turns the form into its gold lemma (whole-word replacements such as
//! "went" → "go" are left to the exceptions). A suffix node keeps its most
//! frequent rule only if it differs from its parent's (the suffix one character shorter),
//! which keeps the table small without changing any prediction. Nodes seen once are kept:
//! requiring two sightings scored the same on EWT dev (one lemma fewer) and needed twice
//! the exceptions (1,207 against 639). The lexicon holds every (word class, lowercase lemma) of the
//! corpus. Finally every training (form, tag) whose most frequent lemma the rules and
//! lexicon get wrong becomes an exception.

use std::collections::BTreeMap;

use rustc_hash::FxHashSet;

use super::corpus::Corpus;
use crate::pipeline::lemmatizer::{
    CaseClass, Exception, LemmaScratch, Lemmatizer, MAX_SUFFIX, Rule, RuleNode, class_key,
    lexicon_key, suffix, word_class,
};
use crate::vocab::StringKey;

type NodeId = (String, CaseClass, String);

/// Learns a lemmatizer from the forms, fine tags and lemmas of `corpus`.
pub(crate) fn induce(corpus: &Corpus) -> Lemmatizer {
    let mut rule_ids: BTreeMap<Rule, u32> = BTreeMap::new();
    let mut rules: Vec<Rule> = Vec::new();
    // BTreeMaps keep the result independent of hash order (deterministic files).
    let mut counts: BTreeMap<NodeId, BTreeMap<u32, usize>> = BTreeMap::new();
    let mut lemmas: BTreeMap<(String, String), BTreeMap<String, usize>> = BTreeMap::new();
    let mut lexicon = FxHashSet::default();
    for word in corpus.paragraphs.iter().flat_map(|p| p.words()) {
        let (Some(tag), Some(lemma)) = (&word.xpos, &word.lemma) else { continue };
        lexicon.insert(lexicon_key(class_key(word_class(tag)), &lemma.to_lowercase()));
        *lemmas
            .entry((word.form.clone(), tag.clone()))
            .or_default()
            .entry(lemma.clone())
            .or_default() += 1;
        let rule = Rule::between(&word.form, lemma);
        if usize::from(rule.strip) >= word.form.chars().count() {
            // A whole-word replacement ("'s" → "be", "went" → "go") says nothing about other
            // words ending the same way: only the exception table may use it.
            continue;
        }
        let id = *rule_ids.entry(rule.clone()).or_insert_with(|| {
            rules.push(rule);
            rules.len() as u32 - 1
        });
        let lower = word.form.to_lowercase();
        let class = CaseClass::of(&word.form);
        for n in 0..=lower.chars().count().min(MAX_SUFFIX) {
            let node = (tag.clone(), class, suffix(&lower, n).to_owned());
            *counts.entry(node).or_default().entry(id).or_default() += 1;
        }
    }
    let best = |c: &BTreeMap<u32, usize>| {
        // Most frequent; the smallest rule id on ties.
        c.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0))).map(|(&id, _)| id)
    };
    let mut nodes = Vec::new();
    for ((tag, class, sfx), c) in &counts {
        let Some(rule) = best(c) else { continue };
        let parent_rule = (!sfx.is_empty()).then(|| {
            let shorter = suffix(sfx, sfx.chars().count() - 1).to_owned();
            counts.get(&(tag.clone(), *class, shorter)).and_then(best)
        });
        if parent_rule.flatten() != Some(rule) {
            nodes.push(RuleNode { tag: tag.clone(), class: *class, suffix: sfx.clone(), rule });
        }
    }
    let by_rules = Lemmatizer::new(rules.clone(), nodes.clone(), Vec::new(), lexicon.clone());
    let (mut scratch, mut predicted) = (LemmaScratch::default(), String::new());
    let mut exceptions = Vec::new();
    for ((form, tag), options) in &lemmas {
        let gold = options.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0))).map(|(l, _)| l);
        let Some(gold) = gold else { continue };
        by_rules.lemmatize(form, StringKey::of(tag), &mut scratch, &mut predicted);
        if &predicted != gold {
            exceptions.push(Exception {
                form: form.clone(),
                tag: tag.clone(),
                lemma: gold.clone(),
            });
        }
    }
    Lemmatizer::new(rules, nodes, exceptions, lexicon)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::conllu::ConlluReader;

    fn corpus(rows: &[(&str, &str, &str)]) -> Corpus {
        let mut text = String::new();
        for (i, (form, tag, lemma)) in rows.iter().enumerate() {
            text.push_str(&format!("{}\t{form}\t{lemma}\tX\t{tag}\t_\t0\troot\t_\t_\n", i + 1));
        }
        text.push('\n');
        ConlluReader::new(text.as_bytes()).map(Result::unwrap).collect()
    }

    #[test]
    fn learns_suffix_rules_and_irregular_exceptions() {
        let rows = [
            ("cats", "NNS", "cat"),
            ("dogs", "NNS", "dog"),
            ("studies", "NNS", "study"),
            ("flies", "NNS", "fly"),
            ("mice", "NNS", "mouse"),
            ("The", "DT", "the"),
            ("The", "DT", "the"),
            ("walked", "VBD", "walk"),
            ("jumped", "VBD", "jump"),
            ("went", "VBD", "go"),
            ("1,250", "CD", "1250"),
            ("3,000,000", "CD", "3000000"),
            ("17", "CD", "17"),
        ];
        let lemmatizer = induce(&corpus(&rows));
        let (mut scratch, mut out) = (LemmaScratch::default(), String::new());
        let cases = [
            ("cats", "NNS", "cat"),
            ("mice", "NNS", "mouse"),
            ("parties", "NNS", "party"),
            ("hats", "NNS", "hat"),
            ("went", "VBD", "go"),
            ("kicked", "VBD", "kick"),
            ("The", "DT", "the"),
            ("42,195", "CD", "42195"),
            ("2026", "CD", "2026"),
        ];
        for (form, tag, want) in cases {
            lemmatizer.lemmatize(form, StringKey::of(tag), &mut scratch, &mut out);
            assert_eq!(out, want, "{form}/{tag}");
        }
        assert!(lemmatizer.exceptions.iter().any(|e| e.form == "went"));
        assert!(!lemmatizer.exceptions.iter().any(|e| e.form == "cats"));
    }
}

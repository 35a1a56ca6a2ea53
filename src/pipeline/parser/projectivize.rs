//! Pseudo-projective parsing (Nivre & Nilsson, 2005): non-projective trees are made
//! projective for training by lifting arcs, and the lifts are undone after parsing.
//!
//! # Overview
//!
//! [`projectivize`] repeatedly takes the shortest non-projective arc `h → d` and re-attaches
//! `d` to the head of `h`, recording the lift in `d`'s label as `label||head_label` (the
//! "head" encoding: the label of the word `d` really depends on). The parser learns these
//! decorated labels like any other. [`deprojectivize`] reads them back: it searches the
//! subtree of the predicted head, breadth first, for a word whose label is `head_label`
//! and moves `d` there, then strips the decoration.

/// Separates a label from the label of the head it was lifted from.
pub(crate) const LIFT: &str = "||";

/// Whether `word` is `ancestor` or lies below it (heads of roots point to themselves).
fn dominates(heads: &[u32], ancestor: u32, mut word: u32) -> bool {
    for _ in 0..heads.len() {
        if word == ancestor {
            return true;
        }
        let head = heads[word as usize];
        if head == word {
            return false;
        }
        word = head;
    }
    false
}

/// Whether the arc into `dep` crosses a word its head does not dominate.
fn is_non_projective(heads: &[u32], dep: u32) -> bool {
    let head = heads[dep as usize];
    if head == dep {
        return false;
    }
    let (lo, hi) = (head.min(dep), head.max(dep));
    (lo + 1..hi).any(|k| !dominates(heads, head, k))
}

/// Lifts non-projective arcs until the forest is projective, decorating lifted labels.
pub(crate) fn projectivize(heads: &mut [u32], labels: &mut [String]) {
    loop {
        let shortest = (0..heads.len() as u32)
            .filter(|&d| is_non_projective(heads, d))
            .min_by_key(|&d| (heads[d as usize].abs_diff(d), d));
        let Some(dep) = shortest else { return };
        let head = heads[dep as usize];
        heads[dep as usize] = heads[head as usize];
        if !labels[dep as usize].contains(LIFT) {
            let head_label =
                labels[head as usize].split(LIFT).next().unwrap_or_default().to_owned();
            labels[dep as usize] = format!("{}{LIFT}{head_label}", labels[dep as usize]);
        }
        if heads[dep as usize] == head {
            // `head` is a root: the arc cannot be lifted further (cannot happen in a tree).
            return;
        }
    }
}

/// Splits a possibly decorated label into its own label and the lifted-from head label.
pub(crate) fn split_label(label: &str) -> (&str, Option<&str>) {
    match label.split_once(LIFT) {
        Some((own, head)) => (own, Some(head)),
        None => (label, None),
    }
}

/// Undoes lifts: every word whose label (`labels[i]`) is decorated moves to the first word
/// below its predicted head, breadth first, whose own label is the decoration; words with no
/// such candidate keep their head. Callers strip the decorations with [`split_label`].
pub(crate) fn deprojectivize(heads: &mut [u32], labels: &[&str]) {
    if !labels.iter().any(|l| l.contains(LIFT)) {
        // The common case: nothing to undo, and no child lists to build.
        return;
    }
    let n = heads.len();
    let mut children: Vec<Vec<u32>> = vec![Vec::new(); n];
    for (dep, &head) in heads.iter().enumerate() {
        if head as usize != dep {
            children[head as usize].push(dep as u32);
        }
    }
    let mut queue = std::collections::VecDeque::new();
    for dep in 0..n {
        let (_, Some(wanted)) = split_label(labels[dep]) else { continue };
        let head = heads[dep];
        if head as usize == dep {
            continue;
        }
        queue.clear();
        queue.extend(children[head as usize].iter().copied().filter(|&c| c as usize != dep));
        while let Some(candidate) = queue.pop_front() {
            if split_label(labels[candidate as usize]).0 == wanted {
                heads[dep] = candidate;
                break;
            }
            queue.extend(
                children[candidate as usize].iter().copied().filter(|&c| c as usize != dep),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifting_makes_trees_projective_and_deprojectivizing_restores_them() {
        // "A hearing is scheduled on the issue today": `on` (4) depends on `hearing` (1)
        // across `is scheduled`, a classic non-projective arc.
        let heads = vec![1, 3, 3, 3, 1, 6, 4, 3];
        let labels: Vec<String> =
            ["det", "nsubj", "aux", "root", "nmod", "det", "obj", "obl"].map(String::from).to_vec();
        let mut lifted_heads = heads.clone();
        let mut lifted_labels = labels;
        projectivize(&mut lifted_heads, &mut lifted_labels);
        assert_eq!(lifted_heads[4], 3, "lifted to the head of `hearing`");
        assert_eq!(lifted_labels[4], "nmod||nsubj");
        assert!((0..8).all(|d| !is_non_projective(&lifted_heads, d)));
        let views: Vec<&str> = lifted_labels.iter().map(String::as_str).collect();
        deprojectivize(&mut lifted_heads, &views);
        assert_eq!(lifted_heads, heads);
        assert_eq!(split_label(&lifted_labels[4]), ("nmod", Some("nsubj")));
    }

    #[test]
    fn projective_trees_are_left_alone() {
        let mut heads = vec![1, 1, 1];
        let mut labels: Vec<String> = ["nsubj", "root", "punct"].map(String::from).to_vec();
        projectivize(&mut heads, &mut labels);
        assert_eq!(heads, [1, 1, 1]);
        assert_eq!(labels, ["nsubj", "root", "punct"]);
    }
}

//! Fitting the rules ranker on questions in members' own words, each with the provision that
//! governs it, by k-fold cross-validation by question: an inner cross-validation chooses the
//! L2 penalty, an outer one measures top-1 and top-3 on questions the ranker was not fit on.

use byraad_learn::{Group, fit_listwise, folds};
use serde::{Deserialize, Serialize};

use crate::Prepared;
use crate::features::{COUNT, Features, NAMES};
use crate::ranker::{FORMAT, Measured, Weights};

/// A question, as a line of `../shared/eval/rules-dev.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Labelled {
    /// Its id.
    pub id: String,
    /// The question.
    pub question: String,
    /// The governing provisions: "§ 8, stk. 4", "§ 23" (any of its stk.).
    pub expected: Vec<String>,
    /// The rules text they are of, by its short name ("forvaltningsloven"); kommunestyrelsesloven
    /// when absent, as `../shared/eval/score` reads it.
    #[serde(default = "primary_law")]
    pub law: String,
}

fn primary_law() -> String {
    "kommunestyrelsesloven".to_string()
}

/// A question made ready: its provisions' features and which govern it.
pub struct Example {
    /// The question.
    pub labelled: Labelled,
    /// Its provisions' features.
    pub features: Vec<Features>,
    /// Whether each provision governs it.
    pub right: Vec<bool>,
}

impl Example {
    /// `prepared` labelled by `labelled`'s expected provisions.
    pub fn new(labelled: Labelled, prepared: &Prepared) -> Self {
        let wanted: Vec<(String, Option<u32>)> = labelled.expected.iter().filter_map(|e| parse(e)).collect();
        let right = prepared
            .readable
            .iter()
            .map(|&i| {
                let e = &prepared.index.entries[i];
                let title = prepared.index.docs[e.doc].meta.title.to_lowercase();
                let law = labelled.law.to_lowercase();
                (crate::short_name(&title) == law || title.contains(&law)) && wanted.iter().any(|(p, s)| squash(&e.paragraph) == *p && s.is_none_or(|s| s == e.stk))
            })
            .collect();
        Self { labelled, features: prepared.features.clone(), right }
    }
}

/// "§ 8, stk. 4" as ("§8", Some(4)); "§ 10 a" as ("§10a", None).
fn parse(expected: &str) -> Option<(String, Option<u32>)> {
    let (paragraph, stk) = match expected.split_once(", stk.") {
        Some((p, s)) => (p, Some(s.trim().parse().ok()?)),
        None => (expected, None),
    };
    Some((squash(paragraph), stk))
}

fn squash(s: &str) -> String {
    s.split_whitespace().collect::<String>().to_lowercase()
}

/// How to train.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Folds of the outer and inner cross-validation.
    pub folds: usize,
    /// Seed of the questions' shuffle into folds.
    pub seed: u64,
    /// L2 penalties tried.
    pub alphas: Vec<f32>,
    /// Features left out (held at 0), by name.
    pub without: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Self { folds: 5, seed: 7, alphas: vec![0.1, 1.0, 10.0], without: Vec::new() }
    }
}

/// What a training run found.
pub struct Report {
    /// Both rankers fit on every question, their penalties chosen by cross-validation, with
    /// the outer cross-validation's figures.
    pub weights: Weights,
    /// Questions whose provision the ranker with e5's closeness put first / among the first
    /// three, each ranked by a ranker not fit on it.
    pub top1: usize,
    /// See `top1`.
    pub top3: usize,
    /// The same for the ranker by words alone.
    pub lexical_top1: usize,
    /// See `lexical_top1`.
    pub lexical_top3: usize,
    /// Questions.
    pub questions: usize,
}

/// The features read by words alone.
const DENSE: [&str; 2] = ["dense", "dense_rank"];

/// Trains and cross-validates both rankers on `examples`.
pub fn train(examples: &[Example], options: &Options) -> Result<Report, String> {
    let mut mask = [true; COUNT];
    for name in &options.without {
        let i = NAMES.iter().position(|n| n == name).ok_or_else(|| format!("no feature {name:?}; the features are {NAMES:?}"))?;
        mask[i] = false;
    }
    let mut words = mask;
    for (keep, name) in words.iter_mut().zip(NAMES) {
        *keep &= !DENSE.contains(&name);
    }
    let (ranker, top1, top3) = cross_validate(examples, options, &mask)?;
    let (lexical, lexical_top1, lexical_top3) = cross_validate(examples, options, &words)?;
    let n = examples.len().max(1) as f32;
    let measured = |top1: usize, top3: usize| Measured { questions: examples.len(), folds: options.folds, top1: top1 as f32 / n, top3: top3 as f32 / n };
    let weights = Weights { format: FORMAT, ranker, measured: measured(top1, top3), lexical, lexical_measured: measured(lexical_top1, lexical_top3) };
    Ok(Report { weights, top1, top3, lexical_top1, lexical_top3, questions: examples.len() })
}

/// The ranker of the `mask`ed features fit on every question, and how many questions rankers
/// not fit on them put their provision first and among the first three.
fn cross_validate(examples: &[Example], options: &Options, mask: &[bool; COUNT]) -> Result<(byraad_learn::Linear, usize, usize), String> {
    let all: Vec<&Example> = examples.iter().collect();
    let outer = folds(&ids(&all), options.folds, options.seed);
    let (mut top1, mut top3) = (0, 0);
    for f in 0..options.folds {
        let train: Vec<&Example> = split(&all, &outer, f, false);
        let ranker = choose_and_fit(&train, options, mask, options.seed.wrapping_add(f as u64 + 1))
            .map_err(|e| format!("{e} (fitting fold {} of {}): too few questions to learn from; give more labelled questions or fewer folds", f + 1, options.folds))?;
        for e in split(&all, &outer, f, true) {
            let (one, three) = placed(e, &ranker, mask);
            top1 += usize::from(one);
            top3 += usize::from(three);
        }
    }
    Ok((choose_and_fit(&all, options, mask, options.seed)?, top1, top3))
}

fn ids<'a>(examples: &[&'a Example]) -> Vec<&'a str> {
    examples.iter().map(|e| e.labelled.id.as_str()).collect()
}

fn split<'a>(examples: &[&'a Example], fold: &[usize], f: usize, inside: bool) -> Vec<&'a Example> {
    examples.iter().zip(fold).filter(|(_, o)| (**o == f) == inside).map(|(e, _)| *e).collect()
}

/// `x` with the masked features held at 0.
fn masked(x: &Features, mask: &[bool; COUNT]) -> Vec<f32> {
    x.iter().zip(mask).map(|(v, &keep)| if keep { *v } else { 0.0 }).collect()
}

/// Whether `ranker` puts a governing provision of `e` first, and among the first three.
fn placed(e: &Example, ranker: &byraad_learn::Linear, mask: &[bool; COUNT]) -> (bool, bool) {
    let scores: Vec<f32> = e.features.iter().map(|x| ranker.value(&masked(x, mask))).collect();
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    (order.first().is_some_and(|&i| e.right[i]), order.iter().take(3).any(|&i| e.right[i]))
}

/// The ranker fit on `examples` with the penalty an inner cross-validation on them chooses (the
/// most held-out questions with their provision first).
fn choose_and_fit(examples: &[&Example], options: &Options, mask: &[bool; COUNT], seed: u64) -> Result<byraad_learn::Linear, String> {
    let inner = folds(&ids(examples), options.folds, seed);
    let mut best: Option<(usize, f32)> = None;
    for &alpha in &options.alphas {
        let mut first = 0;
        for f in 0..options.folds {
            let ranker = fit(&split(examples, &inner, f, false), alpha, mask)?;
            first += split(examples, &inner, f, true).iter().filter(|e| placed(e, &ranker, mask).0).count();
        }
        if best.is_none_or(|b| first > b.0) {
            best = Some((first, alpha));
        }
    }
    let (_, alpha) = best.ok_or("no penalty to try")?;
    fit(examples, alpha, mask)
}

fn fit(examples: &[&Example], alpha: f32, mask: &[bool; COUNT]) -> Result<byraad_learn::Linear, String> {
    let groups: Vec<Group> = examples.iter().map(|e| Group { rows: e.features.iter().map(|x| masked(x, mask)).collect(), right: e.right.clone() }).collect();
    fit_listwise(&groups, &NAMES, alpha).map_err(|e| format!("the rules ranker: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_provisions_are_read_as_the_score_script_reads_them() {
        assert_eq!(parse("§ 8, stk. 4"), Some(("§8".into(), Some(4))));
        assert_eq!(parse("§ 10 a"), Some(("§10a".into(), None)));
        assert_eq!(parse("§ 16 b, stk. 3"), Some(("§16b".into(), Some(3))));
    }
}

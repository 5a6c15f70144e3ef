//! The learned scorer, in two parts, both read from a small versioned JSON file that
//! `byraad train-answerer` (`make train-answerer`) fits on the dev questions:
//!
//! - the **ranker** orders a question's candidates: a linear score of their standardised
//!   features, fit as a conditional logit (the softmax over a question's candidates, the
//!   likelihood that the one holding the answer comes first);
//! - the **answerability** model gives the probability that the question is answered at all,
//!   from the ranking's confidence and the best candidate's features: a logistic regression.
//!
//! The answer threshold (below it, abstain) and the companion threshold (how close to the best a
//! further quote must come) are chosen by cross-validation. The file shipped in
//! `config/answerer.json` is built in; `answer.scorer` names another.

use std::path::Path;

use serde::{Deserialize, Serialize};

pub use byraad_learn::Linear;

use crate::features::{self, Features};

/// The version of the weights file's format this build reads.
pub const FORMAT: u32 = 2;

/// The weights file built into the binary.
const BUILTIN: &str = include_str!("../../../config/answerer.json");

/// What the answerability model reads about a question, in order.
pub const QUESTION_NAMES: [&str; QUESTION_COUNT] = ["top_score", "margin", "confidence", "candidates", "own", "context", "focus", "names", "missing", "fact", "no_fact", "prose", "numbers"];
/// How many features a question has.
pub const QUESTION_COUNT: usize = 13;
/// The best candidate's features the answerability model reads (the rest of
/// [`QUESTION_NAMES`]).
const TOP_FEATURES: [&str; 9] = ["own", "context", "focus", "names", "missing", "fact", "no_fact", "prose", "numbers"];

/// Why a weights file cannot be used; each names the file (`path`).
#[allow(missing_docs)] // the fields are what the messages say
#[derive(Debug, thiserror::Error)]
pub enum ScorerError {
    /// The file cannot be read.
    #[error("cannot read the answer scorer {path}: {message}")]
    Read { path: String, message: String },
    /// It is not a weights file of this format.
    #[error("the answer scorer {path} is not valid: {message}")]
    Invalid { path: String, message: String },
}

/// What cross-validation measured for the weights, kept in the file for the record.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Measured {
    /// Questions the weights were fit on (answerable, unanswerable).
    pub questions: (usize, usize),
    /// Folds of the cross-validation.
    pub folds: usize,
    /// Answerable questions with a quote holding the answer (cross-validated).
    pub cited: f32,
    /// Answerable questions whose first quote holds it.
    pub lead: f32,
    /// Unanswerable questions abstained on.
    pub abstain: f32,
    /// Answerable questions abstained on.
    pub false_abstain: f32,
}

/// The weights file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Weights {
    /// [`FORMAT`].
    pub format: u32,
    /// Orders a question's candidates ([`features::NAMES`]).
    pub ranker: Linear,
    /// The probability that the question is answered ([`QUESTION_NAMES`]), as a logit.
    pub answerability: Linear,
    /// Least answerability for the question to be answered.
    pub answer_threshold: f32,
    /// Least share of the best candidate's softmax weight (`exp(score - best)`) a further quote
    /// must have.
    pub companion_threshold: f32,
    /// What cross-validation measured.
    #[serde(default)]
    pub measured: Measured,
}

/// Orders candidates and decides whether a question is answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Scorer {
    weights: Weights,
}

impl Scorer {
    /// The scorer built into the binary (`config/answerer.json` as shipped); an error when it
    /// was written for other features than this build computes (regenerate it).
    pub fn builtin() -> Result<Self, ScorerError> {
        Self::from_json(BUILTIN, "config/answerer.json (built in)")
    }

    /// A scorer that has learned nothing: every candidate ranks alike and every question is
    /// answered. What questions are prepared with for training.
    pub fn untrained() -> Self {
        Self {
            weights: Weights {
                format: FORMAT,
                ranker: Linear::zero(&features::NAMES, 0.0),
                answerability: Linear::zero(&QUESTION_NAMES, 0.0),
                answer_threshold: 0.0,
                companion_threshold: 1.0,
                measured: Measured::default(),
            },
        }
    }

    /// The scorer in the weights file at `path`.
    pub fn load(path: &Path) -> Result<Self, ScorerError> {
        let text = std::fs::read_to_string(path).map_err(|e| ScorerError::Read { path: path.display().to_string(), message: e.to_string() })?;
        Self::from_json(&text, &path.display().to_string())
    }

    /// The scorer in `json`, a weights file named `path` in errors.
    pub fn from_json(json: &str, path: &str) -> Result<Self, ScorerError> {
        let invalid = |message: String| ScorerError::Invalid { path: path.to_string(), message };
        let weights: Weights = serde_json::from_str(json).map_err(|e| invalid(e.to_string()))?;
        Self::new(weights).map_err(invalid)
    }

    /// A scorer of `weights`, checked against this build's features.
    pub fn new(weights: Weights) -> Result<Self, String> {
        if weights.format != FORMAT {
            return Err(format!("format {} where {FORMAT} is read: regenerate it with `make train-answerer`", weights.format));
        }
        let regenerate = |e: String| format!("{e} with `make train-answerer`");
        weights.ranker.check("ranker", &features::NAMES).map_err(regenerate)?;
        weights.answerability.check("answerability model", &QUESTION_NAMES).map_err(regenerate)?;
        for (name, t) in [("answer_threshold", weights.answer_threshold), ("companion_threshold", weights.companion_threshold)] {
            if !(0.0..=1.0).contains(&t) {
                return Err(format!("{name} must be within 0..1, not {t}"));
            }
        }
        Ok(Self { weights })
    }

    /// A candidate's ranking score.
    pub fn score(&self, features: &Features) -> f32 {
        self.weights.ranker.value(features)
    }

    /// The probability that a question whose candidates have `scores` (by [`Self::score`]) and
    /// `features` is answered by them.
    pub fn answerability(&self, scores: &[f32], features: &[&Features]) -> f32 {
        self.weights.answerability.probability(&question_features(scores, features))
    }

    /// Least answerability for a question to be answered.
    pub fn answer_threshold(&self) -> f32 {
        self.weights.answer_threshold
    }

    /// Least share of the best candidate's weight a further quote must have.
    pub fn companion_threshold(&self) -> f32 {
        self.weights.companion_threshold
    }

    /// The weights.
    pub fn weights(&self) -> &Weights {
        &self.weights
    }
}

/// What the answerability model reads about a question whose candidates have ranking `scores`
/// and `features` ([`QUESTION_NAMES`]); zeros (and no confidence) without candidates.
pub fn question_features(scores: &[f32], features: &[&Features]) -> [f32; QUESTION_COUNT] {
    let mut out = [0.0; QUESTION_COUNT];
    let Some(best) = (0..scores.len()).max_by(|&a, &b| scores[a].total_cmp(&scores[b]).then(b.cmp(&a))) else {
        return out;
    };
    let top = scores[best];
    let second = scores.iter().enumerate().filter(|(i, _)| *i != best).map(|(_, s)| *s).fold(f32::NEG_INFINITY, f32::max);
    let total: f32 = scores.iter().map(|s| (s - top).exp()).sum();
    out[0] = top;
    out[1] = if second.is_finite() { (top - second).min(10.0) } else { 10.0 };
    out[2] = 1.0 / total;
    out[3] = (scores.len() as f32).ln_1p();
    for (k, name) in TOP_FEATURES.iter().enumerate() {
        if let Some(i) = features::NAMES.iter().position(|n| n == name) {
            out[4 + k] = features[best][i];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_weights_are_valid_for_this_build() {
        let scorer = Scorer::builtin().unwrap();
        assert!(scorer.answer_threshold() > 0.0 && scorer.answer_threshold() < 1.0);
        assert!(scorer.weights().measured.folds >= 2, "the shipped weights say how they were cross-validated");
    }

    #[test]
    fn weights_for_other_features_or_formats_are_refused() {
        let mut w = Scorer::builtin().unwrap().weights().clone();
        w.ranker.inputs[0] = "something_else".into();
        assert!(Scorer::new(w).unwrap_err().contains("regenerate"));
        let mut w = Scorer::builtin().unwrap().weights().clone();
        w.format += 1;
        assert!(Scorer::new(w).unwrap_err().contains("format"));
        let mut w = Scorer::builtin().unwrap().weights().clone();
        w.answer_threshold = 1.5;
        assert!(Scorer::new(w).unwrap_err().contains("within 0..1"));
        let mut w = Scorer::builtin().unwrap().weights().clone();
        w.answerability.scale[0] = 0.0;
        assert!(Scorer::new(w).unwrap_err().contains("positive"));
        assert!(matches!(Scorer::from_json("{", "x.json"), Err(ScorerError::Invalid { .. })));
    }

    #[test]
    fn question_features_describe_the_ranking_and_its_best() {
        let own = features::NAMES.iter().position(|n| *n == "own").unwrap();
        let mut a = [0.0; features::COUNT];
        let mut b = [0.0; features::COUNT];
        a[own] = 0.2;
        b[own] = 0.9;
        let x = question_features(&[1.0, 3.0], &[&a, &b]);
        assert_eq!(x[0], 3.0);
        assert_eq!(x[1], 2.0);
        assert!((x[2] - 1.0 / (1.0 + (-2.0f32).exp())).abs() < 1e-6);
        assert_eq!(x[4], 0.9, "the best candidate's own coverage");
        assert_eq!(question_features(&[], &[]), [0.0; QUESTION_COUNT]);
    }
}

//! The rules ranker: a linear score of a provision's features for a query, fit as a listwise
//! ranker on questions in members' words with their governing provision (`byraad train-rules`,
//! cross-validated by question). Read from `config/rules.json` (built in) or `rules.ranker`.
//!
//! Two are fit: one with e5's closeness to the provisions, and one by words alone for a service
//! without an embedder (weights fit beside e5 lean on it, and rank worse without it).

use std::path::Path;

use byraad_learn::Linear;
use serde::{Deserialize, Serialize};

use crate::features::{self, Features};

/// The version of the weights file's format this build reads.
pub const FORMAT: u32 = 2;

/// The weights file built in.
const BUILTIN: &str = include_str!("../../../config/rules.json");

/// What cross-validation measured for the weights, for the record.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Measured {
    /// Questions fit on.
    pub questions: usize,
    /// Folds of the cross-validation.
    pub folds: usize,
    /// Questions whose provision came first, held out.
    pub top1: f32,
    /// Questions whose provision was among the first three, held out.
    pub top3: f32,
}

/// The weights file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Weights {
    /// [`FORMAT`].
    pub format: u32,
    /// The ranker ([`features::NAMES`]) with e5's closeness.
    pub ranker: Linear,
    /// What cross-validation measured of it.
    #[serde(default)]
    pub measured: Measured,
    /// The ranker by words alone (the dense features held at 0).
    pub lexical: Linear,
    /// What cross-validation measured of it.
    #[serde(default)]
    pub lexical_measured: Measured,
}

/// Scores provisions for a query.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranker {
    weights: Weights,
}

impl Ranker {
    /// The ranker built in (`config/rules.json` as shipped).
    pub fn builtin() -> Result<Self, String> {
        Self::from_json(BUILTIN).map_err(|e| format!("config/rules.json (built in): {e}"))
    }

    /// The ranker in the weights file at `path`.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read the rules ranker {}: {e}", path.display()))?;
        Self::from_json(&text).map_err(|e| format!("the rules ranker {}: {e}", path.display()))
    }

    fn from_json(json: &str) -> Result<Self, String> {
        Self::new(serde_json::from_str(json).map_err(|e| e.to_string())?)
    }

    /// A ranker of `weights`, checked against this build's features.
    pub fn new(weights: Weights) -> Result<Self, String> {
        if weights.format != FORMAT {
            return Err(format!("format {} where {FORMAT} is read: regenerate it with `make train-rules`", weights.format));
        }
        for (name, model) in [("ranker", &weights.ranker), ("lexical", &weights.lexical)] {
            model.check(name, &features::NAMES).map_err(|e| format!("{e} with `make train-rules`"))?;
        }
        Ok(Self { weights })
    }

    /// A ranker that has learned nothing (every provision alike): what questions are prepared
    /// with for training.
    pub fn untrained() -> Self {
        let zero = Linear::zero(&features::NAMES, 0.0);
        Self { weights: Weights { format: FORMAT, ranker: zero.clone(), measured: Measured::default(), lexical: zero, lexical_measured: Measured::default() } }
    }

    /// A provision's score, by the ranker with e5's closeness when `dense` (the features hold
    /// it), else by the one of words alone.
    pub fn score(&self, features: &Features, dense: bool) -> f32 {
        if dense { self.weights.ranker.value(features) } else { self.weights.lexical.value(features) }
    }

    /// The weights.
    pub fn weights(&self) -> &Weights {
        &self.weights
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_ranker_fits_this_build() {
        let r = Ranker::builtin().unwrap();
        assert!(r.weights().measured.folds >= 2, "the shipped weights say how they were cross-validated");
        assert!(r.weights().lexical_measured.folds >= 2);
        let mut w = r.weights().clone();
        w.lexical.inputs.pop();
        assert!(Ranker::new(w).unwrap_err().contains("make train-rules"));
    }
}

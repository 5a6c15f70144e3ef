//! Learned scoring for byråds-GPT: what the answerer and the rules look-up learn with.
//!
//! ```
//! use byraad_learn::{fit_listwise, Group};
//! // Two queries; in each, the candidate with the larger first input is the right one.
//! let groups = vec![
//!     Group { rows: vec![vec![0.9, 0.1], vec![0.2, 0.5]], right: vec![true, false] },
//!     Group { rows: vec![vec![0.1, 0.4], vec![0.8, 0.3]], right: vec![false, true] },
//! ];
//! let ranker = fit_listwise(&groups, &["a", "b"], 0.1).unwrap();
//! assert!(ranker.value(&[0.9, 0.0]) > ranker.value(&[0.1, 0.0]));
//! ```
#![warn(missing_docs)]

mod error;
mod folds;
mod linear;
mod listwise;
mod logistic;

pub use error::{Error, Result};
pub use folds::folds;
pub use linear::Linear;
pub use listwise::{Group, fit_listwise};
pub use logistic::fit_logistic;

/// Means and standard deviations of the columns of `rows`, `n` wide (1 where a column does not
/// vary).
pub(crate) fn standardisation(rows: &[&[f32]], n: usize) -> (Vec<f64>, Vec<f64>) {
    let count = rows.len().max(1) as f64;
    let mut mean = vec![0.0f64; n];
    let mut var = vec![0.0f64; n];
    for x in rows {
        for j in 0..n {
            mean[j] += f64::from(x[j]) / count;
        }
    }
    for x in rows {
        for j in 0..n {
            var[j] += (f64::from(x[j]) - mean[j]).powi(2) / count;
        }
    }
    (mean, var.iter().map(|v| if v.sqrt() > 1e-9 { v.sqrt() } else { 1.0 }).collect())
}

/// Checks that every row is `n` wide and finite.
pub(crate) fn check_rows(rows: &[&[f32]], n: usize) -> Result<()> {
    if let Some(r) = rows.iter().find(|r| r.len() != n) {
        return Err(Error::Data(format!("a row has {} values where {n} are expected", r.len())));
    }
    if rows.iter().any(|r| r.iter().any(|v| !v.is_finite())) {
        return Err(Error::Data("a value is not finite".into()));
    }
    Ok(())
}

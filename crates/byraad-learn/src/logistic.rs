//! Logistic regression (`linfa-logistic`), as a [`Linear`] model of the log-odds.

use linfa::prelude::*;
use linfa_logistic::LogisticRegression;
use ndarray::{Array1, Array2};

use crate::{Error, Linear, Result, check_rows, standardisation};

/// The logistic regression of `labels` on `rows` (inputs `names`), L2-penalised by `alpha`,
/// inputs standardised: its value is the log-odds of `true`.
pub fn fit_logistic(rows: &[Vec<f32>], labels: &[bool], names: &[&str], alpha: f32) -> Result<Linear> {
    let n = names.len();
    let refs: Vec<&[f32]> = rows.iter().map(Vec::as_slice).collect();
    check_rows(&refs, n)?;
    if rows.len() != labels.len() {
        return Err(Error::Data(format!("{} rows and {} labels", rows.len(), labels.len())));
    }
    if !labels.iter().any(|&l| l) || labels.iter().all(|&l| l) {
        return Err(Error::Data("both labels are needed".into()));
    }
    let (mean, scale) = standardisation(&refs, n);
    let x = Array2::from_shape_fn((rows.len(), n), |(i, j)| (f64::from(rows[i][j]) - mean[j]) / scale[j]);
    let y: Array1<bool> = labels.iter().copied().collect();
    let fitted = LogisticRegression::default().alpha(f64::from(alpha)).max_iterations(500).fit(&Dataset::new(x, y)).map_err(|e| Error::Fit(e.to_string()))?;
    // linfa's "positive" class is the first label it meets: weigh towards `true` either way.
    let sign = if fitted.labels().pos.class { 1.0 } else { -1.0 };
    Ok(Linear {
        inputs: names.iter().map(|s| (*s).to_string()).collect(),
        mean: mean.iter().map(|&m| m as f32).collect(),
        scale: scale.iter().map(|&s| s as f32).collect(),
        weights: fitted.params().iter().map(|&w| (sign * w) as f32).collect(),
        intercept: (sign * fitted.intercept()) as f32,
        alpha,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_regression_weighs_towards_true_whichever_label_comes_first() {
        let ascending: Vec<Vec<f32>> = (0..40).map(|i| vec![i as f32 / 40.0]).collect();
        let descending: Vec<Vec<f32>> = ascending.iter().rev().cloned().collect();
        // The first row is false in one, true in the other; a large input means true in both.
        for rows in [ascending, descending] {
            let labels: Vec<bool> = rows.iter().map(|r| r[0] >= 0.5).collect();
            let m = fit_logistic(&rows, &labels, &["x"], 0.1).unwrap();
            assert!(m.probability(&[0.9]) > 0.7 && m.probability(&[0.1]) < 0.3, "{m:?}");
        }
        assert!(matches!(fit_logistic(&[vec![0.0]], &[true], &["x"], 0.1), Err(Error::Data(_))));
    }
}

//! A listwise ranker: the conditional logit over each query's candidates.

use ndarray::{Array1, Array2};

use crate::{Error, Linear, Result, check_rows, standardisation};

/// One query's candidates: their inputs and which are right.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// Each candidate's inputs.
    pub rows: Vec<Vec<f32>>,
    /// Whether each is right.
    pub right: Vec<bool>,
}

/// A ranker of candidates with inputs `names`, fit on `groups` (those with a right candidate):
/// it maximises, L2-penalised by `alpha`, the softmax weight of each query's right candidates
/// among all of its candidates. The inputs are standardised; the intercept is 0.
pub fn fit_listwise(groups: &[Group], names: &[&str], alpha: f32) -> Result<Linear> {
    let n = names.len();
    let used: Vec<&Group> = groups.iter().filter(|g| g.right.iter().any(|&r| r) && !g.rows.is_empty()).collect();
    if used.is_empty() {
        return Err(Error::Data("no query has a right candidate".into()));
    }
    let rows: Vec<&[f32]> = used.iter().flat_map(|g| g.rows.iter().map(Vec::as_slice)).collect();
    check_rows(&rows, n)?;
    let (mean, scale) = standardisation(&rows, n);
    let problem = Listwise {
        groups: used
            .iter()
            .map(|g| (Array2::from_shape_fn((g.rows.len(), n), |(i, j)| (f64::from(g.rows[i][j]) - mean[j]) / scale[j]), g.right.clone()))
            .collect(),
        alpha: f64::from(alpha),
    };
    let solver = argmin::solver::quasinewton::LBFGS::new(argmin::solver::linesearch::MoreThuenteLineSearch::new(), 7)
        .with_tolerance_grad(1e-6)
        .map_err(|e| Error::Fit(e.to_string()))?;
    let result = argmin::core::Executor::new(problem, solver)
        .configure(|state| state.param(Array1::zeros(n)).max_iters(200))
        .run()
        .map_err(|e| Error::Fit(e.to_string()))?;
    let w = result.state().best_param.clone().ok_or_else(|| Error::Fit("no weights found".into()))?;
    Ok(Linear {
        inputs: names.iter().map(|s| (*s).to_string()).collect(),
        mean: mean.iter().map(|&m| m as f32).collect(),
        scale: scale.iter().map(|&s| s as f32).collect(),
        weights: w.iter().map(|&v| v as f32).collect(),
        intercept: 0.0,
        alpha,
    })
}

/// The loss: minus the log of the softmax weight of each query's right candidates, summed, plus
/// `alpha / 2 · |w|²`.
struct Listwise {
    groups: Vec<(Array2<f64>, Vec<bool>)>,
    alpha: f64,
}

impl Listwise {
    fn loss_and_gradient(&self, w: &Array1<f64>) -> (f64, Array1<f64>) {
        let mut loss = 0.5 * self.alpha * w.dot(w);
        let mut gradient = w * self.alpha;
        for (z, right) in &self.groups {
            let s = z.dot(w);
            let top = s.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let e = s.mapv(|v| (v - top).exp());
            let p = &e / e.sum();
            let pr: f64 = p.iter().zip(right).filter(|(_, r)| **r).map(|(v, _)| v).sum();
            loss -= pr.max(1e-300).ln();
            // d(-ln Σ_right p)/dw = Σ_all p z - Σ_right p z / Σ_right p
            for (i, row) in z.rows().into_iter().enumerate() {
                let mut g = p[i];
                if right[i] {
                    g -= p[i] / pr.max(1e-300);
                }
                gradient.scaled_add(g, &row);
            }
        }
        (loss, gradient)
    }
}

impl argmin::core::CostFunction for Listwise {
    type Param = Array1<f64>;
    type Output = f64;
    fn cost(&self, w: &Self::Param) -> Result<f64, argmin::core::Error> {
        Ok(self.loss_and_gradient(w).0)
    }
}

impl argmin::core::Gradient for Listwise {
    type Param = Array1<f64>;
    type Gradient = Array1<f64>;
    fn gradient(&self, w: &Self::Param) -> Result<Array1<f64>, argmin::core::Error> {
        Ok(self.loss_and_gradient(w).1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gradient_is_the_loss_derivative() {
        let z = Array2::from_shape_vec((3, 2), vec![1.0, 0.0, 0.0, 1.0, 0.5, 0.5]).unwrap();
        let problem = Listwise { groups: vec![(z, vec![false, true, false])], alpha: 0.1 };
        let w = Array1::from(vec![0.3, -0.2]);
        let (_, g) = problem.loss_and_gradient(&w);
        for j in 0..2 {
            let mut up = w.clone();
            up[j] += 1e-6;
            let mut down = w.clone();
            down[j] -= 1e-6;
            let numeric = (problem.loss_and_gradient(&up).0 - problem.loss_and_gradient(&down).0) / 2e-6;
            assert!((numeric - g[j]).abs() < 1e-5, "{numeric} vs {}", g[j]);
        }
    }

    #[test]
    fn the_ranker_learns_the_telling_input_and_refuses_data_without_answers() {
        let groups: Vec<Group> = (0..20)
            .map(|q| {
                let right = q % 4;
                let rows = (0..4).map(|i| vec![if i == right { 0.9 } else { 0.2 }, ((q * 7 + i * 3) % 10) as f32 / 10.0]).collect();
                Group { rows, right: (0..4).map(|i| i == right).collect() }
            })
            .collect();
        let m = fit_listwise(&groups, &["telling", "noise"], 0.1).unwrap();
        assert!(m.weights[0] > 1.0 && m.weights[0] > m.weights[1].abs() * 3.0, "{:?}", m.weights);
        let none = vec![Group { rows: vec![vec![0.0, 0.0]], right: vec![false] }];
        assert!(matches!(fit_listwise(&none, &["a", "b"], 0.1), Err(Error::Data(_))));
        let wide = vec![Group { rows: vec![vec![0.0]], right: vec![true] }];
        assert!(matches!(fit_listwise(&wide, &["a", "b"], 0.1), Err(Error::Data(_))));
    }
}

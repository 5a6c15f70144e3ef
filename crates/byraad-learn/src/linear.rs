//! A linear model over standardised inputs, as weights files hold it.

use serde::{Deserialize, Serialize};

/// `weights · (x - mean) / scale + intercept`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Linear {
    /// The inputs, by name, in order.
    pub inputs: Vec<String>,
    /// Each input's mean on the training data.
    pub mean: Vec<f32>,
    /// Its standard deviation (1 where it does not vary).
    pub scale: Vec<f32>,
    /// The weights of the standardised inputs.
    pub weights: Vec<f32>,
    /// The intercept (0 for a ranker: a query's candidates share it).
    pub intercept: f32,
    /// The L2 penalty it was fit with.
    pub alpha: f32,
}

impl Linear {
    /// A model of `names` that weighs nothing: every input scores 0 (plus `intercept`).
    pub fn zero(names: &[&str], intercept: f32) -> Self {
        Self {
            inputs: names.iter().map(|n| (*n).to_string()).collect(),
            mean: vec![0.0; names.len()],
            scale: vec![1.0; names.len()],
            weights: vec![0.0; names.len()],
            intercept,
            alpha: 0.0,
        }
    }

    /// The model's value at `x`.
    pub fn value(&self, x: &[f32]) -> f32 {
        self.intercept + x.iter().enumerate().map(|(i, v)| self.weights[i] * (v - self.mean[i]) / self.scale[i]).sum::<f32>()
    }

    /// The logistic of the value: a probability.
    pub fn probability(&self, x: &[f32]) -> f32 {
        1.0 / (1.0 + (-self.value(x)).exp())
    }

    /// Checks that the model reads `names`, in order, with finite weights and positive scales;
    /// `what` names it in the message.
    pub fn check(&self, what: &str, names: &[&str]) -> Result<(), String> {
        if self.inputs != names {
            return Err(format!("its {what} reads {:?}, this build computes {names:?}: regenerate it", self.inputs));
        }
        let n = names.len();
        if self.mean.len() != n || self.scale.len() != n || self.weights.len() != n {
            return Err(format!("the {what}'s mean, scale and weights must have {n} values each"));
        }
        let finite = |x: &f32| x.is_finite();
        if !(self.mean.iter().all(finite) && self.scale.iter().all(|s| s.is_finite() && *s > 0.0) && self.weights.iter().all(finite) && self.intercept.is_finite()) {
            return Err(format!("the {what}'s weights must be finite and its scales positive"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_linear_model_standardises_its_inputs() {
        let m = Linear { inputs: vec!["a".into(), "b".into()], mean: vec![0.5, 0.0], scale: vec![0.25, 1.0], weights: vec![2.0, 0.0], intercept: -1.0, alpha: 1.0 };
        // -1 + 2 * (0.75 - 0.5) / 0.25 = 1
        assert!((m.value(&[0.75, 9.0]) - 1.0).abs() < 1e-6);
        assert!((m.probability(&[0.75, 9.0]) - 1.0 / (1.0 + (-1.0f32).exp())).abs() < 1e-6);
        assert!(m.check("model", &["a", "b"]).is_ok());
        assert!(m.check("model", &["a", "c"]).unwrap_err().contains("regenerate"));
        assert!(Linear { scale: vec![0.0, 1.0], ..m }.check("model", &["a", "b"]).unwrap_err().contains("positive"));
    }
}

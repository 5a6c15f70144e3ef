//! The encoder's element-wise hot spots as candle custom ops: softmax over the last dimension
//! and the erf form of GELU.
//!
//! candle computes these one element at a time through libm's `expf`/`erff`; on the CPU they
//! cost as much as a third of a forward pass (the softmax alone sees heads × len² scores per
//! layer). Here `exp` is a range reduction plus a degree-6 polynomial written without branches or
//! library calls, so the compiler vectorises the loops over rows, and rows are shared among
//! threads with rayon. Relative error of `exp` stays below 3e-7 and GELU's absolute error below
//! 2e-6 (tested against libm and candle below), far inside the model's 4-bit weight noise.

use candle_core::{CpuStorage, CustomOp1, CustomOp2, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

/// Rows handed to one rayon task at a time.
const MIN_ELEMENTS_PER_TASK: usize = 16 * 1024;

/// e^x for x in [-87, 88] (inputs outside are clamped: 0 and large stay near 0 and large).
#[inline(always)]
fn exp(x: f32) -> f32 {
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    // Adding 1.5 * 2^23 rounds to the nearest integer without a library call.
    const ROUND: f32 = 12_582_912.0;
    let x = x.clamp(-87.0, 88.0);
    let k = (x * std::f32::consts::LOG2_E + ROUND) - ROUND;
    let r = (x - k * LN2_HI) - k * LN2_LO;
    let p = 1.0 / 720.0;
    let p = p * r + 1.0 / 120.0;
    let p = p * r + 1.0 / 24.0;
    let p = p * r + 1.0 / 6.0;
    let p = p * r + 0.5;
    let p = p * r + 1.0;
    let p = p * r + 1.0;
    // 2^k, built from its exponent bits (k is within [-126, 127] after the clamp).
    let scale = f32::from_bits(((k as i32 + 127) as u32) << 23);
    p * scale
}

/// erf(x), Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7).
#[inline(always)]
fn erf(x: f32) -> f32 {
    let a = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * a);
    let poly = t * (0.254_829_6 + t * (-0.284_496_74 + t * (1.421_413_7 + t * (-1.453_152_1 + t * 1.061_405_4))));
    (1.0 - poly * exp(-a * a)).copysign(x)
}

#[inline(always)]
fn gelu(x: f32) -> f32 {
    0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2))
}

/// Lanes of the hand-split reductions: floating-point sums and maxima are only vectorised when
/// the code itself keeps independent accumulators.
const LANES: usize = 16;

fn max(row: &[f32]) -> f32 {
    let mut acc = [f32::NEG_INFINITY; LANES];
    let mut chunks = row.chunks_exact(LANES);
    for c in &mut chunks {
        for (a, &x) in acc.iter_mut().zip(c) {
            *a = if x > *a { x } else { *a };
        }
    }
    chunks.remainder().iter().chain(&acc).copied().fold(f32::NEG_INFINITY, f32::max)
}

fn sum(row: &[f32]) -> f32 {
    let mut acc = [0f32; LANES];
    let mut chunks = row.chunks_exact(LANES);
    for c in &mut chunks {
        for (a, &x) in acc.iter_mut().zip(c) {
            *a += x;
        }
    }
    chunks.remainder().iter().chain(&acc).sum()
}

/// softmax(scale · scores + bias) of one row, in place.
fn softmax_row(row: &mut [f32], scale: f32, bias: &[f32]) {
    for (x, &b) in row.iter_mut().zip(bias) {
        *x = *x * scale + b;
    }
    let m = max(row);
    row.iter_mut().for_each(|x| *x = exp(*x - m));
    let inv = 1.0 / sum(row);
    row.iter_mut().for_each(|x| *x *= inv);
}

fn contiguous_f32<'a>(storage: &'a CpuStorage, layout: &Layout) -> Result<&'a [f32]> {
    let (start, end) = layout.contiguous_offsets().ok_or_else(|| candle_core::Error::Msg("expected a contiguous tensor".into()))?;
    Ok(&storage.as_slice::<f32>()?[start..end])
}

/// Attention probabilities: softmax over keys of `scale · scores + bias`, where scores are
/// (batch, heads, queries, keys) and the bias (batch, keys) is 0 for tokens and very negative
/// for padding. One pass over the largest tensor of a layer instead of three.
struct MaskedSoftmax {
    scale: f32,
}

impl CustomOp2 for MaskedSoftmax {
    fn name(&self) -> &'static str {
        "byraad-masked-softmax"
    }

    fn cpu_fwd(&self, scores: &CpuStorage, scores_layout: &Layout, bias: &CpuStorage, bias_layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let (batch, heads, queries, keys) = scores_layout.shape().dims4()?;
        if bias_layout.shape().dims2()? != (batch, keys) {
            candle_core::bail!("masked softmax: bias {:?} does not fit scores {:?}", bias_layout.shape(), scores_layout.shape());
        }
        let bias = contiguous_f32(bias, bias_layout)?;
        let mut out = contiguous_f32(scores, scores_layout)?.to_vec();
        let per_batch = heads * queries * keys;
        let rows_per_task = (MIN_ELEMENTS_PER_TASK / keys.max(1)).max(1);
        out.par_chunks_mut(keys * rows_per_task).enumerate().for_each(|(task, rows)| {
            for (i, row) in rows.chunks_mut(keys).enumerate() {
                let b = (task * rows_per_task + i) * keys / per_batch;
                softmax_row(row, self.scale, &bias[b * keys..(b + 1) * keys]);
            }
        });
        Ok((CpuStorage::F32(out), scores_layout.shape().clone()))
    }
}

struct GeluErf;

impl CustomOp1 for GeluErf {
    fn name(&self) -> &'static str {
        "byraad-gelu-erf"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let mut out = contiguous_f32(storage, layout)?.to_vec();
        out.par_chunks_mut(MIN_ELEMENTS_PER_TASK).for_each(|c| c.iter_mut().for_each(|x| *x = gelu(*x)));
        Ok((CpuStorage::F32(out), layout.shape().clone()))
    }
}

/// softmax(scale · scores + bias) over the last dimension: `scores` (batch, heads, queries,
/// keys), `bias` (batch, keys).
pub fn masked_softmax(scores: &Tensor, bias: &Tensor, scale: f32) -> Result<Tensor> {
    scores.contiguous()?.apply_op2_no_bwd(&bias.contiguous()?, &MaskedSoftmax { scale })
}

/// GELU, erf form: x/2 · (1 + erf(x/√2)).
pub fn gelu_erf(x: &Tensor) -> Result<Tensor> {
    x.contiguous()?.apply_op1_no_bwd(&GeluErf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn exp_is_accurate_over_its_range() {
        let mut worst = 0f32;
        for i in -87_000..=88_000 {
            let x = i as f32 / 1000.0;
            worst = worst.max(((exp(x) - x.exp()) / x.exp()).abs());
        }
        assert!(worst < 3e-7, "relative error {worst}");
        assert!(exp(-1e9) < 1e-37 && exp(-1e9) >= 0.0, "large negative scores vanish");
    }

    #[test]
    fn gelu_matches_candles_erf_gelu() {
        let x = (Tensor::arange(-12_000f32, 12_000.0, &Device::Cpu).unwrap() / 1000.0).unwrap();
        let diff = (gelu_erf(&x).unwrap() - x.gelu_erf().unwrap()).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
        assert!(diff < 2e-6, "gelu differs by {diff}");
    }

    #[test]
    fn masked_softmax_agrees_with_candle() {
        let x = Tensor::arange(0f32, 2.0 * 3.0 * 5.0 * 37.0, &Device::Cpu).unwrap();
        let x = ((x / 97.0).unwrap().sin().unwrap() * 9.0).unwrap().reshape((2, 3, 5, 37)).unwrap();
        // The second input's last 7 keys are padding.
        let mask: Vec<f32> = (0..2 * 37).map(|i| if i >= 37 + 30 { -1e9 } else { 0.0 }).collect();
        let bias = Tensor::from_vec(mask, (2, 37), &Device::Cpu).unwrap();
        let ours = masked_softmax(&x, &bias, 0.125).unwrap();
        let theirs = candle_nn::ops::softmax_last_dim(&(&x * 0.125).unwrap().broadcast_add(&bias.reshape((2, 1, 1, 37)).unwrap()).unwrap()).unwrap();
        let diff = (&ours - theirs).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
        assert!(diff < 1e-6, "softmax differs by {diff}");
        let padded = ours.narrow(0, 1, 1).unwrap().narrow(3, 30, 7).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
        assert!(padded < 1e-30, "padding gets no attention: {padded}");
        let sums = ours.sum(3).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
        assert!(sums.iter().all(|s| (s - 1.0).abs() < 1e-5), "{sums:?}");
        assert!(masked_softmax(&x, &bias.narrow(1, 0, 36).unwrap(), 1.0).is_err(), "a bias of the wrong shape is an error");
    }
}

//! An int8 matrix product for the encoder's linear layers, on AVX-512 VNNI.
//!
//! Weights are quantised once, symmetrically per output row (a scale per output feature);
//! activations are quantised per input row (a scale per token) as each product runs. The inner
//! product is `vpdpbusd`: 64 multiply-adds of u8 × i8 into i32 lanes per instruction, four times
//! the f32 FMA's 16. Activations go in as u8 (`q + 128`) and the `128 · Σ w` this adds is
//! subtracted per output feature, so the sum is exact in i32 (k ≤ 65,536).
//!
//! Shapes are e5-small's (hidden 384, FFN 1,536, QKV fused 1,152): the output size a multiple of
//! 32 and the input size of 4. [`supported`] says whether this CPU has the instructions; where it
//! has not, the same arithmetic runs in portable code (exact, slower), and the encoder keeps f32
//! matrices instead (see `bert`).
//!
//! The only module of the workspace with unsafe code: the intrinsics, behind a runtime check of
//! the CPU's features, reading slices whose lengths are checked before the call.
#![allow(unsafe_code)]

use rayon::prelude::*;

/// Output features of one packed block (one 512-bit register of i32 lanes).
const BLOCK: usize = 16;
/// Rows of activations per micro-kernel call (16 accumulators of the 32 registers).
const ROWS: usize = 8;
/// Rows of activations per rayon task.
const ROWS_PER_TASK: usize = 16;

/// Whether this CPU runs the kernel (AVX-512 F and VNNI).
pub fn supported() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f") && std::arch::is_x86_feature_detected!("avx512vnni")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Whether a weight matrix of `out` × `inp` fits the kernel.
pub fn fits(out: usize, inp: usize) -> bool {
    out.is_multiple_of(2 * BLOCK) && inp.is_multiple_of(4) && inp > 0 && inp <= 65_536
}

/// A weight matrix (`out` × `inp`, as a linear layer holds it) in int8, packed for the kernel:
/// per block of 16 output features, for each group of 4 inputs, 16 × 4 bytes.
pub struct Int8Matrix {
    out: usize,
    inp: usize,
    packed: Vec<i8>,
    scales: Vec<f32>,
    /// 128 · Σ_k w[j][k] per output feature: what the u8 offset of the activations adds.
    offsets: Vec<i32>,
    /// Whether products run on AVX-512 VNNI (else portable code).
    vnni: bool,
}

impl Int8Matrix {
    /// Quantises `weights` (row-major, `out` rows of `inp`). Panics unless [`fits`].
    pub fn quantize(weights: &[f32], out: usize, inp: usize) -> Self {
        assert!(fits(out, inp) && weights.len() == out * inp, "int8 matrix of {out} × {inp}");
        let groups = inp / 4;
        let mut packed = vec![0i8; out * inp];
        let mut scales = Vec::with_capacity(out);
        let mut offsets = Vec::with_capacity(out);
        for (j, row) in weights.chunks_exact(inp).enumerate() {
            let amax = row.iter().fold(0f32, |m, x| m.max(x.abs()));
            let scale = if amax > 0.0 { amax / 127.0 } else { 1.0 };
            let (block, lane) = (j / BLOCK, j % BLOCK);
            let mut sum = 0i32;
            for (k, &w) in row.iter().enumerate() {
                let q = (w / scale).round().clamp(-127.0, 127.0) as i8;
                sum += i32::from(q);
                packed[((block * groups + k / 4) * BLOCK + lane) * 4 + k % 4] = q;
            }
            scales.push(scale);
            offsets.push(128 * sum);
        }
        Self { out, inp, packed, scales, offsets, vnni: supported() }
    }

    /// Output features.
    pub fn out_features(&self) -> usize {
        self.out
    }

    /// `x` (rows × inp, row-major) times the matrix's transpose, plus `bias`: rows × out.
    pub fn forward(&self, x: &[f32], rows: usize, bias: &[f32]) -> Vec<f32> {
        assert!(x.len() == rows * self.inp && bias.len() == self.out, "int8 product: shapes do not fit");
        let mut y = vec![0f32; rows * self.out];
        y.par_chunks_mut(ROWS_PER_TASK * self.out).zip(x.par_chunks(ROWS_PER_TASK * self.inp)).for_each(|(y, x)| {
            let n = x.len() / self.inp;
            // Quantised activations, padded to whole micro-kernel tiles with zeros (u8 128).
            let tiles = n.div_ceil(ROWS);
            let mut q = vec![128u8; tiles * ROWS * self.inp];
            let mut row_scales = vec![0f32; tiles * ROWS];
            for (r, row) in x.chunks_exact(self.inp).enumerate() {
                row_scales[r] = quantize_row(row, &mut q[r * self.inp..(r + 1) * self.inp]);
            }
            let mut acc = [[0i32; 2 * BLOCK]; ROWS];
            for t in 0..tiles {
                let a = &q[t * ROWS * self.inp..(t + 1) * ROWS * self.inp];
                for pair in 0..self.out / (2 * BLOCK) {
                    self.tile(a, pair, &mut acc);
                    let j0 = pair * 2 * BLOCK;
                    let (offsets, scales, bias) = (&self.offsets[j0..j0 + 2 * BLOCK], &self.scales[j0..j0 + 2 * BLOCK], &bias[j0..j0 + 2 * BLOCK]);
                    for (r, acc) in acc.iter().enumerate().take(n.saturating_sub(t * ROWS).min(ROWS)) {
                        let row = t * ROWS + r;
                        let sa = row_scales[row];
                        let out = &mut y[row * self.out + j0..][..2 * BLOCK];
                        for ((o, &a), ((&off, &sb), &b)) in out.iter_mut().zip(acc).zip(offsets.iter().zip(scales).zip(bias)) {
                            *o = (a - off) as f32 * (sa * sb) + b;
                        }
                    }
                }
            }
        });
        y
    }

    /// The i32 sums of `ROWS` activation rows (`a`, each `inp` u8) with output features
    /// `32·pair .. 32·pair + 32`.
    fn tile(&self, a: &[u8], pair: usize, acc: &mut [[i32; 2 * BLOCK]; ROWS]) {
        let groups = self.inp / 4;
        let b = &self.packed[2 * pair * groups * BLOCK * 4..][..2 * groups * BLOCK * 4];
        if self.vnni {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `vnni` is set only where the CPU has AVX-512 F and VNNI, and the slices have
            // the lengths the kernel reads: `ROWS` rows of `inp` bytes, 2 blocks of `groups` × 64 bytes.
            unsafe {
                return kernel(a.as_ptr(), self.inp, b.as_ptr(), groups, acc);
            }
        }
        portable_kernel(a, self.inp, b, groups, acc);
    }
}

/// Quantises one row to u8 (`round(x / scale) + 128`); returns the scale.
fn quantize_row(row: &[f32], q: &mut [u8]) -> f32 {
    let amax = row.iter().fold(0f32, |m, x| m.max(x.abs()));
    let scale = if amax > 0.0 { amax / 127.0 } else { 1.0 };
    let inv = 1.0 / scale;
    // Adding 1.5 · 2^23 rounds to the nearest integer without a library call (|x · inv| ≤ 127).
    const ROUND: f32 = 12_582_912.0;
    for (q, &x) in q.iter_mut().zip(row) {
        *q = ((((x * inv + ROUND) - ROUND) as i32).clamp(-127, 127) + 128) as u8;
    }
    scale
}

/// What [`kernel`] computes, in portable code.
fn portable_kernel(a: &[u8], inp: usize, b: &[i8], groups: usize, acc: &mut [[i32; 2 * BLOCK]; ROWS]) {
    for (r, acc) in acc.iter_mut().enumerate() {
        let row = &a[r * inp..(r + 1) * inp];
        for (c, acc) in acc.iter_mut().enumerate() {
            let (block, lane) = (c / BLOCK, c % BLOCK);
            *acc = (0..groups)
                .map(|g| {
                    let w = &b[((block * groups + g) * BLOCK + lane) * 4..][..4];
                    (0..4).map(|t| i32::from(row[4 * g + t]) * i32::from(w[t])).sum::<i32>()
                })
                .sum();
        }
    }
}

/// acc[r][c] = Σ_k a[r][k] · w[c][k] over `ROWS` rows of `a` (stride `inp`) and the 32 features of
/// two packed blocks starting at `b`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vnni")]
unsafe fn kernel(a: *const u8, inp: usize, b: *const i8, groups: usize, acc: &mut [[i32; 2 * BLOCK]; ROWS]) {
    use std::arch::x86_64::*;
    let zero = _mm512_setzero_si512();
    let mut c = [[zero; 2]; ROWS];
    let b1 = unsafe { b.add(groups * BLOCK * 4) };
    for g in 0..groups {
        let w0 = unsafe { _mm512_loadu_si512(b.add(g * 64).cast()) };
        let w1 = unsafe { _mm512_loadu_si512(b1.add(g * 64).cast()) };
        for (r, c) in c.iter_mut().enumerate() {
            let four = unsafe { std::ptr::read_unaligned(a.add(r * inp + 4 * g).cast::<i32>()) };
            let x = _mm512_set1_epi32(four);
            c[0] = _mm512_dpbusd_epi32(c[0], x, w0);
            c[1] = _mm512_dpbusd_epi32(c[1], x, w1);
        }
    }
    for (acc, c) in acc.iter_mut().zip(c) {
        unsafe {
            _mm512_storeu_si512(acc.as_mut_ptr().cast(), c[0]);
            _mm512_storeu_si512(acc.as_mut_ptr().add(BLOCK).cast(), c[1]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(x: &[f32], w: &[f32], rows: usize, out: usize, inp: usize, bias: &[f32]) -> Vec<f32> {
        (0..rows).flat_map(|r| (0..out).map(move |j| bias[j] + (0..inp).map(|k| x[r * inp + k] * w[j * inp + k]).sum::<f32>())).collect()
    }

    #[test]
    fn agrees_with_the_f32_product() {
        let (rows, out, inp) = (7, 64, 96);
        let w: Vec<f32> = (0..out * inp).map(|i| ((i * 37 % 101) as f32 - 50.0) / 40.0).collect();
        let x: Vec<f32> = (0..rows * inp).map(|i| ((i as f32) * 0.37).sin() * 3.0).collect();
        let bias: Vec<f32> = (0..out).map(|j| j as f32 / 10.0).collect();
        let ours = Int8Matrix::quantize(&w, out, inp).forward(&x, rows, &bias);
        let exact = product(&x, &w, rows, out, inp, &bias);
        let scale = exact.iter().fold(0f32, |m, v| m.max(v.abs()));
        let worst = ours.iter().zip(&exact).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(worst < 0.02 * scale, "int8 product off by {worst} (values up to {scale})");
        // Rows beyond the last whole tile and past a task's rows are computed too.
        let rows = 37;
        let x: Vec<f32> = (0..rows * inp).map(|i| ((i as f32) * 0.11).cos()).collect();
        let ours = Int8Matrix::quantize(&w, out, inp).forward(&x, rows, &bias);
        let exact = product(&x, &w, rows, out, inp, &bias);
        let scale = exact.iter().fold(0f32, |m, v| m.max(v.abs()));
        let worst = ours.iter().zip(&exact).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(worst < 0.02 * scale, "int8 product off by {worst} (values up to {scale})");
    }

    #[test]
    fn the_vnni_kernel_sums_exactly_as_the_portable_one() {
        let listed = std::fs::read_to_string("/proc/cpuinfo").map(|c| c.contains(" avx512_vnni")).unwrap_or(false);
        assert_eq!(supported(), listed && cfg!(target_arch = "x86_64"), "the CPU's AVX-512 VNNI is detected as /proc/cpuinfo lists it");
        let (out, inp) = (64, 1536);
        let w: Vec<f32> = (0..out * inp).map(|i| ((i * 7919 % 255) as f32 - 127.0) / 127.0).collect();
        let m = Int8Matrix::quantize(&w, out, inp);
        // Extremes included: u8 255 against i8 ±127 over 1,536 inputs.
        let a: Vec<u8> = (0..ROWS * inp).map(|i| if i % 5 == 0 { 255 } else { (i * 31 % 256) as u8 }).collect();
        for pair in 0..out / (2 * BLOCK) {
            let b = &m.packed[2 * pair * (inp / 4) * BLOCK * 4..][..2 * (inp / 4) * BLOCK * 4];
            let mut portable = [[0i32; 2 * BLOCK]; ROWS];
            portable_kernel(&a, inp, b, inp / 4, &mut portable);
            let mut ours = [[0i32; 2 * BLOCK]; ROWS];
            m.tile(&a, pair, &mut ours);
            assert_eq!(ours, portable, "block pair {pair} (vnni: {})", m.vnni);
        }
    }

    #[test]
    fn shapes_that_do_not_fit_are_refused() {
        assert!(fits(1152, 384) && fits(384, 1536) && fits(1536, 384));
        assert!(!fits(48, 384) && !fits(64, 6) && !fits(64, 0));
    }
}

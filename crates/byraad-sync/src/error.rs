//! Errors that stop a sync run (a source that fails is reported, not an error).

use std::path::PathBuf;

/// Why a sync could not run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or folder could not be read or written.
    #[error("cannot read or write {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// `sources.toml` is not valid or has a bad entry.
    #[error("sources {path}: {message}")]
    Sources {
        /// The file.
        path: PathBuf,
        /// What is wrong, naming the entry.
        message: String,
    },
    /// The HTTP client could not be built.
    #[error("HTTP client: {0}")]
    Client(String),
}

/// Result of sync operations.
pub type Result<T> = std::result::Result<T, Error>;

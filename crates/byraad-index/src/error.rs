//! Errors of the index.

/// What went wrong in the index.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// tantivy failed (I/O, corrupt files, a lock held by another writer).
    #[error("index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    /// The data directory could not be created or opened.
    #[error("data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: std::path::PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The index holds a record that cannot be read back.
    #[error("corrupt record in the index: {0}")]
    Corrupt(String),
    /// A request was invalid.
    #[error(transparent)]
    Invalid(#[from] byraad_core::Error),
    /// Embedding failed.
    #[error(transparent)]
    Embed(#[from] byraad_embed::Error),
    /// The vector store failed.
    #[error(transparent)]
    Vector(#[from] byraad_vector::Error),
    /// The corpus could not be read.
    #[error(transparent)]
    Ingest(#[from] byraad_ingest::Error),
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

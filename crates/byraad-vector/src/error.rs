//! Errors of the vector stores.

/// What went wrong in a vector store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The embedded store failed.
    #[error("vector store: {0}")]
    Edge(String),
    /// A Qdrant server failed or could not be reached.
    #[error("qdrant server {url}: {message}")]
    Server {
        /// The server.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// A stored payload could not be read back.
    #[error("vector payload: {0}")]
    Payload(String),
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

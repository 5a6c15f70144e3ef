//! Errors of ingestion.

use std::path::PathBuf;

/// Why a file or the manifest could not be ingested.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The corpus directory or a file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path that failed.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// `manifest.toml` is not valid TOML or has a bad entry.
    #[error("manifest {path}: {message}")]
    Manifest {
        /// The manifest file.
        path: PathBuf,
        /// Which entry and what was wrong with it.
        message: String,
    },
    /// A file's content could not be turned into text.
    #[error("cannot extract text from {path}: {message}")]
    Extract {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The file's extension is not one of the supported formats.
    #[error("unsupported format {extension:?} for {path}, expected .txt, .md, .html, .pdf, .docx, an image or the agenda system's meeting .json")]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// Its extension.
        extension: String,
    },
    /// The file is larger than the ingest allows.
    #[error("{path} is {} MiB, more than ingest.max_file_mib = {} MiB", size.div_ceil(1 << 20), max >> 20)]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size in bytes.
        size: u64,
        /// The limit in bytes.
        max: u64,
    },
    /// A domain value was invalid.
    #[error(transparent)]
    Domain(#[from] byraad_core::Error),
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

//! Errors of the domain layer: invalid values supplied by a user or a manifest.

/// An invalid domain value.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A request or manifest value is out of its allowed range or form.
    #[error("invalid {field}: {message}")]
    Invalid {
        /// The offending field, as the user wrote it (`limit`, `filters.date_from`, ...).
        field: String,
        /// What was wrong and what was expected.
        message: String,
    },
}

impl Error {
    /// Shorthand for [`Error::Invalid`].
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid { field: field.into(), message: message.into() }
    }
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

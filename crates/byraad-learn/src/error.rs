//! Why a model could not be fit.

/// Why a model could not be fit.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The data cannot teach the model anything: no positive or no negative example, rows of the
    /// wrong width, values that are not finite.
    #[error("cannot learn from this data: {0}")]
    Data(String),
    /// The optimiser failed.
    #[error("the fit failed: {0}")]
    Fit(String),
}

/// A learning result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

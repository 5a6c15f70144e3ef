//! 10-dages forespørgsler: a member's written question to the administration, answered within
//! a deadline. [`Drafter`] drafts one from the member's own words ([`draft`]); [`deadline`]
//! computes the answer deadline; `DraftResponse::as_read_by` is what another reader, or a later
//! read, gets of a stored draft; [`warnings`] flags what to check before sending;
//! [`duplicates`] finds an earlier forespørgsel that asked the same; [`docx`] writes the formal
//! layout as Word.
#![warn(missing_docs)]

pub mod deadline;
pub mod docx;
pub mod draft;
pub mod duplicates;
mod view;
pub mod warnings;

pub use deadline::{Calendar, DayCount, Deadline};
pub use draft::{Addressee, DEPARTMENTS, Department, Draft, DraftConfig, DraftRequest, DraftResponse, Drafter, Invalid, Related};
pub use warnings::Warning;

//! 10-dages forespørgsler: a member's written question to the administration, answered within
//! a deadline. This crate computes the deadline ([`deadline`]).
#![warn(missing_docs)]

pub mod deadline;

pub use deadline::{Calendar, DayCount, Deadline};

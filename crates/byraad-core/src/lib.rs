//! Domain types of byråds-GPT, shared by every other crate.
//!
//! A [`Document`] is one source text (a meeting, a report, a law) with its metadata and the
//! [`Section`]s it is split into along its own structure; a [`Chunk`] is the unit of retrieval, a
//! span of one section. A [`SearchRequest`] is what a member asks for; a [`Hit`] points back to
//! the exact passage.
//!
//! ```
//! use byraad_core::{SearchRequest, Filters};
//! let req: SearchRequest = serde_json::from_str(r#"{"query": "habilitet", "limit": 5}"#).unwrap();
//! assert_eq!(req.limit(), 5);
//! assert!(req.validate(100).is_ok());
//! ```
#![warn(missing_docs)]

mod access;
pub mod case;
mod chat;
pub mod config;
mod document;
mod error;
mod search;

pub use case::{CaseHistory, CaseTreatment};
pub use access::{ANONYMOUS, Clearance, Principal};
pub use chat::{MAX_MESSAGE_CHARS, AnswerMode, ChatRequest, ChatResponse, ChatRole, Citation, Message};
pub use document::{Access, Chunk, Document, DocumentMeta, Kind, Section, Span};
pub use error::{Error, Result};
pub use search::{DEFAULT_LIMIT, MAX_QUERY_CHARS, within, Filters, Hit, Mode, SearchRequest, SearchResponse, Treatment, has_control};

/// Years a date in a request may name: a council's archive and its deadlines lie well inside;
/// beyond them date arithmetic overflows.
pub const SANE_YEARS: std::ops::RangeInclusive<i32> = 1900..=2199;

//! Passages for the unit tests.

use byraad_core::{Hit, Kind, Span};

/// A passage of the referat `doc` whose `text` starts at byte `start` of its document; tests
/// set the other fields they read with `Hit { …, ..passage(…) }`.
pub(crate) fn passage(doc: &str, text: &str, start: usize) -> Hit {
    Hit {
        chunk_id: format!("{doc}#0"),
        doc_id: doc.into(),
        title: "Referat".into(),
        kind: Kind::Referat,
        body: String::new(),
        date: None,
        item: None,
        case: None,
        page: None,
        heading: String::new(),
        source: String::new(),
        text: text.into(),
        snippet: String::new(),
        score: 1.0,
        span: Span::new(start, start + text.len()),
        retrievers: Vec::new(),
        merged: Vec::new(),
        ocr: false,
        also: Vec::new(),
    }
}

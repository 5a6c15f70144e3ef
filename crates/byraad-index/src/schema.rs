//! The tantivy schema: one index holds document records (metadata and full text, for
//! `GET /v1/documents/{id}` and incremental ingest) and chunk records (what search returns).

use tantivy::schema::{
    DateOptions, Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};

use crate::analysis::{DANISH, DANISH_EXACT, KEYWORD};

/// Record type of a document record.
pub const REC_DOC: &str = "doc";
/// Record type of a chunk record.
pub const REC_CHUNK: &str = "chunk";

/// The fields, resolved once.
#[derive(Debug, Clone)]
pub struct Fields {
    /// `doc` or `chunk`.
    pub rec: Field,
    /// Corpus-relative source path; deleting by it removes a file's records.
    pub source: Field,
    /// Fingerprint of the source (document records).
    pub fingerprint: Field,
    /// Document id.
    pub doc_id: Field,
    /// Chunk id.
    pub chunk_id: Field,
    /// Document title.
    pub title: Field,
    /// Section heading path.
    pub heading: Field,
    /// Chunk text, stemmed.
    pub text: Field,
    /// Chunk text, exact forms.
    pub text_exact: Field,
    /// Kind.
    pub kind: Field,
    /// Body, matched case-insensitively.
    pub body: Field,
    /// Date.
    pub date: Field,
    /// Case number.
    pub case: Field,
    /// Access level.
    pub access: Field,
    /// Groups that may read a restricted document.
    pub groups: Field,
    /// Chunk metadata as JSON (item, page, span, ...).
    pub meta: Field,
    /// The whole document as JSON (document records).
    pub document: Field,
}

/// The schema and its fields.
pub fn build() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let analyzed = |name: &str, positions: bool| {
        let option = if positions { IndexRecordOption::WithFreqsAndPositions } else { IndexRecordOption::WithFreqs };
        TextOptions::default().set_indexing_options(TextFieldIndexing::default().set_tokenizer(name).set_index_option(option))
    };
    let fields = Fields {
        rec: b.add_text_field("rec", STRING),
        source: b.add_text_field("source", STRING | STORED),
        fingerprint: b.add_text_field("fingerprint", STORED),
        doc_id: b.add_text_field("doc_id", STRING | STORED),
        chunk_id: b.add_text_field("chunk_id", STRING | STORED),
        title: b.add_text_field("title", analyzed(DANISH, false) | STORED),
        heading: b.add_text_field("heading", analyzed(DANISH, false) | STORED),
        text: b.add_text_field("text", analyzed(DANISH, true) | STORED),
        text_exact: b.add_text_field("text_exact", analyzed(DANISH_EXACT, false)),
        kind: b.add_text_field("kind", STRING | STORED),
        body: b.add_text_field("body", analyzed(KEYWORD, false) | STORED),
        date: b.add_date_field("date", DateOptions::default().set_indexed().set_stored().set_fast()),
        case: b.add_text_field("case", STRING | STORED),
        access: b.add_text_field("access", STRING | STORED),
        groups: b.add_text_field("groups", STRING | STORED),
        meta: b.add_text_field("meta", STORED),
        document: b.add_text_field("document", STORED),
    };
    (b.build(), fields)
}

//! Splits sections into chunks with text-splitter; a chunk never leaves its section.

use byraad_core::{Chunk, Document, Span};
use sha2::{Digest, Sha256};
use text_splitter::{ChunkConfig, TextSplitter};

use crate::Result;

/// Chunk sizes, in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkSizes {
    /// Size the splitter aims for at least.
    pub min_chars: usize,
    /// Largest chunk.
    pub max_chars: usize,
    /// Characters shared by neighbouring chunks.
    pub overlap_chars: usize,
}

/// A configured splitter.
pub struct Chunker {
    splitter: TextSplitter<text_splitter::Characters>,
}

impl Chunker {
    /// A chunker for `sizes`.
    pub fn new(sizes: ChunkSizes) -> Result<Self> {
        let config = ChunkConfig::new(sizes.min_chars..sizes.max_chars)
            .with_overlap(sizes.overlap_chars)
            .map_err(|e| byraad_core::Error::invalid("ingest.chunk_overlap_chars", e.to_string()))?
            .with_trim(true);
        Ok(Self { splitter: TextSplitter::new(config) })
    }

    /// The chunks of every section of `doc`, in order.
    pub fn chunks(&self, doc: &Document) -> Vec<Chunk> {
        let mut out = Vec::new();
        for (section, s) in doc.sections.iter().enumerate() {
            let body = &doc.text[s.span.start..s.span.end];
            for (offset, piece) in self.splitter.chunk_indices(body) {
                if piece.trim().is_empty() {
                    continue;
                }
                let span = Span::new(s.span.start + offset, s.span.start + offset + piece.len());
                out.push(Chunk {
                    chunk_id: chunk_id(&doc.meta.doc_id, span, piece),
                    doc_id: doc.meta.doc_id.clone(),
                    section,
                    text: piece.to_string(),
                    span,
                    page: doc.page_at(span.start),
                });
            }
        }
        out
    }
}

/// A content hash: the same text at the same place of the same document has the same id.
fn chunk_id(doc_id: &str, span: Span, text: &str) -> String {
    let mut h = Sha256::new();
    h.update(doc_id.as_bytes());
    h.update(span.start.to_le_bytes());
    h.update(span.end.to_le_bytes());
    h.update(text.as_bytes());
    hex::encode(&h.finalize()[..12])
}

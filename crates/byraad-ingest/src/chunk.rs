//! Splits sections into chunks with text-splitter; a chunk never leaves its section.
//!
//! The splitter looks at the whole remaining text for every chunk it cuts, so a long section is
//! handed to it in windows of at most [`WINDOW`] bytes, cut at a paragraph (or line) break:
//! the cost grows with the section's length, not its square.

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

/// Most bytes handed to the splitter at once: some 160 chunks of the largest size.
const WINDOW: usize = 256 * 1024;

/// `body` cut into pieces of at most `window` bytes (more only where a line is longer), at the
/// last paragraph break of each, else its last line break: (offset, piece).
fn windows(body: &str, window: usize) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = 0;
    while body.len() - start > window {
        let mut limit = start + window;
        while !body.is_char_boundary(limit) {
            limit -= 1;
        }
        let slice = &body[start..limit];
        let cut = slice.rfind("\n\n").map(|i| i + 2).or_else(|| slice.rfind('\n').map(|i| i + 1)).filter(|&c| c > 0).unwrap_or(slice.len());
        out.push((start, &body[start..start + cut]));
        start += cut;
    }
    out.push((start, &body[start..]));
    out
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
            if s.closed {
                continue;
            }
            let body = &doc.text[s.span.start..s.span.end];
            let pieces = windows(body, WINDOW).into_iter().flat_map(|(at, w)| self.splitter.chunk_indices(w).map(move |(offset, piece)| (at + offset, piece)));
            for (offset, piece) in pieces {
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

#[cfg(test)]
mod tests {
    use byraad_core::{Access, DocumentMeta, Kind, Section};
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn long_text_is_cut_into_windows_at_paragraph_breaks_and_nothing_is_lost() {
        let body = "Første afsnit om cykelstier.\n\nAndet afsnit om skoler, der er længere.\nMed en linje mere.\n\nTredje.".repeat(50);
        let pieces = windows(&body, 200);
        assert!(pieces.len() > 10);
        assert_eq!(pieces.iter().map(|p| p.1).collect::<String>(), body, "the pieces are the text");
        for (at, piece) in &pieces {
            assert_eq!(&body[*at..*at + piece.len()], *piece);
            assert!(piece.len() <= 200);
        }
        assert!(pieces[..pieces.len() - 1].iter().all(|p| p.1.ends_with("\n\n")), "cut at paragraph breaks");
        assert_eq!(windows("kort", 200), vec![(0, "kort")]);
        let one_line = "ø".repeat(300);
        assert_eq!(windows(&one_line, 101).iter().map(|p| p.1).collect::<String>(), one_line, "a long line is cut at a character boundary");
    }

    fn document(text: String, cuts: Vec<usize>) -> Document {
        let mut bounds: Vec<usize> = cuts.into_iter().map(|c| text.floor_char_boundary(c % (text.len() + 1))).collect();
        bounds.push(0);
        bounds.push(text.len());
        bounds.sort_unstable();
        bounds.dedup();
        let sections = bounds
            .windows(2)
            .map(|w| Section { heading: vec![], item: None, case: None, span: Span::new(w[0], w[1]), closed: false })
            .collect();
        let meta = DocumentMeta {
            doc_id: "d".into(),
            source: "d.txt".into(),
            title: "T".into(),
            kind: Kind::Notat,
            body: "B".into(),
            date: None,
            access: Access::Public,
            groups: vec![],
        };
        Document { meta, text, page_breaks: vec![], sections, ocr_pages: vec![] }
    }

    proptest! {
        /// Chunks are exact slices of the text, never cross a section, and together cover every
        /// non-whitespace character of every section.
        #[test]
        fn chunk_spans_cover_sections_and_never_cross_them(
            text in "[a-zæøå .,\n]{0,3000}",
            cuts in proptest::collection::vec(0usize..4000, 0..8),
        ) {
            let doc = document(text, cuts);
            let chunker = Chunker::new(ChunkSizes { min_chars: 50, max_chars: 120, overlap_chars: 20 }).unwrap();
            let chunks = chunker.chunks(&doc);
            let mut covered = vec![false; doc.text.len()];
            for c in &chunks {
                let section = &doc.sections[c.section];
                prop_assert!(section.span.contains(&c.span), "chunk {:?} leaves section {:?}", c.span, section.span);
                prop_assert_eq!(&doc.text[c.span.start..c.span.end], c.text.as_str());
                prop_assert!(c.text.chars().count() <= 120);
                covered[c.span.start..c.span.end].iter_mut().for_each(|b| *b = true);
            }
            for (i, ch) in doc.text.char_indices() {
                prop_assert!(ch.is_whitespace() || covered[i], "byte {} ({:?}) is in no chunk", i, ch);
            }
        }
    }
}

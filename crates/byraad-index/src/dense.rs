//! The dense half of retrieval: an embedder and a vector store, written at ingest and searched
//! with the same filters as the lexical index.

use std::sync::Arc;

use byraad_core::{Chunk, Clearance, Document, Filters};
use byraad_embed::{Embedder, Role};
use byraad_vector::{VectorFilter, VectorHit, VectorPayload, VectorPoint, VectorStore};
use chrono::Datelike;

use crate::Result;

/// An embedder and the store of its vectors.
#[derive(Clone)]
pub struct Dense {
    /// Turns text into vectors.
    pub embedder: Arc<dyn Embedder>,
    /// Holds chunk vectors.
    pub store: Arc<dyn VectorStore>,
    /// Chunks per embedding call while ingesting.
    pub batch_size: usize,
}

/// The text embedded for a chunk: its document title and section headings, then its text, so
/// that a passage deep in an item still carries what the item is about.
pub fn passage_text(doc: &Document, chunk: &Chunk) -> String {
    let headings = &doc.sections[chunk.section].heading;
    if headings.is_empty() {
        format!("{}\n{}", doc.meta.title, chunk.text)
    } else {
        format!("{} › {}\n{}", doc.meta.title, headings.join(" › "), chunk.text)
    }
}

/// A date as YYYYMMDD.
pub fn date_number(d: chrono::NaiveDate) -> i64 {
    i64::from(d.year()) * 10_000 + i64::from(d.month()) * 100 + i64::from(d.day())
}

impl Dense {
    /// Embeds and stores the chunks of one version (`fingerprint`) of `source`, then deletes the
    /// source's vectors of any other version.
    pub fn write(&self, source: &str, fingerprint: &str, docs: &[(Document, Vec<Chunk>)]) -> Result<usize> {
        let mut written = 0;
        for (doc, chunks) in docs {
            for batch in chunks.chunks(self.batch_size) {
                let texts: Vec<String> = batch.iter().map(|c| passage_text(doc, c)).collect();
                let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
                let vectors = self.embedder.embed(&refs, Role::Passage)?;
                let m = &doc.meta;
                let points = batch
                    .iter()
                    .zip(vectors)
                    .map(|(c, vector)| VectorPoint {
                        vector,
                        payload: VectorPayload {
                            chunk_id: c.chunk_id.clone(),
                            doc_id: m.doc_id.clone(),
                            source: source.to_string(),
                            fingerprint: fingerprint.to_string(),
                            kind: m.kind.as_str().to_string(),
                            body: m.body.to_lowercase(),
                            date: m.date.map(date_number),
                            case: doc.sections[c.section].case.clone(),
                            access: m.access.as_str().to_string(),
                            groups: m.groups.clone(),
                        },
                    })
                    .collect();
                written += batch.len();
                self.store.upsert(points)?;
            }
        }
        self.store.delete_source(source, Some(fingerprint))?;
        Ok(written)
    }

    /// The nearest chunks to `query`, filters applied inside the vector search.
    pub fn search(&self, query: &str, filters: &Filters, clearance: &Clearance, limit: usize) -> Result<Vec<VectorHit>> {
        let vector = self.query_vector(query)?;
        let filter = VectorFilter {
            kinds: filters.kind.iter().map(|k| k.as_str().to_string()).collect(),
            bodies: filters.body.iter().map(|b| b.to_lowercase()).collect(),
            date_from: filters.date_from()?.map(date_number),
            date_to: filters.date_to()?.map(date_number),
            case: filters.case.as_ref().map(|c| c.trim().to_uppercase()),
            sources: Vec::new(),
            clearance: clearance.clone(),
        };
        Ok(self.store.search(&vector, &filter, limit)?)
    }

    /// `query`'s vector (e5's `query:`).
    pub fn query_vector(&self, query: &str) -> Result<Vec<f32>> {
        Ok(self.embedder.embed(&[query], Role::Query)?.into_iter().next().unwrap_or_default())
    }
}

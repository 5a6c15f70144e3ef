//! Vector stores for byråds-GPT.
//!
//! [`VectorStore`] is what hybrid retrieval needs: upsert chunk vectors with their payload,
//! delete a source's vectors, and search with the same filters as the lexical index, applied
//! inside the vector search. [`EdgeStore`] (qdrant-edge, embedded in the data directory) is the
//! default; a Qdrant server or cluster is the other implementation.
//!
//! ```no_run
//! use byraad_vector::{EdgeStore, VectorFilter, VectorStore};
//! let store = EdgeStore::open("data/vectors".as_ref(), 384).unwrap();
//! let hits = store.search(&[0.0; 384], &VectorFilter::default(), 10).unwrap();
//! ```
#![warn(missing_docs)]

mod edge;
mod error;
mod filter;
mod server;

use std::collections::BTreeMap;

pub use edge::EdgeStore;
pub use error::{Error, Result};
pub use filter::VectorFilter;
pub use server::{QdrantSettings, QdrantStore};
use serde::{Deserialize, Serialize};

/// What is stored with each vector: enough to filter inside the search and to tie the vector to
/// its chunk and the version of its source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VectorPayload {
    /// The chunk's id (also hashed into the point id).
    pub chunk_id: String,
    /// Its document.
    pub doc_id: String,
    /// Its source file.
    pub source: String,
    /// The fingerprint of the source version the vector was computed from.
    pub fingerprint: String,
    /// Document kind.
    pub kind: String,
    /// Body, lowercased.
    pub body: String,
    /// Date as YYYYMMDD.
    pub date: Option<i64>,
    /// Case number.
    pub case: Option<String>,
    /// Access level.
    pub access: String,
    /// Groups that may read it.
    pub groups: Vec<String>,
}

/// A vector and its payload.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorPoint {
    /// The vector (L2-normalised).
    pub vector: Vec<f32>,
    /// Its payload.
    pub payload: VectorPayload,
}

/// A search result: the chunk and its cosine similarity.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorHit {
    /// The chunk's id.
    pub chunk_id: String,
    /// Similarity (higher is closer).
    pub score: f32,
}

/// A store of chunk vectors.
pub trait VectorStore: Send + Sync {
    /// Inserts or replaces points.
    fn upsert(&self, points: Vec<VectorPoint>) -> Result<()>;
    /// Deletes every vector of `source` except those computed from `keep` (a fingerprint).
    fn delete_source(&self, source: &str, keep: Option<&str>) -> Result<()>;
    /// The nearest chunks to `vector` among those matching `filter`.
    fn search(&self, vector: &[f32], filter: &VectorFilter, limit: usize) -> Result<Vec<VectorHit>>;
    /// Source → fingerprints its vectors were computed from (normally one).
    fn sources(&self) -> Result<BTreeMap<String, Vec<String>>>;
    /// Number of vectors.
    fn count(&self) -> Result<u64>;
    /// Number of vectors in an approximate-search index (HNSW), where the store reports it.
    fn indexed_count(&self) -> Result<Option<u64>> {
        Ok(None)
    }
    /// Makes every write durable.
    fn flush(&self) -> Result<()>;
    /// Reclaims the space of replaced and deleted points (a store that does so itself: nothing).
    fn compact(&self) -> Result<()> {
        Ok(())
    }
}

/// Adds `fingerprint` to the versions listed for `source` (each once).
pub(crate) fn note_source(sources: &mut BTreeMap<String, Vec<String>>, source: String, fingerprint: String) {
    let fps = sources.entry(source).or_default();
    if !fps.contains(&fingerprint) {
        fps.push(fingerprint);
    }
}

/// The point id of a chunk: its first 64 hash bits.
pub fn point_id(chunk_id: &str) -> u64 {
    let hex: String = chunk_id.chars().filter(char::is_ascii_hexdigit).take(16).collect();
    u64::from_str_radix(&hex, 16).unwrap_or_else(|_| {
        // Not a hex id: FNV-1a of the text.
        chunk_id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
    })
}

//! Hybrid retrieval: the lexical index and, when a model is available, dense vectors, fused.
//!
//! Fusion is reciprocal rank fusion: each retriever's ranking contributes
//! `weight / (rrf_k + rank)` to a chunk, so a chunk both retrievers rank well beats one that
//! only one of them likes, and neither retriever's raw score scale matters.

use std::collections::HashMap;
use std::time::Instant;

use byraad_core::config::FusionConfig;
use byraad_core::{Hit, Mode, SearchRequest, SearchResponse};

use crate::dense::Dense;
use crate::search::elapsed_ms;
use crate::{LexicalIndex, Result};

/// What `/healthz` says about dense retrieval.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DenseStatus {
    /// The embedding model.
    pub model: String,
    /// Vector dimension.
    pub dim: usize,
}

/// Lexical index plus optional dense retrieval.
pub struct Retriever {
    lexical: LexicalIndex,
    dense: Option<Dense>,
    fusion: FusionConfig,
    default_mode: Mode,
    /// Why dense retrieval is off, when it was configured but could not start.
    dense_warning: Option<String>,
}

impl Retriever {
    /// A retriever over `lexical`, with `dense` when available; `dense_warning` says why it is
    /// not when it was configured.
    pub fn new(lexical: LexicalIndex, dense: Option<Dense>, fusion: FusionConfig, default_mode: Mode, dense_warning: Option<String>) -> Self {
        Self { lexical, dense, fusion, default_mode, dense_warning }
    }

    /// The lexical index.
    pub fn lexical(&self) -> &LexicalIndex {
        &self.lexical
    }

    /// The dense half, if any.
    pub fn dense(&self) -> Option<&Dense> {
        self.dense.as_ref()
    }

    /// Model and dimension of dense retrieval, `None` when off.
    pub fn dense_status(&self) -> Option<DenseStatus> {
        self.dense.as_ref().map(|d| DenseStatus { model: d.embedder.model().to_string(), dim: d.embedder.dim() })
    }

    /// Why dense retrieval is off, if it was configured.
    pub fn dense_warning(&self) -> Option<&str> {
        self.dense_warning.as_deref()
    }

    /// Searches in the request's mode (or the default); hybrid without a model runs lexical and
    /// says so, dense without a model is an error.
    pub fn search(&self, req: &SearchRequest) -> Result<SearchResponse> {
        let started = Instant::now();
        req.validate(self.lexical.config.max_limit)?;
        let limit = req.limit();
        let asked = req.mode.unwrap_or(self.default_mode);
        let (mut mode, mut warning) = match (asked, &self.dense) {
            (Mode::Dense, None) => {
                return Err(byraad_core::Error::invalid("mode", format!("dense search is not available: {}", self.dense_warning.as_deref().unwrap_or("no embedding model is configured"))).into());
            }
            (Mode::Hybrid, None) => (Mode::Lexical, Some(format!("dense retrieval is off ({}): lexical results only", self.dense_warning.as_deref().unwrap_or("dense.backend = \"none\"")))),
            (m, _) => (m, None),
        };
        let hits = match (mode, &self.dense) {
            (Mode::Lexical, _) | (_, None) => self.lexical.lexical_hits(req, limit)?,
            (Mode::Dense, Some(dense)) => self.dense_hits(dense, req, limit)?,
            (Mode::Hybrid, Some(dense)) => {
                let n = self.fusion.candidates.max(limit);
                let mut lexical = self.lexical.lexical_hits(req, n)?;
                match self.dense_hits(dense, req, n) {
                    Ok(dense) => fuse(&self.fusion, lexical, dense, limit),
                    // The embeddings service or vector server is down: the member still gets
                    // lexical results, and the response says so.
                    Err(e) => {
                        tracing::warn!(error = %e, "dense search failed; lexical results only");
                        mode = Mode::Lexical;
                        warning = Some(format!("dense retrieval failed ({e}): lexical results only"));
                        lexical.truncate(limit);
                        lexical
                    }
                }
            }
        };
        Ok(SearchResponse { hits, took_ms: elapsed_ms(started), mode, warning })
    }

    fn dense_hits(&self, dense: &Dense, req: &SearchRequest, limit: usize) -> Result<Vec<Hit>> {
        let found = dense.search(&req.query, &req.filters, limit)?;
        let ids: Vec<(String, f32)> = found.into_iter().map(|h| (h.chunk_id, h.score)).collect();
        self.lexical.hits_for_chunks(&req.query, &ids, "dense")
    }
}

/// Reciprocal rank fusion of two rankings.
fn fuse(config: &FusionConfig, lexical: Vec<Hit>, dense: Vec<Hit>, limit: usize) -> Vec<Hit> {
    let mut fused: HashMap<String, (f32, Hit)> = HashMap::new();
    for (weight, ranking) in [(config.lexical_weight, lexical), (config.dense_weight, dense)] {
        for (rank, hit) in ranking.into_iter().enumerate() {
            let contribution = weight / (config.rrf_k + rank as f32 + 1.0);
            match fused.get_mut(&hit.chunk_id) {
                Some((score, existing)) => {
                    *score += contribution;
                    existing.retrievers.extend(hit.retrievers);
                }
                None => {
                    fused.insert(hit.chunk_id.clone(), (contribution, hit));
                }
            }
        }
    }
    let mut hits: Vec<(f32, Hit)> = fused.into_values().collect();
    hits.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.chunk_id.cmp(&b.1.chunk_id)));
    hits.into_iter()
        .take(limit)
        .map(|(score, mut hit)| {
            hit.score = score;
            hit
        })
        .collect()
}

//! Hybrid retrieval: the lexical index and, when a model is available, dense vectors, fused.
//!
//! Each retriever ranks candidate chunks inside the request's filters; [`fuse`] combines the
//! rankings (weighted normalised scores by default, reciprocal rank fusion as the baseline), and
//! `Retriever::passages` joins matching chunks of one section into passages, in every mode.

use std::collections::HashMap;
use std::time::Instant;

use byraad_core::config::{FusionConfig, FusionMethod};
use byraad_core::{Hit, Mode, SearchRequest, SearchResponse, Span, Treatment};

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
        // More candidates than asked for: merging overlapping chunks can take some away.
        let n = self.fusion.candidates.max(limit * 3);
        let ranked = match (mode, &self.dense) {
            (Mode::Lexical, _) | (_, None) => self.lexical.lexical_hits(req, n)?,
            (Mode::Dense, Some(dense)) => self.dense_hits(dense, req, n)?,
            (Mode::Hybrid, Some(dense)) => {
                let lexical = self.lexical.lexical_hits(req, n)?;
                match self.dense_hits(dense, req, n) {
                    Ok(dense) => fuse(&self.fusion, lexical, dense),
                    // The embeddings service or vector server is down: the member still gets
                    // lexical results, and the response says so.
                    Err(e) => {
                        tracing::warn!(error = %e, "dense search failed; lexical results only");
                        mode = Mode::Lexical;
                        warning = Some(format!("dense retrieval failed ({e}): lexical results only"));
                        lexical
                    }
                }
            }
        };
        let ranked = crate::context::rerank(&self.fusion, &req.query, ranked);
        let hits = self.passages(ranked, limit)?;
        Ok(SearchResponse { hits, took_ms: elapsed_ms(started), mode, warning })
    }

    /// Turns `ranked` chunks (best first) into at most `limit` passages: a chunk joins an earlier,
    /// better-ranked hit of the same section when the passage spanning both stays within
    /// `fusion.merge_max_bytes`.
    ///
    /// Shown apart, several chunks of one agenda item or chapter fill the page with the same item
    /// and split its answer across hits; joined, the passage keeps the better rank, holds the
    /// item's text between and around the matching chunks (neighbouring context, exactly the
    /// document's text at the passage's span), and the next item moves up. Overlapping chunks
    /// join from their own texts; chunks apart need the document's text, read once per query.
    fn passages(&self, ranked: Vec<Hit>, limit: usize) -> Result<Vec<Hit>> {
        let max_bytes = self.fusion.merge_max_bytes;
        let mut out: Vec<Hit> = Vec::with_capacity(limit);
        for hit in ranked {
            let hit = match self.same_text_elsewhere(&mut out, hit)? {
                Some(hit) => hit,
                None => continue,
            };
            let mut target = None;
            for (i, p) in out.iter().enumerate() {
                let span = Span::new(p.span.start.min(hit.span.start), p.span.end.max(hit.span.end));
                if p.doc_id != hit.doc_id || p.heading != hit.heading || span.end - span.start > max_bytes {
                    continue;
                }
                if hit.span.start <= p.span.end && hit.span.end >= p.span.start {
                    target = Some((i, overlap_union(p, &hit)));
                    break;
                }
                let Some(doc) = self.lexical.shared_document(&hit.doc_id)? else { continue };
                if doc.text.is_char_boundary(span.start) && span.end <= doc.text.len() && doc.sections.iter().any(|s| s.span.contains(&span)) {
                    target = Some((i, doc.text[span.start..span.end].to_string()));
                    break;
                }
            }
            match target {
                Some((i, text)) => join(&mut out[i], hit, text),
                None if out.len() < limit => {
                    // Too big to join a passage it overlaps: keep only what that passage lacks.
                    let doc_id = hit.doc_id.clone();
                    let hit = out.iter().filter(|p| p.doc_id == doc_id).try_fold(hit, |h, p| clip(h, &p.span));
                    out.extend(hit);
                }
                None => {}
            }
        }
        // A passage that grew may now reach into a lower-ranked hit: that hit keeps only the rest.
        let mut kept: Vec<Hit> = Vec::with_capacity(out.len());
        for hit in out {
            let doc_id = hit.doc_id.clone();
            kept.extend(kept.iter().filter(|p| p.doc_id == doc_id).try_fold(hit, |h, p| clip(h, &p.span)));
        }
        Ok(kept)
    }

    /// A case passes several meetings (committee, Økonomiudvalget, Byråd) with the same text.
    /// When `hit`'s text stands word for word in the same case's item of a meeting already among
    /// `out`, it becomes that passage's text there (joining it by the usual rules) and its own
    /// meeting is recorded in the passage's `also`; a hit whose meeting is already recorded is
    /// dropped (`None`).
    fn same_text_elsewhere(&self, out: &mut [Hit], hit: Hit) -> Result<Option<Hit>> {
        let Some(case) = hit.case.as_deref() else { return Ok(Some(hit)) };
        for p in out.iter_mut() {
            if p.case.as_deref() != Some(case) || p.doc_id == hit.doc_id {
                continue;
            }
            if p.also.iter().any(|t| t.doc_id == hit.doc_id) {
                return Ok(None);
            }
            let Some(doc) = self.lexical.shared_document(&p.doc_id)? else { continue };
            let Some(section) = doc.sections.iter().find(|s| s.span.contains(&p.span)) else { continue };
            let Some(at) = doc.text[section.span.start..section.span.end].find(hit.text.as_str()) else { continue };
            let start = section.span.start + at;
            p.also.push(Treatment { doc_id: hit.doc_id.clone(), title: hit.title.clone(), body: hit.body.clone(), date: hit.date.clone(), item: hit.item.clone() });
            p.also.sort_by(|a, b| a.date.cmp(&b.date));
            let span = Span::new(start, start + hit.text.len());
            let moved = Hit { doc_id: p.doc_id.clone(), title: p.title.clone(), body: p.body.clone(), date: p.date.clone(), item: p.item.clone(), heading: p.heading.clone(), source: p.source.clone(), page: doc.page_at(start), span, ..hit };
            return Ok(Some(moved));
        }
        Ok(Some(hit))
    }

    fn dense_hits(&self, dense: &Dense, req: &SearchRequest, limit: usize) -> Result<Vec<Hit>> {
        let found = dense.search(&req.query, &req.filters, &req.clearance, limit)?;
        let ids: Vec<(String, f32)> = found.into_iter().map(|h| (h.chunk_id, h.score)).collect();
        self.lexical.hits_for_chunks(req, &ids, "dense")
    }
}

/// Fuses two rankings of the same query into one, best first.
///
/// `weighted` (the default) min-max normalises each ranking's scores to [0, 1] and sums them
/// with the configured weights; a chunk only one retriever found gets 0 from the other. It keeps
/// how much better the first lexical hit is than the tenth, which rank fusion throws away: BM25
/// with Danish analysis is the stronger retriever on council questions (names, numbers, case
/// numbers, party letters), and e5's cosines mostly break near-ties among chunks of the right
/// item. On the dev questions it beats RRF at any weight tried (docs/methods.md has the figures). `rrf`
/// is the classic reciprocal rank fusion, for comparison.
fn fuse(config: &FusionConfig, lexical: Vec<Hit>, dense: Vec<Hit>) -> Vec<Hit> {
    let mut fused: HashMap<String, (f32, Hit)> = HashMap::new();
    for (weight, ranking) in [(config.lexical_weight, lexical), (config.dense_weight, dense)] {
        let (lo, hi) = ranking.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), h| (lo.min(h.score), hi.max(h.score)));
        for (rank, hit) in ranking.into_iter().enumerate() {
            let contribution = match config.method {
                FusionMethod::Rrf => weight / (config.rrf_k + rank as f32 + 1.0),
                FusionMethod::Weighted if hi > lo => weight * (hit.score - lo) / (hi - lo),
                FusionMethod::Weighted => weight,
            };
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
        .map(|(score, mut hit)| {
            hit.score = score;
            hit
        })
        .collect()
}

/// The text of passage `p` extended by the overlapping chunk `hit`: their texts are the slices
/// of the document text at their spans, so the union is the one text plus the other's overhang.
fn overlap_union(p: &Hit, hit: &Hit) -> String {
    let mut text = String::with_capacity(p.text.len() + hit.text.len());
    if hit.span.start < p.span.start {
        text.push_str(&hit.text[..p.span.start - hit.span.start]);
    }
    text.push_str(&p.text);
    if hit.span.end > p.span.end {
        text.push_str(&hit.text[hit.text.len() - (hit.span.end - p.span.end)..]);
    }
    text
}

/// Makes `hit` part of passage `p`, whose text over the union of their spans is `text`.
fn join(p: &mut Hit, hit: Hit, text: String) {
    if hit.span.start < p.span.start {
        p.page = hit.page;
    }
    p.span = Span::new(p.span.start.min(hit.span.start), p.span.end.max(hit.span.end));
    p.text = text;
    for r in hit.retrievers {
        if !p.retrievers.contains(&r) {
            p.retrievers.push(r);
        }
    }
    p.merged.push(hit.chunk_id);
}

/// `hit` without the part inside `taken` (of the same document); `None` when nothing is left
/// or `taken` lies strictly inside it.
fn clip(hit: Hit, taken: &Span) -> Option<Hit> {
    let s = hit.span;
    if s.end <= taken.start || s.start >= taken.end {
        return Some(hit);
    }
    if s.start >= taken.start && s.end <= taken.end {
        return None;
    }
    if s.start < taken.start && s.end > taken.end {
        // The passage sits inside this chunk: keep the chunk's larger side.
        return if taken.start - s.start >= s.end - taken.end { clip_to(hit, s.start, taken.start) } else { clip_to(hit, taken.end, s.end) };
    }
    if s.start < taken.start {
        clip_to(hit, s.start, taken.start)
    } else {
        clip_to(hit, taken.end, s.end)
    }
}

/// `hit` narrowed to `start..end` (within its span, at character boundaries of its text).
fn clip_to(mut hit: Hit, start: usize, end: usize) -> Option<Hit> {
    let (from, to) = (start - hit.span.start, end - hit.span.start);
    if from >= to || !hit.text.is_char_boundary(from) || !hit.text.is_char_boundary(to) || hit.text[from..to].trim().is_empty() {
        return None;
    }
    hit.text = hit.text[from..to].to_string();
    hit.span = Span::new(start, end);
    Some(hit)
}

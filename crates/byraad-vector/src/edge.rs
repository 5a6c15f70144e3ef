//! qdrant-edge, embedded in the data directory: the default store, no service to run.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use qdrant_edge::{
    DEFAULT_VECTOR_NAME, Distance, EdgeConfig, EdgeShard, EdgeVectorParams, Filter, NamedQuery, PointId,
    PointInsertOperations, PointOperations, PointStruct, QueryEnum, QueryRequest, ScoringQuery, ScrollRequest, SearchParams,
    UpdateOperation, WithPayloadInterface, WithVector,
};
use serde_json::json;

use crate::{Error, Result, VectorFilter, VectorHit, VectorPoint, VectorStore, point_id};

/// Points per scroll page when listing sources.
const SCROLL_PAGE: usize = 1000;

/// qdrant-edge shard in a directory.
pub struct EdgeStore {
    shard: EdgeShard,
    dim: usize,
    exact: bool,
}

fn edge_err(e: impl std::fmt::Display) -> Error {
    Error::Edge(e.to_string())
}

impl EdgeStore {
    /// Opens the shard in `dir`, creating it for vectors of `dim` dimensions if absent. A shard
    /// made for another dimension is an error (the model changed: delete the directory).
    pub fn open(dir: &Path, dim: usize) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(edge_err)?;
        let config = EdgeConfig {
            on_disk_payload: false,
            vectors: HashMap::from([(
                DEFAULT_VECTOR_NAME.to_string(),
                EdgeVectorParams {
                    size: dim,
                    distance: Distance::Cosine,
                    quantization_config: None,
                    multivector_config: None,
                    datatype: None,
                    on_disk: None,
                    hnsw_config: None,
                },
            )]),
            ..EdgeConfig::default()
        };
        let shard = EdgeShard::load(dir, Some(config)).map_err(edge_err)?;
        let have = shard.config().vectors.get(DEFAULT_VECTOR_NAME).map(|v| v.size);
        if have != Some(dim) {
            return Err(Error::Edge(format!(
                "{} holds vectors of {have:?} dimensions, the model has {dim}; remove it and ingest again",
                dir.display()
            )));
        }
        Ok(Self { shard, dim, exact: false })
    }

    /// The same store searching every vector exactly (brute force) instead of through its HNSW
    /// index: for measuring what the index gives.
    #[must_use]
    pub fn exact(mut self, exact: bool) -> Self {
        self.exact = exact;
        self
    }

    fn filter(json: serde_json::Value) -> Result<Filter> {
        serde_json::from_value(json).map_err(|e| Error::Edge(format!("filter: {e}")))
    }
}

impl VectorStore for EdgeStore {
    fn upsert(&self, points: Vec<VectorPoint>) -> Result<()> {
        if points.is_empty() {
            return Ok(());
        }
        let mut list = Vec::with_capacity(points.len());
        for p in points {
            if p.vector.len() != self.dim {
                return Err(Error::Edge(format!("vector of {} dimensions, expected {}", p.vector.len(), self.dim)));
            }
            let payload = serde_json::to_value(&p.payload).map_err(|e| Error::Payload(e.to_string()))?;
            list.push(PointStruct::new(point_id(&p.payload.chunk_id), p.vector, payload).into());
        }
        self.shard
            .update(UpdateOperation::PointOperation(PointOperations::UpsertPoints(PointInsertOperations::PointsList(list))))
            .map_err(edge_err)
    }

    fn delete_source(&self, source: &str, keep: Option<&str>) -> Result<()> {
        let mut filter = json!({"must": [{"key": "source", "match": {"value": source}}]});
        if let Some(keep) = keep {
            filter["must_not"] = json!([{"key": "fingerprint", "match": {"value": keep}}]);
        }
        self.shard
            .update(UpdateOperation::PointOperation(PointOperations::DeletePointsByFilter(Self::filter(filter)?)))
            .map_err(edge_err)
    }

    fn search(&self, vector: &[f32], filter: &VectorFilter, limit: usize) -> Result<Vec<VectorHit>> {
        let points = self
            .shard
            .query(QueryRequest {
                prefetches: vec![],
                query: Some(ScoringQuery::Vector(QueryEnum::Nearest(NamedQuery { query: vector.to_vec().into(), using: None }))),
                filter: Some(Self::filter(filter.to_qdrant_json())?),
                score_threshold: None,
                limit,
                offset: 0,
                params: self.exact.then(|| SearchParams { exact: true, ..SearchParams::default() }),
                with_vector: WithVector::Bool(false),
                with_payload: WithPayloadInterface::Bool(true),
            })
            .map_err(edge_err)?;
        points
            .into_iter()
            .map(|p| {
                let chunk_id = p
                    .payload
                    .as_ref()
                    .and_then(|pl| pl.0.get("chunk_id"))
                    .and_then(|v| v.as_str())
                    .ok_or_else(|| Error::Payload("a point has no chunk_id".into()))?
                    .to_string();
                Ok(VectorHit { chunk_id, score: p.score })
            })
            .collect()
    }

    fn sources(&self) -> Result<BTreeMap<String, Vec<String>>> {
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut offset: Option<PointId> = None;
        loop {
            let (page, next) = self
                .shard
                .scroll(ScrollRequest {
                    offset,
                    limit: Some(SCROLL_PAGE),
                    filter: None,
                    with_payload: Some(WithPayloadInterface::Bool(true)),
                    with_vector: WithVector::Bool(false),
                    order_by: None,
                })
                .map_err(edge_err)?;
            for record in page {
                let Some(payload) = record.payload else { continue };
                let get = |k: &str| payload.0.get(k).and_then(|v| v.as_str()).map(str::to_string);
                if let (Some(source), Some(fp)) = (get("source"), get("fingerprint")) {
                    crate::note_source(&mut out, source, fp);
                }
            }
            match next {
                Some(n) => offset = Some(n),
                None => break,
            }
        }
        Ok(out)
    }

    fn count(&self) -> Result<u64> {
        Ok(self.shard.info().points_count as u64)
    }

    fn indexed_count(&self) -> Result<Option<u64>> {
        Ok(Some(self.shard.info().indexed_vectors_count as u64))
    }

    fn flush(&self) -> Result<()> {
        self.shard.flush();
        Ok(())
    }

    fn compact(&self) -> Result<()> {
        self.shard.optimize().map_err(edge_err)?;
        self.shard.flush();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::VectorPayload;

    fn point(chunk: &str, source: &str, fp: &str, kind: &str, v: Vec<f32>) -> VectorPoint {
        VectorPoint {
            vector: v,
            payload: VectorPayload {
                chunk_id: chunk.into(),
                doc_id: "d".into(),
                source: source.into(),
                fingerprint: fp.into(),
                kind: kind.into(),
                body: "aarhus byråd".into(),
                date: Some(20250827),
                case: Some("EMN-2025-000001".into()),
                access: "public".into(),
                groups: vec![],
            },
        }
    }

    /// Behaviour shared with the server store is tested in `tests/stores.rs`; this is what only
    /// an embedded store has: its data survives a reopen, and its dimension is fixed.
    #[test]
    fn reloads_from_disk_and_keeps_its_dimension() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = EdgeStore::open(dir.path(), 3).unwrap();
            store
                .upsert(vec![point("aa01", "a.pdf", "f1", "referat", vec![1.0, 0.0, 0.0]), point("bb01", "b.md", "f1", "lov", vec![0.0, 1.0, 0.0])])
                .unwrap();
            store.flush().unwrap();
        }
        let store = EdgeStore::open(dir.path(), 3).unwrap();
        assert_eq!(store.count().unwrap(), 2, "reloaded from disk");
        assert_eq!(store.search(&[0.0, 1.0, 0.0], &VectorFilter::default(), 1).unwrap()[0].chunk_id, "bb01");
        assert!(store.upsert(vec![point("cc01", "c.md", "f1", "lov", vec![1.0, 0.0])]).is_err(), "a vector of another dimension is refused");
        drop(store);
        assert!(EdgeStore::open(dir.path(), 4).is_err(), "another dimension is refused");
    }
}

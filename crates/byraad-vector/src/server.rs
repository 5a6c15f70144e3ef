//! A Qdrant server or cluster through qdrant-client (gRPC): for corpora or loads that outgrow
//! one machine. Same payload and filter semantics as [`crate::EdgeStore`].

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use qdrant_client::Qdrant;
use qdrant_client::qdrant::{
    Condition, CountPointsBuilder, CreateCollectionBuilder, CreateFieldIndexCollectionBuilder, DeletePointsBuilder,
    Distance, FieldType, Filter, PointId, PointStruct, QueryPointsBuilder, Range, ScrollPointsBuilder,
    UpsertPointsBuilder, VectorParamsBuilder, vectors_config::Config as VectorsConfigKind,
};

use crate::{Error, Result, VectorFilter, VectorHit, VectorPoint, VectorStore, point_id};

/// Points per scroll page when listing sources.
const SCROLL_PAGE: u32 = 1000;

/// Payload fields filtered on, indexed when the collection is created.
const KEYWORD_FIELDS: [&str; 7] = ["kind", "body", "case", "source", "fingerprint", "access", "groups"];

/// How to reach the server and shape the collection.
#[derive(Clone)]
pub struct QdrantSettings {
    /// gRPC URL, e.g. `http://qdrant:6334` (`https://` for TLS).
    pub url: String,
    /// API key, if the server requires one.
    pub api_key: Option<String>,
    /// Collection name.
    pub collection: String,
    /// Shards of a new collection.
    pub shards: u32,
    /// Copies of each shard in a cluster.
    pub replication_factor: u32,
    /// Replicas that must acknowledge a write.
    pub write_consistency_factor: u32,
    /// Timeout of one request.
    pub timeout: Duration,
}

impl std::fmt::Debug for QdrantSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QdrantSettings")
            .field("url", &self.url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("collection", &self.collection)
            .field("shards", &self.shards)
            .field("replication_factor", &self.replication_factor)
            .field("write_consistency_factor", &self.write_consistency_factor)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// A collection on a Qdrant server. The trait is synchronous (retrieval runs on blocking
/// threads); the store keeps a small runtime of its own for the gRPC client.
pub struct QdrantStore {
    client: Qdrant,
    runtime: tokio::runtime::Runtime,
    settings: QdrantSettings,
}

impl QdrantStore {
    /// Connects and creates the collection (cosine, `dim` dimensions, shards and replication as
    /// configured, payload indexes on the filtered fields) if it does not exist. An existing
    /// collection of another dimension is an error.
    pub fn connect(settings: QdrantSettings, dim: usize) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("qdrant-client")
            .enable_all()
            .build()
            .map_err(|e| Error::Server { url: settings.url.clone(), message: e.to_string() })?;
        let client = {
            let _guard = runtime.enter();
            Qdrant::from_url(&settings.url)
                .api_key(settings.api_key.clone())
                .timeout(settings.timeout)
                .connect_timeout(settings.timeout)
                .skip_compatibility_check()
                .build()
                .map_err(|e| Error::Server { url: settings.url.clone(), message: e.to_string() })?
        };
        let store = Self { client, runtime, settings };
        store.ensure_collection(dim)?;
        Ok(store)
    }

    fn err(&self, e: impl std::fmt::Display) -> Error {
        Error::Server { url: self.settings.url.clone(), message: e.to_string() }
    }

    fn run<T>(&self, f: impl Future<Output = Result<T, qdrant_client::QdrantError>>) -> Result<T> {
        self.runtime.block_on(f).map_err(|e| self.err(e))
    }

    fn ensure_collection(&self, dim: usize) -> Result<()> {
        let name = &self.settings.collection;
        if self.run(self.client.collection_exists(name))? {
            let info = self.run(self.client.collection_info(name))?;
            let size = info
                .result
                .and_then(|r| r.config)
                .and_then(|c| c.params)
                .and_then(|p| p.vectors_config)
                .and_then(|v| v.config)
                .and_then(|c| match c {
                    VectorsConfigKind::Params(p) => Some(p.size),
                    VectorsConfigKind::ParamsMap(_) => None,
                });
            if size != Some(dim as u64) {
                return Err(self.err(format!(
                    "collection {name} holds vectors of {size:?} dimensions, the model has {dim}; delete it or configure another collection"
                )));
            }
            return Ok(());
        }
        let s = &self.settings;
        self.run(
            self.client.create_collection(
                CreateCollectionBuilder::new(name)
                    .vectors_config(VectorParamsBuilder::new(dim as u64, Distance::Cosine))
                    .shard_number(s.shards)
                    .replication_factor(s.replication_factor)
                    .write_consistency_factor(s.write_consistency_factor),
            ),
        )?;
        for field in KEYWORD_FIELDS {
            self.run(self.client.create_field_index(CreateFieldIndexCollectionBuilder::new(name, field, FieldType::Keyword).wait(true)))?;
        }
        self.run(self.client.create_field_index(CreateFieldIndexCollectionBuilder::new(name, "date", FieldType::Integer).wait(true)))?;
        tracing::info!(collection = %name, dim, shards = s.shards, replication = s.replication_factor, "created Qdrant collection");
        Ok(())
    }
}

/// The filter in qdrant-client's types: the same conditions as [`VectorFilter::to_qdrant_json`].
pub(crate) fn grpc_filter(f: &VectorFilter) -> Filter {
    let mut must = Vec::new();
    if !f.kinds.is_empty() {
        must.push(Condition::matches("kind", f.kinds.clone()));
    }
    if !f.bodies.is_empty() {
        must.push(Condition::matches("body", f.bodies.clone()));
    }
    if f.date_from.is_some() || f.date_to.is_some() {
        must.push(Condition::range(
            "date",
            Range { gte: f.date_from.map(|d| d as f64), lte: f.date_to.map(|d| d as f64), ..Default::default() },
        ));
    }
    if let Some(case) = &f.case {
        must.push(Condition::matches("case", case.clone()));
    }
    if !f.sources.is_empty() {
        must.push(Condition::matches("source", f.sources.clone()));
    }
    let mut filter = Filter::must(must);
    if let Some(groups) = f.readable_groups() {
        filter.should.push(Condition::matches("access", byraad_core::Access::Public.as_str().to_string()));
        if !groups.is_empty() {
            filter.should.push(Condition::matches("groups", groups.to_vec()));
        }
    }
    filter
}

fn payload_str(payload: &std::collections::HashMap<String, qdrant_client::qdrant::Value>, key: &str) -> Option<String> {
    payload.get(key).and_then(|v| v.as_str()).map(ToString::to_string)
}

impl VectorStore for QdrantStore {
    fn upsert(&self, points: Vec<VectorPoint>) -> Result<()> {
        if points.is_empty() {
            return Ok(());
        }
        let points = points
            .into_iter()
            .map(|p| {
                let payload = serde_json::to_value(&p.payload).map_err(|e| Error::Payload(e.to_string()))?;
                let payload = qdrant_client::Payload::try_from(payload).map_err(|e| Error::Payload(e.to_string()))?;
                Ok(PointStruct::new(point_id(&p.payload.chunk_id), p.vector, payload))
            })
            .collect::<Result<Vec<_>>>()?;
        self.run(self.client.upsert_points(UpsertPointsBuilder::new(&self.settings.collection, points).wait(true)))?;
        Ok(())
    }

    fn delete_source(&self, source: &str, keep: Option<&str>) -> Result<()> {
        let mut filter = Filter::must([Condition::matches("source", source.to_string())]);
        if let Some(keep) = keep {
            filter.must_not.push(Condition::matches("fingerprint", keep.to_string()));
        }
        self.run(self.client.delete_points(DeletePointsBuilder::new(&self.settings.collection).points(filter).wait(true)))?;
        Ok(())
    }

    fn search(&self, vector: &[f32], filter: &VectorFilter, limit: usize) -> Result<Vec<VectorHit>> {
        let request = QueryPointsBuilder::new(&self.settings.collection)
            .query(vector.to_vec())
            .filter(grpc_filter(filter))
            .limit(limit as u64)
            .with_payload(qdrant_client::qdrant::PayloadIncludeSelector { fields: vec!["chunk_id".into()] });
        let response = self.run(self.client.query(request))?;
        response
            .result
            .into_iter()
            .map(|p| {
                let chunk_id = payload_str(&p.payload, "chunk_id").ok_or_else(|| Error::Payload("a point without chunk_id".into()))?;
                Ok(VectorHit { chunk_id, score: p.score })
            })
            .collect()
    }

    fn sources(&self) -> Result<BTreeMap<String, Vec<String>>> {
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut offset: Option<PointId> = None;
        loop {
            let mut request = ScrollPointsBuilder::new(&self.settings.collection)
                .limit(SCROLL_PAGE)
                .with_payload(qdrant_client::qdrant::PayloadIncludeSelector { fields: vec!["source".into(), "fingerprint".into()] })
                .with_vectors(false);
            if let Some(o) = offset.take() {
                request = request.offset(o);
            }
            let page = self.run(self.client.scroll(request))?;
            for p in &page.result {
                let (Some(source), Some(fp)) = (payload_str(&p.payload, "source"), payload_str(&p.payload, "fingerprint")) else {
                    return Err(Error::Payload(format!("point {:?} lacks source or fingerprint", p.id.as_ref().and_then(|i| i.point_id_options.clone()))));
                };
                crate::note_source(&mut out, source, fp);
            }
            match page.next_page_offset {
                Some(next) if next.point_id_options.is_some() => offset = Some(next),
                _ => break,
            }
        }
        Ok(out)
    }

    fn count(&self) -> Result<u64> {
        let r = self.run(self.client.count(CountPointsBuilder::new(&self.settings.collection).exact(true)))?;
        Ok(r.result.map_or(0, |c| c.count))
    }

    fn flush(&self) -> Result<()> {
        // Every write waited for the server's acknowledgement (`wait: true`); the server owns
        // durability (its WAL, and replicas per `write_consistency_factor`).
        Ok(())
    }
}

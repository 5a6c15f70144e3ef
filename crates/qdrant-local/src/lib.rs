//! An in-memory server speaking Qdrant's gRPC protocol, for tests of the Qdrant vector store
//! where no Qdrant server can run.
//!
//! It serves the services and messages of `qdrant-client` (the same generated protocol code a
//! real server is compatible with) and implements the calls byråds-GPT makes: health check,
//! collection create/get/exists/delete, upsert, delete by ids or filter, payload indexes, query
//! (exact cosine nearest neighbours), scroll and count. Filters support `must`, `must_not` and
//! `should` with keyword/keywords/integer matches and numeric ranges, as Qdrant evaluates them
//! (an array payload matches if any element does). Every other call answers `UNIMPLEMENTED`. An
//! API key, when set, is required in the `api-key` header, as Qdrant does.
//!
//! ```no_run
//! let server = byraad_qdrant_local::LocalQdrant::start(Some("secret".into())).unwrap();
//! println!("{}", server.url()); // http://127.0.0.1:PORT
//! ```
#![warn(missing_docs)]

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use qdrant_client::qdrant::{
    self as q, collections_server::Collections, collections_server::CollectionsServer, condition::ConditionOneOf,
    points_selector::PointsSelectorOneOf, points_server::Points, points_server::PointsServer, qdrant_server::Qdrant,
    qdrant_server::QdrantServer, r#match::MatchValue, value::Kind, vectors::VectorsOptions,
    vectors_config::Config as VectorsConfigKind, with_payload_selector::SelectorOptions,
};
use tonic::{Request, Response, Status};

/// The version reported by the health check.
pub const VERSION: &str = "1.16.0";

struct Point {
    vector: Vec<f32>,
    payload: HashMap<String, q::Value>,
}

struct Collection {
    dim: u64,
    params: q::CollectionParams,
    indexes: BTreeMap<String, i32>,
    points: BTreeMap<u64, Point>,
}

#[derive(Default)]
struct State {
    collections: Mutex<HashMap<String, Collection>>,
    operations: std::sync::atomic::AtomicU64,
}

#[derive(Clone, Default)]
struct Service(Arc<State>);

fn unimplemented(call: &str) -> Status {
    Status::unimplemented(format!("{call} is not implemented by this local server"))
}

fn elapsed(start: Instant) -> f64 {
    start.elapsed().as_secs_f64()
}

fn normalized(mut v: Vec<f32>) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if n > 0.0 {
        v.iter_mut().for_each(|x| *x /= n);
    }
    v
}

fn dense(v: q::Vector) -> Option<Vec<f32>> {
    #[allow(deprecated)]
    if !v.data.is_empty() {
        return Some(v.data);
    }
    match v.vector {
        Some(q::vector::Vector::Dense(d)) => Some(d.data),
        _ => None,
    }
}

fn numeric_id(id: Option<&q::PointId>) -> Result<u64, Status> {
    match id.and_then(|i| i.point_id_options.as_ref()) {
        Some(q::point_id::PointIdOptions::Num(n)) => Ok(*n),
        _ => Err(Status::invalid_argument("only numeric point ids are supported")),
    }
}

/// Scalar views of a payload value: an array contributes each element.
fn values(v: &q::Value) -> Vec<&Kind> {
    match &v.kind {
        Some(Kind::ListValue(l)) => l.values.iter().filter_map(|x| x.kind.as_ref()).collect(),
        Some(k) => vec![k],
        None => vec![],
    }
}

fn field_matches(payload: &HashMap<String, q::Value>, c: &q::FieldCondition) -> Result<bool, Status> {
    let Some(value) = payload.get(&c.key) else { return Ok(false) };
    let scalars = values(value);
    if let Some(m) = &c.r#match {
        let ok = match m.match_value.as_ref() {
            Some(MatchValue::Keyword(k)) => scalars.iter().any(|s| matches!(s, Kind::StringValue(x) if x == k)),
            Some(MatchValue::Keywords(ks)) => scalars.iter().any(|s| matches!(s, Kind::StringValue(x) if ks.strings.contains(x))),
            Some(MatchValue::Integer(i)) => scalars.iter().any(|s| matches!(s, Kind::IntegerValue(x) if x == i)),
            Some(MatchValue::Integers(is)) => scalars.iter().any(|s| matches!(s, Kind::IntegerValue(x) if is.integers.contains(x))),
            Some(MatchValue::Boolean(b)) => scalars.iter().any(|s| matches!(s, Kind::BoolValue(x) if x == b)),
            _ => return Err(Status::unimplemented(format!("match {m:?} is not implemented by this local server"))),
        };
        if !ok {
            return Ok(false);
        }
    }
    if let Some(r) = &c.range {
        let within = |x: f64| r.lt.is_none_or(|b| x < b) && r.gt.is_none_or(|b| x > b) && r.lte.is_none_or(|b| x <= b) && r.gte.is_none_or(|b| x >= b);
        let ok = scalars.iter().any(|s| match s {
            Kind::IntegerValue(i) => within(*i as f64),
            Kind::DoubleValue(d) => within(*d),
            _ => false,
        });
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

fn condition_matches(payload: &HashMap<String, q::Value>, c: &q::Condition) -> Result<bool, Status> {
    match c.condition_one_of.as_ref() {
        Some(ConditionOneOf::Field(f)) => field_matches(payload, f),
        Some(ConditionOneOf::Filter(f)) => filter_matches(payload, Some(f)),
        other => Err(Status::unimplemented(format!("condition {other:?} is not implemented by this local server"))),
    }
}

fn filter_matches(payload: &HashMap<String, q::Value>, filter: Option<&q::Filter>) -> Result<bool, Status> {
    let Some(f) = filter else { return Ok(true) };
    for c in &f.must {
        if !condition_matches(payload, c)? {
            return Ok(false);
        }
    }
    for c in &f.must_not {
        if condition_matches(payload, c)? {
            return Ok(false);
        }
    }
    if !f.should.is_empty() {
        let mut any = false;
        for c in &f.should {
            any |= condition_matches(payload, c)?;
        }
        if !any {
            return Ok(false);
        }
    }
    Ok(true)
}

fn select_payload(payload: &HashMap<String, q::Value>, with: Option<&q::WithPayloadSelector>) -> HashMap<String, q::Value> {
    match with.and_then(|w| w.selector_options.as_ref()) {
        Some(SelectorOptions::Enable(true)) => payload.clone(),
        Some(SelectorOptions::Include(i)) => payload.iter().filter(|(k, _)| i.fields.contains(k)).map(|(k, v)| (k.clone(), v.clone())).collect(),
        Some(SelectorOptions::Exclude(e)) => payload.iter().filter(|(k, _)| !e.fields.contains(k)).map(|(k, v)| (k.clone(), v.clone())).collect(),
        Some(SelectorOptions::Enable(false)) | None => HashMap::new(),
    }
}

fn point_id(n: u64) -> q::PointId {
    q::PointId { point_id_options: Some(q::point_id::PointIdOptions::Num(n)) }
}

impl Service {
    fn with_collection<T>(&self, name: &str, f: impl FnOnce(&mut Collection) -> Result<T, Status>) -> Result<T, Status> {
        let mut all = self.0.collections.lock().map_err(|_| Status::internal("poisoned"))?;
        let c = all.get_mut(name).ok_or_else(|| Status::not_found(format!("Collection `{name}` doesn't exist!")))?;
        f(c)
    }

    fn completed(&self, start: Instant) -> Response<q::PointsOperationResponse> {
        let id = self.0.operations.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Response::new(q::PointsOperationResponse {
            result: Some(q::UpdateResult { operation_id: Some(id), status: q::UpdateStatus::Completed as i32 }),
            time: elapsed(start),
            usage: None,
        })
    }
}

#[tonic::async_trait]
impl Qdrant for Service {
    async fn health_check(&self, _: Request<q::HealthCheckRequest>) -> Result<Response<q::HealthCheckReply>, Status> {
        Ok(Response::new(q::HealthCheckReply { title: "qdrant - vector search engine".into(), version: VERSION.into(), commit: None }))
    }
}

#[tonic::async_trait]
impl Collections for Service {
    async fn collection_exists(&self, r: Request<q::CollectionExistsRequest>) -> Result<Response<q::CollectionExistsResponse>, Status> {
        let start = Instant::now();
        let exists = self.0.collections.lock().map_err(|_| Status::internal("poisoned"))?.contains_key(&r.get_ref().collection_name);
        Ok(Response::new(q::CollectionExistsResponse { result: Some(q::CollectionExists { exists }), time: elapsed(start) }))
    }

    async fn create(&self, r: Request<q::CreateCollection>) -> Result<Response<q::CollectionOperationResponse>, Status> {
        let start = Instant::now();
        let r = r.into_inner();
        let Some(VectorsConfigKind::Params(params)) = r.vectors_config.as_ref().and_then(|v| v.config.clone()) else {
            return Err(Status::invalid_argument("only a single unnamed vector is supported"));
        };
        if params.distance != q::Distance::Cosine as i32 {
            return Err(Status::invalid_argument("only cosine distance is supported"));
        }
        let mut all = self.0.collections.lock().map_err(|_| Status::internal("poisoned"))?;
        if all.contains_key(&r.collection_name) {
            return Err(Status::already_exists(format!("Collection `{}` already exists!", r.collection_name)));
        }
        let collection = Collection {
            dim: params.size,
            params: q::CollectionParams {
                shard_number: r.shard_number.unwrap_or(1),
                replication_factor: r.replication_factor,
                write_consistency_factor: r.write_consistency_factor,
                vectors_config: r.vectors_config,
                ..Default::default()
            },
            indexes: BTreeMap::new(),
            points: BTreeMap::new(),
        };
        all.insert(r.collection_name, collection);
        Ok(Response::new(q::CollectionOperationResponse { result: true, time: elapsed(start) }))
    }

    async fn get(&self, r: Request<q::GetCollectionInfoRequest>) -> Result<Response<q::GetCollectionInfoResponse>, Status> {
        let start = Instant::now();
        let info = self.with_collection(&r.get_ref().collection_name, |c| {
            Ok(q::CollectionInfo {
                status: q::CollectionStatus::Green as i32,
                points_count: Some(c.points.len() as u64),
                config: Some(q::CollectionConfig { params: Some(c.params.clone()), ..Default::default() }),
                payload_schema: c
                    .indexes
                    .iter()
                    .map(|(k, t)| (k.clone(), q::PayloadSchemaInfo { data_type: *t, points: Some(c.points.len() as u64), ..Default::default() }))
                    .collect(),
                ..Default::default()
            })
        })?;
        Ok(Response::new(q::GetCollectionInfoResponse { result: Some(info), time: elapsed(start) }))
    }

    async fn delete(&self, r: Request<q::DeleteCollection>) -> Result<Response<q::CollectionOperationResponse>, Status> {
        let start = Instant::now();
        let removed = self.0.collections.lock().map_err(|_| Status::internal("poisoned"))?.remove(&r.get_ref().collection_name).is_some();
        Ok(Response::new(q::CollectionOperationResponse { result: removed, time: elapsed(start) }))
    }

    async fn list(&self, _: Request<q::ListCollectionsRequest>) -> Result<Response<q::ListCollectionsResponse>, Status> {
        Err(unimplemented("list"))
    }
    async fn update(&self, _: Request<q::UpdateCollection>) -> Result<Response<q::CollectionOperationResponse>, Status> {
        Err(unimplemented("update"))
    }
    async fn update_aliases(&self, _: Request<q::ChangeAliases>) -> Result<Response<q::CollectionOperationResponse>, Status> {
        Err(unimplemented("update_aliases"))
    }
    async fn list_collection_aliases(&self, _: Request<q::ListCollectionAliasesRequest>) -> Result<Response<q::ListAliasesResponse>, Status> {
        Err(unimplemented("list_collection_aliases"))
    }
    async fn list_aliases(&self, _: Request<q::ListAliasesRequest>) -> Result<Response<q::ListAliasesResponse>, Status> {
        Err(unimplemented("list_aliases"))
    }
    async fn collection_cluster_info(&self, _: Request<q::CollectionClusterInfoRequest>) -> Result<Response<q::CollectionClusterInfoResponse>, Status> {
        Err(unimplemented("collection_cluster_info"))
    }
    async fn update_collection_cluster_setup(&self, _: Request<q::UpdateCollectionClusterSetupRequest>) -> Result<Response<q::UpdateCollectionClusterSetupResponse>, Status> {
        Err(unimplemented("update_collection_cluster_setup"))
    }
    async fn create_shard_key(&self, _: Request<q::CreateShardKeyRequest>) -> Result<Response<q::CreateShardKeyResponse>, Status> {
        Err(unimplemented("create_shard_key"))
    }
    async fn delete_shard_key(&self, _: Request<q::DeleteShardKeyRequest>) -> Result<Response<q::DeleteShardKeyResponse>, Status> {
        Err(unimplemented("delete_shard_key"))
    }
    async fn list_shard_keys(&self, _: Request<q::ListShardKeysRequest>) -> Result<Response<q::ListShardKeysResponse>, Status> {
        Err(unimplemented("list_shard_keys"))
    }
}

#[tonic::async_trait]
impl Points for Service {
    async fn upsert(&self, r: Request<q::UpsertPoints>) -> Result<Response<q::PointsOperationResponse>, Status> {
        let start = Instant::now();
        let r = r.into_inner();
        self.with_collection(&r.collection_name, |c| {
            for p in r.points {
                let id = numeric_id(p.id.as_ref())?;
                let vector = match p.vectors.and_then(|v| v.vectors_options) {
                    Some(VectorsOptions::Vector(v)) => dense(v).ok_or_else(|| Status::invalid_argument("not a dense vector"))?,
                    _ => return Err(Status::invalid_argument("a point needs one unnamed dense vector")),
                };
                if vector.len() as u64 != c.dim {
                    return Err(Status::invalid_argument(format!("Wrong input: Vector dimension error: expected dim: {}, got {}", c.dim, vector.len())));
                }
                c.points.insert(id, Point { vector: normalized(vector), payload: p.payload });
            }
            Ok(())
        })?;
        Ok(self.completed(start))
    }

    async fn delete(&self, r: Request<q::DeletePoints>) -> Result<Response<q::PointsOperationResponse>, Status> {
        let start = Instant::now();
        let r = r.into_inner();
        self.with_collection(&r.collection_name, |c| {
            match r.points.and_then(|p| p.points_selector_one_of) {
                Some(PointsSelectorOneOf::Points(ids)) => {
                    for id in &ids.ids {
                        c.points.remove(&numeric_id(Some(id))?);
                    }
                }
                Some(PointsSelectorOneOf::Filter(f)) => {
                    let mut doomed = Vec::new();
                    for (id, p) in &c.points {
                        if filter_matches(&p.payload, Some(&f))? {
                            doomed.push(*id);
                        }
                    }
                    doomed.iter().for_each(|id| {
                        c.points.remove(id);
                    });
                }
                None => return Err(Status::invalid_argument("no points selector")),
            }
            Ok(())
        })?;
        Ok(self.completed(start))
    }

    async fn create_field_index(&self, r: Request<q::CreateFieldIndexCollection>) -> Result<Response<q::PointsOperationResponse>, Status> {
        let start = Instant::now();
        let r = r.into_inner();
        self.with_collection(&r.collection_name, |c| {
            c.indexes.insert(r.field_name, r.field_type.unwrap_or(q::FieldType::Keyword as i32));
            Ok(())
        })?;
        Ok(self.completed(start))
    }

    async fn query(&self, r: Request<q::QueryPoints>) -> Result<Response<q::QueryResponse>, Status> {
        let start = Instant::now();
        let r = r.into_inner();
        let query = match r.query.and_then(|q| q.variant) {
            Some(q::query::Variant::Nearest(q::VectorInput { variant: Some(q::vector_input::Variant::Dense(d)) })) => normalized(d.data),
            _ => return Err(Status::unimplemented("only nearest-neighbour queries by a dense vector are implemented by this local server")),
        };
        let limit = r.limit.unwrap_or(10) as usize;
        let offset = r.offset.unwrap_or(0) as usize;
        let result = self.with_collection(&r.collection_name, |c| {
            if query.len() as u64 != c.dim {
                return Err(Status::invalid_argument(format!("Wrong input: Vector dimension error: expected dim: {}, got {}", c.dim, query.len())));
            }
            let mut scored = Vec::new();
            for (id, p) in &c.points {
                if filter_matches(&p.payload, r.filter.as_ref())? {
                    let score: f32 = p.vector.iter().zip(&query).map(|(a, b)| a * b).sum();
                    scored.push((score, *id, p));
                }
            }
            scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            Ok(scored
                .into_iter()
                .skip(offset)
                .take(limit)
                .map(|(score, id, p)| q::ScoredPoint {
                    id: Some(point_id(id)),
                    payload: select_payload(&p.payload, r.with_payload.as_ref()),
                    score,
                    ..Default::default()
                })
                .collect())
        })?;
        Ok(Response::new(q::QueryResponse { result, time: elapsed(start), usage: None }))
    }

    async fn scroll(&self, r: Request<q::ScrollPoints>) -> Result<Response<q::ScrollResponse>, Status> {
        let start = Instant::now();
        let r = r.into_inner();
        let from = match r.offset.as_ref() {
            Some(id) => numeric_id(Some(id))?,
            None => 0,
        };
        let limit = r.limit.unwrap_or(10) as usize;
        let (result, next) = self.with_collection(&r.collection_name, |c| {
            let mut page = Vec::new();
            let mut next = None;
            for (id, p) in c.points.range(from..) {
                if !filter_matches(&p.payload, r.filter.as_ref())? {
                    continue;
                }
                if page.len() == limit {
                    next = Some(point_id(*id));
                    break;
                }
                page.push(q::RetrievedPoint {
                    id: Some(point_id(*id)),
                    payload: select_payload(&p.payload, r.with_payload.as_ref()),
                    ..Default::default()
                });
            }
            Ok((page, next))
        })?;
        Ok(Response::new(q::ScrollResponse { next_page_offset: next, result, time: elapsed(start), usage: None }))
    }

    async fn count(&self, r: Request<q::CountPoints>) -> Result<Response<q::CountResponse>, Status> {
        let start = Instant::now();
        let r = r.into_inner();
        let count = self.with_collection(&r.collection_name, |c| {
            let mut n = 0;
            for p in c.points.values() {
                n += u64::from(filter_matches(&p.payload, r.filter.as_ref())?);
            }
            Ok(n)
        })?;
        Ok(Response::new(q::CountResponse { result: Some(q::CountResult { count }), time: elapsed(start), usage: None }))
    }

    async fn get(&self, _: Request<q::GetPoints>) -> Result<Response<q::GetResponse>, Status> {
        Err(unimplemented("get"))
    }
    async fn update_vectors(&self, _: Request<q::UpdatePointVectors>) -> Result<Response<q::PointsOperationResponse>, Status> {
        Err(unimplemented("update_vectors"))
    }
    async fn delete_vectors(&self, _: Request<q::DeletePointVectors>) -> Result<Response<q::PointsOperationResponse>, Status> {
        Err(unimplemented("delete_vectors"))
    }
    async fn set_payload(&self, _: Request<q::SetPayloadPoints>) -> Result<Response<q::PointsOperationResponse>, Status> {
        Err(unimplemented("set_payload"))
    }
    async fn overwrite_payload(&self, _: Request<q::SetPayloadPoints>) -> Result<Response<q::PointsOperationResponse>, Status> {
        Err(unimplemented("overwrite_payload"))
    }
    async fn delete_payload(&self, _: Request<q::DeletePayloadPoints>) -> Result<Response<q::PointsOperationResponse>, Status> {
        Err(unimplemented("delete_payload"))
    }
    async fn clear_payload(&self, _: Request<q::ClearPayloadPoints>) -> Result<Response<q::PointsOperationResponse>, Status> {
        Err(unimplemented("clear_payload"))
    }
    async fn delete_field_index(&self, _: Request<q::DeleteFieldIndexCollection>) -> Result<Response<q::PointsOperationResponse>, Status> {
        Err(unimplemented("delete_field_index"))
    }
    async fn create_vector_name(&self, _: Request<q::CreateVectorNameRequest>) -> Result<Response<q::PointsOperationResponse>, Status> {
        Err(unimplemented("create_vector_name"))
    }
    async fn delete_vector_name(&self, _: Request<q::DeleteVectorNameRequest>) -> Result<Response<q::PointsOperationResponse>, Status> {
        Err(unimplemented("delete_vector_name"))
    }
    async fn search(&self, _: Request<q::SearchPoints>) -> Result<Response<q::SearchResponse>, Status> {
        Err(unimplemented("search"))
    }
    async fn search_batch(&self, _: Request<q::SearchBatchPoints>) -> Result<Response<q::SearchBatchResponse>, Status> {
        Err(unimplemented("search_batch"))
    }
    async fn search_groups(&self, _: Request<q::SearchPointGroups>) -> Result<Response<q::SearchGroupsResponse>, Status> {
        Err(unimplemented("search_groups"))
    }
    async fn recommend(&self, _: Request<q::RecommendPoints>) -> Result<Response<q::RecommendResponse>, Status> {
        Err(unimplemented("recommend"))
    }
    async fn recommend_batch(&self, _: Request<q::RecommendBatchPoints>) -> Result<Response<q::RecommendBatchResponse>, Status> {
        Err(unimplemented("recommend_batch"))
    }
    async fn recommend_groups(&self, _: Request<q::RecommendPointGroups>) -> Result<Response<q::RecommendGroupsResponse>, Status> {
        Err(unimplemented("recommend_groups"))
    }
    async fn discover(&self, _: Request<q::DiscoverPoints>) -> Result<Response<q::DiscoverResponse>, Status> {
        Err(unimplemented("discover"))
    }
    async fn discover_batch(&self, _: Request<q::DiscoverBatchPoints>) -> Result<Response<q::DiscoverBatchResponse>, Status> {
        Err(unimplemented("discover_batch"))
    }
    async fn update_batch(&self, _: Request<q::UpdateBatchPoints>) -> Result<Response<q::UpdateBatchResponse>, Status> {
        Err(unimplemented("update_batch"))
    }
    async fn query_batch(&self, _: Request<q::QueryBatchPoints>) -> Result<Response<q::QueryBatchResponse>, Status> {
        Err(unimplemented("query_batch"))
    }
    async fn query_groups(&self, _: Request<q::QueryPointGroups>) -> Result<Response<q::QueryGroupsResponse>, Status> {
        Err(unimplemented("query_groups"))
    }
    async fn facet(&self, _: Request<q::FacetCounts>) -> Result<Response<q::FacetResponse>, Status> {
        Err(unimplemented("facet"))
    }
    async fn search_matrix_pairs(&self, _: Request<q::SearchMatrixPoints>) -> Result<Response<q::SearchMatrixPairsResponse>, Status> {
        Err(unimplemented("search_matrix_pairs"))
    }
    async fn search_matrix_offsets(&self, _: Request<q::SearchMatrixPoints>) -> Result<Response<q::SearchMatrixOffsetsResponse>, Status> {
        Err(unimplemented("search_matrix_offsets"))
    }
}

/// A running server on a free loopback port; stopped when dropped.
pub struct LocalQdrant {
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl LocalQdrant {
    /// Starts the server; with `api_key`, every call must carry it in the `api-key` header.
    pub fn start(api_key: Option<String>) -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
        let addr = listener.local_addr()?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let service = Service::default();
        let check = move |req: Request<()>| -> Result<Request<()>, Status> {
            match &api_key {
                Some(key) if req.metadata().get("api-key").and_then(|v| v.to_str().ok()) != Some(key.as_str()) => {
                    Err(Status::unauthenticated("Must provide an API key or an Authorization bearer token"))
                }
                _ => Ok(req),
            }
        };
        let thread = std::thread::Builder::new().name("qdrant-local".into()).spawn(move || {
            let server = tonic::transport::Server::builder()
                .add_service(QdrantServer::with_interceptor(service.clone(), check.clone()))
                .add_service(CollectionsServer::with_interceptor(service.clone(), check.clone()))
                .add_service(PointsServer::with_interceptor(service, check))
                .serve_with_incoming_shutdown(tonic::transport::server::TcpIncoming::from(listener), async {
                    rx.await.ok();
                });
            if let Err(e) = runtime.block_on(server) {
                eprintln!("qdrant-local: {e}");
            }
        })?;
        Ok(Self { addr, shutdown: Some(tx), thread: Some(thread) })
    }

    /// The gRPC URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for LocalQdrant {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            tx.send(()).ok();
        }
        if let Some(t) = self.thread.take() {
            t.join().ok();
        }
    }
}

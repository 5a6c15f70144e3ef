//! Both vector stores pass the same behaviour tests: qdrant-edge in a temporary directory, and
//! the Qdrant server store over gRPC against a real Qdrant server started by the test
//! (`byraad-test-qdrant`: `../shared/tools/qdrant`, or `QDRANT_BIN`). `BYRAAD_QDRANT_URL` (and
//! `BYRAAD_QDRANT_API_KEY`) run them against another server or a cluster too:
//! `make test-qdrant QDRANT_URL=http://host:6334`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use byraad_core::Clearance;
use byraad_test_qdrant::Qdrant;
use byraad_vector::{EdgeStore, QdrantSettings, QdrantStore, VectorFilter, VectorPayload, VectorPoint, VectorStore};

fn point(chunk: &str, source: &str, fp: &str, kind: &str, date: i64, v: Vec<f32>) -> VectorPoint {
    VectorPoint {
        vector: v,
        payload: VectorPayload {
            chunk_id: chunk.into(),
            doc_id: format!("doc-{source}"),
            source: source.into(),
            fingerprint: fp.into(),
            kind: kind.into(),
            body: if kind == "lov" { "folketinget".into() } else { "aarhus byråd".into() },
            date: Some(date),
            case: (kind == "referat").then(|| "EMN-2025-000001".into()),
            access: "public".into(),
            groups: vec![],
        },
    }
}

fn ids(store: &dyn VectorStore, v: &[f32], f: &VectorFilter) -> Vec<String> {
    store.search(v, f, 10).unwrap().into_iter().map(|h| h.chunk_id).collect()
}

/// The behaviour every store must have, on an empty store of dimension 3.
fn behaves_as_a_vector_store(store: &dyn VectorStore) {
    assert_eq!(store.count().unwrap(), 0);
    store
        .upsert(vec![
            point("aa01", "a.pdf", "f1", "referat", 20250827, vec![1.0, 0.0, 0.0]),
            point("aa02", "a.pdf", "f1", "referat", 20250827, vec![0.9, 0.1, 0.0]),
            point("bb01", "b.md", "f1", "lov", 20260105, vec![0.0, 1.0, 0.0]),
            point("cc01", "c.txt", "f1", "dagsorden", 20240110, vec![0.5, 0.5, 0.5]),
        ])
        .unwrap();
    assert_eq!(store.count().unwrap(), 4);
    let q = [1.0, 0.0, 0.0];
    assert_eq!(ids(store, &q, &VectorFilter::default()), vec!["aa01", "aa02", "cc01", "bb01"], "cosine order");
    let hits = store.search(&q, &VectorFilter::default(), 2).unwrap();
    assert_eq!(hits.len(), 2, "limit");
    assert!((hits[0].score - 1.0).abs() < 1e-5 && hits[1].score < hits[0].score);

    let kinds = VectorFilter { kinds: vec!["lov".into(), "dagsorden".into()], ..Default::default() };
    assert_eq!(ids(store, &q, &kinds), vec!["cc01", "bb01"], "kinds: any of");
    let body = VectorFilter { bodies: vec!["folketinget".into()], ..Default::default() };
    assert_eq!(ids(store, &q, &body), vec!["bb01"]);
    let from = VectorFilter { date_from: Some(20250101), ..Default::default() };
    assert_eq!(ids(store, &q, &from), vec!["aa01", "aa02", "bb01"], "date_from inclusive");
    let window = VectorFilter { date_from: Some(20250827), date_to: Some(20250827), ..Default::default() };
    assert_eq!(ids(store, &q, &window), vec!["aa01", "aa02"], "date range inclusive at both ends");
    let case = VectorFilter { case: Some("EMN-2025-000001".into()), ..Default::default() };
    assert_eq!(ids(store, &q, &case), vec!["aa01", "aa02"]);
    let sources = VectorFilter { sources: vec!["b.md".into(), "c.txt".into()], ..Default::default() };
    assert_eq!(ids(store, &q, &sources), vec!["cc01", "bb01"]);
    let none = VectorFilter { kinds: vec!["lov".into()], case: Some("EMN-2025-000001".into()), ..Default::default() };
    assert!(ids(store, &q, &none).is_empty(), "conditions are all required");

    // Restricted points: only a clearance sharing one of their groups reads them, however
    // close they are; the default filter reads public points only.
    let restricted = |chunk: &str, groups: &[&str], v: Vec<f32>| {
        let mut p = point(chunk, "r.txt", "f1", "notat", 20250901, v);
        p.payload.access = "restricted".into();
        p.payload.groups = groups.iter().map(|g| (*g).to_string()).collect();
        p
    };
    store.upsert(vec![restricted("dd01", &["magistraten"], vec![1.0, 0.0, 0.0]), restricted("dd02", &["byraadet", "v"], vec![1.0, 0.01, 0.0])]).unwrap();
    let with = |clearance: Clearance| VectorFilter { clearance, ..Default::default() };
    assert_eq!(ids(store, &q, &VectorFilter::default()), vec!["aa01", "aa02", "cc01", "bb01"], "public only by default");
    assert_eq!(ids(store, &q, &with(Clearance::groups(vec!["v".into()]))), vec!["aa01", "dd02", "aa02", "cc01", "bb01"]);
    assert_eq!(ids(store, &q, &with(Clearance::groups(vec!["magistraten".into(), "byraadet".into()]))).len(), 6);
    assert_eq!(ids(store, &q, &with(Clearance::groups(vec!["andre".into()]))).len(), 4, "no shared group");
    let kinds_and_group = VectorFilter { kinds: vec!["notat".into()], clearance: Clearance::groups(vec!["v".into()]), ..Default::default() };
    assert_eq!(ids(store, &q, &kinds_and_group), vec!["dd02"], "filters and clearance both apply");
    assert_eq!(ids(store, &q, &with(Clearance::everything())).len(), 6);
    store.delete_source("r.txt", None).unwrap();
    assert_eq!(store.count().unwrap(), 4);

    // Upserting the same chunk replaces it.
    store.upsert(vec![point("cc01", "c.txt", "f1", "dagsorden", 20240110, vec![0.95, 0.0, 0.3])]).unwrap();
    assert_eq!(store.count().unwrap(), 4);
    let hits = store.search(&q, &VectorFilter::default(), 10).unwrap();
    assert_eq!(hits[2].chunk_id, "cc01");
    assert!(hits[2].score > 0.95, "cc01 moved: {}", hits[2].score);

    // A new version of a.pdf: vectors of other fingerprints go, the kept one stays.
    store.upsert(vec![point("aa03", "a.pdf", "f2", "referat", 20250827, vec![0.0, 0.0, 1.0])]).unwrap();
    assert_eq!(store.sources().unwrap()["a.pdf"].len(), 2);
    store.delete_source("a.pdf", Some("f2")).unwrap();
    let sources = store.sources().unwrap();
    assert_eq!(sources["a.pdf"], vec!["f2"]);
    assert_eq!(sources.keys().collect::<Vec<_>>(), vec!["a.pdf", "b.md", "c.txt"]);
    store.delete_source("b.md", None).unwrap();
    assert!(!store.sources().unwrap().contains_key("b.md"));
    assert_eq!(store.count().unwrap(), 2);
    store.flush().unwrap();
}

/// Vectors clustered as embeddings are: `n` points around `clusters` random centres, each the
/// centre plus noise of a third of its length, from a fixed seed.
fn clustered_points(n: usize, dim: usize, clusters: usize) -> Vec<VectorPoint> {
    let mut points = random_points_of(n + clusters, dim);
    let centres: Vec<Vec<f32>> = points.split_off(n).into_iter().map(|p| p.vector).collect();
    points
        .into_iter()
        .enumerate()
        .map(|(i, mut p)| {
            let centre = &centres[i % clusters];
            p.vector = centre.iter().zip(&p.vector).map(|(c, x)| c + x / 3.0).collect();
            p
        })
        .collect()
}

/// Random unit vectors of dimension 8 from a fixed seed.
fn random_points(n: usize) -> Vec<VectorPoint> {
    random_points_of(n, 8)
}

fn random_points_of(n: usize, dim: usize) -> Vec<VectorPoint> {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % 2000) as f32 / 1000.0 - 1.0
    };
    let kinds = ["referat", "dagsorden", "lov", "bilag"];
    (0..n)
        .map(|i| {
            let v: Vec<f32> = (0..dim).map(|_| next()).collect();
            point(&format!("{i:016x}"), &format!("s{}.txt", i % 37), "f1", kinds[i % 4], 20240101 + (i as i64 % 28), v)
        })
        .collect()
}

fn local_store(server: &Qdrant, collection: &str, dim: usize) -> byraad_vector::Result<QdrantStore> {
    QdrantStore::connect(
        QdrantSettings {
            url: server.url(),
            api_key: Some("test-key".into()),
            collection: collection.into(),
            shards: 3,
            replication_factor: 2,
            write_consistency_factor: 1,
            timeout: Duration::from_secs(10),
        },
        dim,
    )
}

#[test]
fn edge_store_behaves_as_a_vector_store() {
    let dir = tempfile::tempdir().unwrap();
    behaves_as_a_vector_store(&EdgeStore::open(dir.path(), 3).unwrap());
}

#[test]
fn edge_store_indexes_a_large_segment_and_exact_search_agrees() {
    // 8,000 vectors of e5's 384 dimensions: 12 MB, past qdrant-edge's 10 MB indexing threshold.
    let dir = tempfile::tempdir().unwrap();
    const STEP: usize = 79;
    let points = clustered_points(8000, 384, 200);
    let queries: Vec<Vec<f32>> = points.iter().step_by(STEP).map(|p| p.vector.iter().map(|x| x + 0.05).collect()).collect();
    let search = |store: &EdgeStore| -> Vec<Vec<String>> {
        queries.iter().map(|q| store.search(q, &VectorFilter::default(), 10).unwrap().into_iter().map(|h| h.chunk_id).collect()).collect()
    };
    let approximate = {
        let store = EdgeStore::open(dir.path(), 384).unwrap();
        assert_eq!(store.indexed_count().unwrap(), Some(0));
        for batch in points.chunks(1000) {
            store.upsert(batch.to_vec()).unwrap();
        }
        store.compact().unwrap();
        let indexed = store.indexed_count().unwrap().unwrap();
        assert!(indexed >= 6000, "the optimiser built the HNSW index: {indexed} of 8000 vectors indexed");
        search(&store)
    };
    let exact = search(&EdgeStore::open(dir.path(), 384).unwrap().exact(true));
    let found: usize = approximate.iter().zip(&exact).map(|(a, e)| a.iter().filter(|id| e.contains(id)).count()).sum();
    let recall = found as f64 / (10 * exact.len()) as f64;
    eprintln!("HNSW recall@10 against exact search: {recall:.3} over {} queries", exact.len());
    assert!(recall >= 0.9, "HNSW finds {recall:.2} of the exact top 10");
    for (q, (a, e)) in approximate.iter().zip(&exact).enumerate() {
        let source = format!("{:016x}", q * STEP);
        assert_eq!((&a[0], &e[0]), (&source, &source), "both find the vector the query was made from first");
    }
}

#[test]
fn qdrant_store_behaves_as_a_vector_store() {
    let server = Qdrant::start(Some("test-key")).unwrap_or_else(|e| panic!("{e}"));
    behaves_as_a_vector_store(&local_store(&server, "chunks", 3).unwrap());
}

#[test]
fn both_stores_rank_and_filter_identically() {
    let dir = tempfile::tempdir().unwrap();
    let edge = EdgeStore::open(dir.path(), 8).unwrap();
    let server = Qdrant::start(Some("test-key")).unwrap_or_else(|e| panic!("{e}"));
    let remote = local_store(&server, "chunks", 8).unwrap();
    let points = random_points(2500);
    for batch in points.chunks(500) {
        edge.upsert(batch.to_vec()).unwrap();
        remote.upsert(batch.to_vec()).unwrap();
    }
    assert_eq!(edge.count().unwrap(), 2500);
    assert_eq!(remote.count().unwrap(), 2500);
    // Sources span more than one scroll page.
    assert_eq!(edge.sources().unwrap(), remote.sources().unwrap());
    assert_eq!(remote.sources().unwrap().len(), 37);
    let filters = [
        VectorFilter::default(),
        VectorFilter { kinds: vec!["lov".into()], ..Default::default() },
        VectorFilter { kinds: vec!["referat".into(), "bilag".into()], date_from: Some(20240110), date_to: Some(20240120), ..Default::default() },
        VectorFilter { sources: vec!["s3.txt".into()], ..Default::default() },
    ];
    for (i, q) in points.iter().take(20).enumerate() {
        let f = &filters[i % filters.len()];
        let a = edge.search(&q.vector, f, 10).unwrap();
        let b = remote.search(&q.vector, f, 10).unwrap();
        assert_eq!(a.iter().map(|h| &h.chunk_id).collect::<Vec<_>>(), b.iter().map(|h| &h.chunk_id).collect::<Vec<_>>(), "query {i} filter {f:?}");
        for (x, y) in a.iter().zip(&b) {
            assert!((x.score - y.score).abs() < 1e-4);
        }
    }
}

#[test]
fn qdrant_collection_is_created_as_configured_and_checked() {
    let server = Qdrant::start(Some("test-key")).unwrap_or_else(|e| panic!("{e}"));
    local_store(&server, "chunks", 384).unwrap();
    // The collection as the server holds it, read with the client directly.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let info = runtime.block_on(async {
        let client = qdrant_client::Qdrant::from_url(&server.url()).api_key("test-key").skip_compatibility_check().build().unwrap();
        assert!(client.health_check().await.unwrap().version.starts_with("1.18"), "a real Qdrant 1.18");
        client.collection_info("chunks").await.unwrap()
    });
    let info = info.result.unwrap();
    let config = info.config.unwrap();
    // Vectors are searched through Qdrant's HNSW index (its defaults: m 16, ef_construct 100).
    let hnsw = config.hnsw_config.unwrap();
    assert_eq!((hnsw.m, hnsw.ef_construct), (Some(16), Some(100)), "{hnsw:?}");
    let params = config.params.unwrap();
    assert_eq!(params.shard_number, 3);
    assert_eq!(params.replication_factor, Some(2));
    assert_eq!(params.write_consistency_factor, Some(1));
    let mut indexed: Vec<&str> = info.payload_schema.keys().map(String::as_str).collect();
    indexed.sort_unstable();
    assert_eq!(indexed, ["access", "body", "case", "date", "fingerprint", "groups", "kind", "source"]);
    // Reconnecting to the existing collection works; another dimension is refused.
    local_store(&server, "chunks", 384).unwrap();
    let err = local_store(&server, "chunks", 768).err().expect("dimension mismatch").to_string();
    assert!(err.contains("384") && err.contains("768") && err.contains(&server.url()), "{err}");
}

#[test]
fn qdrant_errors_name_the_server_and_keys_are_not_printed() {
    let server = Qdrant::start(Some("test-key")).unwrap_or_else(|e| panic!("{e}"));
    let settings = QdrantSettings {
        url: server.url(),
        api_key: Some("wrong-key".into()),
        collection: "chunks".into(),
        shards: 1,
        replication_factor: 1,
        write_consistency_factor: 1,
        timeout: Duration::from_secs(5),
    };
    assert!(!format!("{settings:?}").contains("wrong-key"), "the key is redacted");
    let err = QdrantStore::connect(settings.clone(), 3).err().expect("a wrong key is refused").to_string();
    assert!(err.contains(&server.url()) && err.to_lowercase().contains("api key"), "{err}");
    assert!(!err.contains("wrong-key"));
    drop(server);
    let err = QdrantStore::connect(settings, 3).err().expect("no server").to_string();
    assert!(err.starts_with("qdrant server http://127.0.0.1:"), "{err}");
}

/// The same behaviour against a real Qdrant server or cluster.
#[test]
#[ignore = "needs a Qdrant server: set BYRAAD_QDRANT_URL (make test-qdrant QDRANT_URL=...)"]
fn real_qdrant_server_behaves_as_a_vector_store() {
    let url = std::env::var("BYRAAD_QDRANT_URL").expect("BYRAAD_QDRANT_URL must name a Qdrant server's gRPC URL, e.g. http://localhost:6334");
    let collection = format!("byraad-test-{}", std::process::id());
    let settings = QdrantSettings {
        url: url.clone(),
        api_key: std::env::var("BYRAAD_QDRANT_API_KEY").ok(),
        collection: collection.clone(),
        shards: 2,
        replication_factor: 1,
        write_consistency_factor: 1,
        timeout: Duration::from_secs(30),
    };
    let store = QdrantStore::connect(settings.clone(), 3).unwrap();
    behaves_as_a_vector_store(&store);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let client = qdrant_client::Qdrant::from_url(&url).api_key(settings.api_key.clone()).build().unwrap();
        client.delete_collection(&collection).await.unwrap();
    });
}

//! Dense and hybrid retrieval end to end: the real binary ingests a small corpus with the
//! in-process e5 model into qdrant-edge, the real server searches it.
#![allow(clippy::unwrap_used)]

mod common;

use std::fs;
use std::process::Command;

use common::{BIN, Server, stderr, stdout};
use serde_json::{Value, json};

fn dense_env() -> Vec<(&'static str, String)> {
    vec![
        ("BYRAAD__DENSE__BACKEND", "local".into()),
        ("BYRAAD__DENSE__MODEL_DIR", common::model_dir().display().to_string()),
    ]
}

const LAW: &str = "# Kapitel I\n\n## § 8\n§ 8. Kommunalbestyrelsens møder er offentlige.\n\nStk. 2. Dagsordenen udsendes til medlemmerne senest 4 dage før mødet.\n";

fn small_corpus() -> tempfile::TempDir {
    common::write_corpus(&[
        (
            "manifest.toml",
            "[[document]]\npath = \"referat.txt\"\ntitle = \"Referat, Teknisk Udvalg 1. marts 2025\"\nkind = \"referat\"\nbody = \"Teknisk Udvalg\"\ndate = \"2025-03-01\"\n\n[[document]]\npath = \"lov.md\"\ntitle = \"Uddrag af kommunestyrelsesloven\"\nkind = \"lov\"\nbody = \"Folketinget\"\n",
        ),
        (
            "referat.txt",
            "Punkt 1: Cykelstier på Randersvej\nUdvalget besluttede at anlægge nye cykelstier langs Randersvej for 12 mio. kr.\n\nPunkt 2: Havnens Perle\nGrillbaren skal have en permanent placering på Aarhus Ø.\n",
        ),
        ("lov.md", LAW),
    ])
}

fn ingest(corpus: &std::path::Path, data: &std::path::Path) -> String {
    let out = Command::new(BIN)
        .args(["ingest", "--corpus"])
        .arg(corpus)
        .arg("--data")
        .arg(data)
        .envs(dense_env())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
}

fn search(server: &Server, body: Value) -> Value {
    let (status, v) = server.post("/v1/search", &body);
    assert_eq!(status, 200, "{v}");
    v
}

#[test]
fn dense_and_hybrid_search_with_filters_inside_and_incremental_vectors() {
    let corpus = small_corpus();
    let data = tempfile::tempdir().unwrap();
    assert!(ingest(corpus.path(), data.path()).contains("(2 changed, 0 unchanged"));
    assert!(ingest(corpus.path(), data.path()).contains("(0 changed, 2 unchanged"), "vectors and index agree: nothing to redo");

    // Delete a file and change another: their vectors follow.
    fs::remove_file(corpus.path().join("lov.md")).unwrap();
    fs::write(corpus.path().join("referat.txt"), "Punkt 1: Cykelstier på Randersvej\nUdvalget besluttede at anlægge nye cykelstier langs Randersvej for 12 mio. kr.\n").unwrap();
    assert!(ingest(corpus.path(), data.path()).contains("(1 changed, 0 unchanged, 1 removed"));
    fs::write(corpus.path().join("lov.md"), LAW).unwrap();
    ingest(corpus.path(), data.path());

    let server = Server::start_with(data, &dense_env());
    let (_, health) = server.get("/healthz");
    assert_eq!(health["dense"]["model"], "multilingual-e5-small");
    assert_eq!(health["dense"]["dim"], 384);

    // Dense finds the provision from a paraphrase sharing no word form with it.
    let v = search(&server, json!({"query": "hvornår får byrådet materialet før et møde", "mode": "dense", "limit": 3}));
    assert_eq!(v["mode"], "dense");
    let top = &v["hits"][0];
    assert!(top["text"].as_str().unwrap().contains("senest 4 dage"), "{v}");
    assert_eq!(top["retrievers"], json!(["dense"]));
    assert!(!v["hits"].as_array().unwrap().iter().any(|h| h["text"].as_str().unwrap().contains("Havnens Perle")), "the deleted item's vector is gone");

    // Filters apply inside the dense search.
    let v = search(&server, json!({"query": "dagsordenen udsendes", "mode": "dense", "filters": {"kind": ["referat"]}}));
    assert!(v["hits"].as_array().unwrap().iter().all(|h| h["kind"] == "referat"), "{v}");
    let v = search(&server, json!({"query": "cykelstier", "mode": "dense", "filters": {"date_from": "2025-04-01"}}));
    assert!(v["hits"].as_array().unwrap().is_empty(), "{v}");

    // Hybrid fuses both and says who found each hit.
    let v = search(&server, json!({"query": "cykelstier Randersvej", "limit": 5}));
    assert_eq!(v["mode"], "hybrid");
    let top = &v["hits"][0];
    assert!(top["text"].as_str().unwrap().contains("Randersvej"));
    let retrievers: Vec<&str> = top["retrievers"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
    assert!(retrievers.contains(&"lexical") && retrievers.contains(&"dense"), "{retrievers:?}");
}

#[test]
fn provisions_are_ranked_by_their_own_vectors_embedded_once() {
    let corpus = small_corpus();
    let data = tempfile::tempdir().unwrap();
    ingest(corpus.path(), data.path());
    // The ingest embedded the provisions.
    let file = data.path().join("rules-vectors.json");
    let kept: Value = serde_json::from_slice(&fs::read(&file).unwrap()).unwrap();
    // Embedded by the rules reader (e5 with its trained layers), named for its weights.
    assert!(kept["model"].as_str().unwrap().starts_with("multilingual-e5-small+rules-reader-"), "{}", kept["model"]);
    let vectors = kept["vectors"].as_object().unwrap();
    assert_eq!(vectors.len(), 2, "one vector per provision");
    assert!(vectors.values().all(|v| v.as_array().unwrap().len() == 384));
    // A member's words sharing no word form with the provision that governs them: by words
    // alone, § 8 (the paragraph's opening) would come first.
    let first = |server: &Server| -> Value {
        let (status, v) = server.get("/v1/rules/lookup?q=hvorn%C3%A5r%20f%C3%A5r%20vi%20papirerne%20tilsendt&limit=2");
        assert_eq!(status, 200, "{v}");
        v["results"][0].clone()
    };
    {
        let server = Server::start_on(data.path(), &[], &dense_env());
        assert_eq!(first(&server)["citation"], "uddrag af kommunestyrelsesloven § 8, stk. 2");
        assert!(!server.log().contains("provisions embedded"), "the server reads the kept vectors: {}", server.log());
    }
    // A backup keeps them.
    let backup = tempfile::tempdir().unwrap();
    let to = backup.path().join("b");
    let out = common::byraad(data.path(), &["backup", "--to", to.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(fs::read(to.join("rules-vectors.json")).unwrap(), fs::read(&file).unwrap());
    // Without them (a data directory from before), the server makes them once.
    fs::remove_file(&file).unwrap();
    let server = Server::start_on(data.path(), &[], &dense_env());
    assert_eq!(first(&server)["citation"], "uddrag af kommunestyrelsesloven § 8, stk. 2");
    assert!(server.log().contains("provisions embedded"), "{}", server.log());
    assert!(file.exists());
}

#[test]
fn without_a_model_search_is_lexical_and_says_so() {
    let corpus = small_corpus();
    let data = tempfile::tempdir().unwrap();
    let missing = [("BYRAAD__DENSE__BACKEND", "local".to_string()), ("BYRAAD__DENSE__MODEL_DIR", "/nonexistent/model".to_string())];
    let out = Command::new(BIN).args(["ingest", "--corpus"]).arg(corpus.path()).arg("--data").arg(data.path()).envs(missing.clone()).output().unwrap();
    assert!(out.status.success());
    assert!(stderr(&out).contains("dense retrieval is off"), "{}", stderr(&out));

    let server = Server::start_with(data, &missing);
    let (_, health) = server.get("/healthz");
    assert!(health["dense"].is_null(), "{health}");
    assert!(health["warning"].as_str().unwrap().contains("lexical search only"), "{health}");
    let v = search(&server, json!({"query": "cykelstier"}));
    assert_eq!(v["mode"], "lexical");
    assert!(v["warning"].is_string());
    assert!(!v["hits"].as_array().unwrap().is_empty());
    let (status, v) = server.post("/v1/search", &json!({"query": "cykelstier", "mode": "dense"}));
    assert_eq!(status, 400, "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("dense search is not available"));
    let (status, _) = server.post("/v1/search", &json!({"query": "cykelstier", "mode": "fuzzy"}));
    assert_eq!(status, 400);
}

#[test]
fn vectors_on_a_qdrant_server_and_lexical_results_while_it_is_down() {
    let qdrant = byraad_test_qdrant::Qdrant::start(Some("s3cret-key")).unwrap_or_else(|e| panic!("{e}"));
    let mut env = dense_env();
    env.extend([
        ("BYRAAD__VECTORS__BACKEND", "qdrant".to_string()),
        ("BYRAAD__VECTORS__QDRANT__URL", qdrant.url()),
        ("BYRAAD__VECTORS__QDRANT__COLLECTION", "aarhus".to_string()),
        ("BYRAAD_QDRANT_API_KEY", "s3cret-key".to_string()),
    ]);
    let corpus = small_corpus();
    let data = tempfile::tempdir().unwrap();
    let run = |env: &[(&str, String)]| Command::new(BIN).args(["ingest", "--corpus"]).arg(corpus.path()).arg("--data").arg(data.path()).envs(env.iter().cloned()).output().unwrap();
    // First with the embedded store; moving to the server re-embeds every file into it.
    assert!(stdout(&run(&dense_env())).contains("(2 changed, 0 unchanged"));
    let out = run(&env);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("(2 changed, 0 unchanged"), "{}", stdout(&out));
    assert!(!stderr(&out).contains("s3cret-key"), "the key is never logged");
    assert!(stdout(&run(&env)).contains("(0 changed, 2 unchanged"), "index and server agree");

    let server = Server::start_with(data, &env);
    let v = search(&server, json!({"query": "hvornår får byrådet materialet før et møde", "mode": "dense", "limit": 3}));
    assert!(v["hits"][0]["text"].as_str().unwrap().contains("senest 4 dage"), "{v}");
    let v = search(&server, json!({"query": "dagsordenen udsendes", "mode": "dense", "filters": {"kind": ["referat"]}}));
    assert!(v["hits"].as_array().unwrap().iter().all(|h| h["kind"] == "referat"), "filters inside the server's search: {v}");

    // The server goes away: hybrid answers from the lexical index and says why.
    drop(qdrant);
    let v = search(&server, json!({"query": "cykelstier Randersvej"}));
    assert_eq!(v["mode"], "lexical", "{v}");
    assert!(v["warning"].as_str().unwrap().contains("dense retrieval failed"), "{v}");
    assert!(v["hits"][0]["text"].as_str().unwrap().contains("Randersvej"));

    // Ingesting needs the server: a clear error, nothing half-written.
    let out = Command::new(BIN).args(["ingest", "--corpus"]).arg(corpus.path()).arg("--data").arg(tempfile::tempdir().unwrap().path()).envs(env.iter().cloned()).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("Qdrant") && stderr(&out).contains("http://127.0.0.1:"), "{}", stderr(&out));
}

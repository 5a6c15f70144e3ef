//! The agenda system's own meeting JSON, ingested as it is recorded (three real Greve meetings
//! in `tests/fixtures/greve`, no manifest), searched, and followed as a case through the real
//! server: REST, the case page and the MCP tools through the official SDK.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::sync::OnceLock;

use common::{Server, byraad, clients, stderr, stdout};
use serde_json::{Value, json};

/// The case the three meetings share: Beskæftigelses- og Erhvervsudvalget, then
/// Økonomiudvalget, then the Byråd.
const CASE: &str = "25-007892";

fn fixtures() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/greve")
}

/// The three meetings ingested from a copy of the recorded folder, served anonymously.
fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let corpus = tempfile::tempdir().unwrap();
        common::copy_dir(&fixtures(), corpus.path());
        let data = tempfile::tempdir().unwrap();
        let out = byraad(data.path(), &["ingest", "--corpus", corpus.path().to_str().unwrap()]);
        assert!(out.status.success(), "ingest failed: {}", stderr(&out));
        // Three meetings; the README describes the folder and is not a document.
        assert!(stdout(&out).contains("ingested 3 files (3 changed, 0 unchanged, 0 removed, 0 failed): 3 documents"), "{}", stdout(&out));
        Server::start(data)
    })
}

fn get(path: &str) -> (u16, Value) {
    let r = common::http().get(server().url(path)).send().unwrap();
    (r.status().as_u16(), r.json().unwrap_or(Value::Null))
}

fn search(query: &str) -> Vec<Value> {
    let (status, body) = server().post("/v1/search", &json!({"query": query, "limit": 10}));
    assert_eq!(status, 200, "{body}");
    body["hits"].as_array().unwrap().clone()
}

#[test]
fn a_meeting_is_one_document_whose_hits_name_their_item_and_case() {
    let hits = search("Puljemidler til IPS og Flere unge skal med");
    let first = &hits[0];
    assert_eq!(first["case"], CASE, "{first}");
    assert!(first["item"].as_str().is_some_and(|i| i.chars().all(|c| c.is_ascii_digit())), "{first}");
    assert!(first["heading"].as_str().unwrap().starts_with(&format!("Punkt {}: Puljemidler til IPS", first["item"].as_str().unwrap())), "{first}");
    let title = first["title"].as_str().unwrap();
    assert!(title.contains(": møde ") && title.contains(" 2025"), "{title}");
    assert_eq!(first["kind"], "referat");
    // The meeting's document: committee as body, date, the item a Markdown heading.
    let (status, doc) = get(&format!("/v1/documents/{}", first["doc_id"].as_str().unwrap()));
    assert_eq!(status, 200);
    assert_eq!(doc["body"], first["body"]);
    assert!(doc["text"].as_str().unwrap().contains(&format!("## {}", first["heading"].as_str().unwrap())));
}

#[test]
fn one_case_passing_three_meetings_is_one_hit_that_says_where_else() {
    let hits = search("Puljemidler til IPS og Flere unge skal med 2025 projektperiode");
    let of_case: Vec<&Value> = hits.iter().take(5).filter(|h| h["case"] == CASE).collect();
    assert!(!of_case.is_empty(), "{hits:?}");
    // The same text never fills the top five twice from different meetings.
    let docs: std::collections::BTreeSet<&str> = of_case.iter().map(|h| h["doc_id"].as_str().unwrap()).collect();
    let also: Vec<&Value> = of_case.iter().flat_map(|h| h["also"].as_array().into_iter().flatten()).collect();
    assert!(!also.is_empty(), "the other treatments are named: {of_case:?}");
    for t in &also {
        assert!(!docs.contains(t["doc_id"].as_str().unwrap()) || of_case.len() > 1, "{t}");
        assert!(t["title"].as_str().unwrap().contains(": møde "), "{t}");
    }
}

#[test]
fn a_closed_item_is_kept_but_never_found() {
    // "Lukket: Karlslunde Center, lejeaftale for pendlerparkering": its released decision stands
    // in the meeting's text, but nothing of it is searchable.
    let hits = search("Karlslunde Center lejeaftale pendlerparkering");
    assert!(hits.iter().all(|h| !h["heading"].as_str().unwrap_or_default().contains("Lukket")), "{hits:?}");
    let (_, case) = get("/v1/cases/25-009112");
    assert_eq!(case["error"]["code"].as_str().map(|_| ()), Some(()), "a closed case has no readable treatment: {case}");
}

#[test]
fn a_case_history_lists_every_treatment_in_date_order() {
    let (status, body) = get(&format!("/v1/cases/{CASE}"));
    assert_eq!(status, 200, "{body}");
    let t = body["treatments"].as_array().unwrap();
    let bodies: Vec<&str> = t.iter().map(|t| t["body"].as_str().unwrap()).collect();
    assert_eq!(bodies, ["Beskæftigelses- og Erhvervsudvalget", "Økonomiudvalget", "Byråd 2022-2025"], "{body}");
    let dates: Vec<&str> = t.iter().map(|t| t["date"].as_str().unwrap()).collect();
    assert_eq!(dates, ["2025-09-08", "2025-09-24", "2025-10-01"]);
    for treatment in t {
        assert!(treatment["decision"].as_str().is_some_and(|d| !d.is_empty()), "{treatment}");
        assert!(treatment["recommendation"].as_str().is_some_and(|d| !d.is_empty()), "{treatment}");
    }
    // Bad and unknown case numbers: a JSON 400 naming the problem, a 404.
    let (status, bad) = get("/v1/cases/%3Cscript%3E");
    assert_eq!(status, 400, "{bad}");
    assert!(bad["error"]["message"].as_str().unwrap().contains("not a case number"), "{bad}");
    assert_eq!(get("/v1/cases/99-999999").0, 404);
    // The page.
    let page = common::http().get(server().url(&format!("/sager/{CASE}"))).send().unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().unwrap();
    assert!(html.contains(&format!("Sagsforløb for sag {CASE}")) && html.contains("Økonomiudvalget") && html.contains("Beslutning"), "{html}");
}

#[test]
fn mcp_clients_follow_a_case_and_read_a_meeting() {
    let hit = &search("Puljemidler til IPS og Flere unge skal med")[0];
    let out = clients::mcp(&server().url("/mcp"), None, &json!([
        {"tool": "get_case", "arguments": {"case": CASE}},
        {"tool": "get_meeting", "arguments": {"id": hit["doc_id"]}},
        {"tool": "get_case", "arguments": {"case": "99-999999"}},
    ]));
    let r = |i: usize| &out["results"][i];
    assert_eq!(r(0)["is_error"], false, "{}", r(0));
    assert_eq!(r(0)["structured"]["treatments"].as_array().unwrap().len(), 3, "{}", r(0));
    assert_eq!(r(1)["is_error"], false, "{}", r(1));
    let items = r(1)["structured"]["items"].as_array().unwrap();
    let item = items.iter().find(|i| i["case"] == CASE).unwrap();
    assert!(item["decision"].as_str().is_some_and(|d| !d.is_empty()), "{item}");
    assert!(items.iter().any(|i| i["closed"] == true && i["decision"].is_null()), "closed items are listed, their text not given");
    assert_eq!(r(2)["is_error"], true, "{}", r(2));
}

#[test]
fn an_answer_citing_one_treatment_says_where_else_the_case_was_treated() {
    let (status, body) = server().post("/v1/chat", &json!({"messages": [{"role": "user", "content": "Hvor stor en bevilling fik Greve Kommune fra STAR til Ungeløftets initiativ for unge med psykiske lidelser?"}]}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["abstained"], false, "{body}");
    let cited: Vec<&Value> = body["citations"].as_array().unwrap().iter().filter(|c| c["case"] == CASE).collect();
    assert!(!cited.is_empty(), "the case is cited: {body}");
    let c = cited[0];
    let elsewhere: Vec<&str> = c["also"].as_array().unwrap().iter().map(|t| t["doc_id"].as_str().unwrap()).collect();
    assert_eq!(elsewhere.len(), 2, "the two other meetings: {c}");
    assert!(!elsewhere.contains(&c["doc_id"].as_str().unwrap()), "{c}");
    assert!(body["answer"].as_str().unwrap().contains("Sagen er også behandlet på"), "{body}");
}

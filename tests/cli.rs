//! The real `byraad` binary on real corpora in temporary directories.
#![allow(clippy::unwrap_used)]

mod common;

use std::fs;

use common::pdf::{Page, pdf};
use common::{byraad, corpus, stderr, stdout};

fn small_corpus() -> tempfile::TempDir {
    common::write_corpus(&[
        (
            "manifest.toml",
            "[[document]]\npath = \"referat.txt\"\ntitle = \"Referat, Testudvalget 1. marts 2025\"\nkind = \"referat\"\nbody = \"Testudvalget\"\ndate = \"2025-03-01\"\n",
        ),
        ("referat.txt", "Punkt 1: Godkendelse\nGodkendt.\n\nPunkt 2: Cykelstier\nUdvalget besluttede at anlægge cykelstier på Randersvej.\n"),
        ("notat.md", "# Notat om skolebusser\n\nSkolebusserne kører fra august.\n"),
    ])
}

#[test]
fn ingest_is_idempotent_and_incremental() {
    let data = tempfile::tempdir().unwrap();
    let c = corpus();
    let first = byraad(data.path(), &["ingest", "--corpus", c.to_str().unwrap()]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(stdout(&first).contains("ingested 15 files (15 changed, 0 unchanged, 0 removed, 0 failed)"), "{}", stdout(&first));
    let second = byraad(data.path(), &["ingest", "--corpus", c.to_str().unwrap()]);
    assert!(second.status.success());
    assert!(stdout(&second).contains("(0 changed, 15 unchanged, 0 removed, 0 failed): 0 documents, 0 chunks"), "{}", stdout(&second));
}

#[test]
fn changed_files_are_replaced_and_deleted_files_removed() {
    let corpus = small_corpus();
    let data = tempfile::tempdir().unwrap();
    let ingest = || byraad(data.path(), &["ingest", "--corpus", corpus.path().to_str().unwrap()]);
    assert!(ingest().status.success());
    let search = |q: &str| stdout(&byraad(data.path(), &["search", q, "--json"]));
    assert!(search("Randersvej").contains("referat"));

    fs::write(corpus.path().join("referat.txt"), "Punkt 1: Godkendelse\nGodkendt.\n\nPunkt 2: Cykelstier\nUdvalget besluttede at anlægge cykelstier på Viborgvej.\n").unwrap();
    fs::remove_file(corpus.path().join("notat.md")).unwrap();
    let out = ingest();
    assert!(stdout(&out).contains("(1 changed, 0 unchanged, 1 removed, 0 failed)"), "{}", stdout(&out));
    assert!(search("Viborgvej").contains("\"item\": \"2\""));
    assert!(!search("Randersvej").contains("referat"), "the old version is gone");
    assert!(!search("skolebusser").contains("notat"), "the deleted file is gone");
}

#[test]
fn a_broken_file_is_reported_and_the_rest_ingested() {
    let corpus = small_corpus();
    fs::write(corpus.path().join("broken.pdf"), b"%PDF-1.4 this is not really a pdf").unwrap();
    fs::write(corpus.path().join("latin1.txt"), [0x66u8, 0xf8, 0x72, 0x73, 0x74, 0x65]).unwrap();
    let data = tempfile::tempdir().unwrap();
    let out = byraad(data.path(), &["ingest", "--corpus", corpus.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "the exit code says something failed");
    let err = stderr(&out);
    assert!(err.contains("broken.pdf"), "{err}");
    assert!(!err.contains("latin1.txt"), "Latin-1 text is read: {err}");
    assert!(stdout(&out).contains("1 failed"), "{}", stdout(&out));
    let hits = stdout(&byraad(data.path(), &["search", "cykelstier", "--json"]));
    assert!(hits.contains("Randersvej"), "the good files are searchable: {hits}");
}

#[test]
fn a_bad_manifest_entry_is_named() {
    let corpus = small_corpus();
    fs::write(corpus.path().join("manifest.toml"), "[[document]]\npath = \"referat.txt\"\ntitle = \"R\"\nkind = \"minutes\"\nbody = \"B\"\n").unwrap();
    let data = tempfile::tempdir().unwrap();
    let out = byraad(data.path(), &["ingest", "--corpus", corpus.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("document #1 (referat.txt)") && err.contains("minutes"), "{err}");
}

#[test]
fn search_prints_hits_and_json() {
    let data = common::ingested();
    let out = byraad(data.path(), &["search", "habilitet", "--limit", "3"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("1. "), "{}", stdout(&out));
    let out = byraad(data.path(), &["search", "Havnens Perle", "--json", "--limit", "2"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["hits"].as_array().unwrap().len(), 2);
    let out = byraad(data.path(), &["search", "x", "--limit", "500"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("limit"), "{}", stderr(&out));
}

#[test]
fn configuration_layers_file_then_environment() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.toml");
    fs::write(&file, "[search]\nmax_limit = 5\ndefault_limit = 5\n").unwrap();
    let data = common::ingested();
    let out = common::byraad(data.path(), &["--config", file.to_str().unwrap(), "search", "byråd", "--limit", "6"]);
    assert_eq!(out.status.code(), Some(2), "max_limit from the file applies");
    let out = std::process::Command::new(common::BIN)
        .args(["--config", file.to_str().unwrap(), "search", "byråd", "--limit", "6", "--data"])
        .arg(data.path())
        .env("BYRAAD__SEARCH__MAX_LIMIT", "10")
        .env(common::LEXICAL.0, common::LEXICAL.1)
        .output()
        .unwrap();
    assert!(out.status.success(), "the environment overrides the file: {}", stderr(&out));
    let out = common::byraad(data.path(), &["--config", "/nonexistent.toml", "search", "x"]);
    assert!(stderr(&out).contains("does not exist"));
}

#[test]
fn ask_answers_with_numbered_sources() {
    let data = common::ingested();
    let out = common::byraad(data.path(), &["ask", "Hvornår skal dagsordenen udsendes til kommunalbestyrelsens medlemmer?"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("[1]") && text.contains("senest 4 hverdage"), "{text}");
    assert!(text.contains("love.kommunestyrelsesloven"), "{text}");
    let out = common::byraad(data.path(), &["ask", "Hvad er prisen på en kvantecomputer fra Zyxwv Industries?", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["abstained"], true, "{v}");
    let out = common::byraad(data.path(), &["ask", " "]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("empty"), "{}", stderr(&out));
}

/// `lines` printed and scanned: rendered by pdftoppm in grey, as an image and as its pixels.
fn scanned(dir: &std::path::Path, lines: Vec<&'static str>, format: &str) -> std::path::PathBuf {
    let printed = dir.join("printed.pdf");
    fs::write(&printed, pdf(&[Page::Text(lines.into_iter().map(str::to_string).collect())])).unwrap();
    let prefix = dir.join(format!("scan-{format}"));
    // Grey PGM is pdftoppm's own format; PNG is asked for.
    let mut cmd = std::process::Command::new("pdftoppm");
    cmd.args(["-r", "150", "-gray", "-singlefile"]);
    if format == "png" {
        cmd.arg("-png");
    }
    let out = cmd.arg(&printed).arg(&prefix).output().expect("pdftoppm (poppler-utils) is needed: run `make setup`");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    prefix.with_extension(format)
}

#[test]
fn scanned_pages_and_images_are_read_by_ocr_marked_as_such_and_found_by_correctly_spelled_words() {
    assert!(std::process::Command::new("tesseract").arg("--list-langs").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).lines().any(|l| l.trim() == "dan")), "Tesseract with its Danish model is needed (tesseract-ocr, tesseract-ocr-dan: run `make setup`)");
    let work = tempfile::tempdir().unwrap();
    // A PDF whose first page is a scan (no text layer) and whose second has text.
    let pgm = fs::read(scanned(work.path(), vec!["Byrådet besluttede at opføre en ny svømmehal i Åbyhøj.", "Svømmehallen skal stå færdig i 2028."], "pgm")).unwrap();
    let mut fields = pgm.splitn(4, |b| b.is_ascii_whitespace());
    assert_eq!(fields.next(), Some(&b"P5"[..]));
    let width: usize = std::str::from_utf8(fields.next().unwrap()).unwrap().parse().unwrap();
    let height: usize = std::str::from_utf8(fields.next().unwrap()).unwrap().parse().unwrap();
    let grey = fields.next().unwrap().splitn(2, |b| b.is_ascii_whitespace()).nth(1).unwrap().to_vec();
    assert_eq!(grey.len(), width * height);
    let corpus = work.path().join("corpus");
    fs::create_dir(&corpus).unwrap();
    fs::write(corpus.join("referat-scannet.pdf"), pdf(&[Page::Scan { width, height, grey }, Page::Text(vec!["Punkt 2: Eventuelt".into(), "Intet at bemærke under dette punkt i dag.".into()])])).unwrap();
    fs::copy(scanned(work.path(), vec!["Udvalget godkendte renoveringen af Dokk1."], "png"), corpus.join("notat-foto.png")).unwrap();
    fs::write(corpus.join("tekst.txt"), "Punkt 1: Cykelstier\nUdvalget besluttede at anlægge cykelstier på Randersvej.\n").unwrap();

    let data = tempfile::tempdir().unwrap();
    let report = work.path().join("report.json");
    let out = byraad(data.path(), &["ingest", "--corpus", corpus.to_str().unwrap(), "--report", report.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let r: serde_json::Value = serde_json::from_str(&fs::read_to_string(&report).unwrap()).unwrap();
    let file = |p: &str| r["per_file"].as_array().unwrap().iter().find(|f| f["path"] == p).unwrap().clone();
    assert_eq!((file("referat-scannet.pdf")["pages"].as_u64(), file("referat-scannet.pdf")["ocr_pages"].as_u64()), (Some(2), Some(1)), "{r}");
    assert_eq!(file("notat-foto.png")["ocr_pages"], 1, "{r}");
    assert_eq!(file("tekst.txt")["ocr_pages"], 0, "{r}");

    let search = |q: &str| -> serde_json::Value {
        let out = byraad(data.path(), &["search", q, "--json"]);
        assert!(out.status.success(), "{}", stderr(&out));
        serde_json::from_str(&stdout(&out)).unwrap()
    };
    let v = search("svømmehal Åbyhøj");
    let hit = &v["hits"][0];
    assert_eq!((hit["source"].as_str(), hit["page"].as_u64(), hit["ocr"].as_bool()), (Some("referat-scannet.pdf"), Some(1), Some(true)), "{v}");
    assert!(hit["text"].as_str().unwrap().contains("svømmehal i Åbyhøj"), "read with æ, ø and å: {hit}");
    let v = search("renoveringen Dokk1");
    assert_eq!((v["hits"][0]["source"].as_str(), v["hits"][0]["ocr"].as_bool()), (Some("notat-foto.png"), Some(true)), "{v}");
    let v = search("cykelstier Randersvej");
    assert!(v["hits"][0].get("ocr").is_none(), "text is not marked: {v}");
    // An answer quoting the scan says so in its citation.
    let out = byraad(data.path(), &["ask", "Hvor skal den nye svømmehal ligge?", "--json"]);
    let answer: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let cited = answer["citations"].as_array().unwrap();
    assert!(cited.iter().any(|c| c["source"] == "referat-scannet.pdf" && c["ocr"] == true), "{answer}");
}

#[test]
fn a_server_started_for_a_process_ends_with_it() {
    let data = tempfile::tempdir().unwrap();
    let mut parent = std::process::Command::new("sleep").arg("1").spawn().unwrap();
    let mut server = std::process::Command::new(common::BIN)
        .args(["serve", "--addr", "127.0.0.1:0", "--data"])
        .arg(data.path())
        .env(common::LEXICAL.0, common::LEXICAL.1)
        .env("BYRAAD_EXIT_WITH_PID", parent.id().to_string())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    parent.wait().unwrap();
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = server.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > std::time::Duration::from_secs(30) {
            server.kill().unwrap();
            panic!("the server outlived the process it was started for by 30 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert!(status.success(), "{status}");
}

/// The JSON lines of the file at `path`.
fn json_lines(path: &str) -> Vec<serde_json::Value> {
    fs::read_to_string(path).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// `train-answerer` and `train-rules` on the bundled corpus (lexical): labelled questions are
/// read line by line, cross-validated by question, and every candidate is written for study;
/// weights are not written without dense retrieval, and a line that is not a question is named.
#[test]
fn training_commands_cross_validate_dump_candidates_and_refuse_lexical_weights() {
    let data = common::ingested();
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str, lines: &[serde_json::Value]| {
        let path = dir.path().join(name);
        fs::write(&path, lines.iter().map(|l| format!("{l}\n\n")).collect::<String>()).unwrap();
        path.to_str().unwrap().to_string()
    };
    let answers = file(
        "answers.jsonl",
        &[
            serde_json::json!({"id": "a1", "question": "Hvornår skal dagsordenen udsendes til medlemmerne?", "evidence": ["senest 4 hverdage"]}),
            serde_json::json!({"id": "a2", "question": "Hvornår er kommunalbestyrelsen beslutningsdygtig?", "evidence": ["halvdelen af medlemmerne"]}),
            serde_json::json!({"id": "a3", "question": "Hvem vedtager kommunalbestyrelsens forretningsorden?", "evidence": ["vedtager selv sin forretningsorden"]}),
            serde_json::json!({"id": "a4", "question": "Kan man træffe beslutninger på et seminar?", "evidence": ["seminarer kan der ikke træffes beslutninger"]}),
            serde_json::json!({"id": "a5", "question": "Er kommunalbestyrelsens møder offentlige?", "evidence": ["møder er offentlige"]}),
            serde_json::json!({"id": "a6", "question": "Hvem har bevillingsmyndigheden?", "evidence": ["Bevillingsmyndigheden er hos kommunalbestyrelsen"]}),
            serde_json::json!({"id": "a7", "question": "Hvem fører tilsyn med kommunerne?", "evidence": ["Tilsynet med kommunerne"]}),
            serde_json::json!({"id": "a8", "question": "Hvad er prisen på en kvantecomputer fra Zyxwv Industries?", "evidence": []}),
            serde_json::json!({"id": "a9", "question": "Hvor mange elefanter bor der i Marselisborgskoven?", "evidence": []}),
            serde_json::json!({"id": "a10", "question": "Hvornår åbner byens nye rumhavn for turister?", "evidence": []}),
        ],
    );
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let (candidates, held_out) = (path("candidates.jsonl"), path("held-out.jsonl"));
    // Folds whose training questions are all answered right (or none) leave nothing to learn.
    let few = file("few.jsonl", &[serde_json::json!({"id": "f1", "question": "Hvornår skal dagsordenen udsendes?", "evidence": ["senest 4 hverdage"]}), serde_json::json!({"id": "f2", "question": "Hvor mange elefanter bor der i Marselisborgskoven?", "evidence": []})]);
    let out = byraad(data.path(), &["train-answerer", "--questions", &few, "--folds", "2"]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(stderr(&out).contains("too few questions to learn from"), "{}", stderr(&out));
    let out = byraad(data.path(), &["train-answerer", "--questions", &answers, "--folds", "2", "--seed", "1", "--candidates", &candidates, "--answers", &held_out]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("cross-validated (2-fold by case, 10 groups): answerable=7 "), "{}", stdout(&out));
    assert!(stderr(&out).contains("dense retrieval is off"), "{}", stderr(&out));
    let rows = json_lines(&candidates);
    assert!(rows.iter().any(|r| r["id"] == "a1" && r["holds"] == true), "a candidate of a1 holds its evidence");
    assert!(rows.iter().all(|r| r["id"] != "a8" || r["holds"] == false && r["answerable"] == false));
    let answered = json_lines(&held_out);
    assert_eq!(answered.iter().map(|a| a["id"].as_str().unwrap()).collect::<Vec<_>>(), ["a1", "a10", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9"]);

    let rules = file(
        "rules.jsonl",
        &[
            serde_json::json!({"id": "r1", "question": "Hvornår er vi beslutningsdygtige?", "expected": ["§ 11, stk. 2"]}),
            serde_json::json!({"id": "r2", "question": "hvornår skal dagsordenen sendes ud", "expected": ["§ 8, stk. 4"]}),
            serde_json::json!({"id": "r3", "question": "habilitet", "expected": ["§ 14"]}),
            serde_json::json!({"id": "r4", "question": "Hvem vedtager forretningsordenen?", "expected": ["§ 2, stk. 4"]}),
        ],
    );
    let provisions = path("provisions.jsonl");
    let out = byraad(data.path(), &["train-rules", "--questions", &rules, "--folds", "2", "--candidates", &provisions]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("cross-validated (2-fold by question): questions=4 top1="), "{}", stdout(&out));
    let rows = json_lines(&provisions);
    for id in ["r1", "r2", "r3", "r4"] {
        assert!(rows.iter().any(|r| r["id"] == id && r["right"] == true), "{id} names a provision of the law");
    }
    assert!(rows.iter().any(|r| r["id"] == "r3" && r["right"] == true && r["item"] == "§ 14, stk. 2"), "a paragraph's every stk. governs");

    let weights = path("rules.json");
    let out = byraad(data.path(), &["train-rules", "--questions", &rules, "--folds", "2", "--out", &weights]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("dense retrieval is off") && stderr(&out).contains("not writing weights"), "{}", stderr(&out));
    assert!(!dir.path().join("rules.json").exists());

    let out = byraad(data.path(), &["train-rules", "--questions", &answers]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("answers.jsonl:1: not a rules question"), "{}", stderr(&out));
}

/// `byraad stats` says why it counts no vectors; `byraad audit | head` and `byraad feedback
/// export | head` end quietly when the reader has read enough.
#[test]
fn stats_say_why_there_are_no_vectors_and_listings_stop_quietly_at_a_closed_pipe() {
    use std::io::Read;
    use std::process::{Command, Stdio};

    let data = tempfile::tempdir().unwrap();
    let c = small_corpus();
    assert!(byraad(data.path(), &["ingest", "--corpus", c.path().to_str().unwrap()]).status.success());
    let out = byraad(data.path(), &["stats"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert!(v["vectors"].is_null(), "{v}");
    assert_eq!(v["dense"], "dense retrieval is off (dense.backend = \"none\")", "{v}");

    // An audit log far larger than a pipe holds.
    let audit = data.path().join("audit");
    fs::create_dir_all(&audit).unwrap();
    let line = r#"{"time":"2026-01-05T10:00:00Z","principal":"anna","endpoint":"POST /v1/search","query":"cykelstier på Randersvej","returned":[],"cited":[],"status":200,"latency_ms":3}"#;
    fs::write(audit.join("audit-2026-01-05.jsonl"), format!("{line}\n").repeat(20_000)).unwrap();
    let mut child = Command::new(common::BIN).args(["audit", "--data"]).arg(data.path()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut first = [0u8; 100];
    child.stdout.as_mut().unwrap().read_exact(&mut first).unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "a closed pipe ends the listing quietly: {}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
}

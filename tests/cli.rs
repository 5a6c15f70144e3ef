//! The real `byraad` binary on real corpora in temporary directories.
#![allow(clippy::unwrap_used)]

mod common;

use std::fs;

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
    assert!(stdout(&first).contains("ingested 11 files (11 changed, 0 unchanged, 0 removed, 0 failed)"), "{}", stdout(&first));
    let second = byraad(data.path(), &["ingest", "--corpus", c.to_str().unwrap()]);
    assert!(second.status.success());
    assert!(stdout(&second).contains("(0 changed, 11 unchanged, 0 removed, 0 failed): 0 documents, 0 chunks"), "{}", stdout(&second));
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

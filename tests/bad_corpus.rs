//! A corpus as hostile or unlucky as real ones get: each bad file reported with its path and the
//! reason, the rest ingested, memory bounded, nothing corrupted.
#![allow(clippy::unwrap_used)]

mod common;

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{BIN, LEXICAL, byraad, stderr, stdout};

/// A page with no text on it: what a scan without a text layer gives pdftotext.
const IMAGE_ONLY_PDF: &str = "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";

/// A .docx that inflates to `mib` MiB from a few hundred KiB.
fn zip_bomb(mib: usize) -> Vec<u8> {
    let mut bytes = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut bytes);
    zip.start_file("word/document.xml", zip::write::SimpleFileOptions::default()).unwrap();
    let block = vec![b' '; 1 << 20];
    for _ in 0..mib {
        zip.write_all(&block).unwrap();
    }
    zip.finish().unwrap();
    bytes.into_inner()
}

/// The bad corpus: one good file, one Latin-1 file and a dozen that must each be refused.
fn bad_corpus() -> tempfile::TempDir {
    let dir = common::write_corpus(&[
        ("god.txt", "Referat\nUdvalget besluttede at anlægge en ny cykelsti langs Randersvej.\n"),
        ("escape.txt", "Notat om \u{1b}[2J\u{1b}]0;hacked\u{7}terminaler og cykelsti\n"),
        ("empty.pdf", ""),
        ("corrupt.pdf", "%PDF-1.7\n\u{0}\u{1}garbage without objects"),
        ("image-only.pdf", IMAGE_ONLY_PDF),
    ]);
    let p = dir.path();
    fs::write(p.join("latin1.txt"), b"Referat om \xe6ldreomr\xe5det og bl\xe5 cykelsti i \xc5by\n").unwrap();
    fs::write(p.join("bomb.docx"), zip_bomb(300)).unwrap();
    let depth = 100_000;
    let deep = format!("<html><body><script>alert(1)</script>{}dybt{}</body></html>", "<div>".repeat(depth), "</div>".repeat(depth));
    fs::write(p.join("deep.html"), deep).unwrap();
    // 200 MB, sparse: refused by its size without being read.
    fs::File::create(p.join("huge.txt")).unwrap().set_len(200_000_000).unwrap();
    std::os::unix::fs::symlink(".", p.join("loop")).unwrap();
    std::os::unix::fs::symlink("missing.txt", p.join("dangling.txt")).unwrap();
    assert!(Command::new("mkfifo").arg(p.join("pipe.txt")).status().unwrap().success(), "mkfifo");
    dir
}

/// Runs `byraad ingest` and the peak resident memory it reached (VmHWM), in MiB.
fn ingest_measured(data: &Path, corpus: &Path) -> (std::process::Output, u64) {
    let child = Command::new(BIN)
        .args(["ingest", "--corpus", corpus.to_str().unwrap(), "--data", data.to_str().unwrap()])
        .env_remove("BYRAAD_LOG")
        .env(LEXICAL.0, LEXICAL.1)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status_path = format!("/proc/{}/status", child.id());
    let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let watcher = {
        let peak = peak.clone();
        std::thread::spawn(move || {
            while let Ok(status) = fs::read_to_string(&status_path) {
                let kib = status.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<u64>().ok());
                if let Some(kib) = kib {
                    peak.fetch_max(kib / 1024, std::sync::atomic::Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    };
    let out = child.wait_with_output().unwrap();
    watcher.join().unwrap();
    (out, peak.load(std::sync::atomic::Ordering::Relaxed))
}

#[test]
fn every_bad_file_is_reported_with_its_reason_and_the_rest_ingested_in_bounded_memory() {
    let corpus = bad_corpus();
    let data = tempfile::tempdir().unwrap();
    let (out, peak_mib) = ingest_measured(data.path(), corpus.path());
    let err = stderr(&out);
    eprintln!("{err}\npeak memory {peak_mib} MiB");
    assert_eq!(out.status.code(), Some(1), "the exit code says something failed: {err}");
    let expect = [
        ("empty.pdf", "empty"),
        ("corrupt.pdf", "not a readable PDF"),
        ("image-only.pdf", "no text found"),
        ("bomb.docx", "max_unpacked_mib"),
        ("deep.html", "max_html_depth"),
        ("huge.txt", "max_file_mib"),
        ("loop", "symbolic link"),
        ("dangling.txt", "symbolic link"),
        ("pipe.txt", "not a regular file"),
    ];
    for (file, reason) in expect {
        let line = err.lines().find(|l| l.contains(file)).unwrap_or_else(|| panic!("{file} is not reported: {err}"));
        assert!(line.contains(reason), "{file} is reported without {reason:?}: {line}");
    }
    // Log lines to a pipe (a file, a journal) are plain: no colour codes around the level.
    assert!(err.contains(" WARN ") && !err.contains('\u{1b}'), "{err:?}");
    let summary = stdout(&out);
    assert!(summary.contains(&format!("{} failed", expect.len())), "{summary}");
    assert!(peak_mib < 400, "the ingest peaked at {peak_mib} MiB");

    let hits = stdout(&byraad(data.path(), &["search", "cykelsti", "--json"]));
    for good in ["god", "latin1", "escape"] {
        assert!(hits.contains(&format!("\"doc_id\": \"{good}\"")), "{good} is searchable: {hits}");
    }
    assert!(hits.contains("ældreområdet") && hits.contains("Åby"), "Latin-1 read as Danish: {hits}");

    // Corpus text never reaches a terminal as control sequences.
    let printed = byraad(data.path(), &["search", "terminaler"]);
    assert!(printed.status.success(), "{}", stderr(&printed));
    let text = stdout(&printed);
    assert!(text.contains("terminaler") && !text.contains('\u{1b}') && !text.contains('\u{7}'), "{text:?}");

    // A second run over the same corpus changes nothing and breaks nothing.
    let (again, _) = ingest_measured(data.path(), corpus.path());
    assert!(stdout(&again).contains("ingested 12 files (0 changed, 3 unchanged, 0 removed, 9 failed)"), "{}", stdout(&again));
}

/// A file and a directory the ingest cannot read. As root every file is readable, so the ingest
/// then runs as `nobody` (setpriv, util-linux).
#[test]
fn an_unreadable_file_or_directory_stops_nothing_else() {
    let corpus = common::write_corpus(&[("god.txt", "Udvalget besluttede at anlægge en cykelsti på Randersvej.\n"), ("hemmelig.txt", "Ulæselig tekst om cykelsti.\n")]);
    let p = corpus.path();
    fs::create_dir(p.join("lukket")).unwrap();
    fs::write(p.join("lukket/inde.txt"), "Cykelsti bag en lukket mappe.\n").unwrap();
    fs::set_permissions(p.join("hemmelig.txt"), fs::Permissions::from_mode(0o000)).unwrap();
    fs::set_permissions(p.join("lukket"), fs::Permissions::from_mode(0o000)).unwrap();
    let data = tempfile::tempdir().unwrap();
    let root = is_root();
    let mut cmd = if root {
        for dir in [p, data.path()] {
            fs::set_permissions(dir, fs::Permissions::from_mode(0o777)).unwrap();
        }
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", BIN]);
        c
    } else {
        Command::new(BIN)
    };
    let out = cmd
        .args(["ingest", "--corpus", p.to_str().unwrap(), "--data", data.path().to_str().unwrap()])
        .env_remove("BYRAAD_LOG")
        .env(LEXICAL.0, LEXICAL.1)
        .output()
        .expect("setpriv (util-linux) runs the ingest as an unprivileged user");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    for (path, reason) in [("hemmelig.txt", "Permission denied"), ("lukket", "Permission denied")] {
        let line = err.lines().find(|l| l.contains(path)).unwrap_or_else(|| panic!("{path} is not reported: {err}"));
        assert!(line.contains(reason), "{line}");
    }
    assert!(stdout(&out).contains("ingested 3 files (1 changed, 0 unchanged, 0 removed, 2 failed)"), "{}", stdout(&out));
    let hits = stdout(&byraad(data.path(), &["search", "cykelsti", "--json"]));
    assert!(hits.contains("\"doc_id\": \"god\""), "{hits}");
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Hits of `query` as (doc_id, text), read as `groups` allow.
fn hits(data: &Path, query: &str, groups: &[&str]) -> Vec<(String, String)> {
    let mut args = vec!["search", query, "--json", "--limit", "20"];
    for g in groups {
        args.extend(["--group", g]);
    }
    let out = byraad(data, &args);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    v["hits"].as_array().unwrap().iter().map(|h| (h["doc_id"].as_str().unwrap().to_string(), h["text"].as_str().unwrap().to_string())).collect()
}

/// Files whose names differ only in case, spaces or extension each keep a document id of their
/// own: no hit cites one file's id with another's text, and which of a restricted and a public
/// file of nearly one name came last decides nothing about access.
#[test]
fn files_whose_names_give_one_id_stay_separate_documents() {
    let names = ["x y.txt", "X Y.txt", "x-y.txt", "x-y.md", "x-y.html"];
    let markers = ["akacie", "birkelund", "cedertræ", "dadelpalme", "egeskov"];
    let dir = tempfile::tempdir().unwrap();
    for (name, marker) in names.iter().zip(markers) {
        let text = format!("Notat om træer\n\nDette notat handler om {marker} og intet andet.\n");
        let text = if name.ends_with(".html") { format!("<html><body><h1>Notat om træer</h1><p>Dette notat handler om {marker} og intet andet.</p></body></html>") } else { text };
        fs::write(dir.path().join(name), text).unwrap();
    }
    // A public note of nearly the restricted letter's name, beside it.
    let pdf = "henvendelse-havnens-perle-2025-08-26.pdf";
    fs::copy(common::corpus().join("aarhus-2025").join(pdf), dir.path().join(pdf)).unwrap();
    fs::write(dir.path().join("henvendelse havnens perle 2025-08-26.txt"), "Henvendelse om Havnens Perle\n\nEn offentlig kvittering: henvendelsen om Havnens Perle er modtaget.\n").unwrap();
    fs::write(dir.path().join("manifest.toml"), format!("[[document]]\npath = \"{pdf}\"\ntitle = \"Henvendelse om Havnens Perle\"\nkind = \"henvendelse\"\nbody = \"Aarhus Byråd\"\naccess = \"restricted\"\ngroups = [\"byraadet\"]\n")).unwrap();

    let data = tempfile::tempdir().unwrap();
    let out = byraad(data.path(), &["ingest", "--corpus", dir.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("ingested 7 files (7 changed"), "{}", stdout(&out));

    let mut ids = std::collections::BTreeSet::new();
    for marker in markers {
        let found = hits(data.path(), marker, &[]);
        let (id, text) = found.first().unwrap_or_else(|| panic!("{marker} is found"));
        assert!(text.contains(marker), "{marker}: the hit's text is its own file's: {text}");
        assert!(found.iter().filter(|(i, _)| i == id).all(|(_, t)| t.contains(marker)), "{id} holds one file's text: {found:?}");
        ids.insert(id.clone());
    }
    assert_eq!(ids.len(), names.len(), "five files, five ids: {ids:?}");

    // Without the group only the public note is found; with it, both, each with its own text.
    let public = hits(data.path(), "Havnens Perle", &[]);
    assert!(!public.is_empty() && public.iter().all(|(_, t)| !t.contains("Kære byrådsmedlem") && !t.contains("Sendt:")), "{public:?}");
    let public_ids: std::collections::BTreeSet<&String> = public.iter().map(|(id, _)| id).collect();
    assert_eq!(public_ids.len(), 1, "{public:?}");
    let cleared = hits(data.path(), "Havnens Perle byrådssalen kvittering", &["byraadet"]);
    let cleared_ids: std::collections::BTreeSet<&String> = cleared.iter().map(|(id, _)| id).collect();
    assert_eq!(cleared_ids.len(), 2, "the cleared member finds the letter and the note: {cleared:?}");
    for (id, text) in &cleared {
        let is_note = public_ids.contains(id);
        assert_eq!(is_note, text.contains("kvittering"), "{id} holds its own file's text: {text}");
    }

    // A second ingest changes nothing: the ids are stable.
    let again = byraad(data.path(), &["ingest", "--corpus", dir.path().to_str().unwrap()]);
    assert!(stdout(&again).contains("0 changed, 7 unchanged"), "{}", stdout(&again));
}

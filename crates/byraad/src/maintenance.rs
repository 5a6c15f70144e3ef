//! Keeping a deployment's data: the database of drafts and feedback, feedback export, audit
//! verification, and backup and restore of a data directory.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use byraad_core::config::Config;

/// The database URL the configuration names, with the PostgreSQL password from its environment
/// variable when one is set (the password never comes from a file).
pub fn storage_url(config: &Config) -> String {
    let url = config.storage.url_for(&config.data.dir);
    let Some(password) = std::env::var(&config.storage.password_env).ok().filter(|p| !p.is_empty()) else { return url };
    let Some((scheme, rest)) = url.split_once("://").filter(|(s, _)| s.starts_with("postgres")) else { return url };
    match rest.split_once('@') {
        Some((user, host)) if !user.contains(':') => format!("{scheme}://{user}:{}@{host}", encode(&password)),
        _ => url,
    }
}

/// Percent-encodes what a URL's userinfo cannot hold as is.
fn encode(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

/// Opens the configured database (creating and migrating it).
pub async fn open_store(config: &Config) -> anyhow::Result<byraad_store::Store> {
    let url = storage_url(config);
    byraad_store::Store::open(&url, config.storage.max_connections).await.with_context(|| format!("cannot open the database {}", byraad_store::redact(&url)))
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread().enable_all().build()?)
}

/// `byraad feedback export`: the feedback given (at or after `since`), JSON lines, oldest first;
/// questions and answers as their SHA-256 when `audit.query = "hash"`.
pub fn feedback_export(config: &Config, since: Option<chrono::NaiveDate>) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let store = open_store(config).await?;
        let since = since.map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc());
        // Where the audit log keeps questions only as their hash, so does the export.
        let hash = config.audit.query == byraad_core::config::AuditQuery::Hash;
        let given = store.feedback(since).await?;
        crate::output::lines(given.into_iter().map(|mut f| {
            if hash {
                for text in [&mut f.feedback.question, &mut f.feedback.answer] {
                    *text = format!("sha256:{}", sha_hex(text));
                }
            }
            Ok(serde_json::to_string(&f)?)
        }))?;
        store.close().await;
        Ok(ExitCode::SUCCESS)
    })
}

fn sha_hex(text: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

/// `byraad audit verify`: checks the audit log's hash chain.
pub fn audit_verify(config: &Config) -> anyhow::Result<ExitCode> {
    let dir = config.audit.dir_for(&config.data.dir);
    let v = byraad_server::verify(&dir).with_context(|| format!("cannot read the audit log in {}", dir.display()))?;
    for b in &v.breaks {
        eprintln!("byraad: audit: {b}");
    }
    println!(
        "{} entries, {} before the chain began, {} breaks; head {}",
        v.entries,
        v.unchained,
        v.breaks.len(),
        v.head.as_deref().unwrap_or("-")
    );
    Ok(if v.breaks.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// The manifest a backup carries.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct BackupManifest {
    created: chrono::DateTime<chrono::Utc>,
    version: String,
    documents: u64,
    chunks: u64,
    database: String,
    files: usize,
}

const MANIFEST: &str = "BACKUP.json";

/// `byraad backup --to DIR`: a consistent copy of the live data directory (index, vectors,
/// database, audit log, the provisions' vectors) while the server keeps serving.
pub fn backup(config: &Config, to: &Path) -> anyhow::Result<ExitCode> {
    let data = &config.data.dir;
    if to.exists() && std::fs::read_dir(to).map(|mut d| d.next().is_some()).unwrap_or(true) {
        anyhow::bail!("{} is not empty: a backup goes into a new directory", to.display());
    }
    std::fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    let index = byraad_index::LexicalIndex::open(data, config.search.clone()).with_context(|| format!("cannot open the index in {}", data.display()))?;
    let stats = index.stats(&byraad_core::Clearance::everything())?;
    let vectors = data.join("vectors");
    let mut files = index
        .backup_to(&to.join("tantivy"), || if vectors.is_dir() { copy_tree(&vectors, &to.join("vectors")).map(|_| ()) } else { Ok(()) })
        .context("cannot copy the index (is an ingest running? run the backup again when it is done)")?
        .len();
    if vectors.is_dir() {
        files += count_files(&to.join("vectors"));
    }
    let audit = config.audit.dir_for(data);
    if audit.is_dir() {
        files += copy_audit(&audit, &to.join("audit"))?;
    }
    // The provisions' vectors, so that the restored server need not embed them again.
    let kept = data.join(byraad_rules::vectors::FILE);
    if kept.is_file() {
        std::fs::copy(&kept, to.join(byraad_rules::vectors::FILE)).with_context(|| format!("cannot copy {}", kept.display()))?;
        files += 1;
    }
    let database = runtime()?.block_on(async {
        let store = open_store(config).await?;
        let backend = store.backend();
        if backend == "sqlite" {
            store.backup_to(&to.join("byraad.db")).await.context("cannot copy the database")?;
        } else {
            eprintln!("byraad: the PostgreSQL database is not in the data directory: back it up with pg_dump");
        }
        store.close().await;
        anyhow::Ok(backend.to_string())
    })?;
    let manifest = BackupManifest { created: chrono::Utc::now(), version: env!("CARGO_PKG_VERSION").into(), documents: stats.documents, chunks: stats.chunks, database, files };
    std::fs::write(to.join(MANIFEST), serde_json::to_string_pretty(&manifest)? + "\n")?;
    println!("backed up {} documents, {} chunks, the {} database and the audit log to {} ({files} files)", stats.documents, stats.chunks, manifest.database, to.display());
    Ok(ExitCode::SUCCESS)
}

/// `byraad stats`: documents, chunks and vectors, and the bytes the index and the vector store
/// take on disk; without vectors, why (`dense`: dense retrieval off, or its model missing).
pub fn stats(config: &Config, dense: Option<&byraad_index::Dense>, why_not: Option<&str>) -> anyhow::Result<ExitCode> {
    let data = &config.data.dir;
    let index = byraad_index::LexicalIndex::open(data, config.search.clone()).with_context(|| format!("cannot open the index in {}", data.display()))?;
    let stats = index.stats(&byraad_core::Clearance::everything())?;
    let vectors = dense.map(|d| d.store.count()).transpose()?;
    let vectors_indexed = dense.map(|d| d.store.indexed_count()).transpose()?.flatten();
    let mut out = serde_json::json!({
        "documents": stats.documents,
        "chunks": stats.chunks,
        "vectors": vectors,
        "vectors_indexed": vectors_indexed,
        "index_bytes": dir_bytes(&data.join("tantivy")),
        "vector_store_bytes": dir_bytes(&data.join("vectors")),
    });
    if dense.is_none() {
        let why = why_not.map_or_else(|| format!("dense retrieval is off (dense.backend = {})", serde_json::to_string(&config.dense.backend).unwrap_or_default()), |w| format!("dense retrieval is not available: {w}"));
        out["dense"] = serde_json::Value::String(why);
    }
    println!("{out}");
    Ok(ExitCode::SUCCESS)
}

/// Bytes of the files under `dir` (0 when absent).
fn dir_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_bytes(&e.path()),
            Ok(t) if t.is_file() => e.metadata().map_or(0, |m| m.len()),
            _ => 0,
        })
        .sum()
}

/// `byraad restore --from DIR`: a backup into the (new or empty) data directory.
pub fn restore(config: &Config, from: &Path) -> anyhow::Result<ExitCode> {
    let data = &config.data.dir;
    let manifest: BackupManifest = serde_json::from_str(&std::fs::read_to_string(from.join(MANIFEST)).with_context(|| format!("{} is not a backup (no {MANIFEST})", from.display()))?)
        .with_context(|| format!("{} is not a backup manifest", from.join(MANIFEST).display()))?;
    if data.exists() && std::fs::read_dir(data).map(|mut d| d.next().is_some()).unwrap_or(true) {
        anyhow::bail!("{} is not empty: restore into a new data directory", data.display());
    }
    let copied = copy_tree(from, data)?;
    std::fs::remove_file(data.join(MANIFEST)).ok();
    let index = byraad_index::LexicalIndex::open(data, config.search.clone()).context("the restored index does not open")?;
    let stats = index.stats(&byraad_core::Clearance::everything())?;
    if (stats.documents, stats.chunks) != (manifest.documents, manifest.chunks) {
        anyhow::bail!("the restored index holds {} documents and {} chunks, the backup {} and {}", stats.documents, stats.chunks, manifest.documents, manifest.chunks);
    }
    if manifest.database == "sqlite" && config.storage.url.trim().is_empty() {
        runtime()?.block_on(async {
            let store = open_store(config).await.context("the restored database does not open")?;
            store.close().await;
            anyhow::Ok(())
        })?;
    }
    println!("restored {} documents, {} chunks ({copied} files, backup of {}) into {}", stats.documents, stats.chunks, manifest.created.format("%Y-%m-%d %H:%M UTC"), data.display());
    Ok(ExitCode::SUCCESS)
}

/// Copies `from` into `to`, recursively; lock files are left behind. Returns the files copied.
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<usize> {
    std::fs::create_dir_all(to)?;
    let mut n = 0;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let (path, target): (PathBuf, PathBuf) = (entry.path(), to.join(entry.file_name()));
        let ty = entry.file_type()?;
        if ty.is_dir() {
            n += copy_tree(&path, &target)?;
        } else if ty.is_file() && !entry.file_name().to_string_lossy().ends_with(".lock") {
            std::fs::copy(&path, &target)?;
            n += 1;
        }
    }
    Ok(n)
}

fn count_files(dir: &Path) -> usize {
    std::fs::read_dir(dir).map(|d| d.flatten().map(|e| if e.path().is_dir() { count_files(&e.path()) } else { 1 }).sum()).unwrap_or(0)
}

/// Copies the audit files, each up to its last whole line (a line being appended is left out).
fn copy_audit(from: &Path, to: &Path) -> anyhow::Result<usize> {
    std::fs::create_dir_all(to)?;
    let mut n = 0;
    for entry in std::fs::read_dir(from)? {
        let path = entry?.path();
        let Some(name) = path.file_name() else { continue };
        if !path.is_file() {
            continue;
        }
        let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let whole = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        std::fs::write(to.join(name), &bytes[..whole])?;
        n += 1;
    }
    Ok(n)
}

//! `byraad serve --watch`: the server ingests the corpus itself, in the background, whenever its
//! files change (looked at every `ingest.watch_secs`). The server owns the index and the vector
//! store, so nothing else needs their write locks; each committed batch is visible to the next
//! request (the index reader reloads on commit), and a request never sees part of a file.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use byraad_core::config::Config;
use byraad_index::{IngestEvent, Retriever};
use sha2::Digest;

/// Starts the watcher thread.
pub fn spawn(config: Config, retriever: Arc<Retriever>) -> std::io::Result<std::thread::JoinHandle<()>> {
    let every = Duration::from_secs(config.ingest.watch_secs.max(1));
    std::thread::Builder::new().name("watch".into()).spawn(move || {
        let mut seen: Option<String> = None;
        loop {
            let now = listing(&config.corpus.dir);
            if seen.as_ref() != Some(&now) {
                match ingest(&config, &retriever) {
                    Ok(()) => seen = Some(now),
                    Err(e) => tracing::error!(error = %format!("{e:#}"), "background ingest failed; tried again at the next look"),
                }
            }
            std::thread::sleep(every);
        }
    })
}

/// One incremental ingest into the server's own index and vector store.
fn ingest(config: &Config, retriever: &Retriever) -> anyhow::Result<()> {
    let (corpus, chunker, options) = crate::assembly::ingest_setup(config, retriever.dense())?;
    let report = retriever.lexical().ingest(&corpus, &chunker, &options, retriever.dense(), |event| match event {
        IngestEvent::Committed { changed } => tracing::info!(changed, "background ingest: batch committed"),
        IngestEvent::File { rel, error: Some(error), .. } => tracing::warn!(file = rel, %error, "background ingest: file failed"),
        _ => {}
    })?;
    tracing::info!(
        changed = report.changed,
        unchanged = report.unchanged,
        removed = report.removed,
        failed = report.failures.len(),
        chunks = report.chunks,
        ms = u64::try_from(report.elapsed.as_millis()).unwrap_or(u64::MAX),
        "background ingest done"
    );
    Ok(())
}

/// A digest of the corpus's listing: every path with its size and modification time.
fn listing(root: &Path) -> String {
    fn walk(dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for e in entries.flatten() {
            let path = e.path();
            match e.metadata() {
                Ok(m) if m.is_dir() => walk(&path, out),
                Ok(m) => {
                    let modified = m.modified().ok().and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map_or(0, |d| d.as_nanos());
                    out.push(format!("{}\0{}\0{modified}", path.display(), m.len()));
                }
                Err(_) => out.push(format!("{}\0?", path.display())),
            }
        }
    }
    let mut entries = Vec::new();
    walk(root, &mut entries);
    entries.sort();
    hex::encode(sha2::Sha256::digest(entries.join("\n").as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_listing_changes_with_a_file_added_changed_or_removed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), "a").unwrap();
        let first = listing(dir.path());
        assert_eq!(listing(dir.path()), first);
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/b.txt"), "b").unwrap();
        let second = listing(dir.path());
        assert_ne!(second, first);
        std::fs::write(dir.path().join("sub/b.txt"), "bb").unwrap();
        assert_ne!(listing(dir.path()), second);
        std::fs::remove_file(dir.path().join("sub/b.txt")).unwrap();
        assert_ne!(listing(dir.path()), second);
    }
}

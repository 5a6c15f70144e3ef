//! `byraad sync`: fetch what the corpus's `sources.toml` lists, then ingest.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use byraad_core::config::Config;
use byraad_sync::{SOURCES_FILE, Sources};

/// Fetches into the corpus (`sources`, default `<corpus>/sources.toml`), writes the run's report
/// (`report`, JSON) and ingests unless `fetch_only`. Exit 1 when a source failed or the ingest
/// had failures; the rest is fetched and ingested either way.
pub fn run(config: &Config, sources: Option<&Path>, fetch_only: bool, report_file: Option<&Path>) -> anyhow::Result<ExitCode> {
    let corpus = &config.corpus.dir;
    let path = sources.map_or_else(|| corpus.join(SOURCES_FILE), Path::to_path_buf);
    let sources = Sources::load(&path)?;
    if sources.sources.is_empty() && sources.indexes.is_empty() && sources.agenda_systems.is_empty() {
        anyhow::bail!("{} lists no [[source]], [[index]] or [[firstagenda]]: nothing to fetch", path.display());
    }
    let report = byraad_sync::sync(corpus, &sources).with_context(|| format!("sync into {}", corpus.display()))?;
    for f in &report.failed {
        eprintln!("byraad: sync failed: {}: {}", f.url, f.reason);
    }
    for url in &report.disallowed {
        eprintln!("byraad: sync skipped: {url}: robots.txt does not allow it");
    }
    if let Some(file) = report_file {
        std::fs::write(file, serde_json::to_string_pretty(&report)?).with_context(|| format!("cannot write the report {}", file.display()))?;
    }
    println!(
        "synced {} into {}: {} new, {} changed, {} unchanged, {} removed, {} not allowed by robots.txt, {} failed ({} requests, {} bytes)",
        path.display(),
        corpus.join(&sources.settings.folder).display(),
        report.new.len(),
        report.changed.len(),
        report.unchanged.len(),
        report.removed.len(),
        report.disallowed.len(),
        report.failed.len(),
        report.requests,
        report.bytes,
    );
    let fetched = if report.failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) };
    if fetch_only {
        return Ok(fetched);
    }
    let ingested = crate::commands::ingest(config, None)?;
    Ok(if ingested == ExitCode::SUCCESS { fetched } else { ingested })
}

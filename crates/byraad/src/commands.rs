//! The commands that use the archive: ingest, search, ask, draft-inquiry, serve, audit. Each
//! builds what it needs from the configuration through `assembly`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use byraad_core::config::{Config, DenseBackend, VectorBackend};
use byraad_core::{Clearance, Mode, SearchRequest};
use byraad_index::{IngestEvent, Retriever};

use crate::assembly::{answerer, app_state, drafter, ingest_setup, open_dense, open_index, open_retriever, rules};
use crate::{maintenance, output, watch, writer_lock};

pub(crate) fn audit(config: &Config, principal: Option<&str>, since: Option<chrono::NaiveDate>, doc: Option<&str>) -> anyhow::Result<ExitCode> {
    let dir = config.audit.dir_for(&config.data.dir);
    if !dir.exists() {
        eprintln!("byraad: no audit log in {} yet", dir.display());
        return Ok(ExitCode::SUCCESS);
    }
    let (entries, bad) = byraad_server::read_entries(&dir, principal, since, doc).with_context(|| format!("cannot read the audit log in {}", dir.display()))?;
    output::lines(entries.iter().map(|e| Ok(serde_json::to_string(e)?)))?;
    for line in &bad {
        eprintln!("byraad: warning: {line}: not an audit entry");
    }
    Ok(ExitCode::SUCCESS)
}

/// The environment variable that makes an ingest abort, as a kill would, after this many
/// changed files (the crash tests' hook).
const ABORT_AFTER: &str = "BYRAAD_TEST_ABORT_AFTER_FILES";

pub(crate) fn ingest(config: &Config, report_file: Option<&Path>) -> anyhow::Result<ExitCode> {
    let _lock = writer_lock::WriterLock::acquire(&config.data.dir, "ingest", None)?;
    let index = open_index(config)?;
    let (dense, warning) = open_dense(config, true)?;
    if let Some(w) = &warning {
        eprintln!("byraad: warning: dense retrieval is off ({w}); ingesting for lexical search only");
    }
    let (corpus, chunker, options) = ingest_setup(config, dense.as_ref())?;
    for missing in corpus.manifest().missing(corpus.root()) {
        eprintln!("byraad: warning: manifest lists {} but the file does not exist", missing.display());
    }
    for skipped in corpus.skipped() {
        eprintln!("byraad: skipped: {}: {}", skipped.path.display(), skipped.reason);
    }
    let abort_after: Option<usize> = std::env::var(ABORT_AFTER).ok().and_then(|v| v.parse().ok());
    let mut parsed_files = 0usize;

    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} files, {msg} [{elapsed}] {wide_msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let started = std::time::Instant::now();
    let (mut chunks, mut bytes) = (0usize, 0u64);
    let report = index.ingest(&corpus, &chunker, &options, dense.as_ref(), |event| match event {
        IngestEvent::Start { files } => {
            if let Some(bar) = &bar {
                bar.set_length(files as u64);
            }
        }
        IngestEvent::Committed { changed } => tracing::debug!(changed, "batch committed"),
        IngestEvent::File { rel, bytes: size, chunks: n, parsed, error } => {
            chunks += n;
            if parsed {
                bytes += size;
                parsed_files += 1;
                if abort_after == Some(parsed_files) {
                    eprintln!("byraad: {ABORT_AFTER}={parsed_files}: aborting");
                    std::process::abort();
                }
            }
            if let Some(error) = error {
                let line = format!("byraad: failed: {rel}: {error}");
                match &bar {
                    Some(bar) => bar.println(line),
                    None => eprintln!("{line}"),
                }
            }
            if let Some(bar) = &bar {
                let secs = started.elapsed().as_secs_f64().max(1e-3);
                bar.set_message(format!("{chunks} chunks, {:.1} MB/s", bytes as f64 / 1e6 / secs));
                bar.inc(1);
            }
        }
    })?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    if let Some(path) = report_file {
        let json = serde_json::to_string_pretty(&report)?;
        std::fs::write(path, json).with_context(|| format!("cannot write the report {}", path.display()))?;
    }
    let secs = report.elapsed.as_secs_f64();
    println!(
        "ingested {} files ({} changed, {} unchanged, {} removed, {} failed): {} documents, {} chunks, {:.1} MB in {:.2} s ({:.2} MB/s)",
        report.files,
        report.changed,
        report.unchanged,
        report.removed,
        report.failures.len(),
        report.documents,
        report.chunks,
        report.bytes as f64 / 1e6,
        secs,
        report.bytes as f64 / 1e6 / secs.max(1e-6),
    );
    if report.passages_embedded + report.passages_reused > 0 {
        println!("embedded {} passages; {} more were the same text as one already embedded", report.passages_embedded, report.passages_reused);
    }
    // The provisions' vectors are made now, while embedding is expected, rather than when the
    // server first starts.
    if dense.is_some() {
        let retriever = Arc::new(Retriever::new(open_index(config)?, dense, config.fusion.clone(), config.search.default_mode, None));
        let started = std::time::Instant::now();
        let provisions = rules(config, retriever)?.warm()?;
        tracing::info!(provisions, ms = started.elapsed().as_millis() as u64, "rules texts read");
    }
    Ok(if report.failures.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

pub(crate) fn search(config: &Config, query: String, limit: Option<usize>, json: bool, mode: Option<Mode>, clearance: Clearance) -> anyhow::Result<ExitCode> {
    let retriever = open_retriever(config)?;
    let req = SearchRequest { query, limit: Some(limit.unwrap_or(config.search.default_limit)), mode, clearance, ..Default::default() };
    let resp = retriever.search(&req)?;
    if let Some(w) = &resp.warning {
        eprintln!("byraad: warning: {w}");
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&resp)?);
        return Ok(ExitCode::SUCCESS);
    }
    if resp.hits.is_empty() {
        println!("Ingen resultater.");
    }
    for (n, hit) in resp.hits.iter().enumerate() {
        let page = hit.page.map(|p| format!(", s. {p}")).unwrap_or_default();
        let item = hit.item.as_ref().map(|i| format!(", punkt {i}")).unwrap_or_default();
        println!("{}. {} ({}{item}{page}) [{:.2}]", n + 1, printable(&hit.title), hit.doc_id, hit.score);
        if !hit.heading.is_empty() {
            println!("   {}", printable(&hit.heading));
        }
        let excerpt: String = hit.text.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(200).collect();
        println!("   {}…", printable(&excerpt));
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn draft_inquiry(config: &Config, req: &byraad_inquiry::DraftRequest, docx: Option<&Path>, json: bool) -> anyhow::Result<ExitCode> {
    let date = match req.validate(chrono::Local::now().date_naive()) {
        Ok(date) => date,
        Err(e) => {
            eprintln!("byraad: error: --{}", e.to_string().replacen(": ", " ", 1));
            return Ok(ExitCode::from(2));
        }
    };
    let retriever = Arc::new(open_retriever(config)?);
    let answerer = Arc::new(answerer(config, retriever.clone())?.with_rules(rules(config, retriever.clone())?));
    let resp = drafter(config, retriever, answerer)?.draft(req, date)?;
    if let Some(path) = docx {
        let bytes = byraad_inquiry::docx::docx(&resp.draft, &resp.related).map_err(anyhow::Error::msg)?;
        std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&resp)?);
    } else {
        print!("{}", printable_lines(&resp.markdown));
        for w in &resp.warnings {
            eprintln!("byraad: advarsel ({}): {}", w.code, w.message);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints an answer's text as it arrives.
struct Printer;

impl byraad_answer::Sink for Printer {
    fn send(&mut self, event: byraad_answer::Event<'_>) -> std::ops::ControlFlow<()> {
        use std::io::Write;
        if let byraad_answer::Event::Delta(text) = event {
            let mut out = std::io::stdout().lock();
            if out.write_all(printable_lines(text).as_bytes()).and_then(|()| out.flush()).is_err() {
                return std::ops::ControlFlow::Break(());
            }
        }
        std::ops::ControlFlow::Continue(())
    }
}

pub(crate) fn ask(config: &Config, question: String, json: bool, clearance: Clearance) -> anyhow::Result<ExitCode> {
    let retriever = Arc::new(open_retriever(config)?);
    let answerer = answerer(config, retriever.clone())?.with_rules(rules(config, retriever)?);
    let req = byraad_core::ChatRequest { clearance, ..byraad_core::ChatRequest::question(&question) };
    if json {
        let resp = answerer.answer(&req)?;
        if let Some(w) = &resp.warning {
            eprintln!("byraad: warning: {w}");
        }
        println!("{}", serde_json::to_string_pretty(&resp)?);
        return Ok(ExitCode::SUCCESS);
    }
    let Some(resp) = answerer.answer_to(&req, &mut Printer)? else {
        return Ok(ExitCode::SUCCESS); // stdout closed
    };
    println!();
    if let Some(w) = &resp.warning {
        eprintln!("byraad: warning: {w}");
    }
    if !resp.citations.is_empty() {
        println!();
    }
    for c in &resp.citations {
        let page = c.page.map(|p| format!(", s. {p}")).unwrap_or_default();
        let item = c.item.as_deref().map(byraad_answer::item_label).unwrap_or_default();
        println!("[{}] {} ({}{item}{page}, tegn {}-{})", c.n, printable(&c.title), c.doc_id, c.span.start, c.span.end);
    }
    Ok(ExitCode::SUCCESS)
}

/// Corpus text made safe for a terminal: control characters (escape sequences start with one)
/// become spaces.
fn printable(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// As [`printable`], keeping line breaks.
fn printable_lines(text: &str) -> String {
    text.chars().map(|c| if c.is_control() && c != '\n' { ' ' } else { c }).collect()
}

/// The environment variable naming a process whose end ends the server (Linux): what starts a
/// server and cannot always stop it (a test binary sharing one server between its tests, a
/// supervisor script) sets it to its own id.
const EXIT_WITH_PID: &str = "BYRAAD_EXIT_WITH_PID";

/// With [`EXIT_WITH_PID`] set, exits once a second's look finds that process gone.
fn exit_with_process() {
    let Some(pid) = std::env::var(EXIT_WITH_PID).ok().and_then(|v| v.trim().parse::<u32>().ok()) else { return };
    let proc_dir = PathBuf::from(format!("/proc/{pid}"));
    if !Path::new("/proc/self").exists() {
        tracing::warn!("{EXIT_WITH_PID} needs /proc; ignored");
        return;
    }
    std::thread::spawn(move || {
        while proc_dir.exists() {
            std::thread::sleep(std::time::Duration::from_secs(1));
        }
        tracing::info!(pid, "the process this server was started for is gone; exiting");
        std::process::exit(0);
    });
}

pub(crate) fn serve(config: &Config, watch: bool) -> anyhow::Result<ExitCode> {
    exit_with_process();
    let addr = config.server.addr;
    if !addr.ip().is_loopback() && !config.auth.required {
        anyhow::bail!("refusing to serve on {addr} without authentication: set auth.required = true (with [[auth.tokens]] or [auth.oidc]) or bind a loopback address");
    }
    // The server writes the data directory when it ingests, or holds the embedded vector store.
    let writes = watch || (config.dense.backend != DenseBackend::None && config.vectors.backend == VectorBackend::Edge);
    let auth = byraad_server::Authenticator::from_config(&config.auth).map_err(anyhow::Error::msg)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        // Listening first: /healthz answers and /readyz says "loading" while the index, the
        // models and the database open.
        let listener = tokio::net::TcpListener::bind(config.server.addr)
            .await
            .with_context(|| format!("cannot listen on {}", config.server.addr))?;
        let addr = listener.local_addr()?;
        let _lock = if writes { Some(writer_lock::WriterLock::acquire(&config.data.dir, "serve", Some(format!("http://{addr}")))?) } else { None };
        tracing::info!(%addr, "listening; loading");
        println!("listening on http://{addr}");
        let limits = byraad_server::ConnectionLimits::from_config(&config.server);
        let config = config.clone();
        let keep = config.inquiry.kept_drafts;
        let opened: Arc<std::sync::OnceLock<Arc<byraad_store::Store>>> = Arc::default();
        let slot = opened.clone();
        let load = async move {
            let store = Arc::new(maintenance::open_store(&config).await.map_err(|e| format!("{e:#}"))?);
            let _ = slot.set(store.clone());
            tracing::info!(backend = store.backend(), url = store.url(), "database open");
            let state = tokio::task::spawn_blocking(move || {
                let (state, retriever) = app_state(&config, auth, addr)?;
                if watch {
                    watch::spawn(config.clone(), retriever).context("cannot start the corpus watcher")?;
                    tracing::info!(corpus = %config.corpus.dir.display(), every_secs = config.ingest.watch_secs, "ingesting the corpus as it changes");
                }
                anyhow::Ok(state)
            })
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("{e:#}"))?;
            Ok(state.with_store(store, keep))
        };
        byraad_server::serve_loading(listener, limits, load).await?;
        // Drained: close the database (SQLite checkpoints its write-ahead log).
        if let Some(store) = opened.get() {
            store.close().await;
            tracing::info!("database closed");
        }
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}


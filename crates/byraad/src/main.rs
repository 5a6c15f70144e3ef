//! `byraad`: ingest the archive, search it, serve the API.

mod config;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use byraad_core::SearchRequest;
use byraad_core::config::Config;
use byraad_index::{IngestEvent, LexicalIndex};
use byraad_ingest::{ChunkSizes, Chunker, Corpus};
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "byraad", version, about = "byråds-GPT: search the archive of Aarhus Byråd")]
struct Cli {
    /// Configuration file (TOML), layered over the built-in defaults.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Data directory holding the index.
    #[arg(long, global = true, value_name = "DIR")]
    data: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Ingest a corpus directory (with its manifest.toml) into the index; unchanged files are skipped.
    Ingest {
        /// Corpus directory.
        #[arg(long, value_name = "DIR")]
        corpus: Option<PathBuf>,
    },
    /// Search the index.
    Search {
        /// What to look for.
        query: String,
        /// Number of hits.
        #[arg(long)]
        limit: Option<usize>,
        /// Print the response as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Serve the HTTP API.
    Serve {
        /// Address to listen on.
        #[arg(long, value_name = "HOST:PORT")]
        addr: Option<std::net::SocketAddr>,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("BYRAAD_LOG").unwrap_or_else(|_| "info,tantivy=warn".into()))
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("byraad: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let mut config = config::load(cli.config.as_deref())?;
    if let Some(data) = cli.data {
        config.data.dir = data;
    }
    match cli.command {
        Command::Ingest { corpus } => {
            if let Some(corpus) = corpus {
                config.corpus.dir = corpus;
            }
            config.validate()?;
            ingest(&config)
        }
        Command::Search { query, limit, json } => {
            config.validate()?;
            search(&config, query, limit, json)
        }
        Command::Serve { addr } => {
            if let Some(addr) = addr {
                config.server.addr = addr;
            }
            config.validate()?;
            serve(&config)
        }
    }
}

fn open_index(config: &Config) -> anyhow::Result<LexicalIndex> {
    LexicalIndex::open(&config.data.dir, config.search.clone())
        .with_context(|| format!("cannot open the index in {}", config.data.dir.display()))
}

fn ingest(config: &Config) -> anyhow::Result<ExitCode> {
    let corpus = Corpus::open(&config.corpus.dir).with_context(|| format!("cannot read corpus {}", config.corpus.dir.display()))?;
    for missing in corpus.manifest().missing(corpus.root()) {
        eprintln!("byraad: warning: manifest lists {} but the file does not exist", missing.display());
    }
    let i = &config.ingest;
    let sizes = ChunkSizes { min_chars: i.chunk_min_chars, max_chars: i.chunk_max_chars, overlap_chars: i.chunk_overlap_chars };
    let chunker = Chunker::new(sizes)?;
    let salt = format!("{sizes:?} index v{}", byraad_index::INDEX_VERSION);
    let index = open_index(config)?;

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
    let report = index.ingest(&corpus, &chunker, &salt, i.writer_memory_mib, |event| match event {
        IngestEvent::Start { files } => {
            if let Some(bar) = &bar {
                bar.set_length(files as u64);
            }
        }
        IngestEvent::File { rel, bytes: size, chunks: n, parsed, error } => {
            chunks += n;
            if parsed {
                bytes += size;
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
    let secs = report.elapsed.as_secs_f64();
    println!(
        "ingested {} files ({} changed, {} unchanged, {} removed, {} failed): {} documents, {} chunks, {:.1} MB in {:.2} s ({:.1} MB/s)",
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
    Ok(if report.failures.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn search(config: &Config, query: String, limit: Option<usize>, json: bool) -> anyhow::Result<ExitCode> {
    let index = open_index(config)?;
    let req = SearchRequest { query, limit: Some(limit.unwrap_or(config.search.default_limit)), ..Default::default() };
    let resp = index.search(&req)?;
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
        println!("{}. {} ({}{item}{page}) [{:.2}]", n + 1, hit.title, hit.doc_id, hit.score);
        if !hit.heading.is_empty() {
            println!("   {}", hit.heading);
        }
        let excerpt: String = hit.text.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(200).collect();
        println!("   {excerpt}…");
    }
    Ok(ExitCode::SUCCESS)
}

fn serve(config: &Config) -> anyhow::Result<ExitCode> {
    let index = open_index(config)?;
    let stats = index.stats()?;
    let state = byraad_server::AppState::new(Arc::new(index), config);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(config.server.addr)
            .await
            .with_context(|| format!("cannot listen on {}", config.server.addr))?;
        let addr = listener.local_addr()?;
        tracing::info!(%addr, documents = stats.documents, chunks = stats.chunks, "serving");
        println!("listening on http://{addr}");
        byraad_server::serve(listener, state).await?;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

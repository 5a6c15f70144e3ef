//! `byraad`: ingest the archive, search it, serve the API.

mod assembly;
mod commands;
mod config;
#[cfg(test)]
mod layers;
mod maintenance;
mod output;
mod sync;
mod training;
mod watch;
mod writer_lock;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use byraad_core::{Clearance, Mode};

// The in-process encoder allocates large activations per layer; glibc's allocator hands them
// back to the kernel and faults them in again on every call (a quarter of embedding time).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use clap::{Parser, Subcommand};

use commands::{ask, audit, draft_inquiry, ingest, search, serve};

#[derive(Debug, Parser)]
#[command(name = "byraad", version, about = "byråds-GPT: search the archive of Aarhus Byråd")]
struct Cli {
    /// Configuration file (TOML), layered over the built-in defaults.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Data directory holding the index.
    #[arg(long, global = true, value_name = "DIR")]
    data: Option<PathBuf>,
    /// search, ask, draft-inquiry: also read restricted documents of this group (repeatable).
    /// Without it the command line reads public documents only, like an anonymous request.
    #[arg(long = "group", global = true, value_name = "GROUP")]
    groups: Vec<String>,
    /// search, ask, draft-inquiry: read every document, restricted ones included (the
    /// operator's view of the data directory).
    #[arg(long, global = true, conflicts_with = "groups")]
    all_documents: bool,
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
        /// Also write what each file gave (pages, characters, sections, chunks, or why it
        /// failed) to this JSON file.
        #[arg(long, value_name = "FILE.json")]
        report: Option<PathBuf>,
    },
    /// Fetch what the corpus's sources.toml lists (pages, files, index pages and the meetings
    /// and attachments they link to) into the corpus, conditionally and politely, then ingest
    Sync {
        /// Corpus directory.
        #[arg(long, value_name = "DIR")]
        corpus: Option<PathBuf>,
        /// The sources file (default: sources.toml in the corpus).
        #[arg(long, value_name = "FILE")]
        sources: Option<PathBuf>,
        /// Fetch only; a server running `serve --watch` ingests the changes.
        #[arg(long)]
        no_ingest: bool,
        /// Also write what happened to each address to this JSON file.
        #[arg(long, value_name = "FILE.json")]
        report: Option<PathBuf>,
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
        /// hybrid, lexical or dense (default from the configuration).
        #[arg(long, value_parser = parse_mode)]
        mode: Option<Mode>,
    },
    /// Answer a question from the archive, with citations (or say that the archive has none).
    Ask {
        /// The question, in Danish.
        question: String,
        /// Print the response as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Draft a 10-dages forespørgsel from a member's own words: prints the Markdown.
    DraftInquiry {
        /// The member asking.
        #[arg(long)]
        member: String,
        /// The member's party.
        #[arg(long)]
        party: String,
        /// What the member wants to know.
        text: String,
        /// The date of the forespørgsel, YYYY-MM-DD (default: today).
        #[arg(long)]
        date: Option<String>,
        /// The addressee: BA, MBU, MKB, MSB, MSO, MTM or any text (default: from the archive).
        #[arg(long)]
        addressee: Option<String>,
        /// Also write the draft as a Word document.
        #[arg(long, value_name = "FILE")]
        docx: Option<PathBuf>,
        /// Print the whole response as JSON instead of the Markdown.
        #[arg(long)]
        json: bool,
    },
    /// Serve the HTTP API.
    Serve {
        /// Address to listen on.
        #[arg(long, value_name = "HOST:PORT")]
        addr: Option<std::net::SocketAddr>,
        /// Also ingest the corpus, in the background, whenever its files change (looked at every
        /// ingest.watch_secs): the server owns the index, and answers from each batch as it is
        /// committed.
        #[arg(long)]
        watch: bool,
    },
    /// Fit the answer scorer on labelled questions and print its cross-validated figures; with
    /// --out, write its weights file (what `answer.scorer` reads; config/answerer.json is built in).
    TrainAnswerer {
        /// Labelled questions, JSON lines: {"id", "question", "evidence": [strings an answer must
        /// quote], "source": the document it was written from (optional)}. Repeatable.
        #[arg(long, value_name = "FILE", required = true, num_args = 1..)]
        questions: Vec<PathBuf>,
        #[command(flatten)]
        fit: training::Fit,
        /// Write each question's cross-validated answer here (JSON lines).
        #[arg(long, value_name = "FILE")]
        answers: Option<PathBuf>,
    },
    /// Fit the rules ranker on questions in members' words with their governing provisions and
    /// print its cross-validated top-1/top-3; with --out, write its weights (what
    /// `rules.ranker` reads; config/rules.json is built in).
    TrainRules {
        /// Questions, JSON lines: {"id", "question", "law", "expected": ["§ 8, stk. 4", ...]}
        /// (law: the rules text's short name; kommunestyrelsesloven when absent). Repeatable.
        #[arg(long, value_name = "FILE", required = true, num_args = 1..)]
        questions: Vec<PathBuf>,
        /// Write every provision of the rules texts here (JSON lines: law, item, paragraph, stk,
        /// passage: what the reader reads), what `scripts/train_reader.py` trains the reader on.
        #[arg(long, value_name = "FILE")]
        provisions: Option<PathBuf>,
        /// Each question's closeness to every provision, held out (JSON lines: id, closeness, in
        /// the order of --provisions), as `scripts/train_reader.py --oof` writes it: the ranker
        /// is then fit and cross-validated on closeness the reader was not trained on.
        #[arg(long, value_name = "FILE")]
        closeness: Option<PathBuf>,
        #[command(flatten)]
        fit: training::Fit,
    },
    /// Feedback members gave on answers.
    Feedback {
        #[command(subcommand)]
        action: FeedbackAction,
    },
    /// What the data directory holds (JSON): documents, chunks, vectors, bytes on disk.
    Stats,
    /// Copy the live data directory (index, vectors, database, audit log) into a new directory
    /// while the server keeps serving.
    Backup {
        /// The new directory.
        #[arg(long, value_name = "DIR")]
        to: PathBuf,
    },
    /// Restore a backup into the (new or empty) data directory given with --data.
    Restore {
        /// The backup.
        #[arg(long, value_name = "DIR")]
        from: PathBuf,
    },
    /// Print audit log entries (JSON lines): who saw a document, what a member asked; `audit
    /// verify` checks the log's hash chain.
    #[command(args_conflicts_with_subcommands = true)]
    Audit {
        #[command(subcommand)]
        action: Option<AuditAction>,
        /// Only this principal's requests.
        #[arg(long, value_name = "NAME")]
        principal: Option<String>,
        /// Only requests on or after this day (YYYY-MM-DD, UTC).
        #[arg(long, value_name = "DATE")]
        since: Option<chrono::NaiveDate>,
        /// Only requests that returned or cited this document.
        #[arg(long, value_name = "ID")]
        doc: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum FeedbackAction {
    /// Print the feedback (JSON lines), oldest first.
    Export {
        /// Only feedback given on or after this day (YYYY-MM-DD, UTC).
        #[arg(long, value_name = "DATE")]
        since: Option<chrono::NaiveDate>,
    },
}

#[derive(Debug, Subcommand)]
enum AuditAction {
    /// Check the hash chain: every entry must follow the line before it. Exit 1 on a break.
    Verify,
}

fn parse_mode(s: &str) -> Result<Mode, String> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).map_err(|_| format!("unknown mode {s:?}, expected hybrid, lexical or dense"))
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("BYRAAD_LOG").unwrap_or_else(|_| "info,tantivy=warn,qdrant_edge=error".into()))
        .with_writer(std::io::stderr)
        // Colour codes only where a person reads them: a log file or journal gets plain lines.
        .with_ansi(std::io::stderr().is_terminal())
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
    let clearance = if cli.all_documents { Clearance::everything() } else { Clearance::groups(cli.groups) };
    match cli.command {
        Command::Ingest { corpus, report } => {
            if let Some(corpus) = corpus {
                config.corpus.dir = corpus;
            }
            config.validate()?;
            ingest(&config, report.as_deref())
        }
        Command::Sync { corpus, sources, no_ingest, report } => {
            if let Some(corpus) = corpus {
                config.corpus.dir = corpus;
            }
            config.validate()?;
            sync::run(&config, sources.as_deref(), no_ingest, report.as_deref())
        }
        Command::Search { query, limit, json, mode } => {
            config.validate()?;
            search(&config, query, limit, json, mode, clearance)
        }
        Command::Ask { question, json } => {
            config.validate()?;
            ask(&config, question, json, clearance)
        }
        Command::DraftInquiry { member, party, text, date, addressee, docx, json } => {
            config.validate()?;
            let req = byraad_inquiry::DraftRequest { member, party, text, date, addressee, clearance };
            draft_inquiry(&config, &req, docx.as_deref(), json)
        }
        Command::Serve { addr, watch } => {
            if let Some(addr) = addr {
                config.server.addr = addr;
            }
            config.validate()?;
            serve(&config, watch)
        }
        Command::TrainAnswerer { questions, fit, answers } => {
            config.validate()?;
            training::train_answerer(&config, &questions, &fit, answers.as_deref())
        }
        Command::TrainRules { questions, provisions, closeness, fit } => {
            config.validate()?;
            training::train_rules(&config, &questions, provisions.as_deref(), closeness.as_deref(), &fit)
        }
        Command::Audit { action: Some(AuditAction::Verify), .. } => {
            config.validate()?;
            maintenance::audit_verify(&config)
        }
        Command::Audit { action: None, principal, since, doc } => {
            config.validate()?;
            audit(&config, principal.as_deref(), since, doc.as_deref())
        }
        Command::Feedback { action: FeedbackAction::Export { since } } => {
            config.validate()?;
            maintenance::feedback_export(&config, since)
        }
        Command::Stats => {
            config.validate()?;
            let (dense, why) = assembly::open_dense(&config, false)?;
            maintenance::stats(&config, dense.as_ref(), why.as_deref())
        }
        Command::Backup { to } => {
            config.validate()?;
            maintenance::backup(&config, &to)
        }
        Command::Restore { from } => {
            config.validate()?;
            maintenance::restore(&config, &from)
        }
    }
}


//! Ingest throughput and search latency on the bundled corpus.
//!
//! `cargo bench -p byraad-index` (or `make bench`). Questions come from `BYRAAD_QUESTIONS`
//! (JSON lines with a "question" field), by default `../shared/eval/dev.jsonl` beside the
//! repository. Prints: cold ingest MB/s, unchanged re-ingest time, search p50/p99 over the
//! questions (each run 5 times).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use byraad_core::{Clearance, SearchRequest};
use byraad_core::config::Config;
use byraad_index::LexicalIndex;
use byraad_ingest::{ChunkSizes, Chunker, Corpus};

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let questions_path = std::env::var_os("BYRAAD_QUESTIONS").map_or_else(|| root.join("../shared/eval/dev.jsonl"), PathBuf::from);
    let questions: Vec<String> = std::fs::read_to_string(&questions_path)
        .unwrap_or_else(|e| panic!("bench needs the question file {} (set BYRAAD_QUESTIONS): {e}", questions_path.display()))
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON line")["question"].as_str().expect("question").to_string())
        .collect();

    let config = Config::default();
    let i = &config.ingest;
    let chunker = Chunker::new(ChunkSizes { min_chars: i.chunk_min_chars, max_chars: i.chunk_max_chars, overlap_chars: i.chunk_overlap_chars }).expect("chunker");
    let corpus = Corpus::open(&root.join("corpus")).expect("bundled corpus");

    let mut rates = Vec::new();
    let mut index = None;
    let mut dirs = Vec::new();
    for _ in 0..3 {
        let dir = tempfile::tempdir().expect("tempdir");
        let idx = LexicalIndex::open(dir.path(), config.search.clone()).expect("index");
        let report = idx.ingest(&corpus, &chunker, &byraad_index::IngestOptions { writer_memory_mib: i.writer_memory_mib, ..byraad_index::IngestOptions::new("bench") }, None, |_| {}).expect("ingest");
        rates.push(report.bytes as f64 / 1e6 / report.elapsed.as_secs_f64());
        index = Some(idx);
        dirs.push(dir);
    }
    let index = index.expect("ingested");
    let again = index.ingest(&corpus, &chunker, &byraad_index::IngestOptions { writer_memory_mib: i.writer_memory_mib, ..byraad_index::IngestOptions::new("bench") }, None, |_| {}).expect("re-ingest");
    rates.sort_by(f64::total_cmp);
    println!("ingest (cold, median of 3): {:.1} MB/s", rates[1]);
    println!("re-ingest (nothing changed): {:.1} ms", again.elapsed.as_secs_f64() * 1e3);

    // The same questions under three clearances: access is a required clause of every query,
    // so its cost is measured against a search without it (the operator's everything).
    let clearances = [
        ("everything (no access clause)", Clearance::everything()),
        ("public only", Clearance::public()),
        ("public + 3 groups", Clearance::groups(vec!["byraadet".into(), "magistraten".into(), "parti:sf".into()])),
    ];
    for (name, clearance) in clearances {
        let mut latencies: Vec<Duration> = Vec::new();
        for _ in 0..5 {
            for q in &questions {
                let req = SearchRequest { query: q.clone(), limit: Some(10), clearance: clearance.clone(), ..Default::default() };
                let t = Instant::now();
                let resp = index.search(&req).expect("search");
                latencies.push(t.elapsed());
                std::hint::black_box(resp);
            }
        }
        latencies.sort();
        let pct = |p: f64| latencies[((latencies.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1e3;
        println!("search over {} questions x5, {name}: p50 {:.2} ms, p99 {:.2} ms", questions.len(), pct(0.5), pct(0.99));
    }
}

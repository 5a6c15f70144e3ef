#!/usr/bin/env python3
"""Measures byråds-GPT at 1×, 10×, 100× the bundled corpus (scripts/scale_corpus.py builds them):
ingest time and MB/s, index and vector store size, search p50/p99 per mode, /v1/chat p50, server
resident memory, and time to start (until /readyz). Lexical only unless --dense is given (the
embedding of a large corpus takes long: --dense-via URL ingests through an OpenAI-compatible
embeddings service, e.g. scripts/e5_copies_server.py, while the server embeds queries in process).
With dense on, dense and hybrid search are measured again with the vector store searching every
vector exactly (vectors.exact_search), to show what its HNSW index gives.

    scripts/bench_scale.py --bin target/release/byraad --times 1 10 100 [--dense [--dense-via URL]] [--work /tmp/scale]
"""

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time
import urllib.request

HERE = pathlib.Path(__file__).resolve().parent
QUESTIONS = HERE.parent.parent / "shared" / "eval" / "dev.jsonl"


def post(url, body, timeout=120):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())


def timed(url, bodies):
    """Milliseconds each of `bodies` took, posted to `url` one after another."""
    took = []
    for body in bodies:
        t = time.monotonic()
        post(url, body)
        took.append((time.monotonic() - t) * 1000)
    return took


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bin", default="target/release/byraad")
    p.add_argument("--times", type=int, nargs="+", default=[1, 10])
    p.add_argument("--work", default="/tmp/byraad-scale")
    p.add_argument("--dense", action="store_true", help="embed with the configured dense backend (slow at scale)")
    p.add_argument("--dense-via", help="ingest through this OpenAI-compatible embeddings service (input_type)")
    p.add_argument("--queries", type=int, default=100)
    args = p.parse_args()
    questions = [json.loads(l)["question"] for l in QUESTIONS.read_text().splitlines() if l.strip()]
    work = pathlib.Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, BYRAAD__SERVER__RATE_PER_MINUTE="0", BYRAAD__INGEST__MAX_FILE_MIB="512")
    if not args.dense:
        env["BYRAAD__DENSE__BACKEND"] = "none"
    modes = ["lexical", "dense", "hybrid"] if args.dense else ["lexical"]
    for n in args.times:
        corpus, data = work / f"corpus-{n}x", work / f"data-{n}x"
        if not corpus.exists():
            subprocess.run([sys.executable, str(HERE / "scale_corpus.py"), "--times", str(n), "--out", str(corpus)], check=True)
        subprocess.run(["rm", "-rf", str(data)], check=True)
        mb = sum(f.stat().st_size for f in corpus.rglob("*") if f.is_file()) / 1e6
        t = time.monotonic()
        ingest_env = dict(env)
        if args.dense_via:
            ingest_env.update(BYRAAD__DENSE__BACKEND="openai", BYRAAD__DENSE__OPENAI__BASE_URL=args.dense_via, BYRAAD__DENSE__OPENAI__PREFIX="input_type",
                              BYRAAD__DENSE__OPENAI__TIMEOUT_SECS="600", BYRAAD__DENSE__BATCH_SIZE="256", BYRAAD__DENSE__OPENAI__MAX_BATCH="256")
        out = subprocess.run([args.bin, "ingest", "--corpus", str(corpus), "--data", str(data)], env=ingest_env, capture_output=True, text=True)
        ingest_s = time.monotonic() - t
        if out.returncode not in (0, 1):
            sys.exit(f"ingest failed: {out.stderr[-2000:]}")
        stats = json.loads(subprocess.run([args.bin, "stats", "--data", str(data)], env=env, capture_output=True, text=True, check=True).stdout)
        server, base, start_s = start(args.bin, data, env)
        row = {"times": n, "corpus_mb": round(mb, 1), "documents": stats["documents"], "chunks": stats["chunks"], "vectors": stats["vectors"],
               "vectors_indexed": stats.get("vectors_indexed"), "ingest_s": round(ingest_s, 1), "ingest_mb_s": round(mb / ingest_s, 2),
               "ingest_chunks_s": round(stats["chunks"] / ingest_s, 1), "index_mb": round(stats["index_bytes"] / 1e6, 1),
               "vector_store_mb": round(stats["vector_store_bytes"] / 1e6, 1), "start_s": round(start_s, 2)}
        try:
            for mode in modes:
                took = timed(base + "/v1/search", [{"query": q, "mode": mode, "limit": 10} for q in questions[: args.queries]])
                row[f"search_{mode}_p50_ms"] = round(statistics.median(took), 1)
                row[f"search_{mode}_p99_ms"] = round(pct(took, 99), 1)
            took = timed(base + "/v1/chat", [{"messages": [{"role": "user", "content": q}]} for q in questions[:20]])
            row["chat_p50_ms"] = round(statistics.median(took), 1)
            rss = next(l for l in open(f"/proc/{server.pid}/status") if l.startswith("VmRSS:"))
            row["server_rss_mb"] = round(int(rss.split()[1]) / 1024, 1)
        finally:
            server.terminate()
            server.wait()
        if args.dense:
            server, base, _ = start(args.bin, data, dict(env, BYRAAD__VECTORS__EXACT_SEARCH="true"))
            try:
                for mode in ["dense", "hybrid"]:
                    took = timed(base + "/v1/search", [{"query": q, "mode": mode, "limit": 10} for q in questions[: args.queries]])
                    row[f"search_{mode}_exact_p50_ms"] = round(statistics.median(took), 1)
                    row[f"search_{mode}_exact_p99_ms"] = round(pct(took, 99), 1)
            finally:
                server.terminate()
                server.wait()
        print(json.dumps(row), flush=True)


def start(binary, data, env):
    """Starts `byraad serve` on a free port; returns it, its base URL and the seconds until /readyz."""
    t = time.monotonic()
    server = subprocess.Popen([binary, "serve", "--addr", "127.0.0.1:0", "--data", str(data)], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    base = server.stdout.readline().strip().removeprefix("listening on ")
    while True:
        try:
            with urllib.request.urlopen(base + "/readyz", timeout=5) as r:
                if r.status == 200:
                    break
        except Exception:
            time.sleep(0.05)
    return server, base, time.monotonic() - t


if __name__ == "__main__":
    main()

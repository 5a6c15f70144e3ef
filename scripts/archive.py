#!/usr/bin/env python3
"""Measure the product on a real archive: the agenda system's own JSON (Greve Kommune, 369 meetings).

  archive.py bench --bin target/release/byraad --archive ../shared/archives/greve --work DIR
                   [--questions ../shared/eval/train/greve-*.jsonl] [--lexical-only]
  archive.py score --bin target/release/byraad --archive ../shared/archives/greve --work DIR
                   --eval ../shared/eval [--corpus corpus]

bench: ingests the archive lexically, then with embeddings (each into a fresh data directory
under DIR), and prints per ingest the wall time, the report line (files, documents, chunks),
the size on disk and the peak RSS; then serves each and searches the questions in every mode the
index allows, printing p50/p95 and the server's peak RSS.

score: serves the archive (ingested with embeddings, incrementally, in DIR/archive) and scores
the Greve training questions with ../shared/eval/score --mode both; then ingests the bundled
corpus and the archive's api/ side by side (DIR/combined) and scores ../shared/eval/dev.jsonl
there, beside the bundled corpus alone (DIR/bundled): real distractors must not push Aarhus
answers out.
"""
import argparse, glob, json, os, re, shutil, socket, statistics, subprocess, sys, time, urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def du(path):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)


def ingest(bin, corpus, data, lexical):
    env = dict(os.environ)
    if lexical:
        env['BYRAAD__DENSE__BACKEND'] = 'none'
    t0 = time.perf_counter()
    p = subprocess.run(['/usr/bin/time', '-f', 'MAXRSS_KB %M', bin, 'ingest', '--corpus', corpus, '--data', data],
                       env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f'ingest failed: {p.stderr[-2000:]}')
    line = next((l for l in p.stdout.splitlines() if l.startswith('ingested')), p.stdout.strip())
    rss = int(re.search(r'MAXRSS_KB (\d+)', p.stderr).group(1))
    return {'wall_s': round(wall, 1), 'report': line, 'disk_mb': round(du(data) / 1e6, 1), 'peak_rss_mb': round(rss / 1024)}


class Server:
    def __init__(self, bin, data, lexical):
        self.port = free_port()
        env = dict(os.environ, BYRAAD__SERVER__RATE_PER_MINUTE='0')
        if lexical:
            env['BYRAAD__DENSE__BACKEND'] = 'none'
        self.proc = subprocess.Popen([bin, 'serve', '--data', data, '--addr', f'127.0.0.1:{self.port}'], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.base = f'http://127.0.0.1:{self.port}'
        for _ in range(1200):
            try:
                urllib.request.urlopen(self.base + '/readyz', timeout=1)
                return
            except OSError:
                time.sleep(0.1)
        sys.exit('the server did not become ready')

    def peak_rss_mb(self):
        with open(f'/proc/{self.proc.pid}/status') as f:
            return round(int(next(l for l in f if l.startswith('VmHWM')).split()[1]) / 1024)

    def close(self):
        self.proc.terminate()
        self.proc.wait()


def latencies(server, questions, mode):
    out = []
    for q in questions:
        body = json.dumps({'query': q, 'limit': 10, 'mode': mode}).encode()
        req = urllib.request.Request(server.base + '/v1/search', data=body, headers={'Content-Type': 'application/json'})
        t0 = time.perf_counter()
        urllib.request.urlopen(req, timeout=60).read()
        out.append((time.perf_counter() - t0) * 1000)
    out.sort()
    return {'p50_ms': round(statistics.median(out), 1), 'p95_ms': round(out[int(0.95 * (len(out) - 1))], 1)}


def bench(a):
    questions = [json.loads(l)['question'] for f in a.questions for l in open(f) if l.strip()]
    runs = [('lexical', True)] + ([] if a.lexical_only else [('embeddings', False)])
    for name, lexical in runs:
        data = os.path.join(a.work, f'bench-{name}')
        shutil.rmtree(data, ignore_errors=True)
        print(json.dumps({'ingest': name, **ingest(a.bin, a.archive, data, lexical)}, ensure_ascii=False), flush=True)
        server = Server(a.bin, data, lexical)
        try:
            modes = ['lexical'] if lexical else ['lexical', 'dense', 'hybrid']
            for mode in modes:
                print(json.dumps({'search': mode, 'index': name, 'questions': len(questions), **latencies(server, questions, mode)}), flush=True)
            print(json.dumps({'server': name, 'peak_rss_mb': server.peak_rss_mb()}), flush=True)
        finally:
            server.close()


def score(a):
    score = os.path.join(a.eval, 'score')
    greve = sorted(glob.glob(os.path.join(a.eval, 'train', 'greve-*.jsonl')))
    merged = os.path.join(a.work, 'greve-train.jsonl')
    with open(merged, 'w') as out:
        for f in greve:
            out.write(open(f).read())
    combined = os.path.join(a.work, 'combined-corpus')
    shutil.rmtree(combined, ignore_errors=True)
    shutil.copytree(a.corpus, combined)
    shutil.copytree(os.path.join(a.archive, 'api'), os.path.join(combined, 'api'))
    for name, corpus, questions in [('archive', a.archive, merged), ('bundled', a.corpus, os.path.join(a.eval, 'dev.jsonl')),
                                    ('combined', combined, os.path.join(a.eval, 'dev.jsonl'))]:
        data = os.path.join(a.work, name)
        print(json.dumps({'ingest': name, **ingest(a.bin, corpus, data, False)}, ensure_ascii=False), flush=True)
        server = Server(a.bin, data, False)
        try:
            p = subprocess.run([sys.executable, score, '--base', server.base, '--questions', questions, '--mode', 'both'],
                               capture_output=True, text=True)
            print(f'{name} ({os.path.basename(questions)}):\n{p.stdout.strip()}{p.stderr.strip()}', flush=True)
        finally:
            server.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('what', choices=['bench', 'score'])
    ap.add_argument('--bin', default='target/release/byraad')
    ap.add_argument('--archive', default='../shared/archives/greve')
    ap.add_argument('--work', required=True)
    ap.add_argument('--eval', default='../shared/eval')
    ap.add_argument('--corpus', default='corpus')
    ap.add_argument('--questions', nargs='*')
    ap.add_argument('--lexical-only', action='store_true')
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    if a.what == 'bench':
        a.questions = a.questions or sorted(glob.glob(os.path.join(a.eval, 'train', 'greve-*.jsonl')))
        bench(a)
    else:
        score(a)


if __name__ == '__main__':
    main()

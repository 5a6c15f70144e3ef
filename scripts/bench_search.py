#!/usr/bin/env python3
"""Search latency of a running byraad service, per mode, and its memory.

  bench_search.py [--base http://127.0.0.1:8080] [--questions FILE] [--rounds 5] [--pid PID]

Sends every question of FILE (JSON lines with a "question" field; default the dev questions)
`rounds` times in each mode (hybrid, lexical, dense) and prints the server-side `took_ms` and
the client-side latency p50/p99. With --pid (the server's process id) it prints the server's
resident memory before and after. Standard library only.
"""
import argparse, json, os, statistics, time, urllib.request


def rss_mib(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) / 1024
    return float('nan')


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument('--base', default='http://127.0.0.1:8080')
    ap.add_argument('--questions', default=os.path.join(here, '..', '..', 'shared', 'eval', 'dev.jsonl'))
    ap.add_argument('--rounds', type=int, default=5)
    ap.add_argument('--pid', type=int)
    a = ap.parse_args()
    qs = [json.loads(l)['question'] for l in open(a.questions, encoding='utf-8') if l.strip()]
    if a.pid:
        print('server RSS before: %.0f MiB' % rss_mib(a.pid))
    for mode in ('hybrid', 'lexical', 'dense'):
        took, wall = [], []
        for _ in range(a.rounds):
            for q in qs:
                body = json.dumps({'query': q, 'limit': 10, 'mode': mode}).encode()
                req = urllib.request.Request(a.base + '/v1/search', data=body, headers={'Content-Type': 'application/json'})
                t = time.perf_counter()
                try:
                    out = json.loads(urllib.request.urlopen(req, timeout=60).read())
                except urllib.error.HTTPError as e:
                    print('%-7s unavailable: %s' % (mode, e.read().decode()[:200]))
                    break
                wall.append((time.perf_counter() - t) * 1000)
                took.append(out['took_ms'])
        if wall:
            print('%-7s n=%d  server p50 %.0f ms p99 %.0f ms  client p50 %.1f ms p99 %.1f ms' %
                  (mode, len(wall), pct(took, 50), pct(took, 99), pct(wall, 50), pct(wall, 99)))
    if a.pid:
        print('server RSS after:  %.0f MiB' % rss_mib(a.pid))


if __name__ == '__main__':
    main()

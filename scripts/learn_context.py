#!/usr/bin/env python3
"""Choose the context weights of [fusion] (year_boost, month_boost, body_boost) by cross-validation.

  learn_context.py --bin target/release/byraad --data DIR --questions a.jsonl [b.jsonl ...]
                   [--mode lexical|hybrid] [--folds 5]

For every point of a small grid the real server is started on DIR with those weights and every
answerable question is searched (limit 10); per question it keeps recall@5 and the reciprocal
rank of the first hit holding evidence (as ../shared/eval/score counts them). Questions are
grouped by case (the case of the passage holding their evidence, else their source meeting),
the cases split into folds; for each fold the weights best on the other folds (MRR@10 + recall@5)
are scored on it. Prints the cross-validated figures, the all-zero baseline and the weights
best on all questions (what to ship when it also wins cross-validated).
"""
import argparse, hashlib, itertools, json, os, socket, statistics, subprocess, sys, time, urllib.request

GRID = {'year_boost': [0.0, 0.1, 0.25, 0.5], 'month_boost': [0.0, 0.1, 0.25], 'body_boost': [0.0, 0.1, 0.25, 0.5]}


def fold(s):
    return ''.join(ch for ch in s.lower() if ch.isalnum())


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def run_point(args, weights, questions):
    port = free_port()
    env = dict(os.environ, BYRAAD__SERVER__RATE_PER_MINUTE='0',
               **{f'BYRAAD__FUSION__{k.upper()}': str(v) for k, v in weights.items()})
    if args.mode == 'lexical':
        env['BYRAAD__DENSE__BACKEND'] = 'none'
    server = subprocess.Popen([args.bin, 'serve', '--data', args.data, '--addr', f'127.0.0.1:{port}'],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f'http://127.0.0.1:{port}'
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(base + '/readyz', timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        out = []
        for q in questions:
            req = urllib.request.Request(base + '/v1/search', data=json.dumps({'query': q['question'], 'limit': 10}).encode(),
                                         headers={'Content-Type': 'application/json'})
            hits = json.load(urllib.request.urlopen(req, timeout=60))['hits']
            texts = [fold(h.get('text', '')) for h in hits]
            ev = [fold(e) for e in q['evidence']]
            r5 = sum(any(e in t for t in texts[:5]) for e in ev) / len(ev)
            first = next((i for i, t in enumerate(texts) if any(e in t for e in ev)), None)
            case = next((h.get('case') for h, t in zip(hits, texts) if h.get('case') and any(e in t for e in ev)), None)
            out.append((r5, 0.0 if first is None else 1.0 / (first + 1), case))
        return out
    finally:
        server.terminate()
        server.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--bin', default='target/release/byraad')
    ap.add_argument('--data', required=True)
    ap.add_argument('--questions', nargs='+', required=True)
    ap.add_argument('--mode', choices=['lexical', 'hybrid'], default='hybrid')
    ap.add_argument('--folds', type=int, default=5)
    args = ap.parse_args()
    questions = [json.loads(l) for f in args.questions for l in open(f) if l.strip()]
    questions = [q for q in questions if q.get('evidence')]
    names = list(GRID)
    points = [dict(zip(names, p)) for p in itertools.product(*GRID.values())]
    results = {}
    for i, w in enumerate(points):
        results[tuple(w.values())] = run_point(args, w, questions)
        print(f'{i + 1}/{len(points)} {w}', file=sys.stderr)
    # A question's case: found by any point's hits, else its source meeting.
    cases = []
    for k, q in enumerate(questions):
        case = next((r[k][2] for r in results.values() if r[k][2]), None)
        cases.append(case or q.get('source', q['id']))
    fold_of = [int(hashlib.sha256(c.encode()).hexdigest(), 16) % args.folds for c in cases]

    def mean(key, idx, which):
        return statistics.mean(results[key][k][which] for k in idx) if idx else 0.0

    def objective(key, idx):
        return mean(key, idx, 0) + mean(key, idx, 1)

    r5, rr = [0.0] * len(questions), [0.0] * len(questions)
    chosen = []
    for f in range(args.folds):
        train = [k for k in range(len(questions)) if fold_of[k] != f]
        test = [k for k in range(len(questions)) if fold_of[k] == f]
        best = max(results, key=lambda key: (objective(key, train), -sum(key)))
        chosen.append(dict(zip(names, best)))
        for k in test:
            r5[k], rr[k] = results[best][k][0], results[best][k][1]
    zero = tuple(0.0 for _ in names)
    everything = list(range(len(questions)))
    best_all = max(results, key=lambda key: (objective(key, everything), -sum(key)))
    report = {
        'questions': len(questions), 'cases': len(set(cases)), 'mode': args.mode,
        'baseline': {'recall@5': round(mean(zero, everything, 0), 3), 'mrr@10': round(mean(zero, everything, 1), 3)},
        'cross_validated': {'recall@5': round(statistics.mean(r5), 3), 'mrr@10': round(statistics.mean(rr), 3)},
        'chosen_per_fold': chosen,
        'best_on_all': dict(zip(names, best_all)),
        'best_on_all_fit': {'recall@5': round(mean(best_all, everything, 0), 3), 'mrr@10': round(mean(best_all, everything, 1), 3)},
    }
    print(json.dumps(report, indent=1, ensure_ascii=False))


if __name__ == '__main__':
    main()

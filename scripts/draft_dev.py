#!/usr/bin/env python3
"""Turns ten dev questions into drafts against a running server and prints, for each, the
addressee chosen and whether the archive's related material was found (and holds the dev
evidence). Usage: scripts/draft_dev.py [--base URL] [--questions FILE]"""
import argparse, json, unicodedata, urllib.request


def fold(s):
    return ' '.join(unicodedata.normalize('NFKC', s).lower().split())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--base', default='http://127.0.0.1:8080')
    ap.add_argument('--questions', default='../shared/eval/dev.jsonl')
    a = ap.parse_args()
    qs = [json.loads(l) for l in open(a.questions, encoding='utf-8') if l.strip()]
    answerable = [q for q in qs if q['evidence']]
    # Ten spread over the file, the same ten every run.
    picked = [answerable[i * len(answerable) // 10] for i in range(10)]
    found = evidence = 0
    print(f"{'id':5} {'til':4} {'related':7} {'evidence':8} warnings / question")
    for q in picked:
        body = {'member': 'Anna Hansen', 'party': 'SF', 'date': '2025-12-19', 'text': q['question']}
        req = urllib.request.Request(a.base + '/v1/inquiries/draft', data=json.dumps(body).encode(),
                                     headers={'content-type': 'application/json'})
        out = json.load(urllib.request.urlopen(req))
        related = out['related']
        held = fold(' '.join(r['quote'] for r in related))
        has = any(fold(e) in held for e in q['evidence'])
        found += bool(related)
        evidence += has
        codes = ','.join(w['code'] for w in out['warnings']) or '-'
        print(f"{q['id']:5} {out['addressee']['code'] or '?':4} {len(related):7} {'yes' if has else 'no':8} {codes} / {q['question'][:70]}")
    print(f"drafts: {len(picked)}, with related material: {found}, holding the evidence: {evidence}")


if __name__ == '__main__':
    main()

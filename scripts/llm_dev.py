#!/usr/bin/env python3
"""Ten dev questions answered in LLM mode (seven answerable, three not: the first of each in the
file), against the language model that BYRAAD_TEST_LLM_URL and BYRAAD_TEST_LLM_MODEL name
(`make score-llm` starts Qwen2.5-Coder-1.5B-Instruct for it with scripts/with_llm.py).

  llm_dev.py --bin target/release/byraad --data data --questions ../shared/eval/dev.jsonl [--json]

Starts `byraad serve` in LLM mode on a free port and prints, per question: how many of the
model's sentences the verifier kept and how many it cut (uncited, unsupported, or not answering
by the answerer's judgement), whether the question was put to the model at all, whether the model itself said the
sources do not answer, whether the answer became an abstention, whether it cites the evidence, and every number the answer states that no cited
document holds (an unsupported claim that got through; there must be none). Then the totals.
"""
import argparse, json, os, re, socket, subprocess, sys, tempfile, time, urllib.request


def call(base, method, path, body=None, timeout=1800):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method, headers={'content-type': 'application/json'})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read().decode())


def fold(s):
    return ''.join(c for c in s.lower() if c.isalnum())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--bin', required=True)
    ap.add_argument('--data', required=True)
    ap.add_argument('--questions', required=True)
    ap.add_argument('--json', action='store_true')
    a = ap.parse_args()
    url, model = os.environ.get('BYRAAD_TEST_LLM_URL'), os.environ.get('BYRAAD_TEST_LLM_MODEL')
    if not url or not model:
        sys.exit('llm_dev: BYRAAD_TEST_LLM_URL and BYRAAD_TEST_LLM_MODEL name the language model (make score-llm sets them)')
    qs = [json.loads(l) for l in open(a.questions, encoding='utf-8') if l.strip()]
    chosen = [q for q in qs if q['evidence']][:7] + [q for q in qs if not q['evidence']][:3]
    env = dict(os.environ, BYRAAD__ANSWER__MODE='llm', BYRAAD__LLM__BASE_URL=url, BYRAAD__LLM__MODEL=model,
               BYRAAD__LLM__READ_TIMEOUT_SECS='900', BYRAAD__LLM__TOTAL_TIMEOUT_SECS='1800', BYRAAD__LLM__MAX_TOKENS='300', BYRAAD__SERVER__REQUEST_TIMEOUT_SECS='1800', BYRAAD_LOG='info')
    log = tempfile.NamedTemporaryFile('w+', suffix='.log')
    server = subprocess.Popen([a.bin, 'serve', '--data', a.data, '--addr', '127.0.0.1:0'], stdout=subprocess.PIPE, stderr=log, env=env, text=True)
    try:
        base = server.stdout.readline().strip().removeprefix('listening on ')
        # Ready, not only alive: the index and the models are loaded.
        for _ in range(3000):
            try:
                call(base, 'GET', '/readyz', timeout=5)
                break
            except OSError:
                time.sleep(0.2)
        rows = []
        for q in chosen:
            seen = len(open(log.name).read())
            t0 = time.time()
            out = call(base, 'POST', '/v1/chat', {'messages': [{'role': 'user', 'content': q['question']}]})
            secs = time.time() - t0
            added = open(log.name).read()[seen:]
            line = [l for l in re.sub(r'\x1b\[[0-9;]*m', '', added).splitlines() if 'answer verified' in l]
            counts = dict(re.findall(r'(kept|removed|uncited|unsupported|unanswering|declined)=(\d+)', line[-1])) if line else {}
            kept, removed, uncited, unbacked, unanswering, declined = (int(counts[k]) if k in counts else None for k in ('kept', 'removed', 'uncited', 'unsupported', 'unanswering', 'declined'))
            asked = bool(line)
            cites = out.get('citations', [])
            docs = ' '.join(call(base, 'GET', '/v1/documents/' + urllib.parse.quote(c['doc_id'], safe=''))['text'] for c in {c['doc_id']: c for c in cites}.values())
            text = re.sub(r'\[\d+\]', '', out['answer'])
            unsupported = [] if out['abstained'] else sorted({n for n in re.findall(r'\d+', text) if n not in re.findall(r'\d+', docs)})
            ev = [fold(e) for e in q['evidence']]
            cited = any(e in fold(' '.join(c['quote'] for c in cites)) for e in ev) if ev else None
            rows.append({'id': q['id'], 'answerable': bool(ev), 'mode': out['mode'], 'abstained': out['abstained'], 'asked': asked, 'kept': kept, 'removed': removed, 'uncited': uncited, 'unbacked': unbacked, 'unanswering': unanswering, 'declined': declined,
                         'cited': cited, 'fallback': 'Sprogmodellen kunne ikke svare' in (out.get('warning') or ''), 'unsupported_numbers': unsupported, 'seconds': round(secs, 1), 'answer': out['answer']})
            if not a.json:
                r = rows[-1]
                print(f"{r['id']} {'answerable' if r['answerable'] else 'unanswerable'}: mode={r['mode']} asked={asked} abstained={r['abstained']} kept={kept} removed={removed} (uncited {uncited}, unsupported {unbacked}, not answering {unanswering}) declined={declined} cited={cited} unsupported_numbers={unsupported} {secs:.0f}s")
                print('    ' + out['answer'].replace('\n', ' ')[:400])
        total = {'questions': len(rows), 'answered': sum(not r['abstained'] for r in rows), 'abstained': sum(r['abstained'] for r in rows),
                 'abstained_unanswerable': sum(r['abstained'] and not r['answerable'] for r in rows),
                 'kept_sentences': sum(r['kept'] or 0 for r in rows), 'removed_sentences': sum(r['removed'] or 0 for r in rows),
                 'removed_uncited': sum(r['uncited'] or 0 for r in rows), 'removed_unsupported': sum(r['unbacked'] or 0 for r in rows),
                 'removed_not_answering': sum(r['unanswering'] or 0 for r in rows), 'not_asked': sum(not r['asked'] for r in rows),
                 'declined_by_model': sum(bool(r['declined']) for r in rows),
                 'answers_cut': sum(bool(r['removed']) and not r['abstained'] for r in rows),
                 'turned_into_abstentions': sum(bool(r['removed']) and r['abstained'] for r in rows),
                 'cited': sum(bool(r['cited']) for r in rows), 'unsupported_numbers': sum(len(r['unsupported_numbers']) for r in rows),
                 'fallbacks': sum(r['fallback'] for r in rows)}
        print(json.dumps({'rows': rows, 'total': total}, ensure_ascii=False) if a.json else 'total: ' + ' '.join(f'{k}={v}' for k, v in total.items()))
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == '__main__':
    import urllib.parse
    main()

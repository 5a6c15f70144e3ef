#!/usr/bin/env python3
"""Train the rules reader: multilingual-e5-small fine-tuned as a bi-encoder on members' questions
and the provisions that govern them.

  train_reader.py --base models/multilingual-e5-small --provisions P.jsonl \
                  --questions ../shared/eval/train/rules-*.jsonl [--dev ../shared/eval/rules-dev.jsonl] \
                  [--folds 5] [--oof OOF.jsonl] [--out config/rules-reader.safetensors]

--provisions: every provision as the product reads it, from
`byraad train-rules --provisions FILE` (law, item, paragraph, stk, passage).

Each question is paired with its governing provision (the first stk. when the question names a
whole §) and one hard negative: another stk. of the same §, or a § within two of it, of the same
text. Loss: in-batch negatives (MultipleNegativesRankingLoss, scale 20) over the batch's
positives and hard negatives, a provision that also governs the question masked out. The word
embeddings stay frozen, and so do the layers below the top `--layers`. With --out the trained
layers are saved as the overlay `LocalE5::load_with` reads (the rest comes from the package):
each matrix as 8-bit integers with a scale per row (`NAME.q8`, stored +128 as u8, and
`NAME.scale`), biases and norms as f16. The final reader is rounded to those weights before it
is scored on --dev and before --reference is written, so both describe what ships.
--from FILE: read a reader saved with --out instead of training the final one.

--folds k: k-fold cross-validation by question first: each fold trains a reader on the other
folds and ranks the held-out questions' provisions of all five texts by closeness alone
(top-1/top-3, against the untrained model's); --oof writes each training question's held-out
closeness to every provision, so the rules ranker can be cross-validated honestly on top of it.
--dev: questions never trained on, ranked by the final reader (fit on all training questions).
Seeded; runs on the CPU.
"""
import argparse, json, math, os, random, re, sys, time

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

PRIMARY = 'kommunestyrelsesloven'


def read_jsonl(path):
    with open(path, encoding='utf-8') as f:
        return [json.loads(l) for l in f if l.strip()]


def squash(s):
    return ''.join(s.split()).lower()


def parse_expected(e):
    """'§ 8, stk. 4' -> ('§8', 4); '§ 10 a' -> ('§10a', None), as the product reads it."""
    if ', stk.' in e:
        p, s = e.split(', stk.', 1)
        return squash(p), int(s.strip())
    return squash(e), None


def paragraph_number(p):
    m = re.match(r'§\s*(\d+)', p)
    return int(m.group(1)) if m else None


class Provisions:
    def __init__(self, rows):
        self.rows = rows
        self.by_law = {}
        for i, r in enumerate(rows):
            self.by_law.setdefault(r['law'], []).append(i)

    def right(self, q):
        """Indices of the provisions governing question q (its law, its expected provisions)."""
        law = q.get('law', PRIMARY).lower()
        wanted = [parse_expected(e) for e in q['expected']]
        out = []
        for i in self.by_law.get(law, []):
            r = self.rows[i]
            if any(squash(r['paragraph']) == p and (s is None or s == r['stk']) for p, s in wanted):
                out.append(i)
        return out

    def hard_negatives(self, positive, right):
        r = self.rows[positive]
        n = paragraph_number(r['paragraph'])
        out = []
        for i in self.by_law[r['law']]:
            if i in right:
                continue
            o = self.rows[i]
            if o['paragraph'] == r['paragraph']:
                out.append(i)
            elif n is not None and paragraph_number(o['paragraph']) is not None and abs(paragraph_number(o['paragraph']) - n) <= 2:
                out.append(i)
        return out


class Encoder:
    def __init__(self, base, layers, max_tokens):
        config = BertConfig.from_json_file(os.path.join(base, 'config.json'))
        self.model = BertModel(config, add_pooling_layer=False)
        state = load_file(os.path.join(base, 'model.safetensors'))
        missing, unexpected = self.model.load_state_dict(state, strict=False)
        if unexpected or [m for m in missing if 'position_ids' not in m]:
            sys.exit(f'weights do not fit the model: missing {missing[:3]}, unexpected {unexpected[:3]}')
        self.tokenizer = PreTrainedTokenizerFast(tokenizer_file=os.path.join(base, 'tokenizer.json'))
        self.bos = self.tokenizer.convert_tokens_to_ids('<s>')
        self.eos = self.tokenizer.convert_tokens_to_ids('</s>')
        self.pad = config.pad_token_id
        self.max_tokens = max_tokens
        n = config.num_hidden_layers
        self.trained = [f'encoder.layer.{l}.' for l in range(n - layers, n)]
        for name, p in self.model.named_parameters():
            p.requires_grad = any(name.startswith(t) for t in self.trained)

    def batch(self, texts, prefix):
        ids = [self.tokenizer(prefix + t, add_special_tokens=False)['input_ids'][: self.max_tokens - 2] for t in texts]
        ids = [[self.bos] + x + [self.eos] for x in ids]
        width = max(len(x) for x in ids)
        input_ids = torch.tensor([x + [self.pad] * (width - len(x)) for x in ids])
        mask = torch.tensor([[1] * len(x) + [0] * (width - len(x)) for x in ids])
        return input_ids, mask

    def encode(self, texts, prefix):
        input_ids, mask = self.batch(texts, prefix)
        hidden = self.model(input_ids=input_ids, attention_mask=mask).last_hidden_state
        m = mask.unsqueeze(-1).float()
        return F.normalize((hidden * m).sum(1) / m.sum(1), dim=-1)

    @torch.no_grad()
    def encode_all(self, texts, prefix, batch=32):
        self.model.eval()
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = [None] * len(texts)
        for k in range(0, len(order), batch):
            idx = order[k:k + batch]
            for i, v in zip(idx, self.encode([texts[i] for i in idx], prefix)):
                out[i] = v
        return torch.stack(out)

    def trained_tensors(self):
        """The trained layers as saved: matrices in 8 bits with a scale per row, the rest f16."""
        out = {}
        for k, v in self.model.state_dict().items():
            if not any(k.startswith(t) for t in self.trained):
                continue
            v = v.detach().float()
            if v.dim() == 2:
                scale = v.abs().amax(dim=1).clamp(min=1e-12) / 127
                out[k + '.q8'] = (torch.round(v / scale[:, None]).clamp(-127, 127) + 128).to(torch.uint8).contiguous()
                out[k + '.scale'] = scale.contiguous()
            else:
                out[k] = v.to(torch.float16).contiguous()
        return out

    def load_trained(self, tensors):
        """Replaces the model's weights with saved ones (as `trained_tensors` writes them)."""
        state = {}
        for k, v in tensors.items():
            if k.endswith('.scale'):
                continue
            if k.endswith('.q8'):
                name = k[:-3]
                state[name] = (v.float() - 128) * tensors[name + '.scale'].float()[:, None]
            else:
                state[k] = v.float()
        missing, unexpected = self.model.load_state_dict(state, strict=False)
        if unexpected:
            sys.exit(f'the reader has tensors the model lacks: {unexpected[:3]}')

    def round_to_saved(self):
        self.load_trained(self.trained_tensors())


def examples(questions, provisions, rng):
    out = []
    for q in questions:
        right = provisions.right(q)
        if not right:
            continue
        negatives = provisions.hard_negatives(right[0], set(right))
        out.append({'question': q['question'], 'positive': right[0], 'negative': rng.choice(negatives) if negatives else None, 'right': set(right)})
    return out


def train(args, questions, provisions, seed, log):
    torch.manual_seed(seed)
    rng = random.Random(seed)
    enc = Encoder(args.base, args.layers, args.max_tokens)
    data = examples(questions, provisions, rng)
    params = [p for p in enc.model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=args.lr)
    steps = args.epochs * math.ceil(len(data) / args.batch)
    warmup = max(1, steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / max(1, steps - warmup))))
    passages = [r['passage'] for r in provisions.rows]
    step, started = 0, time.time()
    for epoch in range(args.epochs):
        rng.shuffle(data)
        enc.model.train()
        for k in range(0, len(data), args.batch):
            b = data[k:k + args.batch]
            cands = [e['positive'] for e in b] + [e['negative'] for e in b if e['negative'] is not None]
            q = enc.encode([e['question'] for e in b], 'query: ')
            p = enc.encode([passages[i] for i in cands], 'passage: ')
            logits = args.scale * q @ p.T
            # A candidate that governs the question too is no negative.
            blocked = torch.tensor([[c in e['right'] and j != i for j, c in enumerate(cands)] for i, e in enumerate(b)])
            logits = logits.masked_fill(blocked, -1e4)
            loss = F.cross_entropy(logits, torch.arange(len(b)))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            if step % 5 == 0 or step == steps:
                log(f'  step {step}/{steps} loss {loss.item():.3f} ({time.time() - started:.0f} s)')
    return enc


def rank(enc, questions, provisions, vectors):
    """Top-1/top-3 of the questions, every provision of all texts ranked by closeness alone."""
    qs = [q for q in questions if provisions.right(q)]
    qv = enc.encode_all([q['question'] for q in qs], 'query: ')
    sims = qv @ vectors.T
    top1 = top3 = 0
    for q, s in zip(qs, sims):
        right = set(provisions.right(q))
        order = torch.argsort(s, descending=True)[:3].tolist()
        top1 += order[0] in right
        top3 += any(i in right for i in order)
    return top1, top3, len(qs), sims


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--base', default='models/multilingual-e5-small')
    ap.add_argument('--provisions', required=True)
    ap.add_argument('--questions', nargs='+', required=True)
    ap.add_argument('--dev', nargs='*', default=[])
    ap.add_argument('--folds', type=int, default=0)
    ap.add_argument('--oof')
    ap.add_argument('--out')
    ap.add_argument('--reference', help='write the final reader\'s vectors of a few texts here (a test fixture)')
    ap.add_argument('--layers', type=int, default=12)
    ap.add_argument('--epochs', type=int, default=3)
    ap.add_argument('--batch', type=int, default=32)
    ap.add_argument('--lr', type=float, default=3e-5)
    ap.add_argument('--scale', type=float, default=20.0)
    ap.add_argument('--max-tokens', type=int, default=256)
    ap.add_argument('--seed', type=int, default=7)
    ap.add_argument('--limit', type=int, default=0, help='train on the first N questions only (a smoke run)')
    ap.add_argument('--from', dest='reader', help='a reader saved with --out, used instead of training the final one')
    args = ap.parse_args()
    torch.set_num_threads(os.cpu_count() or 2)
    log = lambda m: print(m, file=sys.stderr, flush=True)
    provisions = Provisions(read_jsonl(args.provisions))
    questions = [q for f in args.questions for q in read_jsonl(f)]
    if args.limit:
        questions = questions[:args.limit]
    dev = [q for f in args.dev for q in read_jsonl(f)]
    unmatched = [q['id'] for q in questions if not provisions.right(q)]
    log(f'{len(provisions.rows)} provisions, {len(questions)} questions ({len(unmatched)} name no provision: {unmatched[:5]})')
    passages = [r['passage'] for r in provisions.rows]
    report = {}
    if args.folds > 1 or dev:
        base = Encoder(args.base, args.layers, args.max_tokens)
        base_vectors = base.encode_all(passages, 'passage: ')
    if args.folds > 1:
        ids = sorted(q['id'] for q in questions)
        random.Random(args.seed).shuffle(ids)
        fold_of = {qid: i % args.folds for i, qid in enumerate(ids)}
        t1 = t3 = b1 = b3 = n = 0
        oof = []
        for f in range(args.folds):
            held = [q for q in questions if fold_of[q['id']] == f]
            log(f'fold {f + 1}/{args.folds}: training on {len(questions) - len(held)} questions')
            enc = train(args, [q for q in questions if fold_of[q['id']] != f], provisions, args.seed + f + 1, log)
            vectors = enc.encode_all(passages, 'passage: ')
            a1, a3, k, sims = rank(enc, held, provisions, vectors)
            z1, z3, _, _ = rank(base, held, provisions, base_vectors)
            t1, t3, b1, b3, n = t1 + a1, t3 + a3, b1 + z1, b3 + z3, n + k
            log(f'fold {f + 1}: reader top1 {a1}/{k} top3 {a3}/{k}; untrained {z1}/{k} {z3}/{k}')
            if args.oof:
                qv = enc.encode_all([q['question'] for q in held], 'query: ')
                for q, s in zip(held, (qv @ vectors.T).tolist()):
                    oof.append({'id': q['id'], 'question': q['question'], 'closeness': [round(x, 5) for x in s]})
        report['cross_validated'] = {'folds': args.folds, 'questions': n, 'reader': {'top1': round(t1 / n, 3), 'top3': round(t3 / n, 3)},
                                     'untrained': {'top1': round(b1 / n, 3), 'top3': round(b3 / n, 3)}}
        if args.oof:
            with open(args.oof, 'w', encoding='utf-8') as f:
                for row in oof:
                    f.write(json.dumps(row, ensure_ascii=False) + '\n')
    if args.out or dev or args.reference:
        if args.reader:
            enc = Encoder(args.base, args.layers, args.max_tokens)
            enc.load_trained(load_file(args.reader))
        else:
            log(f'final reader: training on all {len(questions)} questions')
            enc = train(args, questions, provisions, args.seed, log)
        enc.round_to_saved()
        if dev:
            vectors = enc.encode_all(passages, 'passage: ')
            a1, a3, k, _ = rank(enc, dev, provisions, vectors)
            z1, z3, _, _ = rank(base, dev, provisions, base_vectors)
            report['dev'] = {'questions': k, 'reader': {'top1': round(a1 / k, 3), 'top3': round(a3 / k, 3)}, 'untrained': {'top1': round(z1 / k, 3), 'top3': round(z3 / k, 3)}}
        if args.reference:
            # The trained reader's own vectors of a few texts: the product's reading of the same
            # layers must agree (tests/fixtures, checked by byraad-rules' tests).
            texts = {'query': [q['question'] for q in questions[:3]], 'passage': passages[:3]}
            ref = {role: [{'text': t, 'vector': [round(x, 6) for x in v.tolist()]} for t, v in zip(ts, enc.encode_all(ts, role + ': '))] for role, ts in texts.items()}
            with open(args.reference, 'w', encoding='utf-8') as f:
                json.dump(ref, f, ensure_ascii=False)
        if args.out:
            tensors = enc.trained_tensors()
            meta = {'base': 'multilingual-e5-small', 'layers': str(args.layers), 'questions': str(len(questions)), 'seed': str(args.seed),
                    'epochs': str(args.epochs), 'lr': str(args.lr), 'report': json.dumps(report)}
            save_file(tensors, args.out, metadata=meta)
            log(f'wrote {len(tensors)} tensors ({os.path.getsize(args.out) / 1e6:.1f} MB) to {args.out}')
    print(json.dumps(report))


if __name__ == '__main__':
    main()

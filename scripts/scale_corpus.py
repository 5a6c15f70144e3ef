#!/usr/bin/env python3
"""Builds an N× corpus from the bundled one, for measuring at scale: every copy of a document gets
its own path, title, date (shifted a month per copy), body (rotated among the corpus's bodies),
case numbers (EMN-YYYY-NNNNNN shifted) and years in its text (shifted by the copy's number modulo
five), and a first line naming the copy, so that no document and few passages are duplicates.
PDFs become text files with their pages kept (pdftotext's form feeds). Rules texts (kind lov,
haandbog) are copied once: an archive grows by its meetings, not by more copies of the law.

    scripts/scale_corpus.py --times 10 --out /tmp/corpus-10x [--corpus corpus]
"""

import argparse
import datetime
import pathlib
import re
import subprocess
import tomllib

CASE = re.compile(r"EMN-(\d{4})-(\d{6})")
YEAR = re.compile(r"\b(20[12]\d)\b")


def text_of(path: pathlib.Path) -> str:
    if path.suffix.lower() == ".pdf":
        out = subprocess.run(["pdftotext", "-enc", "UTF-8", "-eol", "unix", str(path), "-"], check=True, capture_output=True)
        return out.stdout.decode("utf-8")
    return path.read_bytes().decode("utf-8", errors="replace")


def vary(text: str, k: int) -> str:
    if k == 0:
        return text
    text = CASE.sub(lambda m: f"EMN-{m.group(1)}-{(int(m.group(2)) + 7919 * k) % 1_000_000:06d}", text)
    return YEAR.sub(lambda m: str(int(m.group(1)) + k % 5), text)


def toml_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--times", type=int, required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--corpus", default="corpus")
    args = p.parse_args()
    root = pathlib.Path(args.corpus)
    manifest = tomllib.loads((root / "manifest.toml").read_text())
    docs = manifest["document"]
    bodies = sorted({d.get("body", "") for d in docs if d.get("body")})
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=False)
    texts = {d["path"]: text_of(root / d["path"]) for d in docs}
    entries = []
    total = 0
    for k in range(args.times):
        for i, d in enumerate(docs):
            if k > 0 and d.get("kind") in ("lov", "haandbog"):
                continue
            src = pathlib.Path(d["path"])
            ext = ".txt" if src.suffix.lower() == ".pdf" else src.suffix
            rel = pathlib.Path(f"kopi-{k:03d}") / src.with_suffix(ext)
            text = vary(texts[d["path"]], k)
            if k > 0 and ext in (".txt", ".md"):
                # Front matter and Markdown headings stay first; the copy's line goes after them.
                text = text + f"\n\nKopi {k} af dokument {i} (journal {k:03d}-{i:03d}).\n"
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            (out / rel).write_text(text, encoding="utf-8")
            total += len(text.encode("utf-8"))
            body = d.get("body", "")
            if k > 0 and body and d.get("kind") not in ("lov", "haandbog"):
                body = bodies[(bodies.index(body) + k) % len(bodies)]
            e = [f"path = {toml_str(str(rel))}", f"title = {toml_str(d['title'] + (f' (kopi {k})' if k else ''))}", f"kind = {toml_str(d['kind'])}", f"body = {toml_str(body)}"]
            if d.get("date"):
                date = datetime.date.fromisoformat(str(d["date"])) + datetime.timedelta(days=30 * k)
                e.append(f"date = {toml_str(date.isoformat())}")
            e.append(f"access = {toml_str(d.get('access', 'public'))}")
            e.append("groups = [" + ", ".join(toml_str(g) for g in d.get("groups", [])) + "]")
            entries.append("[[document]]\n" + "\n".join(e) + "\n")
    (out / "manifest.toml").write_text("\n".join(entries), encoding="utf-8")
    print(f"{args.times}x: {len(entries)} files, {total / 1e6:.1f} MB of text in {out}")


if __name__ == "__main__":
    main()

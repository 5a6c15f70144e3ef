#!/usr/bin/env python3
"""Serve a recorded agenda system (FirstAgenda Publication's API) from a folder, under its own paths.

  agenda_server.py --archive ../shared/archives/greve [--port 8099]

  GET /api/agenda/udvalgsliste          -> <archive>/api/agenda/udvalgsliste.json
  GET /api/agenda/dagsorden/<id>        -> <archive>/api/agenda/dagsorden/<id>.json
  GET /vis/pdf/bilag/<id>               -> <archive>/vis/pdf/bilag/<id>.pdf when recorded, else 404
  GET /robots.txt                       -> allows everything

Answers carry an ETag (the file's SHA-256) and honour If-None-Match, as the real system's caching
does. Used to measure `byraad sync` against a real archive's size (see docs/archive.md, "Sync").
"""
import argparse, hashlib, http.server, os, re


class Handler(http.server.BaseHTTPRequestHandler):
    archive = '.'

    def log_message(self, *args):
        pass

    def do_GET(self):
        path = self.path.split('?')[0]
        routes = [
            (r'^/api/agenda/udvalgsliste/?$', lambda m: ('api/agenda/udvalgsliste.json', 'application/json')),
            (r'^/api/agenda/dagsorden/([0-9A-Za-z-]+)/?$', lambda m: (f'api/agenda/dagsorden/{m[1]}.json', 'application/json')),
            (r'^/vis/pdf/bilag/([0-9A-Za-z-]+)/?$', lambda m: (f'vis/pdf/bilag/{m[1]}.pdf', 'application/pdf')),
        ]
        if path == '/robots.txt':
            return self.answer(200, b'User-agent: *\nAllow: /\n', 'text/plain')
        for pattern, target in routes:
            m = re.match(pattern, path, re.IGNORECASE)
            if m:
                rel, ctype = target(m)
                file = os.path.join(self.archive, rel)
                if not os.path.isfile(file):
                    break
                body = open(file, 'rb').read()
                etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
                if self.headers.get('If-None-Match') == etag:
                    return self.answer(304, b'', ctype, etag)
                return self.answer(200, body, ctype, etag)
        self.answer(404, b'not found', 'text/plain')

    def answer(self, status, body, ctype, etag=None):
        self.send_response(status)
        self.send_header('Content-Type', ctype)
        if etag:
            self.send_header('ETag', etag)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        if status != 304:
            self.wfile.write(body)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--archive', required=True)
    ap.add_argument('--port', type=int, default=8099)
    a = ap.parse_args()
    Handler.archive = a.archive
    http.server.ThreadingHTTPServer(('127.0.0.1', a.port), Handler).serve_forever()


if __name__ == '__main__':
    main()

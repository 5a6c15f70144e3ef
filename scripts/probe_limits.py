"""Probes a running server as one hostile client and one member would meet it, and prints what
each got, as JSON:

1. idle: one address (127.0.0.1) opens IDLE connections and sends nothing, while another
   (127.0.0.2) searches and asks /healthz for SECONDS: how many of the idle ones the server still
   holds (at once and after), and every status the member got (serve with the rate limit off,
   BYRAAD__SERVER__RATE_PER_MINUTE=0, or the member's own rate shows as 429s).
2. flood: one address (127.0.0.3) sends requests with a bad token for 10 s on 4 connections: how
   many were refused, and how many audit lines the server wrote meanwhile (--data names its data
   directory).

    python scripts/probe_limits.py --base http://127.0.0.1:8080 --data data [--idle 600] [--seconds 10]
"""

import argparse
import collections
import http.client
import json
import pathlib
import socket
import threading
import time
import urllib.parse


def connect(host: str, port: int, source: str) -> http.client.HTTPConnection:
    return http.client.HTTPConnection(host, port, timeout=10, source_address=(source, 0))


def request(conn: http.client.HTTPConnection, method: str, path: str, body: dict | None = None, token: str | None = None) -> int:
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        r = conn.getresponse()
        r.read()
        return r.status
    except (OSError, http.client.HTTPException):
        conn.close()
        return 0


def audit_lines(data: pathlib.Path) -> int:
    return sum(len(p.read_text().splitlines()) for p in (data / "audit").glob("audit-*.jsonl"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", default="http://127.0.0.1:8080")
    ap.add_argument("--data", type=pathlib.Path, required=True)
    ap.add_argument("--idle", type=int, default=600)
    ap.add_argument("--seconds", type=float, default=10)
    a = ap.parse_args()
    url = urllib.parse.urlparse(a.base)
    host, port = url.hostname, url.port or 80

    idle = []
    for _ in range(a.idle):
        s = socket.create_connection((host, port), source_address=("127.0.0.1", 0))
        idle.append(s)
    time.sleep(0.5)

    def held() -> int:
        n = 0
        for s in idle:
            s.setblocking(False)
            try:
                s.recv(1, socket.MSG_PEEK)
            except BlockingIOError:
                n += 1
            except OSError:
                pass
        return n

    held_at_start = held()
    member = collections.Counter()
    health = collections.Counter()
    conn = connect(host, port, "127.0.0.2")
    end = time.time() + a.seconds
    while time.time() < end:
        member[request(conn, "POST", "/v1/search", {"query": "cykelstier på Randersvej"})] += 1
        health[request(conn, "GET", "/healthz")] += 1
        time.sleep(0.05)
    still_open = held()
    for s in idle:
        s.close()

    before = audit_lines(a.data)
    refused = collections.Counter()
    lock = threading.Lock()

    def flood() -> None:
        c = connect(host, port, "127.0.0.3")
        stop = time.time() + 10
        while time.time() < stop:
            status = request(c, "POST", "/v1/search", {"query": "x"}, token="ikke-et-token")
            with lock:
                refused[status] += 1

    threads = [threading.Thread(target=flood) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    during = audit_lines(a.data) - before
    print(json.dumps({
        "idle": {"connections": a.idle, "held_by_the_server": held_at_start, "held_after": still_open, "member_search": dict(member), "member_healthz": dict(health)},
        "flood": {"responses": dict(refused), "audit_lines_in_10s": during},
    }, indent=1))


if __name__ == "__main__":
    main()

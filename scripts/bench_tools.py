"""Tool-call latency of the MCP server against the same call on the HTTP API, in one run.

    python scripts/bench_tools.py --base http://127.0.0.1:8080 [--token T] [--n 30]

Each of the six MCP tools is called N times through the official MCP Python SDK (one session,
Streamable HTTP), with dev questions as arguments, and the matching HTTP API request is made
the same N times (httpx, one connection). Prints p50/p95 in milliseconds per tool and
interface, measured at the client.
"""

import argparse
import json
import statistics
import time
from pathlib import Path

import anyio
import httpx2
from mcp import ClientSession
from mcp.client.streamable_http import create_mcp_http_client, streamable_http_client

EVAL = Path(__file__).resolve().parent.parent.parent / "shared" / "eval"


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p * (len(xs) - 1))))] * 1000


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


async def bench(base: str, token: str | None, n: int, questions: list[str], rules: list[str]) -> dict[str, dict[str, list[float]]]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx2.AsyncClient(base_url=base, headers=headers, timeout=120) as http:
        first = (await http.post("/v1/search", json={"query": questions[0], "limit": 8})).json()
        ids = [h["doc_id"] for h in first["hits"]] or ["-"]
        draft = {"member": "Anna Hansen", "party": "SF", "date": "2026-11-02"}
        cases = {
            "search": [({"query": q, "limit": 8}, ("POST", "/v1/search", {"query": q, "limit": 8})) for q in questions],
            "fetch": [({"id": ids[i % len(ids)]}, ("GET", f"/v1/documents/{ids[i % len(ids)]}", None)) for i in range(n)],
            "ask": [({"question": q}, ("POST", "/v1/chat", {"messages": [{"role": "user", "content": q}]})) for q in questions],
            "lookup_rule": [({"query": q}, ("GET", "/v1/rules/lookup", {"q": q})) for q in rules],
            "search_inquiries": [({"query": q}, ("POST", "/v1/search", {"query": q, "limit": 20, "filters": {"kind": ["forespoergsel"]}})) for q in questions],
            "draft_inquiry": [(dict(draft, text=q), ("POST", "/v1/inquiries/draft", dict(draft, text=q))) for q in questions],
        }
        times: dict[str, dict[str, list[float]]] = {}
        async with create_mcp_http_client(headers=headers or None) as client:
            async with streamable_http_client(f"{base}/mcp", http_client=client) as (read, write):
                async with ClientSession(read, write) as session:
                    await session.initialize()
                    for tool, calls in cases.items():
                        mcp_t, http_t = [], []
                        for args, (method, path, body) in calls[:n]:
                            started = time.perf_counter()
                            r = await session.call_tool(tool, args)
                            mcp_t.append(time.perf_counter() - started)
                            assert not r.is_error, (tool, args, r.content)
                            started = time.perf_counter()
                            if method == "GET":
                                resp = await http.get(path, params=body)
                            else:
                                resp = await http.post(path, json=body)
                            http_t.append(time.perf_counter() - started)
                            assert resp.status_code == 200, (path, resp.text)
                        times[tool] = {"mcp": mcp_t, "http": http_t}
        return times


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--base", default="http://127.0.0.1:8080")
    p.add_argument("--token")
    p.add_argument("--n", type=int, default=30)
    a = p.parse_args()
    questions = [q["question"] for q in jsonl(EVAL / "dev.jsonl")][: a.n]
    rules = [q["question"] for q in jsonl(EVAL / "rules-dev.jsonl")][: a.n]
    times = anyio.run(bench, a.base, a.token, a.n, questions, rules)
    print(f"{'tool':<18}{'n':>4}{'MCP p50':>10}{'MCP p95':>10}{'HTTP p50':>10}{'HTTP p95':>10}   (ms)")
    for tool, t in times.items():
        print(f"{tool:<18}{len(t['mcp']):>4}{pct(t['mcp'], .5):>10.1f}{pct(t['mcp'], .95):>10.1f}{pct(t['http'], .5):>10.1f}{pct(t['http'], .95):>10.1f}")


if __name__ == "__main__":
    main()

"""Runs MCP tool calls through the official MCP Python SDK over Streamable HTTP and prints
what came back as one JSON object.

    python mcp_calls.py URL [--token TOKEN] [--calls FILE]

FILE holds a JSON list of {"tool": name, "arguments": {...}}. The output has the server's
name and protocol version, the listed tools, and per call `is_error`, the text of each content
item, the structured content and the seconds it took. A connection the server refuses prints
{"refused": status} and exits 0, so the caller can assert on it.
"""

import argparse
import json
import sys
import time

import anyio
import httpx2
from mcp import ClientSession
from mcp.client.streamable_http import create_mcp_http_client, streamable_http_client


# HTTP statuses the server answered with; the SDK reports a refusal without its status.
STATUSES: list[int] = []


async def record(response: httpx2.Response) -> None:
    STATUSES.append(response.status_code)


async def run(url: str, token: str | None, calls: list[dict]) -> dict:
    headers = {"Authorization": f"Bearer {token}"} if token else None
    async with create_mcp_http_client(headers=headers) as http:
        http.event_hooks["response"].append(record)
        async with streamable_http_client(url, http_client=http) as (read, write):
            async with ClientSession(read, write) as session:
                init = await session.initialize()
                listed = await session.list_tools()
                results = []
                for call in calls:
                    started = time.perf_counter()
                    r = await session.call_tool(call["tool"], call.get("arguments", {}))
                    results.append(
                        {
                            "tool": call["tool"],
                            "is_error": bool(r.is_error),
                            "texts": [c.text for c in r.content if getattr(c, "type", "") == "text"],
                            "structured": r.structured_content,
                            "seconds": time.perf_counter() - started,
                        }
                    )
                return {
                    "server": init.server_info.name,
                    "protocol": init.protocol_version,
                    "instructions": init.instructions,
                    "tools": [{"name": t.name, "title": t.title, "description": t.description, "schema": t.input_schema} for t in listed.tools],
                    "results": results,
                }


def refusal() -> int | None:
    """The status of a refused connection: the first 401 or 403 the server answered with."""
    return next((s for s in STATUSES if s in (401, 403)), None)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("--token")
    p.add_argument("--calls")
    a = p.parse_args()
    calls = json.load(open(a.calls)) if a.calls else []
    try:
        out = anyio.run(run, a.url, a.token, calls)
    except BaseException:  # noqa: BLE001 - reported as JSON for the caller to assert on
        status = refusal()
        if status is None:
            raise
        out = {"refused": status}
    json.dump(out, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()

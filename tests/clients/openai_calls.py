"""Asks byråds-GPT's OpenAI-compatible façade through the official `openai` Python SDK and
prints what came back as one JSON object.

    python openai_calls.py BASE_URL --question Q [--question Q2 ...] [--token TOKEN] [--model byraad]

BASE_URL ends in /v1. The output has the listed models; per question the answer not streamed
(its text and `annotations`) and streamed (the text joined from its deltas, the annotations of
its last chunk, and Open WebUI's source events, which arrive in chunks without choices); and
the error an unlisted model gets (status and OpenAI error body). A refused connection prints
{"refused": status}.
"""

import argparse
import json
import sys
import time

import openai


def extra(obj, name):
    """A field the SDK's types do not declare, as the server sent it."""
    return (getattr(obj, "model_extra", None) or {}).get(name)


def ask(client: openai.OpenAI, model: str, question: str) -> dict:
    """`question` answered not streamed and streamed, with what the client SDK reads of each."""
    messages = [{"role": "system", "content": "Svar kort."}, {"role": "user", "content": question}]
    started = time.perf_counter()
    done = client.chat.completions.create(model=model, messages=messages, temperature=0.2, top_p=0.9, user="test", max_tokens=400)
    choice = done.choices[0]
    completion = {
        "content": choice.message.content,
        "annotations": [x.model_dump() for x in (choice.message.annotations or [])],
        "finish_reason": choice.finish_reason,
        "model": done.model,
        "seconds": time.perf_counter() - started,
    }
    text, annotations, sources, finish = [], [], [], None
    stream = client.chat.completions.create(model=model, messages=messages, stream=True, stream_options={"include_usage": True})
    for chunk in stream:
        event = extra(chunk, "event")
        if event and event.get("type") == "source":
            sources.append(event["data"])
        for c in chunk.choices:
            if c.delta.content:
                text.append(c.delta.content)
            annotations.extend(extra(c.delta, "annotations") or [])
            finish = c.finish_reason or finish
    streamed = {"content": "".join(text), "annotations": annotations, "sources": sources, "finish_reason": finish}
    return {"question": question, "completion": completion, "stream": streamed}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("base_url")
    p.add_argument("--question", action="append", required=True)
    p.add_argument("--token")
    p.add_argument("--model", default="byraad")
    a = p.parse_args()
    client = openai.OpenAI(base_url=a.base_url, api_key=a.token or "ingen", max_retries=0, timeout=120)
    try:
        models = [m.id for m in client.models.list()]
    except openai.APIStatusError as e:
        json.dump({"refused": e.status_code}, sys.stdout)
        return
    answers = [ask(client, a.model, q) for q in a.question]
    try:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": a.question[0]}])
        unknown = {"status": 200}
    except openai.APIStatusError as e:
        unknown = {"status": e.status_code, "body": e.body}

    json.dump({"models": models, "answers": answers, "unknown_model": unknown}, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()

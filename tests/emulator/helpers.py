"""Small helpers for reading the emulator's streams in tests."""

from __future__ import annotations

import json
from typing import Any

import httpx

CHAT = "/llmage/v1/chat/completions"


def sse_lines(text: str) -> list[str]:
    """The ``data:`` payloads of an SSE body, checking the ``\\n\\n`` framing on the way."""
    assert text.endswith("\n\n")
    blocks = text[:-2].split("\n\n")
    assert all(b.startswith("data: ") for b in blocks), blocks[:3]
    return [b[len("data: ") :] for b in blocks]


def stream(client: httpx.Client, **body: Any) -> tuple[list[dict[str, Any]], str]:
    """(parsed chunks without [DONE], raw body) of one streamed chat call."""
    r = client.post(CHAT, json={"model": "qwen3-max", "stream": True, **body})
    assert r.status_code == 200, r.text
    lines = sse_lines(r.text)
    assert lines[-1] == "[DONE]"
    return [json.loads(x) for x in lines[:-1]], r.text


def content_text(chunks: list[dict[str, Any]]) -> str:
    return "".join(c["choices"][0]["delta"]["content"] for c in chunks if c["choices"])

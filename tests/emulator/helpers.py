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


def openai_chunks(text: str) -> list[dict[str, Any]]:
    """The chunks of an OpenAI-style chat stream, checking it ends with ``[DONE]``."""
    lines = sse_lines(text)
    assert lines[-1] == "[DONE]"
    return [json.loads(x) for x in lines[:-1]]


def sse_events(text: str) -> list[tuple[str, dict[str, Any]]]:
    """``(event, data)`` of a ``/v1/responses`` stream (``event:`` + ``data:`` blocks)."""
    assert text.endswith("\n\n")
    out = []
    for block in text[:-2].split("\n\n"):
        head, data = block.split("\n")
        assert head.startswith("event: ") and data.startswith("data: "), block
        out.append((head[len("event: ") :], json.loads(data[len("data: ") :])))
    return out


def openai_error(r: httpx.Response, status: int, code: str | None = None) -> str:
    """Check an OpenAI-style error body; its message."""
    assert r.status_code == status, r.text
    body = r.json()
    assert list(body) == ["error"] and list(body["error"]) == ["message", "type", "code"]
    if code is not None:
        assert body["error"]["code"] == code, body
    return str(body["error"]["message"])


class ManualClock:
    """A real-time clock that moves only when told, so quota waits are exact numbers."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

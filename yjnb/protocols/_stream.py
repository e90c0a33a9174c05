"""Decoding chat answers: stream events and whole answers into one `StreamAccumulator`.

The Yuanjing platform sends every piece of text twice, in `choices[0].delta.content` and in a
top-level `content`; the accumulator counts it once. Reasoning may arrive as a top-level
`reasoning_content` or as `delta.reasoning_content`, also counted once. The last data chunk
has `choices: []`, `finish: "1"`, `usage` and `llmusageid`; then `data: [DONE]`. OpenAI-style
chunks are the same shape without the copies, so one decoder serves both.

A chunk that is not JSON or of the wrong shape (a `delta` that is not an object, a `content`
that is not a string), or an error reported mid-stream, raises `StreamInterrupted` keeping what
had arrived. A whole answer of the wrong shape raises `MalformedResponse` (the client adds the
status and an excerpt).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from .._errors import MalformedResponse, StreamInterrupted
from .._estimates import estimated_usage
from .._types import ChatChunk, ChatResult, Usage

__all__ = ["StreamAccumulator", "parse_completion", "str_field"]


def _first_choice(obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
    choices = obj.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        return choices[0]
    return None


def _text(value: Any) -> bool:
    """Text fields are strings or absent (null); anything else is the wrong shape."""
    return value is None or isinstance(value, str)


def str_field(value: Any) -> str | None:
    """An id or a model name: strings only (a number or an object is ignored)."""
    return value if isinstance(value, str) and value else None


class StreamAccumulator:
    """Turns decoded `data:` payloads into chunks, and remembers everything for the result."""

    def __init__(self, *, model: str, prompt: str = "", system: str | None = None) -> None:
        self.model = model
        self.prompt = prompt
        self.system = system
        self.started = time.perf_counter()
        self.first_token_at: float | None = None
        self.text_parts: list[str] = []
        self.reasoning_parts: list[str] = []
        self.id: str | None = None
        self.usage_id: str | None = None
        self.usage: Usage | None = None
        self.finish_reason: str | None = None
        self.finished = False  # a finish signal was seen: finish "1", a finish_reason or [DONE]
        self.done = False  # [DONE] was seen

    def feed(self, data: str) -> ChatChunk | None:
        if data == "[DONE]":
            self.done = self.finished = True
            return None
        try:
            obj = json.loads(data)
        except ValueError:
            raise self.malformed(f"a chunk is not JSON: {data[:60]!r}") from None
        if not isinstance(obj, dict):
            raise self.malformed(f"a chunk is not a JSON object: {data[:60]!r}")
        if "error" in obj and "choices" not in obj:
            raise self.interrupted(f"the server reported an error mid-stream: {obj['error']}")
        self.id = self.id or str_field(obj.get("id"))
        self.usage_id = str_field(obj.get("llmusageid")) or self.usage_id
        self.model = str_field(obj.get("model")) or self.model
        if obj.get("usage"):
            self.usage = Usage.from_wire(obj["usage"])
        if obj.get("finish") == "1":
            self.finished = True

        text = reasoning = None
        choice = _first_choice(obj)
        if choice is not None:
            delta = choice.get("delta") or choice.get("message") or {}
            if not isinstance(delta, dict):
                raise self.malformed(f"a chunk has an unexpected shape: {data[:60]!r}")
            text = delta.get("content")
            reasoning = delta.get("reasoning_content")
            if choice.get("finish_reason"):
                self.finish_reason = str(choice["finish_reason"])
                self.finished = True
        else:
            # Only when there is no choice do we fall back to the top-level copy.
            text = obj.get("content")
        if reasoning is None:
            reasoning = obj.get("reasoning_content")
        if not (_text(text) and _text(reasoning)):
            raise self.malformed(f"a chunk has an unexpected shape: {data[:60]!r}")

        if not text and not reasoning:
            return None
        if self.first_token_at is None:
            self.first_token_at = time.perf_counter()
        if text:
            self.text_parts.append(text)
        if reasoning:
            self.reasoning_parts.append(reasoning)
        return ChatChunk(text=text or "", reasoning=reasoning or "")

    @property
    def text(self) -> str:
        return "".join(self.text_parts)

    @property
    def reasoning(self) -> str:
        return "".join(self.reasoning_parts)

    def result(self, *, interrupted: bool = False) -> ChatResult:
        now = time.perf_counter()
        ttft = None if self.first_token_at is None else self.first_token_at - self.started
        return ChatResult(
            text=self.text,
            reasoning=self.reasoning,
            model=self.model,
            id=self.id,
            usage_id=self.usage_id,
            finish_reason="interrupted" if interrupted else (self.finish_reason or "stop"),
            usage=self.usage,
            ttft_s=ttft,
            latency_s=now - self.started,
            prompt=self.prompt,
            system=self.system,
            # Cut off before its usage chunk: what was sent and received, estimated.
            usage_estimate=(
                estimated_usage(f"{self.system or ''}{self.prompt}", self.reasoning + self.text)
                if interrupted and self.usage is None
                else None
            ),
        )

    def absorb(self, body: Any) -> None:
        """Fold a whole (non-streamed) answer in, as if it had streamed."""
        parse_completion(self, body)

    def interrupted(self, why: str, *, malformed: bool = False) -> StreamInterrupted:
        return StreamInterrupted(
            f"chat stream from {self.model} interrupted: {why}",
            partial_text=self.text,
            partial_reasoning=self.reasoning,
            result=self.result(interrupted=True),
            malformed=malformed,
        )

    def malformed(self, why: str) -> StreamInterrupted:
        """A chunk that cannot be read: the stream is broken, and may be started again."""
        return self.interrupted(why, malformed=True)


def parse_completion(acc: StreamAccumulator, body: Any) -> None:
    """Fold a non-streamed answer into `acc`: `choices[0].message`, falling back to the
    top-level copy."""
    if not isinstance(body, dict):
        raise MalformedResponse("the chat answer is not a JSON object")
    choice = _first_choice(body)
    message = (choice or {}).get("message") or {}
    if not isinstance(message, dict):
        raise MalformedResponse("the chat answer's message is not an object")
    text = message.get("content")
    if text is None:
        text = body.get("content") or ""
    reasoning = message.get("reasoning_content") or body.get("reasoning_content") or ""
    if not (isinstance(text, str) and isinstance(reasoning, str)):
        raise MalformedResponse("the chat answer's content is not text")
    acc.text_parts = [text]
    acc.reasoning_parts = [reasoning] if reasoning else []
    acc.first_token_at = time.perf_counter()
    acc.id = str_field(body.get("id"))
    acc.usage_id = str_field(body.get("llmusageid"))
    acc.model = str_field(body.get("model")) or acc.model
    acc.usage = Usage.from_wire(body.get("usage"))
    acc.finish_reason = str_field((choice or {}).get("finish_reason")) or "stop"
    acc.finished = True

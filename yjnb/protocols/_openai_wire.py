"""The OpenAI formats both OpenAI-style protocols share: messages with parts, the Responses API's
items and events, image answers and the Sora-2 task statuses.

Chat takes `messages` whose content may be a list of parts (text, `image_url`, and on the
gateway `file`), with local files sent as base64 data URLs. `/responses` (OpenAI models only)
takes `input` parts and answers with `output` items, streamed as typed events. Video statuses
(`pending`, `processing`, `completed`/`succeeded`, `failed`/`FAILURE`) map to yjnb's.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Mapping
from typing import Any

from .._errors import MalformedResponse, ValidationError
from .._types import ChatChunk, Usage
from ._stream import StreamAccumulator, str_field
from .base import Attachment

__all__ = [
    "STATUS",
    "ResponsesAccumulator",
    "image_items",
    "messages",
    "parse_responses",
    "responses_input",
]

# Statuses of the Sora-2 flow (and OpenAI's own spellings) -> yjnb's.
STATUS = {
    "queued": "PENDING",
    "pending": "PENDING",
    "created": "CREATED",
    "processing": "RUNNING",
    "in_progress": "RUNNING",
    "running": "RUNNING",
    "completed": "SUCCEEDED",
    "succeeded": "SUCCEEDED",
    "success": "SUCCEEDED",
    "failed": "FAILED",
    "failure": "FAILED",
    "error": "FAILED",
    "cancelled": "FAILED",
}


def data_url(item: Attachment) -> str:
    """A URL as given; bytes as a base64 data URL."""
    if item.url is not None:
        return item.url
    return f"data:{item.mime};base64,{base64.b64encode(item.data).decode('ascii')}"


def _parts(text: str, images: list[Attachment], files: list[Attachment]) -> Any:
    if not images and not files:
        return text
    parts: list[dict[str, Any]] = [{"type": "text", "text": text}]
    parts += [{"type": "image_url", "image_url": {"url": data_url(i)}} for i in images]
    parts += [{"type": "file", "file": {"file_data": data_url(f)}} for f in files]
    return parts


def messages(
    prompt: str, system: str | None, given: Any, images: list[Attachment], files: list[Attachment]
) -> list[dict[str, Any]]:
    """The conversation: `given` messages (history) or system + prompt; attachments go on the
    last user message."""
    if given is None:
        messages: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []
        return [*messages, {"role": "user", "content": _parts(prompt, images, files)}]
    if not isinstance(given, list) or not all(isinstance(m, dict) and "role" in m for m in given):
        raise ValidationError("messages must be a list of {'role': ..., 'content': ...} objects")
    messages = [dict(m) for m in given]
    if system and not any(m["role"] == "system" for m in messages):
        messages.insert(0, {"role": "system", "content": system})
    if images or files:
        last = next((m for m in reversed(messages) if m["role"] == "user"), None)
        if last is None or not isinstance(last.get("content"), str):
            raise ValidationError("images and files go on the last user message, which is missing")
        last["content"] = _parts(last["content"], images, files)
    return messages


def responses_input(prompt: str, given: Any, images: list[Attachment]) -> list[dict[str, Any]]:
    """The same conversation as `/responses` input items with input_text/input_image parts."""
    items = []
    for message in messages(prompt, None, given, images, []):
        content = message.get("content")
        if isinstance(content, list):
            content = [
                {"type": "input_text", "text": p["text"]}
                if p.get("type") == "text"
                else {"type": "input_image", "image_url": p["image_url"]["url"]}
                for p in content
            ]
        items.append({"role": message["role"], "content": content})
    return items


def _output_text(response: Mapping[str, Any]) -> str:
    if isinstance(response.get("output_text"), str):
        return str(response["output_text"])
    output = response.get("output") or []
    if not isinstance(output, list):
        raise MalformedResponse("the response's output is not a list")
    texts = []
    for item in output:
        if isinstance(item, dict) and item.get("type", "message") == "message":
            for part in item.get("content") or []:
                if isinstance(part, dict) and part.get("type") == "output_text":
                    texts.append(str(part.get("text") or ""))
    return "".join(texts)


def parse_responses(acc: StreamAccumulator, body: Any) -> None:
    """Fold a whole `/responses` answer into `acc` (text, id, model, usage)."""
    if not isinstance(body, dict):
        raise MalformedResponse("the response is not a JSON object")
    acc.text_parts = [_output_text(body)]
    acc.id = str_field(body.get("id")) or acc.id
    acc.model = str_field(body.get("model")) or acc.model
    acc.usage = Usage.from_wire(body.get("usage")) or acc.usage
    status = body.get("status", "completed")
    acc.finish_reason = "stop" if status == "completed" else str(status)
    acc.finished = True


class ResponsesAccumulator(StreamAccumulator):
    """`/responses` streamed: typed events; text in `response.output_text.delta`, the end in
    `response.completed` (with usage); `response.failed` or `error` break the stream."""

    def absorb(self, body: Any) -> None:
        parse_responses(self, body)
        self.first_token_at = time.perf_counter()

    def feed(self, data: str) -> ChatChunk | None:
        if data == "[DONE]":
            self.done = self.finished = True
            return None
        try:
            event = json.loads(data)
        except ValueError:
            raise self.malformed(f"an event is not JSON: {data[:60]!r}") from None
        if not isinstance(event, dict):
            raise self.malformed(f"an event is not a JSON object: {data[:60]!r}")
        kind = str(event.get("type", ""))
        if kind in ("response.failed", "error", "response.incomplete"):
            response = event.get("response")
            nested = response.get("error") if isinstance(response, dict) else None
            error = event.get("error") or nested or kind
            raise self.interrupted(f"the server reported {error}")
        if kind == "response.completed":
            response = event.get("response") or {}
            if not isinstance(response, dict):
                raise self.malformed(f"an event has an unexpected shape: {data[:60]!r}")
            self.id = str_field(response.get("id")) or self.id
            self.model = str_field(response.get("model")) or self.model
            self.usage = Usage.from_wire(response.get("usage")) or self.usage
            self.finish_reason = "stop"
            self.done = self.finished = True
            return None
        delta = event.get("delta")
        if not isinstance(delta, str) or not delta:
            return None
        is_text = kind == "response.output_text.delta"
        if not is_text and not kind.startswith("response.reasoning"):
            return None
        if self.first_token_at is None:
            self.first_token_at = time.perf_counter()
        (self.text_parts if is_text else self.reasoning_parts).append(delta)
        return ChatChunk(text=delta if is_text else "", reasoning="" if is_text else delta)


def image_items(body: Mapping[str, Any]) -> list[tuple[str, str]]:
    """("url", URL) and ("b64", base64 text) of an images answer, in order."""
    data = body.get("data") or []
    if not isinstance(data, list):
        raise MalformedResponse("the images answer's data is not a list")
    items = []
    for item in data:
        if not isinstance(item, dict):
            continue
        if isinstance(item.get("url"), str) and item["url"]:
            items.append(("url", item["url"]))
        elif isinstance(item.get("b64_json"), str) and item["b64_json"]:
            b64 = item["b64_json"]
            # Seed 003 shows a data-URL prefix in one example; plain base64 elsewhere.
            items.append(("b64", b64.split(",", 1)[1] if b64.startswith("data:") else b64))
    return items

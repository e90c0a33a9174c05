"""The OpenAI-style protocols' formats: the OpenAI-compatible service and the gateway.

Both speak OpenAI's formats under an API root: `{base_url}/v1` for the service (seed 004; a
base URL that already ends in `/v1`, as the openai SDK wants it, is not doubled) and
`{base_url}/{platform}/v1` for the multi-platform gateway (seed 003).

What differs from Yuanjing: chat takes `messages` whose content may be a list of parts (text,
`image_url`, and on the gateway `file`), with local files sent as base64 data URLs; images
come back at once as `b64_json` or `url` (the gateway can also make them a task, `?async=true`);
videos follow the Sora-2 flow (`/videos`, `/videos/{id}`, `/videos/{id}/content`), whose
statuses (`pending`, `processing`, `completed`/`succeeded`, `failed`/`FAILURE`) are mapped to
yjnb's. `/responses` (OpenAI models only) takes `input` parts and answers with `output` items,
streamed as typed events.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from ._catalog import split_files
from ._chat import StreamAccumulator
from ._errors import ValidationError
from ._tasks import read_input, update_task
from ._types import ChatChunk, Task, Usage

__all__ = [
    "OPENAI_STYLE",
    "ResponsesAccumulator",
    "api_root",
    "as_list",
    "chat_body",
    "data_url",
    "image_items",
    "parse_responses",
    "responses_body",
    "update_openai_task",
]

OPENAI_STYLE = frozenset({"openai", "gateway"})
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


def api_root(base_url: str, protocol: str, platform: str | None) -> str:
    """The path prefix of every call: "/v1", "" (base URL ends in /v1) or "/{platform}/v1"."""
    if protocol == "gateway":
        if not platform:
            raise ValidationError(
                "the gateway protocol needs a platform: pass platform=... (to the client or "
                "the call) or set platform in the profile"
            )
        return f"/{platform}/v1"
    return "" if base_url.rstrip("/").endswith("/v1") else "/v1"


# -- inputs ----------------------------------------------------------------------------------


def _is_url(value: Any) -> bool:
    return isinstance(value, str) and value[:8].lower().startswith(("http://", "https://"))


def data_url(value: Any, what: str) -> str:
    """A URL as given; a `data:` URL as given; a local file, bytes or binary file as base64."""
    if isinstance(value, str) and (_is_url(value) or value.startswith("data:")):
        return value
    _, data, mime = read_input(value, what)
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def as_list(value: Any) -> list[Any]:
    """None -> [], else as the catalog splits a files value (lists, comma-separated paths)."""
    return [] if value is None else split_files(value)


def _parts(text: str, images: list[Any], files: list[Any]) -> str | list[dict[str, Any]]:
    if not images and not files:
        return text
    parts: list[dict[str, Any]] = [{"type": "text", "text": text}]
    parts += [{"type": "image_url", "image_url": {"url": data_url(i, "images")}} for i in images]
    parts += [{"type": "file", "file": {"file_data": data_url(f, "files")}} for f in files]
    return parts


# -- chat ------------------------------------------------------------------------------------


def _messages(
    prompt: str, system: str | None, given: Any, images: list[Any], files: list[Any]
) -> list[dict[str, Any]]:
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


def chat_body(
    prompt: str,
    *,
    model: str,
    system: str | None,
    stream: bool,
    images: Any,
    files: Any,
    params: Mapping[str, Any],
) -> dict[str, Any]:
    """`/chat/completions`: messages (history if given), parts for images and files."""
    extra = dict(params)
    given = extra.pop("messages", None)
    messages = _messages(prompt, system, given, as_list(images), as_list(files))
    body: dict[str, Any] = {"model": model, "messages": messages, **extra, "stream": stream}
    if stream:
        # Token counts of a streamed answer come only when asked for (an extra last chunk).
        body.setdefault("stream_options", {"include_usage": True})
    return body


def responses_body(
    prompt: str,
    *,
    model: str,
    system: str | None,
    stream: bool,
    images: Any,
    params: Mapping[str, Any],
) -> dict[str, Any]:
    """`/responses`: the same conversation as `input` items with input_text/input_image parts."""
    extra = dict(params)
    given = extra.pop("messages", None)
    items = []
    for message in _messages(prompt, None, given, as_list(images), []):
        content = message.get("content")
        if isinstance(content, list):
            content = [
                {"type": "input_text", "text": p["text"]}
                if p.get("type") == "text"
                else {"type": "input_image", "image_url": p["image_url"]["url"]}
                for p in content
            ]
        items.append({"role": message["role"], "content": content})
    body: dict[str, Any] = {"model": model, "input": items, **extra, "stream": stream}
    if system:
        body["instructions"] = system
    return body


def _output_text(response: Mapping[str, Any]) -> str:
    if isinstance(response.get("output_text"), str):
        return str(response["output_text"])
    texts = []
    for item in response.get("output") or []:
        if isinstance(item, dict) and item.get("type", "message") == "message":
            for part in item.get("content") or []:
                if isinstance(part, dict) and part.get("type") == "output_text":
                    texts.append(str(part.get("text") or ""))
    return "".join(texts)


def parse_responses(acc: StreamAccumulator, body: Any) -> None:
    """Fold a whole `/responses` answer into `acc` (text, id, model, usage)."""
    if not isinstance(body, dict):
        raise acc.interrupted("the answer is not a JSON object")
    acc.text_parts = [_output_text(body)]
    acc.id = body.get("id") or acc.id
    acc.model = body.get("model") or acc.model
    acc.usage = Usage.from_wire(body.get("usage")) or acc.usage
    acc.finish_reason = "stop" if body.get("status", "completed") == "completed" else body["status"]
    acc.finished = True


class ResponsesAccumulator(StreamAccumulator):
    """`/responses` streamed: typed events; text in `response.output_text.delta`, the end in
    `response.completed` (with usage); `response.failed` or `error` break the stream."""

    def feed(self, data: str) -> ChatChunk | None:
        if data == "[DONE]":
            self.done = self.finished = True
            return None
        try:
            event = json.loads(data)
        except ValueError:
            raise self.interrupted(f"an event is not JSON: {data[:60]!r}") from None
        if not isinstance(event, dict):
            raise self.interrupted(f"an event is not a JSON object: {data[:60]!r}")
        kind = str(event.get("type", ""))
        if kind in ("response.failed", "error", "response.incomplete"):
            error = event.get("error") or (event.get("response") or {}).get("error") or kind
            raise self.interrupted(f"the server reported {error}")
        if kind == "response.completed":
            response = event.get("response") or {}
            self.id = response.get("id") or self.id
            self.model = response.get("model") or self.model
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
            import time

            self.first_token_at = time.perf_counter()
        (self.text_parts if is_text else self.reasoning_parts).append(delta)
        return ChatChunk(text=delta if is_text else "", reasoning="" if is_text else delta)


# -- images and videos -----------------------------------------------------------------------


def image_items(body: Mapping[str, Any]) -> list[tuple[str, str]]:
    """("url", URL) and ("b64", base64 text) of an images answer, in order."""
    items = []
    for item in body.get("data") or []:
        if not isinstance(item, dict):
            continue
        if isinstance(item.get("url"), str) and item["url"]:
            items.append(("url", item["url"]))
        elif isinstance(item.get("b64_json"), str) and item["b64_json"]:
            b64 = item["b64_json"]
            # Seed 003 shows a data-URL prefix in one example; plain base64 elsewhere.
            items.append(("b64", b64.split(",", 1)[1] if b64.startswith("data:") else b64))
    return items


def update_openai_task(task: Task, body: Mapping[str, Any], root_url: str) -> Task:
    """Fold one status answer of a video (or gateway image) task into `task`: the answer is
    put in Yuanjing's words for `update_task`, then the detail and the content URL are added."""
    status = body.get("status")
    if isinstance(status, str) and status:
        status = STATUS.get(status.strip().lower(), status)
    reason = body.get("fail_reason") or body.get("error") or body.get("message")
    if isinstance(reason, dict):
        reason = reason.get("message") or json.dumps(reason)
    progress = body.get("progress")
    translated = {
        "status": status,
        "taskid": body.get("id"),
        "usage": body.get("usage"),
        "progress": None if isinstance(progress, bool) else progress,
        "fail_reason": reason,
    }
    update_task(task, translated)
    if isinstance(body.get("detail"), dict):
        task.detail = dict(body["detail"])
    if task.status == "SUCCEEDED" and task.kind == "video" and not task.video_url:
        task.video_url = f"{root_url}/videos/{quote(task.taskid, safe='')}/content"
    return task

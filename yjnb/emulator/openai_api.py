"""Chat completions, ``/v1/responses`` and the model lists of ``/v1`` and the gateway.

Chat chunks follow seed 003 key for key (``id, object, created, model, choices``), with
compact separators and raw UTF-8 like its capture; the first chunk's delta is
``{"role": "assistant"}``, the stop chunk's ``{}``, and the usage chunk (``choices: []``)
comes only with ``stream_options.include_usage``. ``/v1/responses`` streams
``event: TYPE`` + ``data: JSON`` blocks: ``response.created``, one
``response.output_text.delta`` per token, ``response.completed`` (no ``[DONE]``).

Replies come from :mod:`.text` (so ``echo:`` and the other directives work). When image
or file parts arrive, the reply starts with ``I see 1 image.`` / ``I see 2 images and 1
file.``. Prompt tokens: the text's tokens plus 85 per image and 258 per file. A ``stop``
string cuts the reply where it first appears. Tokens are reported (and count against a
``tpm`` quota), credits never charged; a key whose balance is 0 or less gets 429
``insufficient_quota``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

from .chat import ChatStream
from .context import ApiError, Ctx, compact_response, read_json, spend_tokens
from .oai_common import decode_base64, image_input, is_url, new_id, platform_of
from .oai_models import models_for, resolve
from .text import count_tokens, reply, split_tokens

IMAGE_TOKENS = 85
FILE_TOKENS = 258
RANGES = {
    "temperature": (0.0, 1.0),
    "top_p": (0.0, 1.0),
    "frequency_penalty": (-2.0, 2.0),
    "presence_penalty": (-2.0, 2.0),
}
ROLES = ("system", "developer", "user", "assistant")


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def check_quota(ctx: Ctx) -> None:
    if ctx.state.balance(ctx.key) <= 0:
        raise ApiError(
            429, "You exceeded your current quota, please check your balance",
            code="insufficient_quota",
        )  # fmt: skip


@dataclass
class Conversation:
    """What the emulator takes from a message list."""

    prompt: str = ""
    system: str = ""
    tokens: int = 0
    images: int = 0
    files: int = 0

    def note(self) -> str:
        seen = []
        if self.images:
            seen.append(f"{self.images} image" + ("s" if self.images > 1 else ""))
        if self.files:
            seen.append(f"{self.files} file" + ("s" if self.files > 1 else ""))
        return f"I see {' and '.join(seen)}." if seen else ""


def _url_field(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, dict) else value


def _part(part: Any, conv: Conversation) -> str:
    """One content part's text; images and files are checked and counted."""
    if not isinstance(part, dict):
        raise ApiError(400, "Invalid parameter: content parts must be objects")
    kind = part.get("type")
    if kind in ("text", "input_text", "output_text"):
        text = part.get("text")
        if not isinstance(text, str):
            raise ApiError(400, f"Invalid parameter: a {kind} part needs a string text")
        return text
    if kind in ("image_url", "input_image"):
        url = _url_field(part.get("image_url"), "url")
        image_input(url, kind)
        conv.images += 1
        return ""
    if kind in ("file", "input_file"):
        data = _url_field(part.get("file") if kind == "file" else part, "file_data")
        data = data or _url_field(part.get("file") or part, "file_url")
        if not isinstance(data, str) or not data.strip():
            raise ApiError(400, f"Invalid parameter: a {kind} part needs file_data")
        if not is_url(data.strip()):
            decode_base64(data.strip(), "file_data")
        conv.files += 1
        return ""
    raise ApiError(400, f"Invalid parameter: unsupported content part type {kind!r}")


def conversation(messages: Any) -> Conversation:
    """Prompt (the last user message), system text, tokens and attachments of a chat."""
    if not isinstance(messages, list) or not messages:
        raise ApiError(400, "Missing required parameter: messages")
    conv = Conversation()
    systems: list[str] = []
    for message in messages:
        if not isinstance(message, dict):
            raise ApiError(400, "Invalid parameter: messages must be objects")
        role = message.get("role", "user")
        if role not in ROLES:
            raise ApiError(400, f"Invalid parameter: role {role!r} (allowed: {', '.join(ROLES)})")
        content = message.get("content")
        before = conv.images + conv.files
        if isinstance(content, str):
            text = content
        elif isinstance(content, list):
            text = "".join(_part(p, conv) for p in content)
        else:
            raise ApiError(400, "Invalid parameter: content must be a string or a list of parts")
        if not text.strip() and conv.images + conv.files == before:
            raise ApiError(400, "Invalid parameter: message content is empty")
        conv.tokens += count_tokens(text)
        if role in ("system", "developer"):
            systems.append(text)
        elif role == "user":
            conv.prompt = text
    if not conv.prompt and not conv.images + conv.files:
        raise ApiError(400, "Invalid parameter: messages need a user message")
    conv.system = "\n".join(systems)
    conv.tokens += IMAGE_TOKENS * conv.images + FILE_TOKENS * conv.files
    return conv


def _number(body: dict[str, Any], name: str) -> None:
    value = body.get(name)
    if value is None:
        return
    low, high = RANGES[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ApiError(400, f"Invalid parameter: {name} must be a number in [{low}, {high}]")


def max_tokens_of(body: dict[str, Any], *names: str) -> int | None:
    for name in names:
        raw = body.get(name)
        if raw is None:
            continue
        if isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
            raise ApiError(400, f"Invalid parameter: {name} must be a positive integer")
        return raw
    return None


def _stops(body: dict[str, Any]) -> list[str]:
    stop = body.get("stop")
    if stop is None:
        return []
    stops = [stop] if isinstance(stop, str) else stop
    if not isinstance(stops, list) or not all(isinstance(s, str) and s for s in stops):
        raise ApiError(400, "Invalid parameter: stop must be a string or a list of strings")
    return stops


def check_chat_body(body: dict[str, Any]) -> None:
    for name in RANGES:
        _number(body, name)
    if body.get("stream") is not None and not isinstance(body["stream"], bool):
        raise ApiError(400, "Invalid parameter: stream must be a boolean")
    if body.get("user") is not None and not isinstance(body["user"], str):
        raise ApiError(400, "Invalid parameter: user must be a string")
    options = body.get("stream_options")
    if options is not None and not isinstance(options, dict):
        raise ApiError(400, "Invalid parameter: stream_options must be an object")


def answer(model: str, conv: Conversation, max_tokens: int | None, stops: list[str]) -> list[str]:
    """The reply's token pieces: the attachment note, then the :mod:`.text` reply."""
    pieces = reply(model, conv.system, conv.prompt, max_tokens)
    note = conv.note()
    if note:
        if pieces and not pieces[0][:1].isspace():
            pieces[0] = " " + pieces[0]
        pieces = split_tokens(note) + pieces
    if max_tokens is not None:
        del pieces[max_tokens:]
    text = "".join(pieces)
    cut = min((i for i in (text.find(s) for s in stops) if i >= 0), default=-1)
    if cut >= 0:
        kept, size = [], 0
        for piece in pieces:
            if size + len(piece) > cut:
                if cut > size:
                    kept.append(piece[: cut - size])
                break
            kept.append(piece)
            size += len(piece)
        pieces = kept
    return pieces


class ChatReply:
    """One ``/chat/completions`` answer (whole or streamed)."""

    credits = 0.0  # the OpenAI side reports tokens, not credits

    def __init__(self, model: str, pieces: list[str], prompt_tokens: int, usage: bool) -> None:
        self.id = new_id("foaicmpl-")
        self.created = int(time.time())
        self.model = model
        self.pieces = pieces
        self.include_usage = usage
        self.usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": len(pieces),
            "total_tokens": prompt_tokens + len(pieces),
        }

    def _chunk(self, choices: list[dict[str, Any]], usage: bool = False) -> bytes:
        obj: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": choices,
        }
        if usage:
            obj["usage"] = self.usage
        return f"data: {dumps(obj)}\n\n".encode()

    def events(self, finish: bool) -> Iterator[bytes]:
        yield self._chunk([{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}])
        for piece in self.pieces:
            delta = {"content": piece}
            yield self._chunk([{"index": 0, "delta": delta, "finish_reason": None}])
        if not finish:
            return
        yield self._chunk([{"index": 0, "delta": {}, "finish_reason": "stop"}])
        if self.include_usage:
            yield self._chunk([], usage=True)
        yield b"data: [DONE]\n\n"

    def completion(self) -> dict[str, Any]:
        message = {"role": "assistant", "content": "".join(self.pieces)}
        return {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": self.usage,
        }


async def _whole(ctx: Ctx, obj: dict[str, Any]) -> Response:
    if ctx.faults.first_byte:  # a whole body is its own first byte
        await asyncio.sleep(ctx.faults.first_byte)
    return compact_response(obj)


async def chat_completions(ctx: Ctx) -> Any:
    platform = platform_of(ctx)
    body = await read_json(ctx.request)
    model = resolve(body.get("model"), platform, "chat")
    check_chat_body(body)
    conv = conversation(body.get("messages"))
    max_tokens = max_tokens_of(body, "max_tokens", "max_completion_tokens")
    stops = _stops(body)
    check_quota(ctx)
    usage = (body.get("stream_options") or {}).get("include_usage") is True
    result = ChatReply(model, answer(model, conv, max_tokens, stops), conv.tokens, usage)
    spend_tokens(ctx, result.usage["total_tokens"])
    if body.get("stream"):
        return ChatStream(ctx.state, ctx.key, result, ctx.faults)
    return await _whole(ctx, result.completion())


class ResponsesReply:
    """One ``/v1/responses`` answer (whole or streamed)."""

    credits = 0.0

    def __init__(self, model: str, pieces: list[str], input_tokens: int) -> None:
        self.id = new_id("resp_")
        self.message_id = new_id("msg_")
        self.created = int(time.time())
        self.model = model
        self.pieces = pieces
        self.input_tokens = input_tokens

    def response(self, done: bool = True) -> dict[str, Any]:
        output = []
        if done:
            text = {"type": "output_text", "text": "".join(self.pieces), "annotations": []}
            output.append(
                {
                    "type": "message",
                    "id": self.message_id,
                    "role": "assistant",
                    "status": "completed",
                    "content": [text],
                }
            )
        out_tokens = len(self.pieces)
        return {
            "id": self.id,
            "object": "response",
            "created_at": self.created,
            "model": self.model,
            "status": "completed" if done else "in_progress",
            "output": output,
            "usage": {
                "input_tokens": self.input_tokens,
                "output_tokens": out_tokens,
                "total_tokens": self.input_tokens + out_tokens,
            }
            if done
            else None,
        }

    def events(self, finish: bool) -> Iterator[bytes]:
        def event(kind: str, **fields: Any) -> bytes:
            return f"event: {kind}\ndata: {dumps({'type': kind, **fields})}\n\n".encode()

        yield event("response.created", response=self.response(done=False))
        for piece in self.pieces:
            yield event(
                "response.output_text.delta",
                item_id=self.message_id,
                output_index=0,
                content_index=0,
                delta=piece,
            )
        if finish:
            yield event("response.completed", response=self.response())


def _responses_input(body: dict[str, Any]) -> Conversation:
    raw = body.get("input")
    if isinstance(raw, str):
        if not raw.strip():
            raise ApiError(400, "Invalid parameter: input is empty")
        raw = [{"role": "user", "content": raw}]
    if not isinstance(raw, list) or not raw:
        raise ApiError(400, "Missing required parameter: input")
    conv = conversation(raw)
    instructions = body.get("instructions")
    if isinstance(instructions, str) and instructions:
        conv.system = f"{instructions}\n{conv.system}".strip()
        conv.tokens += count_tokens(instructions)
    return conv


async def responses(ctx: Ctx) -> Any:
    body = await read_json(ctx.request)
    model = resolve(body.get("model"), None, "chat")
    if not model.startswith("gpt-"):
        raise ApiError(
            400, "The responses API supports OpenAI series models only", code="unsupported_model"
        )
    if body.get("stream") is not None and not isinstance(body["stream"], bool):
        raise ApiError(400, "Invalid parameter: stream must be a boolean")
    _number(body, "temperature")
    _number(body, "top_p")
    conv = _responses_input(body)
    max_tokens = max_tokens_of(body, "max_output_tokens")
    check_quota(ctx)
    result = ResponsesReply(model, answer(model, conv, max_tokens, []), conv.tokens)
    spend_tokens(ctx, result.input_tokens + len(result.pieces))
    if body.get("stream"):
        return ChatStream(ctx.state, ctx.key, result, ctx.faults)
    return await _whole(ctx, result.response())


async def list_models(ctx: Ctx) -> Response:
    return compact_response({"object": "list", "data": models_for(platform_of(ctx))})

"""``POST /llmage/v1/chat/completions``: the seed's chunk format, byte for byte.

Every chunk equals ``"data: " + json.dumps(obj) + "\\n\\n"`` for the seed's key order, but
content chunks are assembled from pre-encoded byte pieces so a 20,000-token stream costs
one small ``bytes.join`` per token. Without faults or delays, chunks are coalesced into
~16 KB writes (still one SSE event per token); with faults every chunk is its own write.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
import uuid
from collections.abc import Iterator
from typing import Any, Protocol

from starlette.types import Receive, Scope, Send

from .context import ApiError, Ctx, json_response, read_json, spend_tokens
from .faults import Faults
from .models import CHAT, ChatModel
from .state import State
from .text import count_tokens, reasoning, reply

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-"
_BATCH_BYTES = 16384
_STALL_SECONDS = 3600.0
_ENCODED: dict[str, bytes] = {}  # token piece -> its JSON string literal, bytes


def _enc(piece: str) -> bytes:
    out = _ENCODED.get(piece)
    if out is None:
        out = json.dumps(piece).encode()
        if len(_ENCODED) < 100_000:  # echo text is unbounded; keep the cache bounded
            _ENCODED[piece] = out
    return out


def _usage_id() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(21))


def _event(obj: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(obj).encode() + b"\n\n"


def _text_of(content: Any) -> str:
    """OpenAI message content: a string or a list of ``{"type": "text"}`` parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text"
        )
    return ""


def _prompts(body: dict[str, Any]) -> tuple[str, str]:
    prompt = body.get("prompt")
    sys_prompt = body.get("sys_prompt") or ""
    messages = body.get("messages")
    if not prompt and isinstance(messages, list):
        # OpenAI SDK shape: the last user message is the prompt, system messages the sys_prompt.
        users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
        systems = [m for m in messages if isinstance(m, dict) and m.get("role") == "system"]
        if users:
            prompt = _text_of(users[-1].get("content"))
        if systems and not sys_prompt:
            sys_prompt = "\n".join(_text_of(m.get("content")) for m in systems)
    if not isinstance(prompt, str) or not prompt:
        raise ApiError(400, "Missing required parameter: prompt")
    if not isinstance(sys_prompt, str):
        raise ApiError(400, "Invalid parameter: sys_prompt must be a string")
    return prompt, sys_prompt


class Reply:
    """One chat call, computed up front (text is cheap), encoded lazily."""

    def __init__(self, model: ChatModel, prompt: str, sys_prompt: str, max_tokens: int | None):
        self.model = model
        self.id = f"chatcmpl-{uuid.uuid4()}"
        self.usage_id = _usage_id()
        self.created = int(time.time())
        self.pieces = reply(model.name, sys_prompt, prompt, max_tokens)
        self.thinking = reasoning(model.name, sys_prompt, prompt) if model.reasoning else []
        self.prompt_tokens = count_tokens(prompt) + count_tokens(sys_prompt)
        self.completion_tokens = len(self.pieces) + len(self.thinking)
        self.cached_tokens = 0

    @property
    def usage(self) -> dict[str, Any]:
        return {
            "total_tokens": self.prompt_tokens + self.completion_tokens,
            "completion_tokens": self.completion_tokens,
            "prompt_tokens": self.prompt_tokens,
            "prompt_tokens_details": {"cached_tokens": self.cached_tokens},
        }

    @property
    def credits(self) -> float:
        return (self.prompt_tokens + self.completion_tokens) * self.model.price_per_token

    def _base(self) -> dict[str, Any]:
        return {"id": self.id, "object": "chat.completion.chunk", "created": self.created}

    def events(self, finish: bool) -> Iterator[bytes]:
        """Every SSE event of the stream; without ``finish`` the content only."""
        model = json.dumps(self.model.name)
        uid = json.dumps(self.usage_id)
        head = f'data: {{"id": "{self.id}", "object": "chat.completion.chunk", '
        head += f'"created": {self.created}, "choices": [{{"delta": {{"content": '
        tail = f', "finish": "0", "llmusageid": {uid}}}\n\n'.encode()
        a = head.encode()
        yield _event(
            {
                **self._base(),
                "choices": [
                    {"logprobs": None, "index": 0, "delta": {"content": "", "role": "assistant"}}
                ],
                "model": self.model.name,
                "reasoning_content": None,
                "content": "",
                "finish": "0",
                "llmusageid": self.usage_id,
            }
        )
        if self.thinking:
            ra = a + b'"", "role": null, "reasoning_content": '
            rb = f'}}, "index": 0}}], "model": {model}, "reasoning_content": '.encode()
            rc = b', "content": ""' + tail
            for piece in self.thinking:
                r = _enc(piece)
                yield b"".join((ra, r, rb, r, rc))
        b = f', "role": null}}, "index": 0}}], "model": {model}, "reasoning_content": null, '
        b += '"content": '
        bb = b.encode()
        for piece in self.pieces:
            c = _enc(piece)
            yield b"".join((a, c, bb, c, tail))
        if not finish:
            return
        stop = {"delta": {"content": "", "role": None}, "index": 0, "finish_reason": "stop"}
        yield _event(
            {
                **self._base(),
                "choices": [stop],
                "model": self.model.name,
                "reasoning_content": None,
                "content": "",
                "finish": "0",
                "llmusageid": self.usage_id,
            }
        )
        yield _event(
            {
                **self._base(),
                "choices": [],
                "model": self.model.name,
                "finish": "1",
                "usage": self.usage,
                "llmusageid": self.usage_id,
            }
        )
        yield b"data: [DONE]\n\n"

    def completion(self) -> dict[str, Any]:
        text = "".join(self.pieces)
        thought = "".join(self.thinking) if self.thinking else None
        message: dict[str, Any] = {"content": text, "role": "assistant"}
        if thought is not None:
            message["reasoning_content"] = thought
        usage = self.usage
        return {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "choices": [{"finish_reason": "stop", "index": 0, "message": message}],
            "model": self.model.name,
            "reasoning_content": thought,
            "content": text,
            "finish": "1",
            "usage": {
                "completion_tokens": usage["completion_tokens"],
                "prompt_tokens": usage["prompt_tokens"],
                "prompt_tokens_details": usage["prompt_tokens_details"],
                "total_tokens": usage["total_tokens"],
            },
            "llmusageid": self.usage_id,
        }


class Streamable(Protocol):
    """What :class:`ChatStream` streams: :class:`Reply` or the OpenAI-side replies."""

    @property
    def credits(self) -> float: ...

    def events(self, finish: bool) -> Iterator[bytes]: ...


class ChatStream:
    """A raw ASGI response: Starlette's StreamingResponse adds a task group per request
    and cannot abort the transport, both of which the emulator needs to avoid or do."""

    def __init__(self, state: State, key: str, result: Streamable, faults: Faults) -> None:
        self.state = state
        self.key = key
        self.result = result
        self.faults = faults
        self.epoch = state.epoch  # a reset while streaming voids the charge

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        f = self.faults
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"text/event-stream; charset=utf-8"),
                    (b"cache-control", b"no-cache"),
                ],
            }
        )
        if f.first_byte:
            await asyncio.sleep(f.first_byte)
        delay = f.chunk_delay if f.chunk_delay is not None else self.state.chunk_delay
        events = self.result.events(finish=not f.no_finish)
        if not delay and f.streams_plainly:
            await self._fast(events, send)
        elif not await self._slow(events, delay, receive, send):
            return  # dropped or stalled: the response is deliberately left incomplete
        if not f.no_finish:
            # Charged before the body ends: a client that reads the balance once its answer
            # has ended must see the charge (after the end, a busy server charged it later).
            self.state.charge(self.key, self.result.credits, self.epoch)
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _fast(self, events: Iterator[bytes], send: Send) -> None:
        await send(_body(next(events)))
        batch: list[bytes] = []
        size = 0
        for event in events:
            batch.append(event)
            size += len(event)
            if size >= _BATCH_BYTES:
                await send(
                    {"type": "http.response.body", "body": b"".join(batch), "more_body": True}
                )
                batch.clear()
                size = 0
                await asyncio.sleep(0)  # let the other streams' writes interleave
        if batch:
            await send(_body(b"".join(batch)))

    async def _slow(
        self, events: Iterator[bytes], delay: float, receive: Receive, send: Send
    ) -> bool:
        f = self.faults
        gone = asyncio.ensure_future(_wait_disconnect(receive))
        try:
            for n, event in enumerate(events):
                if f.drop_after is not None and n >= f.drop_after:
                    return False  # uvicorn closes the transport mid-body: an abort
                if f.stall_after is not None and n >= f.stall_after:
                    deadline = time.monotonic() + _STALL_SECONDS
                    while not gone.done() and not self.state.closing:
                        if time.monotonic() > deadline:
                            break
                        await asyncio.wait({gone}, timeout=0.1)
                    return False
                if f.bad_chunk_after is not None and n == f.bad_chunk_after:
                    await send(_body(b'data: {"id": "broken", "choices": [{"delta":\n\n'))
                if n and delay:
                    await asyncio.sleep(delay)
                if gone.done() or self.state.closing:
                    return False
                await send(_body(event))
            return True
        finally:
            gone.cancel()


def _body(data: bytes) -> dict[str, Any]:
    return {"type": "http.response.body", "body": data, "more_body": True}


async def _wait_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


def _max_tokens(body: dict[str, Any]) -> int | None:
    raw = body.get("max_tokens", body.get("max_completion_tokens"))
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
        raise ApiError(400, "Invalid parameter: max_tokens must be a positive integer")
    return raw


async def chat_completions(ctx: Ctx) -> Any:
    body = await read_json(ctx.request)
    name = body.get("model")
    if not name:
        raise ApiError(400, "Missing required parameter: model")
    catelog = body.get("catelogid") or "t2t"
    if catelog != "t2t":
        raise ApiError(400, f"Invalid parameter: catelogid {catelog!r} (chat uses t2t)")
    model = CHAT.get(name) if isinstance(name, str) else None
    if model is None:
        raise ApiError(400, f"Invalid parameter: model {name!r} is not a chat model")
    prompt, sys_prompt = _prompts(body)
    max_tokens = _max_tokens(body)
    key = ctx.key
    if ctx.state.balance(key) <= 0:
        raise ApiError(429, "Insufficient balance")
    result = Reply(model, prompt, sys_prompt, max_tokens)
    if sys_prompt:
        seen = (key, sys_prompt)
        if seen in ctx.state.seen_sys:
            result.cached_tokens = count_tokens(sys_prompt)
        ctx.state.seen_sys.add(seen)
    spend_tokens(ctx, result.prompt_tokens + result.completion_tokens)
    if body.get("stream"):
        return ChatStream(ctx.state, key, result, ctx.faults)
    epoch = ctx.state.epoch
    if ctx.faults.first_byte:  # a whole body is its own first byte
        await asyncio.sleep(ctx.faults.first_byte)
    ctx.state.charge(key, result.credits, epoch)
    return json_response(result.completion())

"""Chat requests and stream aggregation.

The platform sends every piece of text twice, in `choices[0].delta.content` and in a top-level
`content`; the accumulator counts it once. Reasoning may arrive as a top-level
`reasoning_content` or as `delta.reasoning_content`, also counted once. The last data chunk has
`choices: []`, `finish: "1"`, `usage` and `llmusageid`; then `data: [DONE]`.

A stream that ends without any finish signal, sends a chunk that is not JSON, stalls past the
read timeout or is cancelled raises `StreamInterrupted`, keeping what had arrived.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime
from typing import Any

import httpx

from ._errors import StreamInterrupted
from ._sse import SSEDecoder
from ._types import ChatChunk, ChatResult, Usage, UsageRecord, utcnow

__all__ = [
    "AsyncChatStream",
    "StreamAccumulator",
    "chat_payload",
    "chat_record",
    "parse_completion",
]

ChatDone = Callable[[ChatResult, str, "str | None"], None]


def chat_payload(
    prompt: str, *, model: str, system: str | None, stream: bool, params: Mapping[str, Any]
) -> dict[str, Any]:
    """The request body: the seed's `prompt`/`sys_prompt`/`catelogid`, extras passed through."""
    payload: dict[str, Any] = {"model": model, "catelogid": "t2t", "prompt": prompt}
    if system:
        payload["sys_prompt"] = system
    payload.update(params)
    payload["stream"] = stream
    return payload


def _first_choice(obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
    choices = obj.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        return choices[0]
    return None


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
            raise self.interrupted(f"a chunk is not JSON: {data[:60]!r}") from None
        if not isinstance(obj, dict):
            raise self.interrupted(f"a chunk is not a JSON object: {data[:60]!r}")
        if "error" in obj and "choices" not in obj:
            raise self.interrupted(f"the server reported an error mid-stream: {obj['error']}")
        self.id = self.id or obj.get("id")
        self.usage_id = obj.get("llmusageid") or self.usage_id
        if obj.get("model"):
            self.model = obj["model"]
        if obj.get("usage"):
            self.usage = Usage.from_wire(obj["usage"])
        if obj.get("finish") == "1":
            self.finished = True

        text = reasoning = None
        choice = _first_choice(obj)
        if choice is not None:
            delta = choice.get("delta") or choice.get("message") or {}
            text = delta.get("content")
            reasoning = delta.get("reasoning_content")
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]
                self.finished = True
        else:
            # Only when there is no choice do we fall back to the top-level copy.
            text = obj.get("content")
        if reasoning is None:
            reasoning = obj.get("reasoning_content")

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
        )

    def interrupted(self, why: str) -> StreamInterrupted:
        return StreamInterrupted(
            f"chat stream from {self.model} interrupted: {why}",
            partial_text=self.text,
            partial_reasoning=self.reasoning,
            result=self.result(interrupted=True),
        )


def parse_completion(
    body: Any, *, model: str, prompt: str, system: str | None, started: float
) -> ChatResult:
    """A non-streamed answer: `choices[0].message`, falling back to the top-level copy."""
    if not isinstance(body, dict):
        raise StreamInterrupted(f"chat answer from {model} is not a JSON object")
    acc = StreamAccumulator(model=model, prompt=prompt, system=system)
    acc.started = started
    choice = _first_choice(body)
    message = (choice or {}).get("message") or {}
    text = message.get("content")
    if text is None:
        text = body.get("content") or ""
    reasoning = message.get("reasoning_content") or body.get("reasoning_content") or ""
    acc.text_parts = [text]
    acc.reasoning_parts = [reasoning] if reasoning else []
    acc.first_token_at = time.perf_counter()
    acc.id = body.get("id")
    acc.usage_id = body.get("llmusageid")
    acc.model = body.get("model") or model
    acc.usage = Usage.from_wire(body.get("usage"))
    acc.finish_reason = (choice or {}).get("finish_reason") or "stop"
    return acc.result()


def chat_record(
    result: ChatResult,
    *,
    status: str,
    error: str | None,
    started_at: datetime,
    params: Mapping[str, Any],
    profile: str,
) -> UsageRecord:
    """The usage-hook record of one chat call (the caller redacts `error`)."""
    usage = result.usage
    return UsageRecord(
        kind="chat",
        status=status,  # type: ignore[arg-type]
        model=result.model,
        profile=profile,
        catelog="t2t",
        started_at=started_at,
        finished_at=utcnow(),
        prompt=result.prompt,
        params={"system": result.system, **params} if result.system else dict(params),
        usage_id=result.usage_id,
        prompt_tokens=usage.prompt_tokens if usage else None,
        completion_tokens=usage.completion_tokens if usage else None,
        cached_tokens=usage.cached_tokens if usage else None,
        total_tokens=usage.total_tokens if usage else None,
        latency_s=result.latency_s,
        ttft_s=result.ttft_s,
        error=error,
    )


class AsyncChatStream:
    """A streamed answer: `async for chunk in stream`, then `stream.result`.

    Breaking out early or cancelling closes the connection; the partial answer stays in
    `result` with `finish_reason="interrupted"`.
    """

    def __init__(
        self,
        response: httpx.Response,
        accumulator: StreamAccumulator,
        *,
        on_done: ChatDone,
        read_timeout: float | None,
    ) -> None:
        self._response = response
        self._acc = accumulator
        self._on_done = on_done
        self._read_timeout = read_timeout
        self._iterator: AsyncIterator[ChatChunk] | None = None
        self._reported = False
        self.result: ChatResult | None = None

    @property
    def text(self) -> str:
        """The text received so far."""
        return self._acc.text

    @property
    def reasoning(self) -> str:
        return self._acc.reasoning

    def __aiter__(self) -> AsyncIterator[ChatChunk]:
        if self._iterator is None:
            self._iterator = self._chunks()
        return self._iterator

    async def __anext__(self) -> ChatChunk:
        return await self.__aiter__().__anext__()

    async def __aenter__(self) -> AsyncChatStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def until_done(self) -> ChatResult:
        """Consume the rest of the stream and return the result."""
        async for _ in self:
            pass
        assert self.result is not None
        return self.result

    async def aclose(self) -> None:
        if self._iterator is not None and hasattr(self._iterator, "aclose"):
            await self._iterator.aclose()
        await self._response.aclose()
        self._finish("interrupted", "closed before the end")

    def _finish(self, status: str, error: str | None = None) -> None:
        if self._reported:
            return
        self._reported = True
        self.result = self._acc.result(interrupted=status != "ok")
        self._on_done(self.result, status, error)

    async def _chunks(self) -> AsyncIterator[ChatChunk]:
        acc = self._acc
        decoder = SSEDecoder()
        try:
            async for raw in self._response.aiter_bytes():
                for event in decoder.feed(raw):
                    chunk = acc.feed(event.data)
                    if chunk is not None:
                        yield chunk
                if acc.done:
                    break
            for event in decoder.flush():
                chunk = acc.feed(event.data)
                if chunk is not None:
                    yield chunk
        except StreamInterrupted as exc:
            self._finish("interrupted", str(exc))
            raise
        except httpx.ReadTimeout:
            stalled = acc.interrupted(f"no data for {self._read_timeout or 0:g} s (stalled)")
            self._finish("interrupted", str(stalled))
            raise stalled from None
        except httpx.TransportError as err:
            dropped = acc.interrupted(f"the connection dropped ({type(err).__name__})")
            self._finish("interrupted", str(dropped))
            raise dropped from None
        except (asyncio.CancelledError, GeneratorExit):
            self._finish("interrupted", "cancelled")
            raise
        finally:
            await self._response.aclose()
        if not acc.finished:
            unfinished = acc.interrupted("the stream ended without a finish signal")
            self._finish("interrupted", str(unfinished))
            raise unfinished
        self._finish("ok")

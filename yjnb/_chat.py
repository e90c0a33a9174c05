"""Reading a streamed chat answer (`AsyncChatStream`) and the usage record of a chat call.

The protocol's decoder (`yjnb.protocols`) turns each `data:` payload into chunks; this module
reads the bytes, decodes SSE and ends the stream. A stream that ends without any finish
signal, sends a chunk that is not JSON, stalls past the read timeout or is cancelled raises
`StreamInterrupted`, keeping what had arrived.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime
from typing import Any

import httpx

from ._errors import StreamInterrupted
from ._sse import SSEDecoder
from ._types import ChatChunk, ChatResult, UsageRecord, utcnow
from .protocols.base import StreamAccumulator

__all__ = ["AsyncChatStream", "chat_record"]

ChatDone = Callable[[ChatResult, str, "str | None"], None]


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

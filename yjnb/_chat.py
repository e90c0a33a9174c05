"""A streamed chat answer (`AsyncChatStream`) and the usage record of a chat call.

How the stream is read, ended and started again is `_chat_reading`'s. A stream can be left at
any moment: `break` out of `async for`, `aclose()`, or drop it. It stops reading at once, and
the call is recorded as interrupted with `result` set, before the next line of the caller
runs. That is why the reading generator works on a `Reading` and not on the stream (the
stream must not be kept alive by its own generator), and why each `async for` gets an
`_Iteration` whose finalizer runs when the loop is left.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from typing import Any

import httpx

from ._chat_reading import ChatDone, Reading, Reopen, read_chunks
from ._limits import Limits
from ._retry import RetryPolicy
from ._types import ChatChunk, ChatResult, UsageRecord, utcnow
from .protocols.base import StreamAccumulator

__all__ = ["AsyncChatStream", "chat_record"]

logger = logging.getLogger("yjnb")


def chat_record(
    result: ChatResult,
    *,
    status: str,
    error: str | None,
    started_at: datetime,
    params: Mapping[str, Any],
    profile: str,
) -> UsageRecord:
    """The usage-hook record of one chat call (the caller redacts `error`). A call that did
    not end well keeps the text it had received."""
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
        credits_estimate=result.credits_estimate,
        latency_s=result.latency_s,
        ttft_s=result.ttft_s,
        error=error,
        partial_text=result.text if status != "ok" and result.text else None,
    )


def _leave_quietly(reading: Reading, why: str) -> None:
    """`leave` from a finalizer, which must not raise (a sink or a closed loop might)."""
    if sys.is_finalizing():
        return
    try:
        reading.leave(why)
    except Exception:
        logger.debug("could not record a stream that was left", exc_info=True)


class _Iteration:
    """One `async for` over a stream. Leaving the loop early (`break`, an exception in its
    body) drops this object at once, and its finalizer records the stream as left."""

    __slots__ = ("_next", "_reading")

    def __init__(self, reading: Reading, chunks: AsyncIterator[ChatChunk]) -> None:
        self._reading = reading
        self._next = chunks.__anext__

    def __aiter__(self) -> _Iteration:
        return self

    def __anext__(self) -> Any:
        return self._next()

    def __del__(self) -> None:
        _leave_quietly(self._reading, "the caller left the stream before its end")


class AsyncChatStream:
    """A streamed answer: `async for chunk in stream`, then `stream.result`.

    Leaving early (`break`, `aclose()`, cancelling, or dropping the stream) stops reading at
    once; `result` then holds the partial answer with `finish_reason="interrupted"`.

    A stream that breaks (dropped, cut without a finish signal, a malformed chunk) is started
    again from scratch, up to `stream_retries` times: a `ChatChunk` with `restart` set says
    so, and the text so far is to be forgotten (`text` starts over once the new attempt is
    open). `result` is then the new attempt's answer; the broken one is in `broken_attempts`.
    """

    def __init__(
        self,
        response: httpx.Response,
        accumulator: StreamAccumulator,
        *,
        on_done: ChatDone,
        read_timeout: float | None,
        limits: Limits | None = None,
        started: float | None = None,
        secret: str | None = None,
        reopen: Reopen | None = None,
        policy: RetryPolicy | None = None,
    ) -> None:
        self._reading = Reading(
            response, accumulator, on_done, read_timeout, limits or Limits(), started, secret,
            reopen, policy,
        )  # fmt: skip
        self._chunks: AsyncIterator[ChatChunk] | None = None

    @property
    def result(self) -> ChatResult | None:
        """The answer once the stream has ended: the last attempt's, complete or partial."""
        return self._reading.result

    @property
    def broken_attempts(self) -> list[ChatResult]:
        """The attempts that broke and were started again, oldest first: their partial
        answers (`finish_reason="interrupted"`), each recorded as an interrupted call."""
        return list(self._reading.broken)

    @property
    def text(self) -> str:
        """The text received so far (of the current attempt)."""
        return self._reading.acc.text

    @property
    def reasoning(self) -> str:
        return self._reading.acc.reasoning

    def _generator(self) -> AsyncIterator[ChatChunk]:
        if self._chunks is None:
            self._chunks = read_chunks(self._reading)
        return self._chunks

    def __aiter__(self) -> AsyncIterator[ChatChunk]:
        return _Iteration(self._reading, self._generator())

    def __anext__(self) -> Any:
        return self._generator().__anext__()

    async def __aenter__(self) -> AsyncChatStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __del__(self) -> None:
        reading = getattr(self, "_reading", None)
        if reading is not None:
            _leave_quietly(reading, "the stream was dropped before its end")

    def _leave(self, why: str) -> None:
        """Record the stream as left by the caller and stop reading (see `Reading.leave`)."""
        self._reading.leave(why)

    async def until_done(self) -> ChatResult:
        """Consume the rest of the stream and return the result."""
        async for _ in self:
            pass
        assert self.result is not None
        return self.result

    async def aclose(self) -> None:
        """Stop reading; what arrived so far stays in `result`."""
        reading = self._reading
        reading.left = True
        reading.finish("interrupted", "closed before the end")
        chunks = self._chunks
        if chunks is not None and hasattr(chunks, "aclose"):
            # RuntimeError: another task is reading it right now; it sees `left` and stops.
            with contextlib.suppress(RuntimeError):
                await chunks.aclose()
        await reading.response.aclose()

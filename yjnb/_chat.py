"""Reading a streamed chat answer (`AsyncChatStream`) and the usage record of a chat call.

The protocol's decoder (`yjnb.protocols`) turns each `data:` payload into chunks; this module
reads the bytes, decodes SSE and ends the stream. A stream that ends without any finish
signal, sends a chunk that is not JSON, stalls (past the read timeout, or with no event for
`Limits.stream_stall_s`), runs past `Limits.stream_total_s`, sends an event over
`Limits.max_event_bytes` or an answer over `Limits.max_answer_chars`, or is cancelled raises
`StreamInterrupted`, keeping what had arrived.

A stream can be left at any moment: `break` out of `async for`, `aclose()`, or drop it. It
stops reading at once, and the call is recorded as interrupted with `result` set, before the
next line of the caller runs. That is why the reading generator works on a `_Reading` and
not on the stream (the stream must not be kept alive by its own generator), and why each
`async for` gets an `_Iteration` whose finalizer runs when the loop is left.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from datetime import datetime
from typing import Any

import httpx

from ._bounded import DeadlinePassed, StreamDeadlines
from ._errors import StreamInterrupted, redact
from ._limits import Limits
from ._secrets import detached
from ._sse import EventTooLarge, SSEDecoder
from ._types import ChatChunk, ChatResult, UsageRecord, utcnow
from .protocols.base import StreamAccumulator

__all__ = ["AsyncChatStream", "chat_record"]

ChatDone = Callable[[ChatResult, str, "str | None"], None]
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
        credits_estimate=result.credits_estimate,
        latency_s=result.latency_s,
        ttft_s=result.ttft_s,
        error=error,
    )


class _Reading:
    """Everything one stream's reading needs: the response, the decoder, the limits and the
    outcome. The stream and its generator share it; it refers to neither."""

    def __init__(
        self,
        response: httpx.Response,
        accumulator: StreamAccumulator,
        on_done: ChatDone,
        read_timeout: float | None,
        limits: Limits,
        started: float | None,
        secret: str | None,
    ) -> None:
        self.response = response
        self.secret = secret  # redacted from what the server sends back into an error
        self.acc = accumulator
        self.on_done = on_done
        self.read_timeout = read_timeout
        self.limits = limits
        self.started = started  # the loop's clock at the request: the total deadline counts it
        self.loop = asyncio.get_running_loop()
        self.left = False  # the caller left: read no more
        self.reported = False
        self.result: ChatResult | None = None

    def finish(self, status: str, error: str | None = None) -> None:
        if self.reported:
            return
        self.reported = True
        self.result = self.acc.result(interrupted=status != "ok")
        self.on_done(self.result, status, error)

    def leave(self, why: str) -> None:
        """The caller left before the end: record it now, close the connection soon."""
        if self.reported:
            return
        self.left = True
        self.finish("interrupted", why)
        _soon(self.loop, self.response.aclose())


# Closing tasks started from finalizers: the loop keeps only weak references to tasks.
_closing: set[asyncio.Task[Any]] = set()


def _soon(loop: asyncio.AbstractEventLoop, closing: Coroutine[Any, Any, None]) -> None:
    """Run `closing` on `loop` without waiting; from any thread, even from a finalizer."""
    if loop.is_closed() or sys.is_finalizing():
        closing.close()
        return

    def start() -> None:
        task = loop.create_task(closing)
        _closing.add(task)
        task.add_done_callback(_closing.discard)

    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        start()
    else:
        try:
            loop.call_soon_threadsafe(start)
        except RuntimeError:  # closed in the meantime
            closing.close()


def _leave_quietly(reading: _Reading, why: str) -> None:
    """`leave` from a finalizer, which must not raise (a sink or a closed loop might)."""
    if sys.is_finalizing():
        return
    try:
        reading.leave(why)
    except Exception:
        logger.debug("could not record a stream that was left", exc_info=True)


def _interruption(
    acc: StreamAccumulator, exc: Exception, read_timeout: float | None, secret: str | None
) -> StreamInterrupted:
    """How a stream broke, as the `StreamInterrupted` that keeps its partial text. A chunk or
    an error the server sent may echo the key: the message is redacted, and nothing is
    chained (an httpx error holds the request, and the request the key)."""
    if isinstance(exc, StreamInterrupted):
        exc.args = tuple(redact(a, secret) if isinstance(a, str) else a for a in exc.args)
        return detached(exc)
    if isinstance(exc, DeadlinePassed):
        why = str(exc)
    elif isinstance(exc, EventTooLarge):
        why = f"{exc} (Limits.max_event_bytes)"
    elif isinstance(exc, httpx.ReadTimeout):
        why = f"no data for {read_timeout or 0:g} s (stalled)"
    else:
        why = f"the connection dropped ({type(exc).__name__})"
    return detached(acc.interrupted(why))


async def _read_chunks(r: _Reading) -> AsyncIterator[ChatChunk]:
    """The stream's chunks, ending it (and recording it) however it ends."""
    acc, limits = r.acc, r.limits
    decoder = SSEDecoder(limits.max_event_bytes)
    deadlines = StreamDeadlines(
        stall_s=limits.stream_stall_s, total_s=limits.stream_total_s, started=r.started
    )
    chars = 0
    try:
        source = r.response.aiter_bytes()
        while not (r.left or acc.done):
            try:
                raw = await deadlines.read(source)
            except StopAsyncIteration:
                break
            events = decoder.feed(raw)
            for event in events:
                chunk = acc.feed(event.data)
                if chunk is not None:
                    chars += len(chunk.text) + len(chunk.reasoning)
                    if chars > limits.max_answer_chars:
                        raise acc.interrupted(
                            f"the answer passed {limits.max_answer_chars} characters "
                            "(Limits.max_answer_chars)"
                        )
                    yield chunk
                    if r.left:
                        return
            if events:
                # Events arrived, and the caller has taken them all: the stall clock starts
                # again now, so the caller's own time between chunks is never a stall.
                deadlines.progress()
        if not r.left:
            for event in decoder.flush():
                chunk = acc.feed(event.data)
                if chunk is not None:
                    yield chunk
    except (StreamInterrupted, DeadlinePassed, EventTooLarge, httpx.TransportError) as exc:
        broken = _interruption(acc, exc, r.read_timeout, r.secret)
        r.finish("interrupted", str(broken))
        raise broken from None
    except (asyncio.CancelledError, GeneratorExit):
        r.finish("interrupted", "cancelled")
        raise
    finally:
        deadlines.close()
        await r.response.aclose()
    if r.left:
        return
    if not acc.finished:
        unfinished = acc.interrupted("the stream ended without a finish signal")
        r.finish("interrupted", str(unfinished))
        raise unfinished
    r.finish("ok")


class _Iteration:
    """One `async for` over a stream. Leaving the loop early (`break`, an exception in its
    body) drops this object at once, and its finalizer records the stream as left."""

    __slots__ = ("_next", "_reading")

    def __init__(self, reading: _Reading, chunks: AsyncIterator[ChatChunk]) -> None:
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
    ) -> None:
        self._reading = _Reading(
            response, accumulator, on_done, read_timeout, limits or Limits(), started, secret
        )
        self._chunks: AsyncIterator[ChatChunk] | None = None

    @property
    def result(self) -> ChatResult | None:
        return self._reading.result

    @property
    def text(self) -> str:
        """The text received so far."""
        return self._reading.acc.text

    @property
    def reasoning(self) -> str:
        return self._reading.acc.reasoning

    def _generator(self) -> AsyncIterator[ChatChunk]:
        if self._chunks is None:
            self._chunks = _read_chunks(self._reading)
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
        """Record the stream as left by the caller and stop reading (see `_Reading.leave`)."""
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

"""Reading a streamed chat answer, attempt by attempt: the chunks, the restarts, the end.

One `Reading` holds what a stream's reading needs; `read_chunks` is the generator over it.
The protocol's decoder (`yjnb.protocols`) turns each `data:` payload into chunks; this module
reads the bytes, decodes SSE and ends the stream. A stream that ends without any finish
signal, sends a chunk that is not JSON, stalls (past the read timeout, or with no event for
`Limits.stream_stall_s`), runs past `Limits.stream_total_s`, sends an event over
`Limits.max_event_bytes` or an answer over `Limits.max_answer_chars`, or is cancelled raises
`StreamInterrupted`, keeping what had arrived.

A stream that breaks in a way worth another try (`StreamBreak`: dropped, cut without a finish
signal, a chunk that cannot be read) is sent again from scratch, at most
`RetryPolicy.stream_retries` times, unless the caller has left it. The caller is told with a
`ChatChunk(restart=...)`; the broken attempt is recorded as interrupted with its partial text
when the new one is open, and kept in `Reading.broken`.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any

import httpx

from ._bounded import DeadlinePassed, StreamDeadlines
from ._errors import StreamInterrupted, YJError, redact
from ._limits import Limits
from ._retry import RetryPolicy, StreamBreak
from ._secrets import detached
from ._sse import EventTooLarge, SSEDecoder
from ._types import ChatChunk, ChatResult
from .protocols.base import StreamAccumulator

__all__ = ["ChatDone", "Reading", "Reopen", "read_chunks"]

ChatDone = Callable[[ChatResult, str, "str | None"], None]
# Sends a stream's request again: the new response, and a fresh decoder for it.
Reopen = Callable[[], Awaitable["tuple[httpx.Response, StreamAccumulator]"]]


class Reading:
    """Everything one stream's reading needs: the response, the decoder, the limits, how to
    start it again, and the outcome. The stream and its generator share it; it refers to
    neither."""

    def __init__(
        self,
        response: httpx.Response,
        accumulator: StreamAccumulator,
        on_done: ChatDone,
        read_timeout: float | None,
        limits: Limits,
        started: float | None,
        secret: str | None,
        reopen: Reopen | None = None,
        policy: RetryPolicy | None = None,
    ) -> None:
        self.response = response
        self.secret = secret  # redacted from what the server sends back into an error
        self.acc = accumulator
        self.on_done = on_done
        self.read_timeout = read_timeout
        self.limits = limits
        self.started = started  # the loop's clock at the request: the total deadline counts it
        self.reopen = reopen  # sends the request again: a new response and a fresh decoder
        self.policy = policy or RetryPolicy()
        self.restarts = 0
        self.broken: list[ChatResult] = []  # the attempts that broke and were started again
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

    def started_again(
        self, response: httpx.Response, accumulator: StreamAccumulator, note: str
    ) -> None:
        """A new attempt is open: the broken one is recorded as interrupted, with its partial
        text (it was paid for), and kept in `broken`; reading goes on with the new one."""
        broken = self.acc.result(interrupted=True)
        self.broken.append(broken)
        self.on_done(broken, "interrupted", note)
        self.response, self.acc = response, accumulator


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


class _Unfinished(Exception):
    """The body ended, cleanly, without any finish signal: a cut answer, not a whole one."""


# What breaks one attempt at a stream; `_stream_break` tells which of them are restarted.
_BROKEN = (StreamInterrupted, DeadlinePassed, EventTooLarge, httpx.TransportError, _Unfinished)


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
    elif isinstance(exc, _Unfinished):
        why = "the stream ended without a finish signal"
    elif isinstance(exc, httpx.ReadTimeout):
        why = f"no data for {read_timeout or 0:g} s (stalled)"
    else:
        why = f"the connection dropped ({type(exc).__name__})"
    return detached(acc.interrupted(why))


def _stream_break(exc: Exception) -> StreamBreak | None:
    """The `StreamBreak` that `exc` is, if it is one (a stall, a deadline, a limit or an
    error the server reported would most likely happen again: those are not)."""
    if isinstance(exc, _Unfinished):
        return StreamBreak.TRUNCATED
    if isinstance(exc, StreamInterrupted):
        return StreamBreak.MALFORMED if exc.malformed else None
    if isinstance(exc, httpx.TransportError) and not isinstance(exc, httpx.TimeoutException):
        return StreamBreak.DROPPED
    return None


async def _attempt(r: Reading, deadlines: StreamDeadlines) -> AsyncGenerator[ChatChunk, None]:
    """The chunks of one attempt (`r.response`), until its end or until the caller leaves;
    what breaks it is raised (one of `_BROKEN`)."""
    acc, limits = r.acc, r.limits
    decoder = SSEDecoder(limits.max_event_bytes)
    chars = 0
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
    if r.left:
        return
    for event in decoder.flush():
        chunk = acc.feed(event.data)
        if chunk is not None:
            yield chunk
    if not acc.finished:
        raise _Unfinished


async def read_chunks(r: Reading) -> AsyncIterator[ChatChunk]:
    """The stream's chunks, across its attempts, ending it (and recording it) however it
    ends. A restart is announced with a `ChatChunk(restart=...)` before it starts."""
    limits = r.limits
    deadlines = StreamDeadlines(
        stall_s=limits.stream_stall_s, total_s=limits.stream_total_s, started=r.started
    )
    try:
        while True:
            try:
                async with contextlib.aclosing(_attempt(r, deadlines)) as chunks:
                    async for chunk in chunks:
                        yield chunk
                break
            except _BROKEN as exc:
                broken, how, delay = _restart_or_raise(r, exc)
            yield ChatChunk(restart=how.value)
            if r.left or not await _start_again(r, broken, how, delay):
                return
            deadlines.progress()
    except (asyncio.CancelledError, GeneratorExit):
        r.finish("interrupted", "cancelled")
        raise
    finally:
        deadlines.close()
        await r.response.aclose()
    if not r.left:
        r.finish("ok")


def _restart_or_raise(r: Reading, exc: Exception) -> tuple[StreamInterrupted, StreamBreak, float]:
    """(the interruption, how it broke, the wait before the restart) for a stream that is
    started again; otherwise the stream ends here, recorded, with the interruption raised."""
    broken = _interruption(r.acc, exc, r.read_timeout, r.secret)
    how = _stream_break(exc)
    restartable = how is not None and r.reopen is not None and not r.left
    delay = r.policy.restart_delay(r.restarts) if restartable else None
    if how is None or delay is None:
        if r.restarts:
            spent = f"started again {r.restarts} time(s), stream_retries={r.policy.stream_retries}"
            broken.args = (f"{broken.args[0]} ({spent})",)
        r.finish("interrupted", str(broken))
        raise broken from None
    return broken, how, delay


async def _start_again(
    r: Reading, broken: StreamInterrupted, how: StreamBreak, delay: float
) -> bool:
    """Wait, send the request again and go on with its answer; False if the caller left
    meanwhile. The broken attempt is recorded once the new one is open: until then it is
    still the stream's (a cancel or a leave records it, and nothing else)."""
    await r.response.aclose()
    await r.policy.sleep(delay)
    assert r.reopen is not None
    try:
        response, accumulator = await r.reopen()
    except YJError as exc:
        failed = detached(r.acc.interrupted(f"{how.value}, and starting it again failed: {exc}"))
        r.finish("interrupted", str(failed))
        raise failed from None
    if r.left:
        await response.aclose()
        return False
    r.restarts += 1
    spent = f"{r.restarts} of {r.policy.stream_retries}"
    r.started_again(response, accumulator, f"{broken}; {how.value}: started again ({spent})")
    return True

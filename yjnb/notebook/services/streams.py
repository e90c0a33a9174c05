"""Run one or several chat calls concurrently on the runner loop; render from the main thread.

Each call is a coroutine on the runner loop (`AsyncClient` lives there). Chunks travel to the
main thread through one queue, in batches: the runner hands over everything one network read
produced at once (a `call_soon` flush), joined into one piece per call, so a 20,000-chunk
stream costs the main thread a few dozen queue operations, not 20,000. The main thread feeds
the view and refreshes it at most every `interval` seconds.

A KeyboardInterrupt (kernel interrupt) in the main thread cancels every call; each keeps what
had arrived (`AsyncChatStream.result`, marked interrupted).

A stream that broke and is started again (`ChatChunk.restart`) reaches the view as
`restart()`: it drops what that call showed and says why ("connection dropped: retrying").
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..._errors import StreamInterrupted
from ..._runner import CANCEL_GRACE_S, WAIT_SLICE_S, get_runner
from ..._types import ChatChunk, ChatResult
from .conversations import Request

__all__ = ["Outcome", "View", "run_streams"]

_CHECK_EVERY = 256  # items handled between two looks at the clock


class View(Protocol):
    dirty: bool

    def add(self, index: int, text: str, reasoning: str) -> None: ...
    def restart(self, index: int, why: str) -> None: ...
    def refresh(self) -> None: ...


@dataclass
class Outcome:
    """What the calls gave: per request a result (complete or partial) and/or an error."""

    results: list[ChatResult | None]
    errors: list[BaseException | None]
    interrupted: bool = False
    elapsed_s: float = 0.0
    finished: list[bool] = field(default_factory=list)


class _Feed:
    """Runner-loop side of the queue. Until the loop's next turn, the text and reasoning of
    each call are gathered and then handed over joined, as one chunk per call."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.queue: queue.SimpleQueue[list[tuple[int, Any]]] = queue.SimpleQueue()
        self._loop = loop
        self._pending: list[tuple[int, Any]] = []
        self._parts: dict[int, tuple[list[str], list[str]]] = {}
        self._scheduled = False

    def chunk(self, i: int, chunk: ChatChunk) -> None:
        if chunk.restart:
            # The broken attempt's pieces not yet handed over are dropped with it.
            self._parts.pop(i, None)
            self._pending.append((i, chunk))
            self._schedule()
            return
        parts = self._parts.get(i)
        if parts is None:
            parts = self._parts[i] = ([], [])
        if chunk.text:
            parts[0].append(chunk.text)
        if chunk.reasoning:
            parts[1].append(chunk.reasoning)
        self._schedule()

    def put(self, item: tuple[int, Any]) -> None:
        """A call's end (result or error), after every chunk it sent."""
        self._join()
        self._pending.append(item)
        self._schedule()

    def _schedule(self) -> None:
        if not self._scheduled:
            self._scheduled = True
            self._loop.call_soon(self.flush)

    def _join(self) -> None:
        for i, (text, reasoning) in self._parts.items():
            self._pending.append((i, ChatChunk("".join(text), "".join(reasoning))))
        self._parts.clear()

    def flush(self) -> None:
        self._scheduled = False
        self._join()
        if self._pending:
            batch, self._pending = self._pending, []
            self.queue.put(batch)


def _empty(request: Request) -> ChatResult:
    return ChatResult(
        text="",
        model=request.model,
        finish_reason="interrupted",
        prompt=request.wire_prompt,
        system=request.system,
    )


async def _call(
    aio: Any,
    i: int,
    req: Request,
    feed: _Feed,
    streams: dict[int, Any],
    ended: threading.Event,
) -> None:
    """One request on the runner loop: its chunks, then its end, go to `feed`."""
    try:
        assert req.prepared is not None, "the command checks every request before sending"
        answer = await aio.send_chat(req.prepared)
        if req.prepared.stream:
            streams[i] = answer
            async for chunk in answer:
                feed.chunk(i, chunk)
            feed.put((i, answer.result))
        else:
            feed.put((i, answer))
    except BaseException as exc:  # handed to the main thread, cancellation included
        feed.put((i, exc))
        if not isinstance(exc, Exception):
            raise
    finally:
        feed.flush()
        ended.set()


def run_streams(aio: Any, requests: Sequence[Request], view: View, *, interval: float) -> Outcome:
    """Send every (checked) request concurrently and feed `view` until all have ended."""
    runner = get_runner()
    feed = _Feed(runner.loop)
    streams: dict[int, Any] = {}
    ended = [threading.Event() for _ in requests]
    n = len(requests)
    out = Outcome([None] * n, [None] * n, finished=[False] * n)
    started = time.monotonic()
    futures = [
        runner.submit(_call(aio, i, r, feed, streams, ended[i])) for i, r in enumerate(requests)
    ]
    done = 0
    next_at = started + interval
    try:
        while done < n:
            wait = max(0.0, next_at - time.monotonic()) if view.dirty else WAIT_SLICE_S
            try:
                batch = feed.queue.get(timeout=min(wait, WAIT_SLICE_S))
            except queue.Empty:
                batch = []
            handled = 0
            while batch:
                for i, item in batch:
                    if not _show(view, i, item):
                        done += 1
                        _settle(out, i, item)
                handled += len(batch)
                if handled >= _CHECK_EVERY and time.monotonic() >= next_at:
                    break
                try:
                    batch = feed.queue.get_nowait()
                except queue.Empty:
                    batch = []
            now = time.monotonic()
            if view.dirty and now >= next_at and done < n:
                view.refresh()
                next_at = time.monotonic() + interval
    except KeyboardInterrupt:
        _interrupted(out, futures, ended, feed, view)
        for i, req in enumerate(requests):
            if out.results[i] is None:
                s = streams.get(i)
                out.results[i] = (s.result if s is not None else None) or _empty(req)
    out.elapsed_s = time.monotonic() - started
    return out


def _interrupted(
    out: Outcome,
    futures: list[Any],
    ended: list[threading.Event],
    feed: _Feed,
    view: View,
) -> None:
    """A kernel interrupt: cancel every call, then take what had already arrived."""
    out.interrupted = True
    for future in futures:
        future.cancel()
    for event in ended:
        event.wait(CANCEL_GRACE_S)
    with contextlib.suppress(queue.Empty):
        while True:
            for i, item in feed.queue.get_nowait():
                if not _show(view, i, item):
                    _settle(out, i, item)


def _show(view: View, i: int, item: Any) -> bool:
    """Show a chunk (or a restart) of call `i`; False if `item` is the call's end instead."""
    if not isinstance(item, ChatChunk):
        return False
    if item.restart:
        view.restart(i, item.restart)
    else:
        view.add(i, item.text, item.reasoning)
    return True


def _settle(out: Outcome, i: int, item: Any) -> None:
    out.finished[i] = True
    if isinstance(item, ChatResult):
        out.results[i] = item
    elif isinstance(item, StreamInterrupted):
        out.errors[i] = item
        out.results[i] = item.result
    elif isinstance(item, BaseException) and not isinstance(item, asyncio.CancelledError):
        out.errors[i] = item

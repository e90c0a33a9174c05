"""Reading answers within `Limits`: capped JSON bodies, a deadline for a whole call, and the
stall and total deadlines of a stream.

Bodies are read as a stream and counted as they arrive, never with `response.json()` on a body
of unknown size. `aiter_bytes` yields decoded bytes, so the cap counts what a compressed body
inflates to: a gzip bomb stops at the cap (plus at most one inflated network read).
"""

from __future__ import annotations

import asyncio
import collections
import json
import weakref
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager as AsyncContextManager
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from ._errors import MalformedResponse, redact

__all__ = [
    "Answer",
    "DeadlinePassed",
    "StreamDeadlines",
    "deadline",
    "read_answer",
    "read_capped",
]

T = TypeVar("T")
EXCERPT_CHARS = 200


def deadline(seconds: float) -> AsyncContextManager[None]:
    """`async with deadline(s):` cancels its block after `seconds`, raising
    `asyncio.TimeoutError` (as `asyncio.timeout` does; a caller's own cancel stays a cancel).
    No extra task, and no timer of its own: this runs once per call, on the fan-out's hot
    path, where arming and cancelling a timer per call (`asyncio.timeout`) was a measurable
    part of a call's CPU."""
    global _last
    loop = asyncio.get_running_loop()
    last = _last  # one read: another thread's loop may replace it meanwhile
    if last is not None and last[0]() is loop and last[1] == seconds:
        return _Deadline(last[2])
    queues = _queues.get(loop)
    if queues is None:
        queues = _queues[loop] = {}
    queue = queues.get(seconds)
    if queue is None:
        queue = queues[seconds] = _DeadlineQueue(seconds)
    _last = (weakref.ref(loop), seconds, queue)
    return _Deadline(queue)


class _Deadline:
    """One block under a deadline (`deadline`): waiting in its queue until the block ends."""

    __slots__ = ("_cancelling", "_queue", "due", "expired", "task")

    def __init__(self, queue: _DeadlineQueue) -> None:
        self._queue = queue
        self._cancelling = 0
        self.due = 0.0
        self.expired = False
        self.task: asyncio.Task[Any] | None = None  # None: not entered, or left

    async def __aenter__(self) -> None:
        task = asyncio.current_task()
        assert task is not None, "deadline() is entered in a task"
        # The cancels already asked of the task are not ours (Python 3.10 does not count).
        self._cancelling = task.cancelling() if hasattr(task, "cancelling") else 0
        self.task = task
        self._queue.enter(self)

    async def __aexit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        task, self.task = self.task, None
        if not self.expired:  # an expired one has left the queue already
            self._queue.left()
            return
        assert task is not None
        # Our cancel taken back; raised as a timeout only if no one else cancelled too.
        if _uncancel(task) <= self._cancelling and exc_type is asyncio.CancelledError:
            raise asyncio.TimeoutError from None


class _DeadlineQueue:
    """The deadlines of one length on one loop, in the order they fall due: blocks of one
    length entered one after another end their waits in that order, so one timer, armed for
    the first, does for all of them. A block that ends is dropped from the queue's head at
    once, and from anywhere else once those left make up half of the queue (as the loop's
    heap does with cancelled timers), so the queue never holds many more than are waiting."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.waiting: collections.deque[_Deadline] = collections.deque()
        self.gone = 0  # entries of `waiting` whose block has ended
        self.timer: asyncio.TimerHandle | None = None

    def enter(self, entry: _Deadline) -> None:
        loop = asyncio.get_running_loop()
        entry.due = loop.time() + self.seconds
        self.waiting.append(entry)
        if self.timer is None:
            self.timer = loop.call_at(entry.due, self.expire)

    def left(self) -> None:
        """A waiting entry's block ended before its deadline (its `task` is None now)."""
        self.gone += 1
        waiting = self.waiting
        while waiting and waiting[0].task is None:
            waiting.popleft()
            self.gone -= 1
        if self.gone > COMPACT_AFTER and 2 * self.gone > len(waiting):
            self.waiting = collections.deque(e for e in waiting if e.task is not None)
            self.gone = 0

    def expire(self) -> None:
        """The timer: cancel the blocks whose deadline passed, then wait for the next."""
        self.timer = None
        loop = asyncio.get_running_loop()
        now = loop.time()
        waiting = self.waiting
        while waiting:
            first = waiting[0]
            if first.task is not None and first.due > now:
                self.timer = loop.call_at(first.due, self.expire)
                return
            waiting.popleft()
            if first.task is None:
                self.gone -= 1
            else:
                first.expired = True
                first.task.cancel()


# Each loop's deadline queues by length; a loop that is gone takes its queues with it.
_queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[float, _DeadlineQueue]]
_queues = weakref.WeakKeyDictionary()
COMPACT_AFTER = 64  # ended entries a queue may hold before it is compacted
# The queue looked up last, and for which loop and length: most calls find theirs here.
_last: tuple[weakref.ref[asyncio.AbstractEventLoop], float, _DeadlineQueue] | None = None


async def read_capped(response: httpx.Response, max_bytes: int) -> tuple[bytes, bool]:
    """(up to `max_bytes` of the decoded body, whether there was more). Closes the response."""
    parts: list[bytes] = []
    size = 0
    try:
        async for block in response.aiter_bytes():
            parts.append(block)
            size += len(block)
            if size > max_bytes:
                return b"".join(parts)[:max_bytes], True
    finally:
        await response.aclose()
    return b"".join(parts), False


@dataclass
class Answer:
    """A whole non-stream answer, read within the limits, and the request it answers."""

    status: int
    request: httpx.Request
    raw: bytes
    secret: str | None
    body: Any = None

    def excerpt(self) -> str:
        text = self.raw[: EXCERPT_CHARS * 4].decode("utf-8", "replace")[:EXCERPT_CHARS]
        return redact(text, self.secret)

    def malformed(self, why: str) -> MalformedResponse:
        """`why` (a protocol's reason, or the reader's) with the status, request and excerpt."""
        excerpt = self.excerpt()
        shown = excerpt if len(excerpt) <= 60 else excerpt[:60] + "…"
        # Built here, not per answer: most answers are fine, and this URL copy is not free.
        url = redact(str(self.request.url.copy_with(query=None)), self.secret)
        return MalformedResponse(
            f"{redact(why, self.secret)}: {shown!r}",
            status_code=self.status,
            excerpt=excerpt,
            method=self.request.method,
            url=url,
        )


async def read_answer(
    response: httpx.Response, what: str, *, max_bytes: int, secret: str | None
) -> Answer:
    """The JSON answer of a request, `what` naming it in errors ("the task status")."""
    raw, more = await read_capped(response, max_bytes)
    answer = Answer(response.status_code, response.request, raw, secret)
    if more:
        raise answer.malformed(f"{what} passed {max_bytes} bytes (Limits.max_body_bytes)")
    try:
        answer.body = json.loads(raw)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError alike
        raise answer.malformed(f"{what} is not JSON") from None
    return answer


class DeadlinePassed(Exception):
    """A stream's stall or total deadline passed; `limit` names it ("stream_stall_s")."""

    def __init__(self, limit: str, seconds: float) -> None:
        self.limit = limit
        self.seconds = seconds
        why = "no event for" if limit == "stream_stall_s" else "still streaming after"
        super().__init__(f"{why} {seconds:g} s (Limits.{limit})")


def _uncancel(task: asyncio.Task[Any]) -> int:
    """Take back one cancellation (Python 3.11+); the number still pending."""
    return task.uncancel() if hasattr(task, "uncancel") else 0


class StreamDeadlines:
    """The stall and total deadlines of one stream, kept by one lazy timer.

    Reads go through `read()`. A deadline that passes during a read cancels that read, and
    only that: the caller's own code between two chunks is never cancelled, and time spent
    there is not a stall (`progress()` is called when the caller asks for more, and when an
    event arrives). The timer is re-armed only when it fires, so an event costs one clock
    read, not a timer.
    """

    def __init__(self, *, stall_s: float, total_s: float, started: float | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        now = self._loop.time()
        self._stall_s = stall_s
        self._total_s = total_s
        self._total_at = (now if started is None else started) + total_s
        self._last = now
        self._reader: asyncio.Task[Any] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._cancelled: asyncio.Task[Any] | None = None  # the read this timer cancelled
        self.passed: DeadlinePassed | None = None

    def progress(self) -> None:
        self._last = self._loop.time()

    async def read(self, source: AsyncIterator[bytes]) -> bytes:
        """The next read of `source`; `DeadlinePassed` if a deadline passes first."""
        if self.passed is not None:
            raise self.passed
        task = asyncio.current_task()
        self._reader = task
        if self._timer is None:
            self._timer = self._loop.call_at(self._due(), self._expire)
        try:
            return await source.__anext__()
        except asyncio.CancelledError:
            if task is not None and self._cancelled is task:
                self._cancelled = None
                if _uncancel(task) == 0:  # ours alone; a caller's cancel stays a cancel
                    assert self.passed is not None
                    raise self.passed from None
            raise
        finally:
            self._reader = None

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _due(self) -> float:
        return min(self._total_at, self._last + self._stall_s)

    def _expire(self) -> None:
        self._timer = None
        reader = self._reader
        if reader is None:
            return  # between reads: the caller's time; the next read arms the timer again
        now = self._loop.time()
        if now >= self._total_at:
            self.passed = DeadlinePassed("stream_total_s", self._total_s)
        elif now >= self._last + self._stall_s:
            self.passed = DeadlinePassed("stream_stall_s", self._stall_s)
        else:
            self._timer = self._loop.call_at(self._due(), self._expire)
            return
        self._cancelled = reader
        reader.cancel()

"""An adaptive concurrency limit, one per profile, shared by the whole kernel.

It starts small, grows by one after each call that succeeded (additive increase), halves on a
429 (multiplicative decrease), and a caller may cap it lower still (`experiment(concurrency=)`).
It is shared across threads and event loops (the sync facade's runner loop and a notebook's own
loop): the counts are kept under a thread lock and each waiter is woken on its own loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

__all__ = ["DEFAULT_CEILING", "DEFAULT_START", "AdaptiveLimiter", "limiter_for"]

DEFAULT_START = 4
DEFAULT_CEILING = 64


class AdaptiveLimiter:
    """At most `limit` calls in flight (and never more than a caller's cap)."""

    def __init__(self, start: int = DEFAULT_START, ceiling: int = DEFAULT_CEILING) -> None:
        self.ceiling = ceiling
        self._limit = float(min(start, ceiling))
        self._in_flight = 0
        self._lock = threading.Lock()
        # In arrival order; a release wakes as many as there are free slots (at least one),
        # not all of them: with 1,000 cells waiting, waking all on every release cost O(n²).
        self._waiters: OrderedDict[asyncio.Future[None], asyncio.AbstractEventLoop] = OrderedDict()
        self.throttled_count = 0  # 429s waited out since this limiter was made
        self._cut = False  # halved since the last success

    @property
    def limit(self) -> int:
        with self._lock:
            return max(1, int(self._limit))

    @property
    def in_flight(self) -> int:
        with self._lock:
            return self._in_flight

    def _try(self, cap: int) -> bool:
        with self._lock:
            if self._in_flight < min(max(1, int(self._limit)), cap):
                self._in_flight += 1
                return True
            return False

    async def acquire(self, cap: int | None = None) -> None:
        """Wait for a slot; `cap` bounds this caller's calls below the shared limit."""
        bound = cap if cap is not None else self.ceiling
        loop = asyncio.get_running_loop()
        while not self._try(bound):
            future: asyncio.Future[None] = loop.create_future()
            with self._lock:
                self._waiters[future] = loop
            # Re-checked after registering: a release in between must not be missed.
            if self._try(bound):
                self._discard(future)
                return
            try:
                await future
            except BaseException:
                if future.done() and not future.cancelled():
                    self._wake_next()  # woken, but leaving: the turn passes to the next
                raise
            finally:
                self._discard(future)

    def _discard(self, future: asyncio.Future[None]) -> None:
        with self._lock:
            self._waiters.pop(future, None)

    def _wake_next(self) -> None:
        with self._lock:
            woken = [self._waiters.popitem(last=False)] if self._waiters else []
        for future, loop in woken:
            if not loop.is_closed():
                loop.call_soon_threadsafe(_wake, future)

    def release(self) -> None:
        with self._lock:
            self._in_flight = max(0, self._in_flight - 1)
            free = max(1, int(self._limit) - self._in_flight)
            woken = [
                self._waiters.popitem(last=False) for _ in range(min(free, len(self._waiters)))
            ]
        # A woken waiter checks again (its cap may be lower) and waits again if it must; while
        # it does, a call is in flight, so a later release wakes the next ones.
        for future, loop in woken:
            if not loop.is_closed():
                loop.call_soon_threadsafe(_wake, future)

    def succeeded(self) -> None:
        with self._lock:
            self._limit = min(float(self.ceiling), self._limit + 1.0)
            self._cut = False

    def throttled(self, wait: float = 0.0) -> None:
        """A 429: halve the limit (never below one), once per burst: the 429s that come before
        any call succeeds again answer calls sent at the same limit, and cutting it for each
        left a quota's next window to start from one call in flight."""
        with self._lock:
            if not self._cut:
                self._limit = max(1.0, self._limit / 2)
                self._cut = True
            self.throttled_count += 1

    @asynccontextmanager
    async def slot(self, cap: int | None = None) -> AsyncIterator[None]:
        await self.acquire(cap)
        try:
            yield
        finally:
            self.release()


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


_limiters: dict[str, AdaptiveLimiter] = {}
_limiters_lock = threading.Lock()


def limiter_for(profile: str) -> AdaptiveLimiter:
    """The kernel's limiter for `profile` (made on first use, then kept)."""
    with _limiters_lock:
        if profile not in _limiters:
            _limiters[profile] = AdaptiveLimiter()
        return _limiters[profile]

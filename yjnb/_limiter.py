"""An adaptive concurrency limit, one per profile, shared by the whole kernel.

It starts small, grows by one after each call that succeeded (additive increase), halves on a
429 (multiplicative decrease), and a caller may cap it lower still (`experiment(concurrency=)`).
It is shared across threads and event loops (the sync facade's runner loop and a notebook's own
loop): the counts are kept under a thread lock and each waiter is woken on its own loop.

Every paid call of the magics takes a slot: their clients (`shared_limiter=True`) send each
chat and media submission `through` the profile's limiter (reads, such as task polls and
downloads, do not), so the magics and the experiments share one limit and each other's 429s.
An experiment takes the slot itself (it checks its budget once it has one, and `concurrency=`
caps it); the call it then makes sees, through `holding`, that its slot is taken and does not
take a second one.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import TypeVar

from ._retry import on_rate_limited

__all__ = [
    "DEFAULT_CEILING",
    "DEFAULT_START",
    "AdaptiveLimiter",
    "holding",
    "limiter_for",
    "through",
]

T = TypeVar("T")

DEFAULT_START = 4
DEFAULT_CEILING = 64


class AdaptiveLimiter:
    """At most `limit` calls in flight (and never more than a caller's cap)."""

    def __init__(self, start: int = DEFAULT_START, ceiling: int = DEFAULT_CEILING) -> None:
        self.ceiling = ceiling
        self._limit = float(min(start, ceiling))
        self._in_flight = 0
        self._lock = threading.Lock()
        # In arrival order, each with its loop and its cap. A freed slot is handed over to the
        # first waiter it fits (counted for it at once), so a waiter wakes owning its slot:
        # waking waiters to try again cost an experiment of 1,000 cells more CPU than its
        # cache, and waking all of them on every release cost O(n²).
        self._waiters: OrderedDict[asyncio.Future[None], tuple[asyncio.AbstractEventLoop, int]]
        self._waiters = OrderedDict()
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

    async def acquire(self, cap: int | None = None) -> None:
        """Wait for a slot; `cap` bounds this caller's calls below the shared limit."""
        bound = cap if cap is not None else self.ceiling
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._in_flight < min(max(1, int(self._limit)), bound):
                self._in_flight += 1
                return
            future: asyncio.Future[None] = loop.create_future()
            self._waiters[future] = (loop, bound)
        try:
            await future  # done: the slot was handed over
        except BaseException:
            with self._lock:
                self._waiters.pop(future, None)
            if future.done() and not future.cancelled():
                self.release()  # handed a slot, but leaving: it goes to the next
            raise

    def _hand_over(self) -> list[tuple[asyncio.Future[None], asyncio.AbstractEventLoop]]:
        """Under the lock: count the free slots for the first waiters they fit."""
        handed = []
        limit = max(1, int(self._limit))
        while self._waiters and self._in_flight < limit:
            future, (loop, bound) = next(iter(self._waiters.items()))
            if future.done():  # cancelled, on its way out
                del self._waiters[future]
                continue
            if self._in_flight >= bound:  # its cap is lower: it waits for fewer in flight
                break
            del self._waiters[future]
            self._in_flight += 1
            handed.append((future, loop))
        return handed

    def _wake(self, handed: list[tuple[asyncio.Future[None], asyncio.AbstractEventLoop]]) -> None:
        for future, loop in handed:
            _wake_on(self, future, loop)

    def release(self) -> None:
        with self._lock:
            self._in_flight = max(0, self._in_flight - 1)
            handed = self._hand_over()
        self._wake(handed)

    def succeeded(self) -> None:
        with self._lock:
            self._limit = min(float(self.ceiling), self._limit + 1.0)
            self._cut = False
            handed = self._hand_over() if self._waiters else []
        self._wake(handed)

    def throttled(self, wait: float = 0.0) -> None:
        """A 429: halve the limit (never below one), once per burst: the 429s that come before
        any call succeeds again answer calls sent at the same limit, and cutting it for each
        left a quota's next window to start from one call in flight."""
        with self._lock:
            if not self._cut:
                self._limit = max(1.0, self._limit / 2)
                self._cut = True
            self.throttled_count += 1

    def slot(self, cap: int | None = None) -> _Slot:
        """`async with limiter.slot(cap):` one call in flight; the calls made inside see it
        (`holding`) and take no second slot."""
        return _Slot(self, cap)


# The limiter whose slot the current task holds (set by `slot`): a call made under it is
# already counted.
holding: contextvars.ContextVar[AdaptiveLimiter | None] = contextvars.ContextVar(
    "yjnb_limiter_holding", default=None
)


class _Slot:
    """`AdaptiveLimiter.slot`: a class, not a generator, as it is on every call's path."""

    __slots__ = ("_cap", "_limiter", "_token")

    def __init__(self, limiter: AdaptiveLimiter, cap: int | None) -> None:
        self._limiter, self._cap = limiter, cap
        self._token: contextvars.Token[AdaptiveLimiter | None] | None = None

    async def __aenter__(self) -> None:
        await self._limiter.acquire(self._cap)
        self._token = holding.set(self._limiter)

    async def __aexit__(self, *exc: object) -> None:
        if self._token is not None:
            holding.reset(self._token)
        self._limiter.release()


async def through(limiter: AdaptiveLimiter, call: Callable[[], Awaitable[T]]) -> T:
    """`call()` in one of `limiter`'s slots: a 429 it waits out halves the limit, and its
    success grows it. (A magic's call; an experiment's takes its slot itself.)"""
    async with limiter.slot():
        told = on_rate_limited.set(limiter.throttled)
        try:
            result = await call()
        finally:
            on_rate_limited.reset(told)
    limiter.succeeded()
    return result


def _take(limiter: AdaptiveLimiter, future: asyncio.Future[None]) -> None:
    """On the waiter's loop: its slot, or back to the limiter if it left meanwhile."""
    if future.done():
        limiter.release()
    else:
        future.set_result(None)


def _wake_on(
    limiter: AdaptiveLimiter, future: asyncio.Future[None], loop: asyncio.AbstractEventLoop
) -> None:
    """Hand a waiter its slot on its own loop: at once on this thread's loop (no self-pipe
    write, which cost more than the rest of the hand-over), through the loop's thread-safe
    queue otherwise; a closed loop's waiter is gone, and its slot goes back."""
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        _take(limiter, future)
    elif loop.is_closed():
        limiter.release()
    else:
        loop.call_soon_threadsafe(_take, limiter, future)


_limiters: dict[str, AdaptiveLimiter] = {}
_limiters_lock = threading.Lock()


def limiter_for(profile: str) -> AdaptiveLimiter:
    """The kernel's limiter for `profile` (made on first use, then kept)."""
    with _limiters_lock:
        if profile not in _limiters:
            _limiters[profile] = AdaptiveLimiter()
        return _limiters[profile]

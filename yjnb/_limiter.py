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
            _wake_on(future, loop)

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
            _wake_on(future, loop)

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


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _wake_on(future: asyncio.Future[None], loop: asyncio.AbstractEventLoop) -> None:
    """Wake a waiter on its own loop: at once on this thread's loop (no self-pipe write, which
    cost more than the rest of the hand-over), through the loop's thread-safe queue otherwise."""
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        _wake(future)
    elif not loop.is_closed():
        loop.call_soon_threadsafe(_wake, future)


_limiters: dict[str, AdaptiveLimiter] = {}
_limiters_lock = threading.Lock()


def limiter_for(profile: str) -> AdaptiveLimiter:
    """The kernel's limiter for `profile` (made on first use, then kept)."""
    with _limiters_lock:
        if profile not in _limiters:
            _limiters[profile] = AdaptiveLimiter()
        return _limiters[profile]

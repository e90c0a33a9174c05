"""A private event loop in a background thread, for the sync facade and the magics.

Why not `nest_asyncio`: it is archived, breaks `asyncio.current_task()` on Python 3.14 (which
anyio and httpx rely on) and cannot patch uvloop. Instead, like `jupyter_core.utils.run_sync`,
coroutines run on a loop of our own in a daemon thread, and the caller's thread blocks on the
result. A KeyboardInterrupt (kernel interrupt) in the caller cancels the coroutine and waits
briefly for it to finish, so whatever it keeps on cancellation (partial text) is kept.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

__all__ = ["Runner", "get_runner"]

T = TypeVar("T")
CANCEL_GRACE_S = 5.0
# Waits are sliced so a KeyboardInterrupt is seen promptly everywhere: a blocked lock wait is
# not woken by a simulated interrupt, nor by Ctrl-C on Windows.
WAIT_SLICE_S = 0.2


class Runner:
    """Runs coroutines on one event loop that lives in a daemon thread."""

    def __init__(self, name: str = "yjnb-runner") -> None:
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._loop.is_closed():
                ready = threading.Event()
                loop = asyncio.new_event_loop()

                def main() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(ready.set)
                    loop.run_forever()

                self._thread = threading.Thread(target=main, name=self._name, daemon=True)
                self._thread.start()
                ready.wait()
                self._loop = loop
            return self._loop

    def in_runner_thread(self) -> bool:
        return self._thread is not None and threading.current_thread() is self._thread

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Start `coro` on the runner loop and return at once (background work)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(
        self,
        coro: Coroutine[Any, Any, T],
        timeout: float | None = None,
        *,
        tick: Callable[[], None] | None = None,
        tick_every: float = WAIT_SLICE_S,
    ) -> T:
        """Run `coro` to completion on the runner loop and return its result.

        `tick` is called in the caller's thread every `tick_every` seconds while it runs (a
        live progress display), never from the loop."""
        if self.in_runner_thread():
            coro.close()
            raise RuntimeError("Runner.run() called from the runner's own thread; await instead")
        finished = threading.Event()

        async def tracked() -> T:
            try:
                return await coro
            finally:
                finished.set()

        future = self.submit(tracked())
        deadline = None if timeout is None else time.monotonic() + timeout
        step = WAIT_SLICE_S if tick is None else max(0.01, min(WAIT_SLICE_S, tick_every))
        try:
            while True:
                left = step if deadline is None else deadline - time.monotonic()
                try:
                    return future.result(min(step, max(left, 0.0)))
                except concurrent.futures.TimeoutError:
                    if deadline is not None and time.monotonic() >= deadline:
                        raise
                if tick is not None:
                    tick()
        except BaseException:  # an interrupt, the timeout, or a tick that failed
            # Cancel on the loop, then give the coroutine a moment to keep what it had.
            future.cancel()
            finished.wait(CANCEL_GRACE_S)
            raise

    def stop(self) -> None:
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(loop.stop)
            if thread is not None:
                thread.join(CANCEL_GRACE_S)
            if not loop.is_running():
                loop.close()


_shared: Runner | None = None
_shared_lock = threading.Lock()


def get_runner() -> Runner:
    """The process-wide runner shared by every sync `Client` and the magics."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Runner()
        return _shared

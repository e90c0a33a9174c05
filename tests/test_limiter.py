"""The adaptive limiter: starts small, grows on success, halves on a 429, honours a cap, and is
shared by threads and event loops."""

from __future__ import annotations

import asyncio
import threading

from yjnb._limiter import AdaptiveLimiter, limiter_for


async def _peak(limiter: AdaptiveLimiter, calls: int, cap: int | None, grow: bool) -> int:
    inside, peak = 0, 0

    async def one() -> None:
        nonlocal inside, peak
        async with limiter.slot(cap):
            inside += 1
            peak = max(peak, inside)
            await asyncio.sleep(0.005)
            inside -= 1
            if grow:
                limiter.succeeded()

    await asyncio.gather(*(one() for _ in range(calls)))
    return peak


def test_it_starts_small_and_grows_while_calls_succeed() -> None:
    limiter = AdaptiveLimiter(start=2, ceiling=10)
    assert asyncio.run(_peak(limiter, 40, None, grow=False)) == 2
    assert asyncio.run(_peak(limiter, 200, None, grow=True)) == 10
    assert limiter.limit == 10 and limiter.in_flight == 0


def test_a_cap_bounds_a_caller_below_the_shared_limit() -> None:
    limiter = AdaptiveLimiter(start=8, ceiling=8)
    assert asyncio.run(_peak(limiter, 40, 3, grow=True)) == 3


def test_a_429_halves_it_once_per_burst_but_never_below_one() -> None:
    limiter = AdaptiveLimiter(start=16, ceiling=16)
    for _ in range(5):  # a burst: the calls in flight all refused at once
        limiter.throttled()
    assert limiter.limit == 8 and limiter.throttled_count == 5
    for _ in range(10):  # a success between each: each is a new burst
        limiter.succeeded()
        limiter.throttled()
    assert limiter.limit == 1 and limiter.throttled_count == 15
    assert asyncio.run(_peak(limiter, 10, None, grow=False)) == 1


def test_it_is_shared_across_loops_in_threads() -> None:
    limiter = AdaptiveLimiter(start=3, ceiling=3)
    inside, peak, lock = 0, 0, threading.Lock()

    async def calls() -> None:
        async def one() -> None:
            nonlocal inside, peak
            async with limiter.slot():
                with lock:
                    inside += 1
                    peak = max(peak, inside)
                await asyncio.sleep(0.01)
                with lock:
                    inside -= 1

        await asyncio.gather(*(one() for _ in range(10)))

    threads = [threading.Thread(target=asyncio.run, args=(calls(),)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert peak == 3 and limiter.in_flight == 0


def test_one_limiter_per_profile() -> None:
    assert limiter_for("a") is limiter_for("a") is not limiter_for("b")


def test_a_waiter_that_leaves_gives_its_slot_to_the_next() -> None:
    limiter = AdaptiveLimiter(start=1, ceiling=1)

    async def main() -> list[str]:
        got: list[str] = []

        async def wait(name: str) -> None:
            async with limiter.slot():
                got.append(name)
                await asyncio.sleep(0.01)

        await limiter.acquire()  # held by us
        a, b, c = (asyncio.ensure_future(wait(n)) for n in "abc")
        await asyncio.sleep(0.01)  # all three queued
        a.cancel()  # leaves before its turn
        await asyncio.sleep(0)
        limiter.release()  # handed to b at once (a is gone) ...
        b.cancel()  # ... which leaves before it runs: the slot must go on to c
        await asyncio.gather(a, b, c, return_exceptions=True)
        return got

    assert asyncio.run(main()) == ["c"]
    assert limiter.in_flight == 0


def test_a_cap_lower_than_the_limit_waits_for_fewer_in_flight() -> None:
    limiter = AdaptiveLimiter(start=4, ceiling=4)

    async def main() -> int:
        await limiter.acquire()
        await limiter.acquire()  # two in flight: a caller capped at 2 must wait
        capped = asyncio.ensure_future(limiter.acquire(2))
        await asyncio.sleep(0.01)
        waited = not capped.done()
        limiter.release()
        await asyncio.wait_for(capped, 5)
        return waited + limiter.in_flight

    assert asyncio.run(main()) == 3  # it waited, then held a slot beside the first

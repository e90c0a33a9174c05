"""`yjnb._bounded.deadline`: a call's whole-answer deadline, one timer per loop and length."""

from __future__ import annotations

import asyncio

import pytest

from yjnb._bounded import COMPACT_AFTER, _queues, deadline


def test_a_block_past_its_deadline_is_cancelled_as_a_timeout() -> None:
    async def main() -> None:
        with pytest.raises(asyncio.TimeoutError):
            async with deadline(0.05):
                await asyncio.sleep(5)
        # The task is usable afterwards: the deadline's cancel was taken back.
        task = asyncio.current_task()
        assert task is not None and task.cancelling() == 0
        await asyncio.sleep(0)

    asyncio.run(main())


def test_a_block_that_ends_in_time_is_never_cancelled_later() -> None:
    async def main() -> None:
        async with deadline(0.05):
            await asyncio.sleep(0)
        await asyncio.sleep(0.15)  # past the deadline of the block that ended: no cancel

    asyncio.run(main())


def test_a_callers_cancel_stays_a_cancel() -> None:
    async def block() -> None:
        async with deadline(5):
            await asyncio.sleep(5)

    async def main() -> None:
        task = asyncio.ensure_future(block())
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())


def test_a_cancel_beside_an_expired_deadline_stays_a_cancel() -> None:
    async def block() -> None:
        async with deadline(0.05):
            try:
                await asyncio.sleep(5)
            finally:
                await asyncio.sleep(0.1)  # cancelled meanwhile by the caller too

    async def main() -> None:
        task = asyncio.ensure_future(block())
        await asyncio.sleep(0.08)  # the deadline has cancelled the first sleep
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())


def test_each_length_and_each_block_expires_at_its_own_time() -> None:
    async def timed(seconds: float, start_after: float) -> float:
        await asyncio.sleep(start_after)
        loop = asyncio.get_running_loop()
        began = loop.time()
        with pytest.raises(asyncio.TimeoutError):
            async with deadline(seconds):
                await asyncio.sleep(5)
        return loop.time() - began

    async def main() -> list[float]:
        return await asyncio.gather(timed(0.3, 0), timed(0.1, 0), timed(0.1, 0.1), timed(0.3, 0.1))

    for took, wanted in zip(asyncio.run(main()), [0.3, 0.1, 0.1, 0.3], strict=True):
        assert wanted <= took < wanted + 0.15


def test_blocks_that_end_out_of_order_do_not_pile_up_in_the_queue() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        # One long block first: every block after it ends before it, behind it in the queue.
        long = asyncio.ensure_future(asyncio.sleep(0.2))

        async def slow() -> None:
            async with deadline(60):
                await long

        first = asyncio.ensure_future(slow())
        await asyncio.sleep(0)
        for _ in range(20):
            async with deadline(60):
                for _ in range(50):
                    async with deadline(60):
                        await asyncio.sleep(0)
        queue = _queues[loop][60]
        assert len(queue.waiting) <= 2 * COMPACT_AFTER + 2
        assert queue.gone == sum(1 for e in queue.waiting if e.task is None)
        await first
        assert not queue.waiting and queue.gone == 0

    asyncio.run(main())

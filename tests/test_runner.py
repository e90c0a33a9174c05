"""The background runner: usable from any thread, including one whose loop is running."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

import yjnb
from yjnb._runner import Runner


def test_run_returns_results_and_raises_errors() -> None:
    runner = Runner()
    try:
        assert runner.run(asyncio.sleep(0, result=42)) == 42
        with pytest.raises(ZeroDivisionError):
            runner.run(_divide(1, 0))
    finally:
        runner.stop()


async def _divide(a: int, b: int) -> float:
    return a / b


def test_run_works_inside_a_running_event_loop(client_kwargs: dict[str, Any]) -> None:
    """What a Jupyter cell does: sync code called while the kernel's loop is running."""

    async def cell() -> str:
        return yjnb.Client(**client_kwargs).chat("hello").text

    assert asyncio.run(cell())


def test_keyboard_interrupt_cancels_the_coroutine_and_lets_it_clean_up(
    interrupt_main_soon: Any,
) -> None:
    runner = Runner()
    cleaned = threading.Event()

    async def slow() -> None:
        try:
            await asyncio.sleep(30)
        finally:
            cleaned.set()

    interrupt_main_soon(0.3)
    try:
        with pytest.raises(KeyboardInterrupt):
            runner.run(slow())  # would sleep 30 s if the interrupt did not cancel it
    finally:
        runner.stop()
    assert cleaned.is_set()


def test_keyboard_interrupt_during_a_sync_stream_keeps_partial_text(
    client_kwargs: dict[str, Any], records: list[Any], interrupt_main_soon: Any
) -> None:
    client = yjnb.Client(**client_kwargs, headers={"X-Emulator-Fault": "chunk_delay=0.05"})
    stream = client.chat("Tell me a long story", max_tokens=300, stream=True)
    got: list[str] = []
    interrupt_main_soon(0.6)
    with pytest.raises(KeyboardInterrupt):
        for chunk in stream:
            got.append(chunk.text)
    assert got
    assert stream.result is not None and stream.result.interrupted
    assert stream.result.text.startswith("".join(got))
    assert [r.status for r in records if r.kind == "chat"] == ["interrupted"]


def test_run_from_the_runner_thread_is_refused() -> None:
    runner = Runner()

    async def nested() -> None:
        runner.run(asyncio.sleep(0))

    try:
        with pytest.raises(RuntimeError, match="own thread"):
            runner.run(nested())
    finally:
        runner.stop()


def test_tick_runs_in_the_callers_thread_while_waiting_and_a_failing_tick_cancels() -> None:
    runner = Runner()
    seen: list[tuple[bool, int]] = []
    steps = [0]

    async def work() -> str:
        for _ in range(10):
            steps[0] += 1
            await asyncio.sleep(0.03)
        return "done"

    try:

        def tick() -> None:
            seen.append((threading.current_thread() is threading.main_thread(), steps[0]))

        assert runner.run(work(), tick=tick, tick_every=0.05) == "done"
        assert len(seen) >= 2 and all(main for main, _ in seen)  # the caller's thread
        assert [s for _, s in seen] == sorted(s for _, s in seen) and seen[0][1] < 10

        cancelled = threading.Event()

        async def endless() -> None:
            try:
                await asyncio.sleep(60)
            except asyncio.CancelledError:
                cancelled.set()
                raise

        def broken() -> None:
            raise RuntimeError("display gone")

        with pytest.raises(RuntimeError, match="display gone"):
            runner.run(endless(), tick=broken, tick_every=0.05)
        assert cancelled.wait(5)  # the coroutine did not run on behind the caller's back
    finally:
        runner.stop()

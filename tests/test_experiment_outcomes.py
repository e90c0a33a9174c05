"""An experiment's outcomes (a call that worked, and what of it the answer cache keeps), and
how a run makes its calls."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from yjnb._experiment_cache import AnswerCache
from yjnb._experiment_plan import Cell, Plan
from yjnb._experiment_run import Progress, _answer_in, _ok, answer_of, run_cells
from yjnb._limiter import AdaptiveLimiter
from yjnb._types import ChatResult, Usage


def test_an_ok_outcome_is_the_answer_with_its_status_and_the_cache_keeps_the_answer() -> None:
    result = ChatResult(text="hi", model="m", usage=Usage(1, 2, 3, 0), latency_s=0.5)
    outcome = _ok(result)
    answer = answer_of(result)
    assert outcome == {**answer, "status": "ok", "error": None, "cached": False}
    assert list(outcome) == [*answer, "status", "error", "cached"]  # the results' column order
    kept = _answer_in(outcome)
    assert kept == answer and list(kept) == list(answer)
    assert outcome["status"] == "ok"  # the outcome itself is left as it was


def _plan(n: int) -> Plan:
    cells = [Cell(i, "p", "m", 0, None, {}, f"k{i}") for i in range(n)]
    return Plan(name="e", rows=[{}] * n, columns=[], prompts={"p": "x"}, models=["m"],
                scorers={}, repeat=1, cells=cells)  # fmt: skip


@pytest.mark.parametrize(("concurrency", "most"), [(None, 4), (2, 2)])
def test_a_run_sends_in_order_from_no_more_tasks_than_can_send_at_once(
    tmp_path: Path, concurrency: int | None, most: int
) -> None:
    """50 calls under a limiter of 4 (or a cap of 2): each made once, in the plan's order, at
    most `most` at a time, by at most `most` tasks (not a task per cell waiting its turn)."""
    plan, sent, peak = _plan(50), [], {"tasks": 0, "in_flight": 0}
    progress = Progress(total=50)

    async def send(cell: Cell) -> ChatResult:
        sent.append(cell.key)
        peak["tasks"] = max(peak["tasks"], len(asyncio.all_tasks()) - 1)  # but the run's own
        peak["in_flight"] = max(peak["in_flight"], progress.in_flight)
        await asyncio.sleep(0.001)
        return ChatResult(text=cell.key, model="m")

    cache = AnswerCache(tmp_path)
    limiter = AdaptiveLimiter(start=4, ceiling=4)
    run = run_cells(
        plan, progress, send, cache=cache, use_cache=False, only=None, limiter=limiter,
        concurrency=concurrency, run_id="r",
    )  # fmt: skip
    asyncio.run(run)
    cache.close()
    assert sent == [f"k{i}" for i in range(50)]
    assert [progress.outcomes[i]["text"] for i in range(50)] == sent
    assert peak == {"tasks": most, "in_flight": most}

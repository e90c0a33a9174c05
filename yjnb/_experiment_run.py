"""Running an experiment's cells: from the cache, or through the kernel's adaptive limiter.

Each finished call is committed to the cache before it counts as done, so an interrupt (or a
killed kernel) loses only the calls in flight. A 429 is waited out, never a failed row: the
client's retry policy waits out the first ones (and tells the limiter, which halves), and
once its retries are spent the run waits the server's hint and sends again, up to an overall
deadline. Cells whose calls are the same (the same cache key) share one call.

A media cell's call is a task (`_experiment_media`): one whose id an earlier run holds in the
cache is waited for again (`resume`), outside the limiter and the budget: it was paid for.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._errors import InsufficientBalanceError, RateLimitError, TaskTimeout, YJError
from ._experiment_budget import SKIPPED, Budget
from ._experiment_cache import AnswerCache
from ._experiment_media import MediaResult
from ._experiment_plan import Cell, Plan
from ._hooks import current_experiment
from ._limiter import AdaptiveLimiter
from ._retry import on_rate_limited
from ._types import ChatResult
from .scorers import Judge

__all__ = ["RATE_LIMIT_DEADLINE_S", "Progress", "answer_of", "run_cells"]

# How long a run keeps waiting out 429s (from its start) before a cell counts as failed.
RATE_LIMIT_DEADLINE_S = 900.0
Send = Callable[[Cell], Any]  # a coroutine function: the cell's call -> ChatResult | MediaResult
Resume = Callable[[Cell, dict[str, Any]], Any]  # (cell, held task) -> MediaResult


@dataclass
class Progress:
    """What a run has done so far; filled as calls finish, so an interrupt keeps it.

    The counters are kept as outcomes arrive (on the loop), so a live display in another
    thread reads them without walking `outcomes`: `done`, `cached`, `failed`, the `tokens`,
    `credits` (None: not reported) and `credits_estimate` of the calls made, the calls
    `in_flight`, the limiter's current `limit`, the 429s waited out (`throttled`)."""

    total: int
    outcomes: dict[int, dict[str, Any]] = field(default_factory=dict)  # cell index -> outcome
    requests: int = 0  # calls sent by this run (cells with the same key share one)
    throttled: int = 0  # 429s waited out
    done: int = 0
    cached: int = 0
    failed: int = 0
    skipped: int = 0  # cells the budget left unsent (skipped_budget)
    calls_done: int = 0  # calls this run made that ended (ok or failed)
    tokens: int = 0
    credits: float | None = None
    credits_estimate: float | None = None
    in_flight: int = 0
    limiter: AdaptiveLimiter | None = None

    @property
    def limit(self) -> int | None:
        """The adaptive limit on calls in flight right now (None before the run starts)."""
        return None if self.limiter is None else self.limiter.limit

    def record(self, index: int, outcome: dict[str, Any]) -> None:
        """Cell `index` ended with `outcome` (a retry replaces an earlier one)."""
        old = self.outcomes.get(index)
        if old is not None:
            self._count(old, -1)
        self.outcomes[index] = outcome
        self._count(outcome, +1)

    def _count(self, outcome: dict[str, Any], sign: int) -> None:
        self.done += sign
        self.cached += sign * bool(outcome.get("cached"))
        self.failed += sign * (outcome.get("status") == "failed")
        self.skipped += sign * (outcome.get("status") == SKIPPED)

    def call_ended(self, outcome: dict[str, Any]) -> None:
        """One call this run made ended: its tokens and credits count (once per call)."""
        self.calls_done += 1
        self.tokens += (outcome.get("prompt_tokens") or 0) + (outcome.get("completion_tokens") or 0)
        for name in ("credits", "credits_estimate"):
            value = outcome.get(name)
            if value is not None:
                setattr(self, name, (getattr(self, name) or 0.0) + value)


def answer_of(result: ChatResult | MediaResult) -> dict[str, Any]:
    """What the cache keeps of a finished call, and what its results row shows."""
    if isinstance(result, MediaResult):
        return result.answer()
    usage = result.usage
    return {
        "text": result.text,
        "prompt_tokens": usage.prompt_tokens if usage else None,
        "completion_tokens": usage.completion_tokens if usage else None,
        "cached_tokens": usage.cached_tokens if usage else None,
        "latency_s": result.latency_s,
        "ttft_s": result.ttft_s,
        "credits": None,  # the platform reports no credits for chat
        "credits_estimate": result.credits_estimate,
        "usage_id": result.usage_id,
    }


def _ok(result: ChatResult | MediaResult) -> dict[str, Any]:
    """The outcome of a call that worked. (Its answer's dict, added to: no copy per call.)"""
    outcome = answer_of(result)
    outcome.update(status="ok", error=None, cached=False)
    return outcome


def _answer_in(outcome: dict[str, Any]) -> dict[str, Any]:
    """What the cache keeps of an outcome that is ok: all but its status, error and cached.
    (A copy, then three keys taken out: cheaper than a comprehension over all of them.)"""
    answer = outcome.copy()
    del answer["status"], answer["error"], answer["cached"]
    return answer


def _failed(error: BaseException) -> dict[str, Any]:
    return {"status": "failed", "error": str(error) or type(error).__name__, "cached": False}


def _still_running(error: TaskTimeout) -> dict[str, Any]:
    """A task past the wait's deadline: paid for and held, so a re-run waits for it again."""
    why = f"task {error.task.taskid} still running after {error.timeout:g} s: re-run to wait again"
    return {"status": "interrupted", "error": why, "cached": False, "taskid": error.task.taskid}


async def _call_once(
    cell: Cell,
    send: Send,
    limiter: AdaptiveLimiter,
    cap: int | None,
    deadline: float,
    throttled: Callable[[float], None],
    budget: Budget,
) -> dict[str, Any]:
    """The cell's call, with 429s waited out until `deadline` (a monotonic time); not sent
    when the budget has no room for it (`skipped_budget`)."""
    attempt = 0
    while True:
        async with limiter.slot(cap):
            reserved = budget.admit(cell)  # asked once a slot is free: the spend is current
            if reserved is None:
                return budget.skipped()
            result = None
            try:
                result = await send(cell)
            except RateLimitError as exc:
                wait = exc.retry_after or min(8.0, 0.5 * 2**attempt) * random.uniform(0.75, 1)
                if time.monotonic() + wait > deadline:
                    return _failed(exc)
                throttled(wait)
            except InsufficientBalanceError as exc:
                budget.stop(f"insufficient balance: {exc}")
                return budget.skipped()
            except TaskTimeout as exc:
                return _still_running(exc)
            except YJError as exc:
                return _failed(exc)
            else:
                limiter.succeeded()
                return _ok(result)
            finally:
                budget.settle(reserved, result)
        attempt += 1
        await asyncio.sleep(wait)


async def run_cells(
    plan: Plan,
    progress: Progress,
    send: Send,
    *,
    cache: AnswerCache,
    use_cache: bool,
    only: set[int] | None,
    limiter: AdaptiveLimiter,
    concurrency: int | None,
    run_id: str,
    budget: Budget | None = None,
    resume: Resume | None = None,
) -> None:
    """Fill `progress.outcomes` for the cells (all, or the indices in `only`); `resume` waits
    again for the media tasks an earlier run holds."""
    wanted = [i for i in range(len(plan.cells)) if only is None or i in only]
    by_key: dict[str, list[int]] = {}
    for i in wanted:
        by_key.setdefault(plan.cells[i].key, []).append(i)
    progress.limiter = limiter
    hits = _from_cache(cache, by_key, progress) if use_cache else []
    cells = _Cells(plan, progress, send, cache, use_cache, limiter, concurrency, run_id, budget)
    if resume is not None:
        cells.resume, cells.held = resume, cache.held_many(list(by_key))
    # A held media task is waited for outside the limiter: each in a task of its own.
    held = [(key, indices) for key, indices in by_key.items() if key in cells.held]
    calls = iter([(key, indices) for key, indices in by_key.items() if key not in cells.held])
    tag = current_experiment.set((plan.name, run_id))
    told = on_rate_limited.set(cells.throttled)
    try:  # the tasks copy the context now: their calls are tagged and report their 429s
        tasks = [asyncio.ensure_future(cells.work(calls)) for _ in range(cells.workers(by_key))]
        tasks += [asyncio.ensure_future(cells.one(key, indices)) for key, indices in held]
        tasks += [asyncio.ensure_future(cells.judge_all(indices)) for indices in hits]
    finally:
        on_rate_limited.reset(told)
        current_experiment.reset(tag)
    await _all_or_none(tasks)


class _Cells:
    """One run's calls: each key called once (cells sharing it share the answer), committed
    to the cache before it counts as done, then judged."""

    def __init__(
        self,
        plan: Plan,
        progress: Progress,
        send: Send,
        cache: AnswerCache,
        use_cache: bool,
        limiter: AdaptiveLimiter,
        concurrency: int | None,
        run_id: str,
        budget: Budget | None,
    ) -> None:
        self.plan, self.progress, self.send = plan, progress, send
        self.cache, self.use_cache, self.run_id = cache, use_cache, run_id
        self.limiter, self.concurrency = limiter, concurrency
        self.budget = budget or Budget()
        self.deadline = time.monotonic() + RATE_LIMIT_DEADLINE_S
        self.resume: Resume | None = None
        self.held: dict[str, dict[str, Any]] = {}  # key -> a media task an earlier run paid for

    def throttled(self, wait: float) -> None:
        self.limiter.throttled(wait)
        self.progress.throttled += 1

    async def counted(self, cell: Cell) -> Any:
        self.progress.requests += 1
        self.progress.in_flight += 1
        try:
            return await self.send(cell)
        finally:
            self.progress.in_flight -= 1

    async def call(self, key: str, cell: Cell, look: bool = False) -> dict[str, Any]:
        """One call (`look`: unless the cache has it), committed to the cache before it
        counts as done."""
        found = self.cache.get_many([key]).get(key) if look and self.use_cache else None
        if found is not None:
            return {**found, "status": "ok", "error": None, "cached": True}
        info = self.held.pop(key, None)
        if info is not None and self.resume is not None:
            outcome = await _resumed(cell, info, self.resume)
        else:
            outcome = await _call_once(
                cell, self.counted, self.limiter, self.concurrency, self.deadline,
                self.throttled, self.budget,
            )  # fmt: skip
        if outcome["status"] == "ok":  # failures are never cached
            answer = _answer_in(outcome)
            await self.cache.commit(key, answer, experiment=self.plan.name, run_id=self.run_id)
        if outcome["status"] != SKIPPED:  # a skipped cell made no call
            self.progress.call_ended(outcome)
        return outcome

    def workers(self, by_key: dict[str, list[int]]) -> int:
        """How many tasks make the run's calls (`work`): as many as the limiter could ever
        let send at once, not one per key. A task per key had them all wait in the limiter
        at once: 1,000 cells kept 1,000 tasks with their waits alive, which the garbage
        collector went through again and again, and every freed slot was handed to a
        waiting task (a future and a wake-up per call)."""
        most = self.limiter.ceiling
        if self.concurrency is not None:
            most = min(most, self.concurrency)
        return max(1, min(len(by_key), most))

    async def work(self, calls: Iterator[tuple[str, list[int]]]) -> None:
        """Make the calls of `calls` (shared with the other workers) one after another, in
        their order, until none is left."""
        for key, indices in calls:
            await self.one(key, indices)

    async def one(self, key: str, indices: list[int]) -> None:
        outcome = await self.call(key, self.plan.cells[indices[0]])
        for i in indices:
            self.progress.record(i, outcome)
        await self.judge_all(indices)

    async def judge_all(self, indices: list[int]) -> None:
        plan, outcomes = self.plan, self.progress.outcomes
        if plan.judge_cell is None or outcomes[indices[0]].get("status") != "ok":
            return
        for i in indices:
            verdicts = {}
            for label, scorer in plan.scorers.items():
                if isinstance(scorer, Judge):
                    verdicts[label] = await _judge(plan, i, label, scorer, self.progress, self.call)
            outcomes[i] = {**outcomes[i], "judges": verdicts}


async def _resumed(cell: Cell, info: dict[str, Any], resume: Resume) -> dict[str, Any]:
    """A held media task waited for again (no new request, nothing spent again)."""
    try:
        result = await resume(cell, info)
    except TaskTimeout as exc:
        return _still_running(exc)
    except YJError as exc:
        return _failed(exc)
    return _ok(result)


def _from_cache(
    cache: AnswerCache, by_key: dict[str, list[int]], progress: Progress
) -> list[list[int]]:
    """Answer the cells the cache has (taking their keys out of `by_key`); their indices."""
    hits = []
    for key, answer in cache.get_many(list(by_key)).items():
        hits.append(by_key.pop(key))
        for i in hits[-1]:
            progress.record(i, {**answer, "status": "ok", "error": None, "cached": True})
    return hits


async def _all_or_none(tasks: Sequence[asyncio.Future[Any]]) -> None:
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        # The calls in flight record themselves as interrupted before the run ends.
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


async def _judge(
    plan: Plan,
    index: int,
    label: str,
    judge: Judge,
    progress: Progress,
    call: Callable[..., Any],  # (key, cell, look) -> outcome
) -> dict[str, Any]:
    """The judge's reply to one answer: {"text": ...}, or {"error": ...} when not had."""
    cell = plan.cells[index]
    try:
        question = judge.prompt(cell.prompt, progress.outcomes[index]["text"] or "",
                                plan.rows[cell.row])  # fmt: skip
    except Exception as exc:  # a rubric field the row cannot fill: that score's error
        return {"error": f"{type(exc).__name__}: {exc}"}
    assert plan.judge_cell is not None
    judged = plan.judge_cell(judge, question)
    outcome = await call(judged.key, judged, True)
    if outcome["status"] != "ok":
        return {"error": f"the judge's call {outcome['status']}: {outcome['error']}"}
    return {"text": outcome["text"], "cached": outcome["cached"]}

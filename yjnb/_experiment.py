"""`yjnb.experiment`: data × prompts × models, cached, resumable, compared side by side.

The plan (`_experiment_plan`) checks everything before any request; the run
(`_experiment_run`) answers from the cache (`_experiment_cache`) or calls through the kernel's
adaptive limiter (`_limiter`); the tables are `_experiment_frame`'s. The sync
`yjnb.experiment()` (`_experiment_api`) runs on the private runner loop (`_runner`), so it
works inside a Jupyter kernel whose loop is busy; a kernel interrupt ends it cleanly, keeping
every finished row.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._base import DEFAULT_WAIT_TIMEOUT_S, warn
from ._errors import ValidationError
from ._estimates import estimate_tokens
from ._experiment_budget import Budget
from ._experiment_cache import AnswerCache
from ._experiment_frame import compare_frame, export_frame, results_frame, summary_frame
from ._experiment_media import MediaSender
from ._experiment_plan import Cell, Plan, make_plan
from ._experiment_run import Progress, run_cells
from ._limiter import limiter_for
from ._prices import price_table
from ._runner import Runner, get_runner
from ._types import ChatResult, Usage
from .scorers import Judge

if TYPE_CHECKING:
    import pandas as pd

    from ._client import AsyncClient

__all__ = ["Estimate", "Experiment", "prepare_experiment", "run_experiment"]


@dataclass(frozen=True)
class Estimate:
    """A dry run's plan: calls to make, cells from the cache, estimated tokens and credits
    (None: not reported; credits need a price table and `max_tokens`)."""

    calls: int
    cached: int
    prompt_tokens: int
    completion_tokens: int | None
    credits_estimate: float | None


class Experiment:
    """One run of `yjnb.experiment`: `results`, `summary()`, `compare()`, `export()`,
    `retry_failed()`. `status` is "done", "interrupted", "budget" (stopped by the budget or
    the balance: some cells `skipped_budget`) or "dry_run"."""

    def __init__(self, plan: Plan, client: AsyncClient, runner: Runner | None, **kw: Any) -> None:
        self.plan = plan
        self.name = plan.name
        self.run_id = uuid.uuid4().hex[:12]
        self.progress = Progress(total=len(plan.cells))
        self.status = "dry_run" if kw.get("dry_run") else "done"
        self.estimate: Estimate | None = None
        self._client = client
        self._runner = runner
        self._cache = kw.get("cache", True)
        self._concurrency: int | None = kw.get("concurrency")
        self._budget: tuple[float, str] | None = kw.get("budget")  # (limit, unit)
        # A media run's: where its files go, and how long each task is waited for.
        self._media_dir = Path(kw.get("media_dir") or client.settings.home / "media")
        self._timeout: float = kw.get("timeout") or DEFAULT_WAIT_TIMEOUT_S
        self.budget: Budget | None = None  # the last run's: its spend, and why it stopped
        self._frame: pd.DataFrame | None = None

    # -- running ------------------------------------------------------------------------------

    async def _run(self, only: set[int] | None = None, use_cache: bool | None = None) -> None:
        cache = AnswerCache(self._client.settings.home)
        limit, unit = self._budget or (None, "credits")
        self.budget = Budget(limit, unit, price_table(self._client.settings.home))
        send: Callable[[Cell], Any] = self._send
        resume = None
        if self.plan.kind != "chat":
            media = MediaSender(
                self._client, cache, experiment=self.name, run_id=self.run_id,
                media_dir=self._media_dir, timeout=self._timeout,
            )  # fmt: skip
            send, resume = media.send, media.resume
        try:
            await run_cells(
                self.plan, self.progress, send, cache=cache,
                use_cache=self._cache if use_cache is None else use_cache, only=only,
                limiter=limiter_for(self._client.settings.profile),
                concurrency=self._concurrency, run_id=self.run_id, budget=self.budget,
                resume=resume,
            )  # fmt: skip
            self.status = "budget" if self.counts["skipped_budget"] else "done"
        except BaseException:
            self.status = "interrupted"
            raise
        finally:
            self._frame = None
            cache.close()

    async def _send(self, cell: Cell) -> ChatResult:
        assert cell.chat is not None
        result = await self._client.send_chat(cell.chat)
        assert isinstance(result, ChatResult)  # an experiment's calls do not stream
        return result

    def _run_sync(
        self,
        only: set[int] | None = None,
        use_cache: bool | None = None,
        *,
        on_progress: Callable[[Progress], None] | None = None,
        interval: float = 0.1,
        quiet: bool = False,
    ) -> None:
        """Run on the runner loop, blocking this thread; `on_progress(self.progress)` is
        called in this thread every `interval` seconds meanwhile (a live display). An
        interrupt ends the run with its finished rows kept: a warning says so (unless
        `quiet`: the caller says it)."""
        runner = self._runner or get_runner()
        tick = None if on_progress is None else functools.partial(on_progress, self.progress)
        try:
            runner.run(self._run(only, use_cache), tick=tick, tick_every=interval)
        except KeyboardInterrupt:
            # No traceback: every finished row is kept (and cached); the line says what to do.
            self.status = "interrupted"
            if not quiet:
                warn([str(self)], stacklevel=3)
        else:
            if not quiet:
                self._warn_budget(stacklevel=4)

    def _warn_budget(self, stacklevel: int) -> None:
        """A run the budget stopped ends without an error: one line says what to do."""
        if self.status == "budget":
            warn([str(self)], stacklevel=stacklevel)

    def _unfinished(self) -> set[int]:
        outcomes = self.progress.outcomes
        return {
            i for i in range(len(self.plan.cells))
            if outcomes.get(i, {}).get("status") != "ok"
        }  # fmt: skip

    def retry_failed(self) -> Experiment:
        """Call again only the cells that failed or did not finish; returns this run."""
        if self.status == "dry_run":
            raise ValidationError("a dry run made no calls; run it without dry_run=True")
        self._run_sync(self._unfinished(), use_cache=True)
        return self

    async def aretry_failed(self) -> Experiment:
        """`retry_failed()` for async code."""
        await self._run(self._unfinished(), use_cache=True)
        self._warn_budget(stacklevel=2)
        return self

    # -- tables -------------------------------------------------------------------------------

    @property
    def results(self) -> pd.DataFrame:
        """One row per (data row, prompt, model, sample), with every column."""
        if self._frame is None:
            self._frame = results_frame(self.plan, self.progress.outcomes)
        return self._frame

    def summary(self) -> pd.DataFrame:
        return summary_frame(self.results, list(self.plan.scorers))

    def compare(self) -> pd.DataFrame:
        return compare_frame(self.results, self.plan)

    def export(self, path: str | Path) -> Path:
        """Write `results` to a .csv, .parquet or .jsonl file; returns its path."""
        return export_frame(self.results, path)

    # -- showing ------------------------------------------------------------------------------

    @property
    def counts(self) -> dict[str, int]:
        p = self.progress
        return {
            "cells": len(self.plan.cells),
            "done": p.done,
            "ok": p.done - p.failed - p.skipped,
            "failed": p.failed,
            "skipped_budget": p.skipped,
            "cached": p.cached,
            "requests": self.progress.requests,
            "rate_limited": self.progress.throttled,
        }

    def __str__(self) -> str:
        c = self.counts
        if self.status == "dry_run" and self.estimate is not None:
            e = self.estimate
            credits = "not reported" if e.credits_estimate is None else f"≈{e.credits_estimate:g}"
            return (
                f"{self.name} (dry run): {c['cells']} cells, {e.calls} calls to make, "
                f"{e.cached} cached, ≈{e.prompt_tokens} prompt tokens, credits {credits}"
            )
        if self.status == "interrupted":
            return f"{self.name}: interrupted: {c['done']}/{c['cells']} done, re-run to finish"
        if self.status == "budget":
            why = (self.budget.stopped if self.budget else None) or "over the budget"
            return (
                f"{self.name}: stopped, {why}: {c['ok']}/{c['cells']} ok, "
                f"{c['skipped_budget']} skipped_budget; raise the budget (or top up) and "
                "re-run to finish"
            )
        return (
            f"{self.name}: {c['cells']} cells, {c['ok']} ok, {c['failed']} failed, "
            f"{c['cached']} cached, {c['requests']} requests"
        )

    def __repr__(self) -> str:
        return f"<Experiment {self}>"


def _plan(client: AsyncClient, data: Any, prompt: Any, models: Any, **kw: Any) -> Plan:
    catalog = client.protocol.catalog
    settings = client.settings
    plan = make_plan(
        data, prompt, models, default_model=client._default_model,
        kind_of=lambda m: kind_of(catalog.catelogs_of(m)), prepare=client.prepare_chat,
        prepare_task=client.prepare_task,
        where={"protocol": settings.protocol, "base_url": settings.base_url}, **kw,
    )  # fmt: skip
    return plan


def kind_of(catelogs: list[str]) -> str:
    """A model's kind by the catalogs that know it: "chat" unless only as an image or video
    model (a model the catalog does not know is taken for chat; `kind=` says otherwise)."""
    if not catelogs or "t2t" in catelogs:
        return "chat"
    return "image" if "t2i" in catelogs else "video"


def _estimate(run: Experiment) -> Estimate:
    """What the run would do: the cache is looked at, nothing is sent."""
    cells = run.plan.cells
    keys = list({c.key for c in cells})
    cache = AnswerCache(run._client.settings.home)
    try:
        hits = set(cache.get_many(keys)) if run._cache else set()
    finally:
        cache.close()
    todo = {c.key: c for c in cells if c.key not in hits}
    prompt_tokens = sum(
        estimate_tokens(c.prompt) + estimate_tokens(c.system or "") for c in todo.values()
    )
    most = [c.params.get("max_tokens") for c in todo.values()]
    completion = sum(most) if all(isinstance(m, int) for m in most) else None  # type: ignore[arg-type]
    credits = None
    if completion is not None:
        table = price_table(run._client.settings.home)
        per_cell = [
            table.estimate(c.model, _usage(c.prompt, c.params.get("max_tokens", 0)))
            for c in todo.values()
        ]
        credits = None if None in per_cell else round(sum(per_cell), 6)  # type: ignore[arg-type]
    return Estimate(
        calls=len(todo), cached=len(cells) - sum(1 for c in cells if c.key in todo),
        prompt_tokens=prompt_tokens, completion_tokens=completion, credits_estimate=credits,
    )  # fmt: skip


def _usage(prompt: str, completion: int) -> Usage:
    sent = estimate_tokens(prompt)
    return Usage(prompt_tokens=sent, completion_tokens=completion, total_tokens=sent + completion)


def _budget_option(kw: dict[str, Any], problems: list[str]) -> tuple[float, str] | None:
    """`budget=` (credits) or `budget_tokens=`, checked: (limit, unit) or None."""
    given: dict[str, Any] = {}
    for name, unit in (("budget", "credits"), ("budget_tokens", "tokens")):
        value = kw.pop(name, None)
        if value is not None:
            given[unit] = value
    if len(given) > 1:
        problems.append("give budget= (credits) or budget_tokens=, not both")
        return None
    for unit, limit in given.items():
        if isinstance(limit, bool) or not isinstance(limit, (int, float)) or not limit > 0:
            name = "budget" if unit == "credits" else "budget_tokens"
            problems.append(f"{name} must be a number of {unit} above 0; got {limit!r}")
            return None
        if limit == float("inf"):
            return None
        return float(limit), unit
    return None


def _check_options(kw: dict[str, Any]) -> None:
    problems: list[str] = []
    kw["budget"] = _budget_option(kw, problems)
    timeout = kw.get("timeout")
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0
    ):
        problems.append(f"timeout must be a number of seconds above 0; got {timeout!r}")
    concurrency = kw.get("concurrency")
    if concurrency is not None and (
        isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1
    ):
        problems.append(f"concurrency must be a whole number, 1 or more; got {concurrency!r}")
    if problems:
        raise ValidationError(problems)


def prepare_experiment(
    client: AsyncClient, runner: Runner | None, data: Any, prompt: Any, models: Any, **kw: Any
) -> Experiment:
    """The checked `Experiment`, not yet run (a dry run has its estimate)."""
    _check_options(kw)
    names = ("cache", "dry_run", "concurrency", "budget", "media_dir", "timeout")
    options = {k: kw.pop(k) for k in names if k in kw}
    plan = _plan(client, data, prompt, models, **kw)
    warn(plan.warnings, stacklevel=3)  # the line calling yjnb.experiment
    run = Experiment(plan, client, runner, **options)
    if run.status == "dry_run" or run._budget is not None:
        run.estimate = _estimate(run)
    if run._budget is not None:
        warn(_check_budget(run, *run._budget), stacklevel=3)
    return run


def _check_budget(run: Experiment, limit: float, unit: str) -> list[str]:
    """The estimate against the budget, before any request: a `ValidationError` when it is
    over (or when credits cannot be counted); a warning when there is no estimate."""
    assert run.estimate is not None
    e = run.estimate
    if run.plan.kind != "chat":
        return [
            f"{run.name}: {run.plan.kind} credits are the platform's, known as each task ends; "
            f"the budget of {limit:g} {unit} is counted on them as tasks finish"
        ]
    if unit == "credits":
        table = price_table(run._client.settings.home)
        judges = [s.model for s in run.plan.scorers.values() if isinstance(s, Judge)]
        unpriced = [m for m in [*run.plan.models, *judges] if m and m not in table.prices]
        if unpriced:
            raise ValidationError(
                f"budget={limit:g} credits: no price for {', '.join(dict.fromkeys(unpriced))} "
                "(the platform reports no chat credits); add it to YJ_HOME/prices.toml or "
                "%config YJMagics.prices, or use budget_tokens="
            )
        guess = e.credits_estimate
    else:
        guess = None if e.completion_tokens is None else e.prompt_tokens + e.completion_tokens
    if guess is None:
        return [
            f"{run.name}: estimate not reported (set max_tokens in params for one); the "
            f"budget of {limit:g} {unit} is counted on the actual spend as calls finish"
        ]
    if run.status != "dry_run" and guess > limit:
        raise ValidationError(
            f"{run.name}: the estimate for {e.calls} calls is ≈{guess:g} {unit}, over the "
            f"budget of {limit:g}; raise the budget, or run fewer cells (dry_run=True shows "
            "the plan)"
        )
    return []


async def run_experiment(
    client: AsyncClient, data: Any, prompt: Any, models: Any = None, **kw: Any
) -> Experiment:
    """`await client.experiment(...)`: the same as `yjnb.experiment`, on the caller's loop.
    A cancellation propagates (what finished is in the cache: a re-run picks it up)."""
    run = prepare_experiment(client, None, data, prompt, models, **kw)
    if run.status != "dry_run":
        await run._run()
        run._warn_budget(stacklevel=2)
    return run

"""An experiment's budget: credits (`budget=`) or tokens (`budget_tokens=`) for one run.

The platform reports no chat credits, so credits are counted from the user's price table
(`_prices`); a credit budget is refused before any request when a model has no price. A call
is sent only while what was spent, plus what the calls in flight may still cost (estimated
from `max_tokens` when the parameters set it), leaves room for it; once the spend reaches
the limit, or the platform says the balance is spent (`InsufficientBalanceError`), the run
stops sending: the cells not sent get the status `skipped_budget`.

A media task's credits are the platform's own (or the price table's estimate from its tokens),
known once it ends; nothing is estimated before it is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._estimates import PriceTable, estimate_tokens
from ._experiment_media import MediaResult
from ._experiment_plan import Cell
from ._types import ChatResult, Usage

__all__ = ["SKIPPED", "Budget"]

SKIPPED = "skipped_budget"


@dataclass
class Budget:
    """What one run may spend (`limit` None: no limit, only the balance can stop it)."""

    limit: float | None = None
    unit: str = "credits"  # or "tokens"
    prices: PriceTable | None = None
    spent: float = 0.0
    reserved: float = 0.0  # the estimated cost of the calls in flight
    stopped: str | None = None  # why the run stopped sending, once it did

    def estimate(self, cell: Cell) -> float | None:
        """The most this cell's call should cost, or None when `max_tokens` is not set."""
        most = cell.params.get("max_tokens")
        if not isinstance(most, int) or isinstance(most, bool):
            return None
        sent = estimate_tokens(cell.prompt) + estimate_tokens(cell.system or "")
        if self.unit == "tokens":
            return float(sent + most)
        usage = Usage(prompt_tokens=sent, completion_tokens=most, total_tokens=sent + most)
        return (self.prices or PriceTable()).estimate(cell.model, usage)

    def admit(self, cell: Cell) -> float | None:
        """The amount reserved for the cell's call, or None: it is not to be sent."""
        if self.stopped is not None:
            return None
        if self.limit is None:
            return 0.0
        guess = self.estimate(cell) or 0.0
        # Not sent when it might not fit: the calls in flight may use what is left.
        if self.spent >= self.limit or self.spent + self.reserved + guess > self.limit:
            return None
        self.reserved += guess
        return guess

    def settle(self, reserved: float, result: ChatResult | MediaResult | None) -> None:
        """A call admitted with `reserved` ended (`result` None: it cost nothing)."""
        self.reserved = max(0.0, self.reserved - reserved)
        if result is not None:
            self.spent += self.cost(result)
        if self.limit is not None and self.spent >= self.limit and self.stopped is None:
            self.stopped = f"budget reached: {self.spent:g} of {self.limit:g} {self.unit} spent"

    def cost(self, result: ChatResult | MediaResult) -> float:
        if isinstance(result, MediaResult):
            if self.unit == "tokens":
                return float(result.usage.total_tokens) if result.usage else 0.0
            return float(result.credits or result.credits_estimate or 0.0)
        if self.unit == "tokens":
            usage = result.usage or result.usage_estimate
            return float(usage.total_tokens) if usage else 0.0
        if result.credits_estimate is not None:
            return float(result.credits_estimate)
        usage = result.usage or result.usage_estimate
        return float((self.prices or PriceTable()).estimate(result.model, usage) or 0.0)

    def stop(self, reason: str) -> None:
        if self.stopped is None:
            self.stopped = reason

    def skipped(self) -> dict[str, Any]:
        """The outcome of a cell the budget kept from being sent."""
        why = self.stopped or f"over the budget of {self.limit:g} {self.unit}"
        return {"status": SKIPPED, "error": f"{why}: not sent", "cached": False}

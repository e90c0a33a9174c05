"""What a record adds to the totals, counted the way the ledger's SQL counts its row.

By the UTC day its `started_at` falls on (a task stays on the day it was submitted, whatever
day it ends), a task once however many states it reports, and a task's later state as the
upsert leaves the row (`_schema.UPSERT`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone

from .._types import UsageRecord
from ._store import Totals

__all__ = ["Spend", "fold", "utc_day"]

# A task's states, weakest first, as `_schema._RANK` orders them: the upsert never moves a
# row to a weaker state, so a late `pending` after `ok` leaves the row (and its credits) alone.
_RANK = {"pending": 0, "running": 0, "timeout": 1}
_FINAL = 2


def utc_day(moment: datetime) -> date:
    """The UTC day of `moment` (naive means UTC, as `_schema.iso` stores it)."""
    if moment.tzinfo is None:
        return moment.date()
    return moment.astimezone(timezone.utc).date()


@dataclass(frozen=True)
class Spend:
    """What one row counts for: the UTC day it started on, its totals, its state's rank."""

    day: date
    totals: Totals
    rank: int = _FINAL


def fold(previous: Spend | None, record: UsageRecord) -> Spend:
    """The row's spend once `record` is applied to it, as the ledger's upsert applies it.

    A chat (or a task's first state) is a new row. A task's later state keeps the first
    state's day, changes nothing if it is weaker (a late `pending`), and never erases tokens
    or credits that were known with an unknown (None) value.
    """
    rank = _RANK.get(record.status, _FINAL)
    if previous is None:
        totals = Totals(1, record.total_tokens or 0, record.credits or 0.0)
        return Spend(utc_day(record.started_at), totals, rank)
    if rank < previous.rank:
        return previous
    known = previous.totals
    tokens = record.total_tokens if record.total_tokens is not None else known.tokens
    credits = record.credits if record.credits is not None else known.credits
    return Spend(previous.day, Totals(1, tokens, credits), rank)

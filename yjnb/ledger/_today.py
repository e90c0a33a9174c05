"""What a record adds to the totals, and today's totals kept in memory.

The usage line under an output runs on the event loop (a background task's card), so
`today_totals()` must not query SQLite there. `TodayTally` holds the file's totals for today
as the writer thread last read them, plus what this process recorded after that read; the
writer re-reads after each write, so other kernels' rows on the same file show up then and
this process's own records show up at once. The writer keeps one tally for real calls and
one for demo calls (the demo emulator's): the two never add up.

Both sides count a row the way the SQL does: by the UTC day its `started_at` falls on (a task
stays on the day it was submitted, whatever day it ends), a task once however many states it
reports, and a task's later state as the upsert leaves the row (`_schema.UPSERT`).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import date, datetime, timezone

from .._types import UsageRecord
from ._store import Totals

__all__ = ["Spend", "TodayTally", "add", "chat_delta", "fold", "utc_day"]

# A task's states, weakest first, as `_schema._RANK` orders them: the upsert never moves a
# row to a weaker state, so a late `pending` after `ok` leaves the row (and its credits) alone.
_RANK = {"pending": 0, "running": 0, "timeout": 1}
_FINAL = 2


def utc_day(moment: datetime) -> date:
    """The UTC day of `moment` (naive means UTC, as `_schema.iso` stores it)."""
    if moment.tzinfo is None or moment.tzinfo is timezone.utc:  # the core's: no conversion
        return moment.date()
    return moment.astimezone(timezone.utc).date()


@dataclass(frozen=True)
class Spend:
    """What one row counts for: the UTC day it started on, its totals, its state's rank."""

    day: date
    totals: Totals
    rank: int = _FINAL

    @property
    def credits(self) -> float | None:
        """The row's reported credits, None if none were."""
        return None if self.totals.unreported else self.totals.credits

    @property
    def estimate(self) -> float | None:
        return self.totals.estimated if self.totals.unreported else None


def fold(previous: Spend | None, record: UsageRecord) -> Spend:
    """The row's spend once `record` is applied to it, as the ledger's upsert applies it.

    A chat (or a task's first state) is a new row. A task's later state keeps the first
    state's day, changes nothing if it is weaker (a late `pending`), and never erases tokens
    or credits that were known with an unknown (None) value.
    """
    rank = _RANK.get(record.status, _FINAL)
    if previous is None:
        totals = _row(record.total_tokens or 0, record.credits, record.credits_estimate)
        return Spend(utc_day(record.started_at), totals, rank)
    if rank < previous.rank:
        return previous
    known = previous.totals
    tokens = record.total_tokens if record.total_tokens is not None else known.tokens
    credits = record.credits if record.credits is not None else previous.credits
    estimate = record.credits_estimate
    if estimate is None:
        estimate = previous.estimate
    return Spend(previous.day, _row(tokens, credits, estimate), rank)


def _row(tokens: int, credits: float | None, estimate: float | None) -> Totals:
    """What one row adds to the totals, as `Store.totals` sums it."""
    if credits is not None:
        return Totals(1, tokens, credits)
    return Totals(1, tokens, 0.0, 1, estimate or 0.0)


# What a record adds to the totals as plain numbers (calls, tokens, credits, unreported,
# estimated): `note` runs for every record on the recording thread, where building `Totals`
# (frozen dataclasses) for each step cost more than the rest of the sink.
_Delta = tuple[int, int, float, int, float]
_NOTHING: _Delta = (0, 0, 0.0, 0, 0.0)


def _numbers(totals: Totals) -> _Delta:
    return (totals.calls, totals.tokens, totals.credits, totals.unreported, totals.estimated)


def _totals(sums: list[float]) -> Totals:
    calls, tokens, credits, unreported, estimated = sums
    return Totals(int(calls), int(tokens), credits, int(unreported), estimated)


def chat_delta(record: UsageRecord) -> _Delta:
    """What a chat's row (a record without task id: always a new row) adds, as `_row` says."""
    tokens = record.total_tokens or 0
    if record.credits is not None:
        return (1, tokens, record.credits, 0, 0.0)
    return (1, tokens, 0.0, 1, record.credits_estimate or 0.0)


def add(sums: list[float], delta: _Delta, sign: int = 1) -> None:
    """`sums += sign * delta`, in place (spelled out: this runs for every record)."""
    sums[0] += sign * delta[0]
    sums[1] += sign * delta[1]
    sums[2] += sign * delta[2]
    sums[3] += sign * delta[3]
    sums[4] += sign * delta[4]


class TodayTally:
    """Today's calls, tokens and credits on one ledger file, without touching the file.

    `note(seq, record)` runs on the recording thread when a record is queued (number `seq`);
    `synced(seq, day, totals)` on the writer thread after it read the file's totals for `day`
    with every record up to `seq` written. Between the two, a record is counted from memory.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._base: tuple[date, Totals] | None = None  # the file's totals at the last read
        self._unsynced: deque[tuple[int, date, _Delta]] = deque()  # (seq, day, delta) since
        self._by_day: dict[date, list[float]] = {}  # the unsynced deltas summed per day
        self._tasks: dict[str, Spend] = {}  # each task's spend as this process last knew it
        self._synced_at = float("-inf")  # time.monotonic() of the last read

    def note(self, seq: int, record: UsageRecord) -> None:
        """Count `record` (queued as number `seq`) until a read of the file includes it."""
        with self._lock:
            if record.taskid:
                previous = self._tasks.get(record.taskid)
                spend = fold(previous, record)
                self._tasks[record.taskid] = spend
                # A later state adds only what it changes: the file already counts the row.
                change = spend.totals - previous.totals if previous is not None else spend.totals
                day, delta = spend.day, _numbers(change)
            else:
                day, delta = utc_day(record.started_at), chat_delta(record)
            if delta == _NOTHING:
                return
            self._unsynced.append((seq, day, delta))
            sums = self._by_day.get(day)
            if sums is None:
                self._by_day[day] = list(delta)
            else:
                add(sums, delta)

    def synced(self, seq: int, day: date, totals: Totals) -> None:
        """The file's `totals` for `day`, read with every record up to `seq` written."""
        with self._lock:
            if self._base is not None and self._base[0] != day:
                # A new day: earlier days' tasks no longer count (a kernel runs for weeks).
                self._tasks = {k: s for k, s in self._tasks.items() if s.day >= day}
            self._base = (day, totals)
            # Only what this read includes is taken off (the writer reads after every batch:
            # summing what is left each time would cost the square of a backlog).
            while self._unsynced and self._unsynced[0][0] <= seq:
                _, on, delta = self._unsynced.popleft()
                add(self._by_day[on], delta, -1)
            if not self._unsynced:
                self._by_day = {}  # exactly nothing: no float residue outlives a backlog
            self._synced_at = time.monotonic()

    def totals(self, today: date) -> Totals:
        """Rows started on `today` or later (as `started_at >= midnight` counts them)."""
        with self._lock:
            base = self._base[1] if self._base is not None and self._base[0] == today else Totals()
            later = [_totals(sums) for on, sums in self._by_day.items() if on >= today]
        return sum(later, base)

    def stale(self, today: date, max_age_s: float) -> bool:
        """Whether a read of the file is due: none yet, a new day, or none for `max_age_s`."""
        with self._lock:
            if self._base is None or self._base[0] != today:
                return True
            return time.monotonic() - self._synced_at > max_age_s

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

import bisect
import threading
import time
from collections.abc import Sequence
from datetime import date, datetime, timezone
from operator import itemgetter

from .._types import UsageRecord
from ._store import Totals

__all__ = [
    "Delta",
    "Spend",
    "TodayTally",
    "chat_delta",
    "fold",
    "spend_totals",
    "summed",
    "utc_day",
]

# A task's states, weakest first, as `_schema._RANK` orders them: the upsert never moves a
# row to a weaker state, so a late `pending` after `ok` leaves the row (and its credits) alone.
_RANK = {"pending": 0, "running": 0, "timeout": 1}
_FINAL = 2
_seq = itemgetter(0)


def utc_day(moment: datetime) -> date:
    """The UTC day of `moment` (naive means UTC, as `_schema.iso` stores it)."""
    if moment.tzinfo is None or moment.tzinfo is timezone.utc:  # the core's: no conversion
        return moment.date()
    return moment.astimezone(timezone.utc).date()


# What a record adds to the totals as plain numbers (calls, tokens, credits, unreported,
# estimated): `note` runs for every record on the recording thread, where building `Totals`
# (frozen dataclasses) for each step cost more than the rest of the sink.
Delta = tuple[int, int, float, int, float]
_NOTHING: Delta = (0, 0, 0.0, 0, 0.0)


# What one row counts for: (the UTC day it started on, its numbers, its state's rank). A
# plain tuple of plain values: the sink keeps two per task (the session's and today's), and
# the cyclic GC stops tracking such a tuple once it has seen it. Objects of a class (even a
# NamedTuple) it tracks for good: 20,000 tasks in a flood of calls made it do a full pass.
Spend = tuple[date, Delta, int]


def spend_totals(spend: Spend) -> Totals:
    return _totals(spend[1])


def fold(previous: Spend | None, record: UsageRecord) -> Spend:
    """The row's spend once `record` is applied to it, as the ledger's upsert applies it.

    A chat (or a task's first state) is a new row. A task's later state keeps the first
    state's day, changes nothing if it is weaker (a late `pending`), and never erases tokens
    or credits that were known with an unknown (None) value.
    """
    rank = _RANK.get(record.status, _FINAL)
    if previous is None:
        return (utc_day(record.started_at), chat_delta(record), rank)
    day, known, known_rank = previous
    if rank < known_rank:
        return previous
    tokens = record.total_tokens if record.total_tokens is not None else known[1]
    credits = record.credits
    if credits is None and not known[3]:  # known[3]: no credits were reported
        credits = known[2]
    estimate = record.credits_estimate
    if estimate is None and known[3]:
        estimate = known[4]
    return (day, _row(tokens, credits, estimate), rank)


def _row(tokens: int, credits: float | None, estimate: float | None) -> Delta:
    """What one row adds to the totals, as `Store.totals` sums it."""
    if credits is not None:
        return (1, tokens, credits, 0, 0.0)
    return (1, tokens, 0.0, 1, estimate or 0.0)


def _minus(a: Delta, b: Delta) -> Delta:
    return (a[0] - b[0], a[1] - b[1], a[2] - b[2], a[3] - b[3], a[4] - b[4])


def _totals(sums: Sequence[float]) -> Totals:
    calls, tokens, credits, unreported, estimated = sums
    return Totals(int(calls), int(tokens), credits, int(unreported), estimated)


def chat_delta(record: UsageRecord) -> Delta:
    """What a new row adds: a chat's (a record without task id: always a new row), or a
    task's first state. `_row` of the record's own values, spelled out: it runs per chat."""
    tokens = record.total_tokens or 0
    if record.credits is not None:
        return (1, tokens, record.credits, 0, 0.0)
    return (1, tokens, 0.0, 1, record.credits_estimate or 0.0)


def summed(deltas: Sequence[Delta], start: Sequence[float] = _NOTHING) -> list[float]:
    """`start` plus every delta, column by column: a sum per column, in C."""
    if not deltas:
        return list(start)
    columns = zip(*deltas, strict=True)
    return [sum(column, first) for first, column in zip(start, columns, strict=True)]


class TodayTally:
    """Today's calls, tokens and credits on one ledger file, without touching the file.

    `note(seq, record)` runs on the recording thread when a record is queued (number `seq`);
    `synced(seq, day, totals)` on the writer thread after it read the file's totals for `day`
    with every record up to `seq` written. Between the two, a record is counted from memory.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._base: tuple[date, Totals] | None = None  # the file's totals at the last read
        # (seq, day, delta) of each record noted since, in `seq` order. Summed when asked (the
        # usage line asks once a cell, a flood notes thousands of records a second), and a
        # read of the file takes off what it includes in one `del`: no arithmetic per record
        # on either thread, and no float residue of adding and taking off.
        self._unsynced: list[tuple[int, date, Delta]] = []
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
                day, delta, _ = spend
                if previous is not None:
                    delta = _minus(delta, previous[1])
            else:
                day, delta = utc_day(record.started_at), chat_delta(record)
            if delta == _NOTHING:
                return
            self._unsynced.append((seq, day, delta))

    def synced(self, seq: int, day: date, totals: Totals) -> None:
        """The file's `totals` for `day`, read with every record up to `seq` written."""
        with self._lock:
            if self._base is not None and self._base[0] != day:
                # A new day: earlier days' tasks no longer count (a kernel runs for weeks).
                self._tasks = {k: s for k, s in self._tasks.items() if s[0] >= day}
            self._base = (day, totals)
            del self._unsynced[: bisect.bisect_right(self._unsynced, seq, key=_seq)]
            self._synced_at = time.monotonic()

    def totals(self, today: date) -> Totals:
        """Rows started on `today` or later (as `started_at >= midnight` counts them)."""
        with self._lock:
            base = self._base[1] if self._base is not None and self._base[0] == today else Totals()
            later = [delta for _, on, delta in self._unsynced if on >= today]
        return base + _totals(summed(later))

    def stale(self, today: date, max_age_s: float) -> bool:
        """Whether a read of the file is due: none yet, a new day, or none for `max_age_s`."""
        with self._lock:
            if self._base is None or self._base[0] != today:
                return True
            return time.monotonic() - self._synced_at > max_age_s

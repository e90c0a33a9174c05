"""The ledger's database: the one writer and the plain-Python reads, in SQL both dialects run.

One `Store` owns one connection (`_dialect`: the SQLite file here, a PostgreSQL server in the
`_team.TeamStore` subclass), guarded by a lock, so records arriving from the runner
thread, the kernel thread and background tasks never interleave inside a transaction. The
file is in WAL mode with `synchronous=NORMAL` (a commit survives a killed process; only an OS
crash may lose the last few) and a long `busy_timeout`, so several kernels can write at once.

A database made by any earlier version is brought up to date on open (`_schema.MIGRATIONS`),
in one locked transaction so that two processes opening an old one do not race.

Nothing here imports pandas: `_frame.py` does that when a DataFrame is asked for.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

from ._budget import settle
from ._bulk import bulk_insert, shape, sqlite_insert
from ._dialect import BUSY_TIMEOUT_MS, Database, SqliteDatabase, open_sqlite
from ._schema import (
    COLUMNS,
    JSON_COLUMNS,
    TIME_COLUMNS,
    insert_statement,
    iso,
    quoted,
)
from ._summary import HOUR

__all__ = ["BUSY_TIMEOUT_MS", "Store", "Totals", "parse_since"]

logger = logging.getLogger("yjnb")
T = TypeVar("T")

# Totals since a moment read the `calls_timeline` index (migration 10), which covers every
# column they sum: its hour leads the range, the moment itself bounds it exactly. The writer
# re-reads today's totals every half second while it writes; through `calls_started_at` and
# a table lookup per row it took over twice as long (benchmarks/ledger.py, "today's totals").
_SINCE_HOUR = f" AND {HOUR} >= ? AND started_at >= ?"


def _since_args(since: datetime) -> tuple[str, str]:
    at = str(iso(since))
    return at[:13], at


# Connections a forked child inherited: kept referenced, never closed by the child (closing
# a PostgreSQL connection sends the server a goodbye on the parent's socket).
_inherited: list[Database] = []


@dataclass(frozen=True)
class Totals:
    """Calls, tokens and credits over some rows (for usage lines and budgets).

    `credits` sums what the platform reported; `unreported` counts the calls without any
    (chat on Yuanjing), and `estimated` sums their estimates from the user's price table.
    Budgets count `credits` only.
    """

    calls: int = 0
    tokens: int = 0
    credits: float = 0.0
    unreported: int = 0
    estimated: float = 0.0

    # Spelled out, not via `astuple` (which deep-copies): this runs for every call recorded.
    def __add__(self, other: Totals) -> Totals:
        return Totals(
            self.calls + other.calls,
            self.tokens + other.tokens,
            self.credits + other.credits,
            self.unreported + other.unreported,
            self.estimated + other.estimated,
        )

    def __sub__(self, other: Totals) -> Totals:
        return Totals(
            self.calls - other.calls,
            self.tokens - other.tokens,
            self.credits - other.credits,
            self.unreported - other.unreported,
            self.estimated - other.estimated,
        )


def parse_since(since: str | date | datetime | timedelta | None) -> datetime | None:
    """`since` as an aware UTC datetime: a date ("2026-05-01"), an ISO time, a datetime (naive
    means UTC), a date, a timedelta (that long ago), or "today" (UTC midnight)."""
    if since is None:
        return None
    now = datetime.now(timezone.utc)
    if isinstance(since, timedelta):
        return now - since
    if isinstance(since, str):
        text = since.strip()
        if text.lower() == "today":
            return now.replace(hour=0, minute=0, second=0, microsecond=0)
        try:
            since = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(
                f"{since!r} is not a date: use YYYY-MM-DD, an ISO time or 'today'"
            ) from None
    if isinstance(since, datetime):
        return since.replace(tzinfo=timezone.utc) if since.tzinfo is None else since
    if isinstance(since, date):
        return datetime(since.year, since.month, since.day, tzinfo=timezone.utc)
    raise TypeError(f"since must be a date, datetime, timedelta or str, not {type(since).__name__}")


# Reads of rows say `+demo`, not `demo`: the plus (valid on both databases) keeps SQLite from
# reading them through the summaries' indexes, which start with `demo` (migration 10), instead
# of `calls_started_at`: a whole-index scan and a sort for a "since" or an ORDER BY started_at
# (the planner, without statistics, takes `demo = ?` for selective). Totals say `demo` on
# purpose: `calls_timeline` covers what they sum (`_SINCE_HOUR`).


class Store:
    """One connection to one ledger file, opened on first use and shared by every thread."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self._conn: Database | None = None
        self._pid = 0
        # This process's team-budget reservations not settled yet, oldest first (`_budget`).
        self.open_reservations: list[int] = []

    # -- connection -------------------------------------------------------------------------

    def _connection(self) -> Database:
        # A forked child must not use its parent's connection (SQLite forbids it; a
        # PostgreSQL socket would be shared): open its own.
        if self._conn is None or self._pid != os.getpid():
            if self._conn is not None:
                _inherited.append(self._conn)  # never closed here: it is the parent's
            self._conn = None
            self._conn = self._open()
            self._pid = os.getpid()
        return self._conn

    def _open(self) -> Database:
        """Open and migrate (see `_dialect`)."""
        return open_sqlite(self.path)

    def schema_version(self) -> int:
        with self._lock:
            row = self._connection().execute("SELECT MAX(version) FROM schema_version").fetchone()
        return int(row[0])

    def close(self) -> None:
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None

    # -- writing ----------------------------------------------------------------------------

    def write(self, rows: Iterable[tuple[Any, ...]]) -> None:
        """Insert chat rows and upsert task rows, all in one transaction."""
        rows = list(rows)
        if not rows:
            return
        with self._lock:
            db = self._connection()
            if len(rows) == 1:  # the common case: one statement is its own transaction
                (present, upsert), row = shape(rows[0]), rows[0]
                db.execute(
                    insert_statement(present, upsert, postgres=db.name == "postgresql"),
                    tuple(itertools.compress(row, present)),
                )
            else:
                with db.transaction(), db.batch():
                    if db.name == "postgresql":  # a statement per batch, not per run
                        bulk_insert(db, rows)
                    else:
                        sqlite_insert(db, rows)
            if self.open_reservations:  # the team budget's: these rows now count the credits
                settle(self, rows)

    def call(self, fn: Callable[[Store], T]) -> T:
        """`fn(self)` under the lock (a transaction of its own: the team budget's)."""
        with self._lock:
            return fn(self)

    def set_local_path(self, taskid: str, path: str) -> bool:
        """Note where a task's media were saved (downloads happen after the task's last record)."""
        with self._lock:
            cur = self._connection().execute(
                "UPDATE calls SET local_path = ? WHERE taskid = ?", (path, taskid)
            )
        return cur.rowcount > 0

    def forget(self, taskids: Sequence[str] | None = None, *, status: str | None = None) -> int:
        """Mark tasks forgotten (hidden from lists and --resume; the rows stay): these task
        ids, or every task with `status`. Returns how many rows were newly marked."""
        sql = "UPDATE calls SET forgotten_at = ? WHERE forgotten_at IS NULL AND taskid IS NOT NULL"
        args: list[Any] = [iso(datetime.now(timezone.utc))]
        if taskids is not None:
            sql += f" AND taskid IN ({', '.join('?' * len(taskids))})" if taskids else " AND 1 = 0"
            args.extend(taskids)
        if status is not None:
            sql += " AND status = ?"
            args.append(status)
        with self._lock:
            return int(self._connection().execute(sql, args).rowcount)

    # -- reading ----------------------------------------------------------------------------

    def select(
        self,
        *,
        since: datetime | None = None,
        kind: str | Sequence[str] | None = None,
        model: str | Sequence[str] | None = None,
        statuses: Sequence[str] | None = None,
        tasks_only: bool = False,
        forgotten: bool = True,
        newest_first: bool = False,
        limit: int | None = None,
        demo: bool | None = None,
        raw_text: bool = False,
        user: str | None = None,
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        """(column names, rows) oldest first unless `newest_first`. Raw SQLite values.
        `forgotten=False` leaves out the tasks marked forgotten; `demo`: only real calls
        (False), only demo calls (True), or both (None); `user`: only that user's rows.
        `raw_text`: text as UTF-8 bytes, not decoded (for a frame built in Arrow, which checks
        it in one pass; SQLite only, PostgreSQL's driver decodes as it reads)."""
        where: list[str] = []
        args: list[Any] = []
        if user is not None:
            where.append('"user" = ?')
            args.append(user)
        if demo is not None:
            where.append("+demo = ?")  # `+`: see the note above `Store`
            args.append(1 if demo else 0)
        if since is not None:
            where.append("started_at >= ?")
            args.append(iso(since))
        for column, wanted in (("kind", kind), ("model", model), ("status", statuses)):
            if wanted is None:
                continue
            values = [wanted] if isinstance(wanted, str) else list(wanted)
            where.append(f"{column} IN ({', '.join('?' * len(values))})" if values else "1 = 0")
            args.extend(values)
        if tasks_only:
            where.append("taskid IS NOT NULL")
        if not forgotten:
            where.append("forgotten_at IS NULL")
        order = "DESC" if newest_first else "ASC"
        sql = f"SELECT {quoted(COLUMNS)} FROM calls"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY started_at {order}, id {order}"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(int(limit))
        with self._lock:
            db = self._connection()
            local = db.raw if isinstance(db, SqliteDatabase) else None
            if local is not None:
                local.text_factory = bytes if raw_text else str
            try:
                rows = db.execute(sql, args).fetchall()
            finally:
                if local is not None:
                    local.text_factory = str
        return list(COLUMNS), rows

    def query(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """The rows of a read-only query (`_summary`'s GROUP BYs)."""
        with self._lock:
            return self._connection().execute(sql, args).fetchall()

    def dicts(self, **query: Any) -> list[dict[str, Any]]:
        """Rows as plain dicts: JSON decoded, times as aware datetimes."""
        columns, rows = self.select(**query)
        out = []
        for row in rows:
            item = dict(zip(columns, row, strict=True))
            for column in JSON_COLUMNS:
                if item[column] is not None:
                    item[column] = json.loads(item[column])
            for column in TIME_COLUMNS:
                if item[column] is not None:
                    item[column] = datetime.fromisoformat(item[column])
            item["demo"] = bool(item["demo"])
            out.append(item)
        return out

    def totals(self, since: datetime | None = None, *, demo: bool = False) -> Totals:
        """Real calls (or, with `demo`, demo calls) started at `since` or later."""
        sql = (
            "SELECT COUNT(*), COALESCE(SUM(total_tokens), 0), COALESCE(SUM(credits), 0), "
            "COUNT(*) - COUNT(credits), "
            "COALESCE(SUM(CASE WHEN credits IS NULL THEN credits_estimate END), 0) FROM calls"
            " WHERE demo = ?"
        )
        args: tuple[Any, ...] = (1 if demo else 0,)
        if since is not None:
            sql += _SINCE_HOUR
            args += _since_args(since)
        with self._lock:
            calls, tokens, credits, unreported, estimated = (
                self._connection().execute(sql, args).fetchone()
            )
        return Totals(int(calls), int(tokens), float(credits), int(unreported), float(estimated))

    def totals_by_world(self, since: datetime, user: str | None = None) -> dict[bool, Totals]:
        """{False: real calls' totals, True: demo calls'} since `since` (of `user` only, if
        given), in one query."""
        sql = (
            "SELECT demo, COUNT(*), COALESCE(SUM(total_tokens), 0), COALESCE(SUM(credits), 0), "
            "COUNT(*) - COUNT(credits), "
            "COALESCE(SUM(CASE WHEN credits IS NULL THEN credits_estimate END), 0) "
            "FROM calls WHERE demo IN (0, 1)"
            + _SINCE_HOUR
            + (' AND "user" = ?' if user is not None else "")
            + " GROUP BY demo"
        )
        args = _since_args(since) + ((user,) if user is not None else ())
        out = {False: Totals(), True: Totals()}
        with self._lock:
            for demo, *values in self._connection().execute(sql, args):
                calls, tokens, credits, unreported, estimated = values
                out[bool(demo)] = Totals(
                    int(calls), int(tokens), float(credits), int(unreported), float(estimated)
                )
        return out

    def count(self) -> int:
        with self._lock:
            return int(self._connection().execute("SELECT COUNT(*) FROM calls").fetchone()[0])

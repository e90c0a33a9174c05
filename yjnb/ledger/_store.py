"""The ledger's SQLite file: opening and migrating it, the one writer, the plain-Python reads.

One `Store` owns one connection, guarded by a lock, so records arriving from the runner
thread, the kernel thread and background tasks never interleave inside a transaction. The
file is in WAL mode with `synchronous=NORMAL` (a commit survives a killed process; only an OS
crash may lose the last few) and a long `busy_timeout`, so several kernels can write at once.

A file made by any earlier version is brought up to date on open (`_schema.MIGRATIONS`),
inside one `BEGIN IMMEDIATE` transaction so that two processes opening an old file do not race.

Nothing here imports pandas: `_frame.py` does that when a DataFrame is asked for.
"""

from __future__ import annotations

import itertools
import json
import logging
import operator
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from ._schema import (
    COLUMNS,
    JSON_COLUMNS,
    MAX_PARAMETERS,
    MIGRATIONS,
    SCHEMA_VERSION,
    TIME_COLUMNS,
    WRITTEN,
    insert_statement,
    iso,
    statements,
)

__all__ = ["BUSY_TIMEOUT_MS", "Store", "Totals", "parse_since"]

logger = logging.getLogger("yjnb")

BUSY_TIMEOUT_MS = 60_000


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


_TASKID_AT = WRITTEN.index("taskid")


_NONES = (None,) * len(WRITTEN)


def _shape(row: tuple[Any, ...]) -> tuple[tuple[bool, ...], bool]:
    """Which of a row's columns have a value, and whether it is a task's (an upsert)."""
    return tuple(map(operator.is_not, row, _NONES)), row[_TASKID_AT] is not None


def _insert(
    conn: sqlite3.Connection, present: tuple[bool, ...], upsert: bool, values: list[tuple[Any, ...]]
) -> None:
    """Rows of one shape, in order: chats many to a statement, tasks one by one."""
    if upsert or len(values) == 1:
        conn.executemany(insert_statement(present, upsert), values)
        return
    per = MAX_PARAMETERS // len(values[0])
    for start in range(0, len(values), per):
        chunk = values[start : start + per]
        flat = tuple(itertools.chain.from_iterable(chunk))
        conn.execute(insert_statement(present, False, len(chunk)), flat)


class Store:
    """One connection to one ledger file, opened on first use and shared by every thread."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._pid = 0

    # -- connection -------------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        # A forked child must not use its parent's connection (SQLite forbids it): reopen.
        if self._conn is None or self._pid != os.getpid():
            self._conn = self._open()
            self._pid = os.getpid()
        return self._conn

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: no implicit transactions; every write is one statement or an
        # explicit BEGIN IMMEDIATE, so a busy database waits (busy_timeout) instead of failing.
        conn = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
        )
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self._set_wal(conn)
            conn.execute("PRAGMA synchronous = NORMAL")
            self._migrate(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    @staticmethod
    def _set_wal(conn: sqlite3.Connection) -> None:
        # Switching a new file to WAL needs a moment alone with it; a few processes creating
        # the file together may see "locked" here despite busy_timeout, so try again briefly.
        for attempt in range(50):
            try:
                conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or attempt == 49:
                    raise
                time.sleep(0.05)

    def _migrate(self, conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version "
                "(version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
            )
            current = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version")
            version = int(current.fetchone()[0])
            for step, script in MIGRATIONS:
                if step <= version:
                    continue
                # executescript() would COMMIT first; run the statements one by one instead.
                for statement in statements(script):
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
                    (step, iso(datetime.now(timezone.utc))),
                )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        if version > SCHEMA_VERSION:
            logger.warning(
                "%s has ledger schema v%d, newer than this yjnb (v%d); writing what it knows",
                self.path,
                version,
                SCHEMA_VERSION,
            )

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
            conn = self._connection()
            if len(rows) == 1:  # the common case: one statement is its own transaction
                (present, upsert), row = _shape(rows[0]), rows[0]
                conn.execute(
                    insert_statement(present, upsert), tuple(itertools.compress(row, present))
                )
                return
            conn.execute("BEGIN IMMEDIATE")
            try:
                # Runs of the same statement in one call each (a fan-out's chats), in order.
                for (present, upsert), run in itertools.groupby(rows, key=_shape):
                    values = [tuple(itertools.compress(row, present)) for row in run]
                    _insert(conn, present, upsert, values)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

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
            sql += f" AND taskid IN ({', '.join('?' * len(taskids))})" if taskids else " AND 0"
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
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        """(column names, rows) oldest first unless `newest_first`. Raw SQLite values.
        `forgotten=False` leaves out the tasks marked forgotten; `demo`: only real calls
        (False), only demo calls (True), or both (None). `raw_text`: text as UTF-8 bytes,
        not decoded (for a frame built in Arrow, which checks it in one pass)."""
        where: list[str] = []
        args: list[Any] = []
        if demo is not None:
            where.append("demo = ?")
            args.append(1 if demo else 0)
        if since is not None:
            where.append("started_at >= ?")
            args.append(iso(since))
        for column, wanted in (("kind", kind), ("model", model), ("status", statuses)):
            if wanted is None:
                continue
            values = [wanted] if isinstance(wanted, str) else list(wanted)
            where.append(f"{column} IN ({', '.join('?' * len(values))})" if values else "0")
            args.extend(values)
        if tasks_only:
            where.append("taskid IS NOT NULL")
        if not forgotten:
            where.append("forgotten_at IS NULL")
        order = "DESC" if newest_first else "ASC"
        sql = f"SELECT {', '.join(COLUMNS)} FROM calls"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY started_at {order}, id {order}"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(int(limit))
        with self._lock:
            conn = self._connection()
            conn.text_factory = bytes if raw_text else str
            try:
                rows = conn.execute(sql, args).fetchall()
            finally:
                conn.text_factory = str
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
            sql += " AND started_at >= ?"
            args += (iso(since),)
        with self._lock:
            calls, tokens, credits, unreported, estimated = (
                self._connection().execute(sql, args).fetchone()
            )
        return Totals(int(calls), int(tokens), float(credits), int(unreported), float(estimated))

    def totals_by_world(self, since: datetime) -> dict[bool, Totals]:
        """{False: real calls' totals, True: demo calls'} since `since`, in one query."""
        sql = (
            "SELECT demo, COUNT(*), COALESCE(SUM(total_tokens), 0), COALESCE(SUM(credits), 0), "
            "COUNT(*) - COUNT(credits), "
            "COALESCE(SUM(CASE WHEN credits IS NULL THEN credits_estimate END), 0) "
            "FROM calls WHERE started_at >= ? GROUP BY demo"
        )
        out = {False: Totals(), True: Totals()}
        with self._lock:
            for demo, *values in self._connection().execute(sql, (iso(since),)):
                calls, tokens, credits, unreported, estimated = values
                out[bool(demo)] = Totals(
                    int(calls), int(tokens), float(credits), int(unreported), float(estimated)
                )
        return out

    def count(self) -> int:
        with self._lock:
            return int(self._connection().execute("SELECT COUNT(*) FROM calls").fetchone()[0])

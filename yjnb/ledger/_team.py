"""A shared ledger on PostgreSQL (`YJ_LEDGER_URL`), with the local SQLite file as its outbox.

`TeamStore` is a `Store` whose connection is a PostgreSQL server's. Everything else (the
writer thread, the reads, the SQL) is the same. What differs is what happens when the server
cannot be reached:

* A write that fails to connect (or loses its connection) does not fail: its rows go to the
  `outbox` table of the kernel's local file (`YJ_HOME/ledger.sqlite`), in order, and one
  warning says so, once per outage. Nothing the user paid for is lost.
* Rows in the outbox are sent before anything else once the server answers again (on the next
  write or read), oldest first, inside the local file's write lock: two threads or two kernels
  sharing a home never send the same rows twice. Each carries a random `origin` that the
  server notes (`received`) in the transaction that writes it, so a sender killed between
  the server's commit and the local delete sends nothing twice either.
* For `RETRY_AFTER_S` after a failure, writes go straight to the outbox instead of waiting
  for another connection timeout.
* A saved file's path noted for a task (`set_local_path`, after its download) is queued the
  same way, in order with the rows: the task's row may itself be waiting in the outbox.
* A read while the server is down raises `LedgerUnavailable` (a `YJError`), one line.
"""

from __future__ import annotations

import functools
import itertools
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

from .._errors import ConfigError, YJError
from ._dialect import Database, open_postgres, safe_url
from ._schema import WRITTEN, iso, who
from ._store import Store, Totals

__all__ = ["RETRY_AFTER_S", "LedgerUnavailable", "TeamStore"]

logger = logging.getLogger("yjnb")
F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

# After a failure, writes go to the outbox (and reads fail) at once for this long, instead of
# each waiting for a connection attempt (up to `_dialect.CONNECT_TIMEOUT_S` on a lost host).
RETRY_AFTER_S = 5.0
OUTBOX_BATCH = 500
# The key of an outbox entry that is a task's saved path (`set_local_path`), not a row.
LOCAL_PATH_KEY = "set_local_path"


class LedgerUnavailable(YJError):
    """The shared ledger's server cannot be reached (its rows wait in the local outbox)."""

    reason: str = ""  # the driver's first line, if there was one


def _is_outage(exc: BaseException) -> bool:
    if isinstance(exc, YJError):
        return False
    try:
        import psycopg
    except ImportError:
        return False
    return isinstance(exc, psycopg.OperationalError)


def _guarded(method: F) -> F:
    """A read (or an in-place update): a lost server becomes one `LedgerUnavailable` line.
    A connection the server dropped since its last use (a restart) is replaced once first."""

    @functools.wraps(method)
    def guarded(self: TeamStore, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return self._attempt(lambda: method(self, *args, **kwargs))

    return guarded  # type: ignore[return-value]


class TeamStore(Store):
    """The shared PostgreSQL ledger at `url`; `outbox` is the local SQLite file."""

    def __init__(self, url: str, outbox: str | Path) -> None:
        super().__init__(outbox)
        self.url = url
        self.target = safe_url(url)  # what the outbox rows are for; never the password
        self._outbox = Store(outbox)
        self._down_since: float | None = None  # time.monotonic() of the last failure
        self._warned = False
        self._sending = False  # `_send_outbox` is running (it writes through `_connection`)

    def __repr__(self) -> str:
        return f"TeamStore({self.target!r})"

    def _open(self) -> Database:
        if self._down_since is not None and time.monotonic() - self._down_since < RETRY_AFTER_S:
            raise self._unavailable(None)
        db = open_postgres(self.url)
        self._down_since = None
        return db

    def _connection(self) -> Database:
        # Under `self._lock`, as every use of the connection is.
        db = super()._connection()
        if not self._sending and self.queued(limit=1):
            self._send_outbox()
        return db

    def close(self) -> None:
        super().close()
        self._outbox.close()

    # -- the outage ---------------------------------------------------------------------------

    def _unavailable(self, exc: BaseException | None) -> LedgerUnavailable:
        lines = str(exc).strip().splitlines() if exc is not None else []
        reason = lines[0] if lines else ""
        error = LedgerUnavailable(
            f"The shared ledger {self.target} cannot be reached"
            f"{f' ({reason})' if reason else ''}; this kernel's calls wait in {self.path} and "
            "are sent when it is back"
        )
        error.reason = reason
        return error

    def _lost(self, exc: BaseException, *, retry_now: bool = False) -> None:
        """Forget the broken connection; try again at once (`retry_now`: it may only have been
        dropped by a restart) or after `RETRY_AFTER_S`."""
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.close()
                except Exception:
                    logger.debug("yjnb: closing a broken ledger connection", exc_info=True)
            self._conn = None
            if not retry_now:
                self._down_since = time.monotonic()

    def _attempt(self, fn: Callable[[], T]) -> T:
        """`fn()`, again on a new connection if the one it used had been dropped; a server
        that cannot be reached: `LedgerUnavailable`. Under `self._lock`."""
        for retry in (True, False):
            stale = retry and self._conn is not None
            try:
                return fn()
            except Exception as exc:
                if not _is_outage(exc):
                    raise
                self._lost(exc, retry_now=stale)
                if not stale:
                    raise self._unavailable(exc) from None
        raise AssertionError("unreachable")

    def call(self, fn: Callable[[Store], T]) -> T:
        """`fn(self)` (a transaction of its own, such as the team budget's) as `_attempt`."""
        with self._lock:
            return self._attempt(lambda: fn(self))

    def write(self, rows: Iterable[tuple[Any, ...]]) -> None:
        """Write to the server, or (it cannot be reached) queue in the local outbox."""
        rows = list(rows)
        if not rows:
            return
        with self._lock:
            try:
                self._attempt(lambda: Store.write(self, rows))
            except LedgerUnavailable as exc:
                self._queue(rows, exc.reason or "a recent failure")
            except ConfigError as exc:  # no driver (psycopg): kept until there is one
                self._queue(rows, str(exc))

    def set_local_path(self, taskid: str, path: str) -> bool:
        """Note where a task's media were saved; while the server is down, in the outbox (the
        task's row may be there too): True then, as it is applied when the server is back."""
        with self._lock:
            try:
                return self._attempt(lambda: Store.set_local_path(self, taskid, path))
            except LedgerUnavailable as exc:
                reason = exc.reason or "a recent failure"
            except ConfigError as exc:
                reason = str(exc)
            self._queue_json([json.dumps({LOCAL_PATH_KEY: path, "taskid": taskid})], reason)
        return True

    def _queue(self, rows: list[tuple[Any, ...]], reason: str) -> None:
        self._queue_json([json.dumps(dict(zip(WRITTEN, row, strict=True))) for row in rows], reason)

    def _queue_json(self, texts: list[str], reason: str) -> None:
        now = iso(datetime.now(timezone.utc))
        items = [(uuid.uuid4().hex, self.target, now, text) for text in texts]
        with self._outbox._lock:
            local = self._outbox._connection()
            with local.transaction():
                local.executemany(
                    "INSERT INTO outbox (origin, target, queued_at, row_json) VALUES (?, ?, ?, ?)",
                    items,
                )
        if not self._warned:
            self._warned = True
            logger.warning(
                "yjnb usage ledger: the shared ledger %s cannot be reached (%s); calls are "
                "kept in %s and sent when it is back",
                self.target,
                reason,
                self.path,
            )

    def _send_outbox(self) -> None:
        """Send the queued rows, oldest first, under the local file's write lock."""
        self._sending = True
        try:
            with self._outbox._lock:
                sent = self._send_batches()
        finally:
            self._sending = False
        if sent:
            self._warned = False  # the next outage warns again
            logger.warning(
                "yjnb usage ledger: the shared ledger %s is back; %d queued rows sent",
                self.target,
                sent,
            )

    def _send_batches(self) -> int:
        local = self._outbox._connection()
        sent = 0
        while True:
            with local.transaction():  # the local write lock: one sender per home
                batch = local.execute(
                    "SELECT id, origin, row_json FROM outbox WHERE target = ? ORDER BY id LIMIT ?",
                    (self.target, OUTBOX_BATCH),
                ).fetchall()
                if not batch:
                    return sent
                sent += self._deliver([(origin, json.loads(text)) for _, origin, text in batch])
                local.executemany("DELETE FROM outbox WHERE id = ?", [(i,) for i, _, _ in batch])

    def _deliver(self, batch: list[tuple[str, dict[str, Any]]]) -> int:
        """Write the rows (and saved paths) the server has not taken yet, in order, noting
        their origins in the same transaction (raises if it cannot: they stay queued). How
        many were new."""
        db = self._connection()
        with db.transaction():
            new = {
                origin
                for (origin,) in db.execute(
                    "INSERT INTO received (origin, received_at) SELECT unnest(?::text[]), ? "
                    "ON CONFLICT (origin) DO NOTHING RETURNING origin",
                    ([origin for origin, _ in batch], iso(datetime.now(timezone.utc))),
                ).fetchall()
            }
            fresh = [item for origin, item in batch if origin in new]
            # Runs of rows in one write each; a saved path after the rows queued before it.
            for is_path, run in itertools.groupby(fresh, key=lambda item: LOCAL_PATH_KEY in item):
                items = list(run)
                if not is_path:
                    Store.write(self, [_row(item) for item in items])
                    continue
                for item in items:
                    Store.set_local_path(self, item["taskid"], item[LOCAL_PATH_KEY])
        return len(new)

    @_guarded
    def totals_by_world(self, since: datetime, user: str | None = None) -> dict[bool, Totals]:
        """This user's totals (not the team's): what the "today" line and the per-user daily
        budget count on a shared ledger, as they count one person's calls on a local file."""
        return Store.totals_by_world(self, since, user if user is not None else who()[0])

    def queued(self, limit: int | None = None) -> int:
        """How many rows wait in the local outbox for this ledger (counting up to `limit`)."""
        sql = "SELECT COUNT(*) FROM (SELECT 1 FROM outbox WHERE target = ?"
        sql += " LIMIT ?)" if limit is not None else ")"
        args = (self.target, limit) if limit is not None else (self.target,)
        with self._outbox._lock:
            return int(self._outbox._connection().execute(sql, args).fetchone()[0])


def _row(values: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(values.get(column) for column in WRITTEN)


_GUARDED = ("select", "query", "totals", "count", "schema_version", "forget")
for _name in _GUARDED:
    setattr(TeamStore, _name, _guarded(getattr(Store, _name)))

"""The two databases the ledger runs on, behind one small connection interface.

The store writes its SQL once, in the common subset of SQLite and PostgreSQL, with `?`
placeholders and double-quoted column names (`"user"` is a reserved word in PostgreSQL). A
`Database` runs that SQL on one connection:

* `SqliteDatabase`: the local file (`YJ_HOME/ledger.sqlite`), WAL mode, a long busy timeout;
  a transaction is `BEGIN IMMEDIATE`, which also serialises the migrations of two processes.
* `PostgresDatabase`: a shared server (`YJ_LEDGER_URL=postgresql://...`) through psycopg 3
  (the `yjnb[team]` extra), autocommit outside explicit transactions; `?` becomes `%s`, the
  migrations' SQLite types their PostgreSQL equivalents, and migrations run under a
  transaction-scoped advisory lock, so kernels starting together migrate once.

Both apply the same ordered migrations (`_schema.MIGRATIONS`) on open.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from .._errors import ConfigError
from ._schema import MIGRATIONS, SCHEMA_VERSION, UPSERT, UPSERT_PG, iso, statements

__all__ = [
    "BUSY_TIMEOUT_MS",
    "CONNECT_TIMEOUT_S",
    "Database",
    "PostgresDatabase",
    "SqliteDatabase",
    "is_url",
    "open_postgres",
    "open_sqlite",
    "safe_url",
]

logger = logging.getLogger("yjnb")

BUSY_TIMEOUT_MS = 60_000
# How long a connection attempt to the shared server may take before the rows queue locally.
CONNECT_TIMEOUT_S = 5
# pg_advisory_xact_lock keys (any bigint; these spell "yjnb" and a purpose).
MIGRATION_LOCK = 0x796A6E62_0001
BUDGET_LOCK = 0x796A6E62_0002
_SCHEMES = ("postgresql://", "postgres://")


def is_url(target: object) -> bool:
    """Whether `target` names a PostgreSQL server rather than a SQLite file."""
    return isinstance(target, str) and target.lower().startswith(_SCHEMES)


def safe_url(url: str) -> str:
    """The URL without its password, for messages and reprs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def __iter__(self) -> Iterator[Any]: ...


class Database(Protocol):
    """One open, migrated connection (SQLite or PostgreSQL)."""

    name: str
    upsert: str  # the task upsert, in this dialect

    def execute(self, sql: str, args: Sequence[Any] = ()) -> Cursor: ...
    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...
    def transaction(self, lock: int | None = None) -> contextlib.AbstractContextManager[None]: ...
    def batch(self) -> contextlib.AbstractContextManager[Any]: ...
    def close(self) -> None: ...


class SqliteDatabase:
    name = "sqlite"
    upsert = UPSERT

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.raw = conn

    def execute(self, sql: str, args: Sequence[Any] = ()) -> Cursor:
        return self.raw.execute(sql, args)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self.raw.executemany(sql, rows)

    @contextlib.contextmanager
    def transaction(self, lock: int | None = None) -> Iterator[None]:
        # BEGIN IMMEDIATE takes the file's write lock at once: it is the lock, whatever `lock`.
        self.raw.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.raw.execute("ROLLBACK")
            raise
        self.raw.execute("COMMIT")

    def batch(self) -> contextlib.AbstractContextManager[Any]:
        return contextlib.nullcontext()  # a local file: no round trips to save

    def close(self) -> None:
        self.raw.close()


_PG_TYPES = (
    (re.compile(r"\bINTEGER PRIMARY KEY\b"), "BIGSERIAL PRIMARY KEY"),
    (re.compile(r"\bREAL\b"), "DOUBLE PRECISION"),  # PostgreSQL's REAL has 4 bytes
)


def pg_ddl(statement: str) -> str:
    """A migration statement (written for SQLite) in PostgreSQL's types."""
    for pattern, replacement in _PG_TYPES:
        statement = pattern.sub(replacement, statement)
    return statement


class PostgresDatabase:
    name = "postgresql"
    upsert = UPSERT_PG

    def __init__(self, conn: Any) -> None:
        self.raw = conn  # a psycopg.Connection in autocommit mode
        self._sql: dict[str, str] = {}

    def _translate(self, sql: str) -> str:
        out = self._sql.get(sql)
        if out is None:
            # The store's SQL holds no '?' or '%' other than placeholders.
            out = self._sql[sql] = sql.replace("?", "%s")
        return out

    def execute(self, sql: str, args: Sequence[Any] = ()) -> Cursor:
        return self.raw.execute(self._translate(sql), args)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with self.raw.cursor() as cur:
            cur.executemany(self._translate(sql), rows)

    @contextlib.contextmanager
    def transaction(self, lock: int | None = None) -> Iterator[None]:
        with self.raw.transaction():
            if lock is not None:
                self.raw.execute("SELECT pg_advisory_xact_lock(%s)", (lock,))
            yield

    def batch(self) -> contextlib.AbstractContextManager[Any]:
        """Statements sent without waiting for each answer (psycopg's pipeline mode): a
        batch of rows costs about one round trip to the server, not one per statement run."""
        return self.raw.pipeline()

    def close(self) -> None:
        self.raw.close()


# -- opening ------------------------------------------------------------------------------


def open_sqlite(path: Path) -> SqliteDatabase:
    path.parent.mkdir(parents=True, exist_ok=True)
    # isolation_level=None: no implicit transactions; every write is one statement or an
    # explicit BEGIN IMMEDIATE, so a busy database waits (busy_timeout) instead of failing.
    conn = sqlite3.connect(
        path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
    )
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        _set_wal(conn)
        conn.execute("PRAGMA synchronous = NORMAL")
        db = SqliteDatabase(conn)
        migrate(db, str(path))
    except BaseException:
        conn.close()
        raise
    return db


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


def open_postgres(url: str) -> PostgresDatabase:
    """Connect and migrate. psycopg's `OperationalError` when the server cannot be reached."""
    try:
        import psycopg
    except ImportError:
        raise ConfigError(
            "A PostgreSQL ledger (YJ_LEDGER_URL) needs psycopg 3: pip install 'yjnb[team]'"
        ) from None
    options: dict[str, Any] = {"autocommit": True, "application_name": "yjnb"}
    if "connect_timeout" not in url:
        options["connect_timeout"] = CONNECT_TIMEOUT_S
    conn = psycopg.connect(url, **options)
    try:
        db = PostgresDatabase(conn)
        migrate(db, safe_url(url))
    except BaseException:
        conn.close()
        raise
    return db


def migrate(db: SqliteDatabase | PostgresDatabase, where: str) -> None:
    """Apply the migrations `db` has not seen, all in one transaction under the lock."""
    ddl = pg_ddl if db.name == "postgresql" else (lambda s: s)
    with db.transaction(lock=MIGRATION_LOCK):
        db.execute(
            "CREATE TABLE IF NOT EXISTS schema_version "
            "(version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
        )
        version = int(
            db.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0]
        )
        for step, script in MIGRATIONS:
            if step <= version:
                continue
            # sqlite3's executescript() would COMMIT first: the statements one by one.
            for statement in statements(script):
                db.execute(ddl(statement))
            db.execute(
                "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
                (step, iso(datetime.now(timezone.utc))),
            )
    if version > SCHEMA_VERSION:
        logger.warning(
            "%s has ledger schema v%d, newer than this yjnb (v%d); writing what it knows",
            where,
            version,
            SCHEMA_VERSION,
        )

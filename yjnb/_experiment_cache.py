"""The experiments' answer cache: `YJ_HOME/experiments.sqlite`, one row per finished call.

Every answer is committed as it arrives (WAL), before its cell counts as done, so an interrupted
or killed run loses nothing it paid for and a re-run calls only the missing cells. The chat
answers that arrive in the same turn of the event loop share one transaction (`commit`): a
commit per answer was a large share of an experiment's CPU per call. Waiting longer for more
answers (a 20 ms window was tried) would let answers the server has sent wait uncommitted
beyond the calls in flight, and a killed run would pay for them again. The key is a SHA-256
of what decides the answer: the protocol, the base URL, the model, the system prompt, the
rendered prompt, the parameters and the sample index. The API key is never part of it, nor
stored. Failed calls are never cached.

A media call is a task that runs for a while after it was paid for: its id is held (table
`tasks`) the moment the platform gives it, so a re-run after an interrupt, a timeout or a
killed kernel waits for that task again instead of buying it twice. The held id goes when the
answer is stored, or when the task failed or the platform lost it.

With a shared ledger (`YJ_LEDGER_URL`, `%config YJMagics.ledger_url` or a profile's
`ledger_url`), chat answers are also kept on its PostgreSQL server (table
`experiment_answers`, with who made them), so a teammate's run of the same cell is served from
there at no cost: `cached` is true and `cached_from` names the teammate. The local file stays
the first place looked at and written to: a server that cannot be reached costs only the
sharing (one warning), never an answer. Media answers and held tasks stay local (their files
are on the machine that saved them).
"""

from __future__ import annotations

import asyncio
import getpass
import hashlib
import json
import logging
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

__all__ = ["FILENAME", "AnswerCache", "SharedAnswers", "cache_key"]


def _upsert(table: str, column: str) -> str:
    """Store a row by its key, over the one the key had. An UPSERT, not `INSERT OR REPLACE`:
    a re-run (`cache=False`) writes keys that are there already, and REPLACE deletes the old
    row and inserts a new one (its table and key pages rewritten, a larger transaction),
    where this changes the row in place: a third of the commit's work."""
    return (
        f"INSERT INTO {table} (key, experiment, run_id, created_at, {column})"
        f" VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET"
        f" experiment = excluded.experiment, run_id = excluded.run_id,"
        f" created_at = excluded.created_at, {column} = excluded.{column}"
    )


_INSERT_ANSWER = _upsert("answers", "answer")
_INSERT_TASK = _upsert("tasks", "task")
Row = tuple[str, str, str, str, str]


# Made once: `json.dumps` with options builds a new encoder for every answer.
_encode = json.JSONEncoder(ensure_ascii=False, default=str).encode


def _row(key: str, value: Mapping[str, Any], experiment: str, run_id: str) -> Row:
    """One row of `answers` or `tasks`: the value as JSON, stamped with the time (UTC)."""
    now = datetime.now(timezone.utc).isoformat(timespec="microseconds")
    return key, experiment, run_id, now, _encode(dict(value))


logger = logging.getLogger("yjnb")

FILENAME = "experiments.sqlite"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    key         TEXT PRIMARY KEY,
    experiment  TEXT,
    run_id      TEXT,
    created_at  TEXT NOT NULL,
    answer      TEXT NOT NULL
)
"""
_TASKS = """
CREATE TABLE IF NOT EXISTS tasks (
    key         TEXT PRIMARY KEY,
    experiment  TEXT,
    run_id      TEXT,
    created_at  TEXT NOT NULL,
    task        TEXT NOT NULL
)
"""


def cache_key(
    *,
    protocol: str,
    base_url: str,
    model: str,
    system: str | None,
    prompt: str,
    params: Mapping[str, Any],
    sample: int,
    kind: str = "chat",
) -> str:
    """The hex SHA-256 of one cell's call (see the module's docstring). A media call's kind
    is part of it (a chat's keys stay as they were before media experiments)."""
    what = [protocol, base_url.rstrip("/"), model, system, prompt, dict(params), sample]
    material = _key_json(what if kind == "chat" else [*what, kind])
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


# `json.dumps(..., ensure_ascii=False, sort_keys=True, default=repr)`, the keys' encoding since
# the first cache, made once: `json.dumps` with options makes an encoder for every key (a
# plan makes one per cell).
_key_json = json.JSONEncoder(ensure_ascii=False, sort_keys=True, default=repr).encode


class AnswerCache:
    """The SQLite file of cached answers (and the shared ledger's answers, if there is one);
    safe to use from several threads."""

    def __init__(self, home: Path) -> None:
        from ._config import configured_ledger_url

        self.path = Path(home) / FILENAME
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        # Chat answers waiting for this turn's transaction, each with the future its cell awaits.
        self._pending: list[tuple[Row, asyncio.Future[None]]] = []
        url = configured_ledger_url()
        self.shared = SharedAnswers(url) if url else None

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(_SCHEMA)
            db.execute(_TASKS)
            db.commit()
            self._db = db
        return self._db

    def get_many(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        """The cached answers among `keys`, by key: this home's, then the team's (those carry
        `cached_from`, the teammate who paid for them)."""
        found = self._select("answers", "answer", keys)
        if self.shared is not None:
            missing = [key for key in keys if key not in found]
            found.update(self.shared.get_many(missing) if missing else {})
        return found

    def held_many(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        """The media tasks held (paid for, answer not yet stored) among `keys`, by key."""
        return self._select("tasks", "task", keys)

    def _select(self, table: str, column: str, keys: list[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        with self._lock:
            db = self._connection()
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                marks = ", ".join("?" * len(chunk))
                sql = f"SELECT key, {column} FROM {table} WHERE key IN ({marks})"
                for key, value in db.execute(sql, chunk):
                    found[key] = json.loads(value)
        return found

    def put(self, key: str, answer: Mapping[str, Any], *, experiment: str, run_id: str) -> None:
        """Store one finished answer (and let go of its held task), committed at once; a chat
        answer is shared with the team too, if there is a shared ledger."""
        self._write("answers", "answer", key, answer, experiment, run_id)
        if self.shared is not None and not answer.get("taskid"):
            self.shared.put(key, answer, experiment=experiment, run_id=run_id)

    async def commit(
        self, key: str, answer: Mapping[str, Any], *, experiment: str, run_id: str
    ) -> None:
        """Store one finished answer; returns once it is committed, in one transaction with
        the other chat answers of this turn of the loop. Cancelled while it waits, the answer
        is committed all the same (by the turn's flush, or by `close`). A media answer (it
        lets go of its held task), or any answer when there is a shared ledger, is stored at
        once, as by `put`."""
        if answer.get("taskid") or self.shared is not None:
            self.put(key, answer, experiment=experiment, run_id=run_id)
            return
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        row = _row(key, answer, experiment, run_id)
        with self._lock:
            self._pending.append((row, done))
            first = len(self._pending) == 1
        if first:
            loop.call_soon(self._flush)
        await done

    def _flush(self) -> None:
        """Commit the waiting answers in one transaction; each waiting cell hears how it went."""
        with self._lock:
            batch, self._pending = self._pending, []
            if not batch:
                return
            error: Exception | None = None
            try:
                db = self._connection()
                db.executemany(_INSERT_ANSWER, [row for row, _ in batch])
                db.commit()
            except Exception as exc:
                error = exc
        for _, done in batch:
            if not done.done():  # a cell cancelled meanwhile: its answer is stored all the same
                if error is None:
                    done.set_result(None)
                else:
                    done.set_exception(error)

    def hold(self, key: str, task: Mapping[str, Any], *, experiment: str, run_id: str) -> None:
        """Keep a media task's id for its cell, committed at once (see the module's doc)."""
        self._write("tasks", "task", key, task, experiment, run_id)

    def release(self, key: str) -> None:
        """Forget a held task (it failed, or the platform lost it): a re-run sends anew."""
        with self._lock:
            db = self._connection()
            db.execute("DELETE FROM tasks WHERE key = ?", (key,))
            db.commit()

    def _write(
        self, table: str, column: str, key: str, value: Mapping[str, Any], experiment: str,
        run_id: str,
    ) -> None:  # fmt: skip
        with self._lock:
            db = self._connection()
            insert = _INSERT_ANSWER if table == "answers" else _INSERT_TASK
            db.execute(insert, _row(key, value, experiment, run_id))
            if table == "answers" and value.get("taskid"):  # a media answer: its task is done
                db.execute("DELETE FROM tasks WHERE key = ?", (key,))
            db.commit()

    def close(self) -> None:
        """Commit the answers still waiting for their turn's flush, then close."""
        self._flush()
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
        if self.shared is not None:
            self.shared.close()


# -- the team's answers, on the shared ledger's PostgreSQL server -----------------------------

_SHARED_SCHEMA = """
CREATE TABLE IF NOT EXISTS experiment_answers (
    key         TEXT PRIMARY KEY,
    experiment  TEXT,
    run_id      TEXT,
    created_at  TEXT NOT NULL,
    answer      TEXT NOT NULL,
    "user"      TEXT,
    host        TEXT
)
"""
_SCHEMA_LOCK = 0x796A6E62_0003  # pg_advisory_xact_lock key: "yjnb", 3
RETRY_AFTER_S = 5.0  # after a failure, how long the cache works locally before trying again


def _who() -> tuple[str, str]:
    """(user, host) as the ledger records them: YJ_USER, else JUPYTERHUB_USER, else the login
    name; the machine."""
    user = os.environ.get("YJ_USER") or os.environ.get("JUPYTERHUB_USER")
    if not user:
        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = "unknown"
    return user, socket.gethostname()


class SharedAnswers:
    """Chat answers shared through the team's PostgreSQL server (psycopg 3, the `team` extra).
    Every failure to reach it is logged once and answered as a miss: the run goes on locally."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._lock = threading.Lock()
        self._conn: Any = None
        self._failed_at: float | None = None
        self._warned = False

    def _connection(self) -> Any:
        if self._conn is None:
            import psycopg

            options: dict[str, Any] = {"autocommit": True, "application_name": "yjnb"}
            if "connect_timeout" not in self.url:
                options["connect_timeout"] = 5
            conn = psycopg.connect(self.url, **options)
            with conn.transaction():  # kernels starting together create the table once
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
                conn.execute(_SHARED_SCHEMA)
            self._conn = conn
        return self._conn

    def _usable(self) -> bool:
        return self._failed_at is None or time.monotonic() - self._failed_at >= RETRY_AFTER_S

    def _failed(self, exc: Exception) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:
                logger.debug("yjnb: closing the experiment cache's connection", exc_info=True)
        self._conn = None
        self._failed_at = time.monotonic()
        if not self._warned:
            self._warned = True
            reason = str(exc).strip().splitlines()[0] if str(exc) else type(exc).__name__
            if isinstance(exc, ImportError):
                reason = "psycopg 3 is not installed: pip install 'yjnb[team]'"
            logger.warning(
                "yjnb experiments: the team's answer cache cannot be reached (%s); "
                "answers are kept in this home only until it is back",
                reason,
            )

    def get_many(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        """The team's answers among `keys`; a teammate's name in `cached_from`."""
        me = _who()
        found: dict[str, dict[str, Any]] = {}
        with self._lock:
            if not self._usable():
                return found
            try:
                rows = self._connection().execute(
                    'SELECT key, answer, "user", host FROM experiment_answers WHERE key = ANY(%s)',
                    (keys,),
                )
                for key, text, user, host in rows:
                    answer = json.loads(text)
                    if (user, host) != me:
                        answer["cached_from"] = user if user != me[0] else f"{user}@{host}"
                    found[key] = answer
            except Exception as exc:
                if not _is_outage(exc):
                    raise
                self._failed(exc)
        return found

    def put(self, key: str, answer: Mapping[str, Any], *, experiment: str, run_id: str) -> None:
        now = datetime.now(timezone.utc).isoformat(timespec="microseconds")
        shared = {k: v for k, v in answer.items() if k != "cached_from"}
        text = json.dumps(shared, ensure_ascii=False, default=str)
        user, host = _who()
        with self._lock:
            if not self._usable():
                return
            try:
                self._connection().execute(
                    "INSERT INTO experiment_answers "
                    '(key, experiment, run_id, created_at, answer, "user", host) '
                    "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (key) DO NOTHING",
                    (key, experiment, run_id, now, text, user, host),
                )
            except Exception as exc:
                if not _is_outage(exc):
                    raise
                self._failed(exc)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def _is_outage(exc: Exception) -> bool:
    """A server that cannot be reached, or no driver to reach it with: the cache stays local."""
    if isinstance(exc, ImportError):
        return True
    try:
        import psycopg
    except ImportError:
        return False
    return isinstance(exc, psycopg.OperationalError)

"""The experiments' answer cache: `YJ_HOME/experiments.sqlite`, one row per finished call.

Every answer is committed as it arrives (WAL), before its cell counts as done, so an interrupted
or killed run loses nothing it paid for and a re-run calls only the missing cells. The chat
answers that arrive in the same turn of the event loop share one transaction (`commit`): a
commit per answer was a large share of an experiment's CPU per call. The key is a SHA-256 of what
decides the answer: the protocol, the base URL, the model, the system prompt, the rendered
prompt, the parameters and the sample index. The API key is never part of it, nor stored.
Failed calls are never cached.

A media call is a task that runs for a while after it was paid for: its id is held (table
`tasks`) the moment the platform gives it, so a re-run after an interrupt, a timeout or a
killed kernel waits for that task again instead of buying it twice. The held id goes when the
answer is stored, or when the task failed or the platform lost it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
import threading
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

__all__ = ["FILENAME", "AnswerCache", "cache_key"]

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
_INSERT_ANSWER = (
    "INSERT OR REPLACE INTO answers (key, experiment, run_id, created_at, answer)"
    " VALUES (?, ?, ?, ?, ?)"
)
Row = tuple[str, str, str, str, str]


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
    material = json.dumps(
        what if kind == "chat" else [*what, kind],
        ensure_ascii=False,
        sort_keys=True,
        default=repr,
    )
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


class AnswerCache:
    """The SQLite file of cached answers; safe to use from several threads."""

    def __init__(self, home: Path) -> None:
        self.path = Path(home) / FILENAME
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        # Chat answers waiting for this turn's transaction, each with the future its cell awaits.
        self._pending: list[tuple[Row, asyncio.Future[None]]] = []

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
        """The cached answers among `keys`, by key."""
        return self._select("answers", "answer", keys)

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
        """Store one finished answer (and let go of its held task), committed at once."""
        self._write("answers", "answer", key, answer, experiment, run_id)

    async def commit(
        self, key: str, answer: Mapping[str, Any], *, experiment: str, run_id: str
    ) -> None:
        """Store one finished answer; returns once it is committed, in one transaction with
        the other chat answers of this turn of the loop. Cancelled while it waits, the answer
        is committed all the same (by the turn's flush, or by `close`). A media answer (it
        lets go of its held task) is stored at once, as by `put`."""
        if answer.get("taskid"):
            self.put(key, answer, experiment=experiment, run_id=run_id)
            return
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        now = datetime.now(timezone.utc).isoformat(timespec="microseconds")
        text = json.dumps(dict(answer), ensure_ascii=False, default=str)
        with self._lock:
            self._pending.append(((key, experiment, run_id, now, text), done))
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
        now = datetime.now(timezone.utc).isoformat(timespec="microseconds")
        text = json.dumps(dict(value), ensure_ascii=False, default=str)
        with self._lock:
            db = self._connection()
            db.execute(
                f"INSERT OR REPLACE INTO {table} (key, experiment, run_id, created_at, {column})"
                " VALUES (?, ?, ?, ?, ?)",
                (key, experiment, run_id, now, text),
            )
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

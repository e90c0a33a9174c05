"""The experiments' answer cache: `YJ_HOME/experiments.sqlite`, one row per finished call.

Every answer is committed as it arrives (WAL), before its cell counts as done, so an interrupted
or killed run loses nothing it paid for and a re-run calls only the missing cells. The answers
that arrive in the same turn of the event loop share one transaction (`commit`): a commit per
answer was a quarter of an experiment's CPU per call. The key is a SHA-256 of what
decides the answer: the protocol, the base URL, the model, the system prompt, the rendered
prompt, the parameters and the sample index. The API key is never part of it, nor stored.
Failed calls are never cached.
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

_INSERT = (
    "INSERT OR REPLACE INTO answers (key, experiment, run_id, created_at, answer)"
    " VALUES (?, ?, ?, ?, ?)"
)
Row = tuple[str, str, str, str, str]

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


def cache_key(
    *,
    protocol: str,
    base_url: str,
    model: str,
    system: str | None,
    prompt: str,
    params: Mapping[str, Any],
    sample: int,
) -> str:
    """The hex SHA-256 of one cell's call (see the module's docstring)."""
    material = json.dumps(
        [protocol, base_url.rstrip("/"), model, system, prompt, dict(params), sample],
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
        # Answers waiting for this turn's transaction, each with the future its cell awaits.
        self._pending: list[tuple[Row, asyncio.Future[None] | None]] = []

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(_SCHEMA)
            db.commit()
            self._db = db
        return self._db

    def get_many(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        """The cached answers among `keys`, by key."""
        found: dict[str, dict[str, Any]] = {}
        with self._lock:
            db = self._connection()
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                marks = ", ".join("?" * len(chunk))
                sql = f"SELECT key, answer FROM answers WHERE key IN ({marks})"
                for key, answer in db.execute(sql, chunk):
                    found[key] = json.loads(answer)
        return found

    def put(self, key: str, answer: Mapping[str, Any], *, experiment: str, run_id: str) -> None:
        """Store one finished answer, committed at once."""
        self._write([(_row(key, answer, experiment, run_id), None)])

    async def commit(
        self, key: str, answer: Mapping[str, Any], *, experiment: str, run_id: str
    ) -> None:
        """Store one finished answer; returns once it is committed, in one transaction with
        the other answers of this turn of the loop. Cancelled while it waits, the answer is
        committed all the same (by the turn's flush, or by `close`)."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        with self._lock:
            self._pending.append((_row(key, answer, experiment, run_id), done))
            first = len(self._pending) == 1
        if first:
            loop.call_soon(self._flush)
        await done

    def _flush(self) -> None:
        with self._lock:
            batch, self._pending = self._pending, []
        if batch:
            self._write(batch)

    def _write(self, batch: list[tuple[Row, asyncio.Future[None] | None]]) -> None:
        error: BaseException | None = None
        try:
            with self._lock:
                db = self._connection()
                db.executemany(_INSERT, [row for row, _ in batch])
                db.commit()
        except Exception as exc:  # every cell of the batch hears it
            error = exc
            if all(done is None for _, done in batch):
                raise
        for _, done in batch:
            if done is not None and not done.done():
                if error is None:
                    done.set_result(None)
                else:
                    done.set_exception(error)

    def close(self) -> None:
        """Commit the answers still waiting for their turn's flush, then close."""
        self._flush()
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None


def _row(key: str, answer: Mapping[str, Any], experiment: str, run_id: str) -> Row:
    now = datetime.now(timezone.utc).isoformat(timespec="microseconds")
    return (key, experiment, run_id, now, json.dumps(dict(answer), ensure_ascii=False, default=str))

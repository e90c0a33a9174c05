"""The experiments' answer cache: `YJ_HOME/experiments.sqlite`, one row per finished call.

Every answer is committed the moment it arrives (WAL), so an interrupted or killed run loses
nothing it paid for and a re-run calls only the missing cells. The key is a SHA-256 of what
decides the answer: the protocol, the base URL, the model, the system prompt, the rendered
prompt, the parameters and the sample index. The API key is never part of it, nor stored.
Failed calls are never cached.
"""

from __future__ import annotations

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
        now = datetime.now(timezone.utc).isoformat(timespec="microseconds")
        text = json.dumps(dict(answer), ensure_ascii=False, default=str)
        with self._lock:
            db = self._connection()
            db.execute(
                "INSERT OR REPLACE INTO answers (key, experiment, run_id, created_at, answer)"
                " VALUES (?, ?, ?, ?, ?)",
                (key, experiment, run_id, now, text),
            )
            db.commit()

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

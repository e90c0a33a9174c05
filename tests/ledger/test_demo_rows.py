"""Demo rows: recorded as such (schema v3), migrated files read as real, and kept out of every
total that stands for spending (today, the session, `Ledger.totals`, `yjnb.usage()`)."""

from __future__ import annotations

import math
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import yjnb
from yjnb.ledger import Ledger, session_totals, today_totals
from yjnb.ledger._schema import MIGRATIONS

from .helpers import chat_record, task_record
from .test_store import table_columns


def _now_records() -> list[yjnb.UsageRecord]:
    now = datetime.now(timezone.utc)
    return [
        task_record("ok", taskid="real-1", credits=10.0, started_at=now),
        task_record("ok", taskid="demo-1", credits=475.0, started_at=now, demo=True),
        chat_record(started_at=now, total_tokens=36),
        chat_record(started_at=now, total_tokens=1000, demo=True),
    ]


def test_a_v2_file_migrates_to_v3_with_its_rows_real(tmp_path: Path) -> None:
    path = tmp_path / "v2.sqlite"
    with sqlite3.connect(path) as conn:  # exactly what versions 1 and 2 made
        conn.execute(
            "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
        )
        for version, script in MIGRATIONS[:2]:
            conn.executescript(script)
            conn.execute("INSERT INTO schema_version VALUES (?, 'then')", (version,))
        conn.execute(
            "INSERT INTO calls (started_at, kind, model, status, taskid, credits) "
            "VALUES ('2026-01-02T03:04:05.000000+00:00', 'video', 'v', 'ok', 'old', 25.0)"
        )
    assert "demo" not in table_columns(path)
    ledger = Ledger(path)
    assert ledger.schema_version() >= 4 and "demo" in table_columns(path)
    assert [r["demo"] for r in ledger.rows()] == [False]
    assert ledger.totals().credits == 25.0
    ledger.record(task_record("ok", taskid="new-demo", credits=5.0, demo=True))
    assert ledger.totals().credits == 25.0
    assert ledger.totals(demo=True).credits == 5.0
    ledger.close()


def test_demo_rows_are_kept_apart(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.sqlite")
    ledger.record_many(_now_records())
    assert ledger.totals("today").credits == 10.0 and ledger.totals().calls == 2
    assert ledger.totals(demo=True).credits == 475.0 and ledger.totals(demo=True).tokens == 1000
    assert [r["taskid"] for r in ledger.rows(demo=True)] == ["demo-1", None]
    assert len(ledger.rows(demo=None)) == 4
    frame = ledger.frame(demo=None)
    assert frame["demo"].dtype == bool and frame["demo"].tolist() == [False, True, False, True]
    assert ledger.frame()["demo"].tolist() == [False, False]
    credits = ledger.summary("kind", demo=True)["credits"].to_dict()
    assert credits["video"] == 475.0 and math.isnan(credits["chat"])  # chat: not reported
    # A task's later state keeps its first state's demo flag (the upsert leaves it alone).
    ledger.record(task_record("ok", taskid="demo-1", credits=475.0))
    assert ledger.totals(demo=True).credits == 475.0 and ledger.totals().credits == 10.0


def test_the_default_ledger_totals_keep_real_and_demo_apart() -> None:
    for record in _now_records():
        yjnb._hooks.emit(record)
    assert today_totals().credits == 10.0  # from memory, before any read of the file
    assert today_totals(fresh=True) == today_totals()
    assert session_totals().credits == 10.0 and session_totals().calls == 2
    # The demo world's own totals, for demo mode's usage lines and budgets.
    assert today_totals(demo=True).credits == 475.0 == session_totals(demo=True).credits
    assert today_totals(fresh=True, demo=True).tokens == 1000
    assert yjnb.usage()["demo"].tolist() == [False, False]
    assert yjnb.usage(demo=True)["credits"].sum() == 475.0
    assert len(yjnb.usage(demo=None)) == 4

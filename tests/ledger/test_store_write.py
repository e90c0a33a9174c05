"""How rows are written: only the columns with a value, chats many to a statement, in order."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from yjnb.ledger import Ledger
from yjnb.ledger._schema import MAX_PARAMETERS, WRITTEN, insert_statement, iso, record_row

from .helpers import T0, chat_record, task_record


def stored(path: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(f"SELECT {', '.join(WRITTEN)} FROM calls ORDER BY id").fetchall()


def test_every_column_round_trips_and_empty_ones_are_null(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite")
    full = chat_record(
        credits=1.5, credits_estimate=0.5, media_seconds=2.0, resolution="720p", error="e",
        video_url="v", image_url="i", local_path="p", partial_text="part", experiment="x",
        run_id="r", demo=True,
    )  # fmt: skip
    bare = chat_record(
        prompt=None, params={}, usage_id=None, prompt_tokens=None, completion_tokens=None,
        cached_tokens=None, total_tokens=None, latency_s=None, ttft_s=None, usage_raw=None,
        catelog=None, finished_at=None,
    )  # fmt: skip
    records = [full, bare, full, bare]
    ledger.record_many(records, notebook="nb.ipynb")  # one transaction: runs of each shape
    ledger.record(bare)  # alone: its own statement
    expected = [record_row(r, notebook="nb.ipynb") for r in records]
    expected.append(record_row(bare))
    assert stored(ledger.path) == expected
    row = dict(zip(WRITTEN, stored(ledger.path)[1], strict=True))
    assert row["demo"] == 0 and row["prompt"] is None and row["total_tokens"] is None


def test_long_runs_of_chats_are_written_whole_and_in_order(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite")
    per = MAX_PARAMETERS // sum(v is not None for v in record_row(chat_record()))
    records = [chat_record(prompt=f"n{i}", started_at=T0) for i in range(2 * per + 7)]
    records.insert(per + 3, chat_record(prompt="other shape", total_tokens=None))
    records.insert(5, task_record("pending", taskid="t1"))
    records.append(task_record("ok", taskid="t1"))
    ledger.record_many(records)
    prompts = [row[WRITTEN.index("prompt")] for row in stored(ledger.path)]
    chats = [r.prompt for r in records if not r.taskid]
    assert prompts == [*chats[:5], "a cat on the moon", *chats[5:]]
    statuses = [row[WRITTEN.index("status")] for row in stored(ledger.path)]
    assert statuses[5] == "ok" and len(statuses) == len(chats) + 1  # the task updated in place


def test_insert_statement_names_only_the_present_columns() -> None:
    present = tuple(column in ("started_at", "kind", "status", "demo") for column in WRITTEN)
    one = insert_statement(present, False)
    # Quoted names: `user` is a reserved word in PostgreSQL.
    assert one == 'INSERT INTO calls ("started_at", "kind", "status", "demo") VALUES (?, ?, ?, ?)'

    three = insert_statement(present, False, 3)
    assert three.endswith("VALUES (?, ?, ?, ?), (?, ?, ?, ?), (?, ?, ?, ?)")
    assert insert_statement(present, True).startswith(one + " ON CONFLICT (taskid)")
    with pytest.raises(ValueError, match="one row at a time"):
        insert_statement(present, True, 2)
    pg = insert_statement(present, True, postgres=True)
    assert pg.startswith(one + " ON CONFLICT (taskid)") and "EXTRACT(EPOCH" in pg


def test_a_late_state_without_values_erases_nothing(tmp_path: Path) -> None:
    """The task's later report leaves out its empty columns: `excluded.column` is NULL, and
    NULL never erases what the row knew."""
    ledger = Ledger(tmp_path / "ledger.sqlite")
    ledger.record(task_record("ok", taskid="t", started_at=T0))
    ledger.record(
        task_record("ok", taskid="t", started_at=T0 + timedelta(hours=1), credits=None,
                    video_url=None, resolution=None, media_seconds=None)
    )  # fmt: skip
    (row,) = stored(ledger.path)
    values = dict(zip(WRITTEN, row, strict=True))
    assert values["credits"] == 25.0 and values["video_url"] and values["resolution"] == "720p"


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(2026, 5, 1, 12, tzinfo=timezone.utc), "2026-05-01T12:00:00.000000+00:00"),
        (
            datetime(2026, 5, 1, 12, 0, 0, 5, tzinfo=timezone.utc),
            "2026-05-01T12:00:00.000005+00:00",
        ),
        (datetime(2026, 5, 1, 12), "2026-05-01T12:00:00.000000+00:00"),  # naive: UTC
        (
            datetime(2026, 5, 1, 14, tzinfo=timezone(timedelta(hours=2))),
            "2026-05-01T12:00:00.000000+00:00",
        ),
    ],
)
def test_times_are_stored_fixed_width_in_utc(moment: datetime, text: str) -> None:
    """Text order is time order only if every stored time has the same width."""
    assert iso(moment) == text

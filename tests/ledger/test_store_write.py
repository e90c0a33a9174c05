"""How rows are written: only the columns with a value, chats many to a statement, in order."""

from __future__ import annotations

import dataclasses
import json
import random
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from yjnb._types import UsageRecord
from yjnb.ledger import Ledger, _schema
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


def test_alternating_chats_and_task_states_take_a_statement_per_state(tmp_path: Path) -> None:
    """Chats of two shapes and tasks reported twice, interleaved as a busy kernel reports
    them: one multi-row statement for the chats and first states, one for the second states
    (a statement per run of one shape was one every few rows), ids in the batch's order."""
    ledger = Ledger(tmp_path / "ledger.sqlite")
    records = []
    for i in range(20):  # the first statement under `MAX_PARAMETERS`
        records.append(chat_record(prompt=f"c{i}", total_tokens=None if i % 2 else 5))
        if i % 4 == 3:
            records.append(task_record("pending", taskid=f"t{i}", prompt=f"t{i}"))
            records.append(task_record("ok", taskid=f"t{i}", prompt=f"t{i}"))
    ledger.record(chat_record())  # opens and migrates the file, outside the count
    inserts: list[str] = []
    store = ledger._store
    store._connection().raw.set_trace_callback(  # type: ignore[attr-defined]
        lambda sql: inserts.append(sql) if sql.startswith("INSERT") else None
    )
    ledger.record_many(records)
    assert len(inserts) == 2, [sql[:60] for sql in inserts]
    rows = stored(ledger.path)[1:]
    prompts = [row[WRITTEN.index("prompt")] for row in rows]
    assert prompts == [r.prompt for r in records if r.status != "ok" or not r.taskid]
    tasks = [row for row in rows if row[WRITTEN.index("taskid")]]
    assert len(tasks) == 5 and {row[WRITTEN.index("status")] for row in tasks} == {"ok"}
    tokens = [row[WRITTEN.index("total_tokens")] for row in rows if not row[7]]
    assert tokens == [None if i % 2 else 5 for i in range(20)]


def test_insert_statement_names_only_the_present_columns() -> None:
    present = tuple(column in ("started_at", "kind", "status", "demo") for column in WRITTEN)
    one = insert_statement(present, False)
    # Quoted names: `user` is a reserved word in PostgreSQL.
    assert one == 'INSERT INTO calls ("started_at", "kind", "status", "demo") VALUES (?, ?, ?, ?)'

    three = insert_statement(present, False, 3)
    assert three.endswith("VALUES (?, ?, ?, ?), (?, ?, ?, ?), (?, ?, ?, ?)")
    assert insert_statement(present, True).startswith(one + " ON CONFLICT (taskid)")
    assert insert_statement(present, True, 2).startswith(three[: three.index("), (?")])
    with pytest.raises(ValueError, match="one row at a time"):
        insert_statement(present, True, 2, postgres=True)
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
        (datetime(999, 1, 2, 3, 4, 5, 60, tzinfo=timezone.utc), "0999-01-02T03:04:05.000060+00:00"),
    ],
)
def test_times_are_stored_fixed_width_in_utc(moment: datetime, text: str) -> None:
    """Text order is time order only if every stored time has the same width."""
    assert iso(moment) == text
    stored = datetime.fromisoformat(text)
    assert stored.isoformat(timespec="microseconds") == text


def test_record_row_puts_each_field_in_its_column() -> None:
    """`record_row` is a tuple in `WRITTEN`'s order: every field gets a distinct value and is
    found under its own column's name."""
    values: dict[str, object] = {}
    for i, field in enumerate(dataclasses.fields(UsageRecord)):
        if field.name in ("started_at", "finished_at"):
            values[field.name] = T0 + timedelta(seconds=i)
        elif field.name in ("params", "usage_raw"):
            values[field.name] = {"field": field.name}
        elif field.name == "demo":
            values[field.name] = True
        else:
            values[field.name] = f"{field.name}-value"
    row = dict(zip(WRITTEN, record_row(UsageRecord(**values), notebook="nb", identity=("u", "h")),
                   strict=True))  # fmt: skip
    for name, value in values.items():
        if name in ("started_at", "finished_at"):
            assert row[name] == iso(value), name  # type: ignore[arg-type]
        elif name in ("params", "usage_raw"):
            assert json.loads(row[name]) == value, name
        elif name == "demo":
            assert row[name] == 1
        else:
            assert row[name] == value, name
    assert (row["notebook"], row["user"], row["host"]) == ("nb", "u", "h")


@pytest.mark.parametrize(
    "value",
    [
        {"b": 1, "a": '月亮 \n "q"'},
        {"nested": {"z": [None, True, 1.5, float("inf")], "a": []}},
        {"when": datetime(2026, 5, 1, tzinfo=timezone.utc), "path": Path("x")},  # default=str
        {},
        "a string",
        [1, "two"],
    ],
)
def test_json_columns_are_encoded_as_json_dumps_would(value: object) -> None:
    expected = json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)
    assert _schema._json(value) == expected


def test_times_match_isoformat_across_days_and_the_day_cache_bound() -> None:
    """`iso` pieces the text together from cached parts: it must equal `isoformat` for any
    moment, including more days than its cache of days holds."""
    rng = random.Random(11)
    start = datetime(1, 1, 1, tzinfo=timezone.utc)
    span = (datetime(9999, 12, 31, tzinfo=timezone.utc) - start).total_seconds()
    moments = [start + timedelta(seconds=rng.uniform(0, span)) for _ in range(3000)]
    moments += [datetime(2026, 11, 30, 23, 59, 59, 999999, tzinfo=timezone.utc)]
    for moment in moments:
        assert iso(moment) == moment.isoformat(timespec="microseconds")

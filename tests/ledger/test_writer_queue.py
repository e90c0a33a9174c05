"""The sink's records queue bare, with the storage settings queued only when they change."""

from __future__ import annotations

from pathlib import Path

import pytest

import yjnb.ledger as ledger_module
from yjnb._hooks import emit
from yjnb.ledger import Ledger, configure, default_ledger, flush

from .helpers import chat_record, task_record


def test_settings_changing_between_queued_records_apply_to_the_right_ones(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = ledger._writer
    assert writer is not None
    writer.pause()  # everything below is queued before any of it is written
    try:
        emit(chat_record(prompt="one"))
        configure(prompts=False)
        emit(chat_record(prompt="two"))
        emit(chat_record(prompt="three"))
        configure(prompts=True)
        monkeypatch.setenv("JPY_SESSION_NAME", "nb.ipynb")
        emit(chat_record(prompt="four"))
        emit(task_record("pending", taskid="t", prompt="five"))
        monkeypatch.delenv("JPY_SESSION_NAME")
        emit(task_record("ok", taskid="t", prompt="five"))
        emit(chat_record(prompt="six"))
    finally:
        writer.resume()
    rows = ledger.rows()
    assert [r["prompt"] for r in rows] == ["one", None, None, "four", "five", "six"]
    assert [r["notebook"] for r in rows] == [None, None, None, "nb.ipynb", "nb.ipynb", None]
    assert rows[4]["status"] == "ok"  # the task's two records, in order, one row
    assert writer.backlog == 0


def test_a_thousand_queued_records_are_all_written_in_order(ledger: Ledger) -> None:
    writer = ledger._writer
    assert writer is not None
    writer.pause()
    try:
        for i in range(1000):
            emit(chat_record(prompt=f"n{i}", total_tokens=i))
    finally:
        writer.resume()
    flush()
    assert [r["prompt"] for r in ledger.rows()] == [f"n{i}" for i in range(1000)]
    totals = ledger_module.today_totals(fresh=True)  # T0 is long past: nothing today
    assert totals.calls == 0 and ledger.totals().tokens == sum(range(1000))


def test_records_queued_while_closing_are_written(tmp_path: Path) -> None:
    ledger = default_ledger()
    emit(chat_record(prompt="before"))
    ledger.close()
    ledger._queue(chat_record(prompt="after"), prompts=True, notebook=None)  # written directly
    assert [r["prompt"] for r in Ledger(ledger.path).rows()] == ["before", "after"]


class Unprintable:
    def __str__(self) -> str:
        raise ValueError("cannot be shown")


def test_one_bad_record_in_a_run_of_queued_records_loses_only_itself(
    ledger: Ledger, caplog: pytest.LogCaptureFixture
) -> None:
    """The sink's records taken together go in one statement; a record that cannot become a
    row (its parameters cannot be encoded) fails that batch, and the others are then written
    one by one."""
    writer = ledger._writer
    assert writer is not None
    writer.pause()
    try:
        emit(chat_record(prompt="before"))
        emit(chat_record(prompt="bad", params={"seed": Unprintable()}))
        emit(chat_record(prompt="after"))
    finally:
        writer.resume()
    assert [r["prompt"] for r in ledger.rows()] == ["before", "after"]
    assert writer.backlog == 0

"""The writer thread: records queue and return at once, reads flush, today's totals from memory.

Real SQLite and real threads throughout. Where a test needs the writer to stand still, a
patched `Store.write` waits for an event on the writer thread only; where it needs to know
that a reader is waiting, it watches the writer's backlog (a wait, never a timed assert).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

import yjnb
from yjnb._hooks import emit
from yjnb._runner import get_runner
from yjnb.ledger import (
    Ledger,
    Totals,
    _reset_default,
    default_ledger,
    flush,
    session_totals,
    today_totals,
)
from yjnb.ledger._store import Store
from yjnb.ledger._writer import THREAD_NAME, Writer

from .helpers import chat_record, task_record


def now_chat(**overrides: Any) -> Any:
    return chat_record(started_at=datetime.now(timezone.utc), **overrides)


def rows_on_disk(path: Path) -> int:
    """Rows in the file as another process would see them: no flush, no ledger object."""
    if not path.exists():
        return 0
    with sqlite3.connect(path) as conn:
        try:
            return int(conn.execute("SELECT COUNT(*) FROM calls").fetchone()[0])
        except sqlite3.OperationalError:  # the writer has not made the table yet
            return 0


def writer_of(ledger: Ledger) -> Writer:
    assert ledger._writer is not None
    return ledger._writer


def until(condition: Callable[[], bool]) -> None:
    """Wait (no deadline here: pytest-timeout ends a test that hangs) until `condition`."""
    while not condition():
        time.sleep(0.001)


@dataclass
class Hold:
    """Keeps the writer thread inside `Store.write` until `release` is set."""

    release: threading.Event = field(default_factory=threading.Event)
    threads: list[str] = field(default_factory=list)


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> Iterator[Hold]:
    hold = Hold()
    original = Store.write

    def write(self: Store, rows: Any) -> None:
        name = threading.current_thread().name
        hold.threads.append(name)
        if name == THREAD_NAME:  # a write on any other thread goes through (and is seen)
            hold.release.wait()
        original(self, rows)

    monkeypatch.setattr(Store, "write", write)
    yield hold
    hold.release.set()  # never leave the writer stuck: the teardown waits for it


# -- the sink queues; the writer thread writes --------------------------------------------------


def test_the_sink_returns_at_once_and_the_writer_thread_writes(ledger: Ledger, held: Hold) -> None:
    async def record_on_the_loop() -> str:
        emit(now_chat())  # the core reports from the runner's event loop
        return threading.current_thread().name

    loop_thread = get_runner().run(record_on_the_loop())
    assert rows_on_disk(ledger.path) == 0, "written on the calling thread"
    held.release.set()
    ledger.flush()
    assert rows_on_disk(ledger.path) == 1
    assert held.threads == [THREAD_NAME] and loop_thread != THREAD_NAME


def test_record_on_the_default_ledger_returns_once_written(ledger: Ledger, held: Hold) -> None:
    held.release.set()
    ledger.record(now_chat())
    assert rows_on_disk(ledger.path) == 1
    assert held.threads == [THREAD_NAME]


def test_a_tasks_states_are_applied_in_order(ledger: Ledger, held: Hold) -> None:
    for n in range(50):
        for status in ("pending", "running", "ok"):
            emit(task_record(status, taskid=f"t{n}", credits=float(n) if status == "ok" else None))
    held.release.set()
    rows = ledger.tasks()
    assert len(rows) == 50 and {r["status"] for r in rows} == {"ok"}
    assert sum(r["credits"] for r in rows) == sum(range(50))


# -- reads flush ----------------------------------------------------------------------------------

READS: dict[str, tuple[Callable[[Ledger], Any], Any]] = {
    "len": (len, 1),
    "rows": (lambda ledger: len(ledger.rows()), 1),
    "tasks": (lambda ledger: len(ledger.tasks()), 1),
    "pending_tasks": (lambda ledger: len(ledger.pending_tasks()), 1),
    "totals": (lambda ledger: ledger.totals().calls, 1),
    "frame": (lambda ledger: len(ledger.frame()), 1),
    "usage": (lambda ledger: len(yjnb.usage()), 1),
    "set_local_path": (lambda ledger: ledger.set_local_path("task-1", "cat.mp4"), True),
    "today_totals_fresh": (lambda ledger: today_totals(fresh=True).calls, 1),
}


@pytest.mark.parametrize("name", list(READS))
def test_a_read_waits_for_what_was_queued_before_it(ledger: Ledger, held: Hold, name: str) -> None:
    read, expected = READS[name]
    emit(task_record("pending", started_at=datetime.now(timezone.utc)))
    seen: list[Any] = []
    reader = threading.Thread(target=lambda: seen.append(read(ledger)))
    reader.start()
    # The record, then the reader's flush: only then may the writer go on. A read that did
    # not flush has finished by now, having seen an empty file.
    until(lambda: writer_of(ledger).backlog >= 2 or not reader.is_alive())
    held.release.set()
    reader.join()
    assert seen == [expected]


def test_reads_from_the_event_loop_and_the_writer_thread_do_not_deadlock(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen_by_writer: list[int] = []
    original = Store.write

    def write(self: Store, rows: Any) -> None:
        original(self, rows)
        if threading.current_thread().name == THREAD_NAME:  # it cannot wait for itself
            seen_by_writer.append(len(default_ledger()))

    monkeypatch.setattr(Store, "write", write)

    async def record_then_read() -> int:
        emit(now_chat())
        return len(default_ledger())  # the writer needs no loop: waiting here is safe

    assert get_runner().run(record_then_read()) == 1
    assert seen_by_writer == [1]


def test_reset_and_a_new_home_write_what_is_queued(
    ledger: Ledger, held: Hold, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    emit(now_chat())
    resetting = threading.Thread(target=_reset_default)
    resetting.start()
    until(lambda: writer_of(ledger).backlog >= 2 or not resetting.is_alive())  # record, stop
    held.release.set()
    resetting.join()
    assert rows_on_disk(ledger.path) == 1

    first = default_ledger()
    for _ in range(200):
        emit(now_chat())
    monkeypatch.setenv("YJ_HOME", str(tmp_path / "other"))
    emit(now_chat())  # a new default ledger: the old one's queue is written first
    assert rows_on_disk(first.path) == 201


def test_a_record_racing_close_is_written_not_dropped(ledger: Ledger) -> None:
    writer_of(ledger).close()  # what exit does; the default ledger object stays
    emit(now_chat())
    assert rows_on_disk(ledger.path) == 1


EXIT = textwrap.dedent(
    """
    from yjnb._hooks import emit
    from yjnb._types import UsageRecord
    for i in range(2000):
        emit(UsageRecord(kind="chat", status="ok", model="m", usage_id=str(i), prompt="x" * 200))
    # The process ends here, with most of the records still queued.
    """
)

FORKED = textwrap.dedent(
    """
    import multiprocessing, sys
    from yjnb._hooks import emit
    from yjnb._types import UsageRecord
    from yjnb.ledger import default_ledger

    def child():  # ends with os._exit: `atexit` does not run, `threading`'s exit hook does
        for i in range(500):
            emit(UsageRecord(kind="chat", status="ok", model="m", usage_id=f"child-{i}"))

    if __name__ == "__main__":
        for i in range(300):  # forking at once: the writer thread is busy writing these
            emit(UsageRecord(kind="chat", status="ok", model="m", usage_id=f"parent-{i}"))
        proc = multiprocessing.get_context("fork").Process(target=child)
        proc.start()
        proc.join()
        assert proc.exitcode == 0, proc.exitcode
        print(len(default_ledger()))
    """
)


def test_process_exit_writes_what_is_queued(isolated_env: Path) -> None:
    subprocess.run([sys.executable, "-c", EXIT], timeout=60, check=True)
    assert rows_on_disk(isolated_env / "ledger.sqlite") == 2000


@pytest.mark.skipif(sys.platform == "win32", reason="fork")
def test_a_forked_child_writes_its_own_records(isolated_env: Path, tmp_path: Path) -> None:
    """A fork while the writer is inside SQLite left the child's file locked for good."""
    script = tmp_path / "forked.py"
    script.write_text(FORKED)
    proc = subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # a hung child is ended with its parent, below
    )
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    assert proc.returncode == 0 and out.split() == ["800"], err


# -- failures ---------------------------------------------------------------------------------


def test_a_failing_writer_logs_once_and_the_caller_never_blocks_or_raises(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def full_disk(self: Store, rows: Any) -> None:
        list(rows)
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(Store, "write", full_disk)

    async def record_some() -> None:
        for i in range(50):
            emit(now_chat(usage_id=str(i)))

    get_runner().run(record_some())
    ledger.flush()
    get_runner().run(record_some())  # after a failure, still queued at once
    ledger.flush()
    warnings = [r for r in caplog.records if "could not record" in r.getMessage()]
    assert len(warnings) == 1 and "disk is full" in warnings[0].getMessage()
    assert session_totals().calls == 100  # spent is spent
    with pytest.raises(sqlite3.OperationalError, match="disk is full"):
        ledger.record(now_chat())  # an explicit write still says what went wrong


def test_fresh_totals_fail_when_the_file_cannot_be_read(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("YJ_HOME", str(blocker / "home"))
    emit(now_chat())
    flush()
    with pytest.raises(OSError):
        today_totals(fresh=True)
    # The usage line still counts what was spent (a chat: its credits not reported).
    assert today_totals() == Totals(1, 36, 0.0, unreported=1)


# -- today's totals from memory -------------------------------------------------------------------


@pytest.fixture
def totals_on_the_writer_only(monkeypatch: pytest.MonkeyPatch) -> None:
    original = Store.totals

    def totals(self: Store, since: datetime | None = None) -> Totals:
        name = threading.current_thread().name
        if name != THREAD_NAME:
            raise AssertionError(f"Store.totals queried SQLite on {name}")
        return original(self, since)

    monkeypatch.setattr(Store, "totals", totals)


@pytest.mark.usefixtures("totals_on_the_writer_only")
def test_today_totals_count_from_memory(ledger: Ledger, held: Hold) -> None:
    now = datetime.now(timezone.utc)

    async def record_and_total() -> Totals:  # a task's card computes its line on the loop
        emit(now_chat())
        emit(task_record("pending", started_at=now))
        emit(task_record("ok", started_at=now))
        return today_totals()

    both = Totals(2, 36, 25.0, unreported=1)  # the chat reported no credits
    assert get_runner().run(record_and_total()) == both
    assert today_totals() == both
    assert rows_on_disk(ledger.path) == 0  # not from the file: nothing is in it yet
    held.release.set()
    ledger.flush()
    assert today_totals() == both  # now from the file, counted once


@pytest.mark.usefixtures("totals_on_the_writer_only")
def test_another_kernels_rows_show_up_after_a_re_read(ledger: Ledger) -> None:
    emit(now_chat())
    ledger.flush()
    other = Ledger(ledger.path)  # another kernel on the same file
    other.record(now_chat(total_tokens=100))
    emit(now_chat())  # this kernel's next write re-reads the file
    ledger.flush()
    assert today_totals() == Totals(3, 172, 0.0, unreported=3)
    other.record(now_chat(total_tokens=1000, credits=2.5))
    after = Totals(4, 1172, 2.5, unreported=3)
    assert today_totals(fresh=True) == after  # the budget check's read
    assert today_totals() == after


def test_a_task_counts_once_and_a_late_pending_changes_nothing(ledger: Ledger) -> None:
    now = datetime.now(timezone.utc)
    for status in ("pending", "ok", "pending"):  # the last: a retried report arriving late
        emit(task_record(status, started_at=now))
    assert today_totals() == Totals(1, 0, 25.0)
    assert session_totals() == Totals(1, 0, 25.0)
    ledger.flush()
    assert today_totals() == ledger.totals("today") == Totals(1, 0, 25.0)


def test_rows_started_on_another_day_do_not_count_today(ledger: Ledger) -> None:
    yesterday = datetime.now(timezone.utc) - timedelta(days=1)
    emit(chat_record(started_at=yesterday))
    emit(task_record("pending", started_at=yesterday))
    emit(task_record("ok", started_at=yesterday))  # submitted yesterday, done today
    assert today_totals() == Totals()
    ledger.flush()
    assert today_totals() == Totals() == ledger.totals("today")
    assert session_totals() == Totals(2, 36, 25.0, unreported=1)


def test_flush_is_public() -> None:
    assert "flush" in yjnb.ledger.__all__
    flush()  # no default ledger yet: nothing to wait for
    asyncio.run(asyncio.sleep(0))

"""The ledger file: schema, migrations, upserts, switches and concurrent writers."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

import yjnb
from yjnb._hooks import emit
from yjnb.ledger import SCHEMA_VERSION, Ledger, configure, default_ledger, flush
from yjnb.ledger._schema import COLUMNS, MIGRATIONS

from .helpers import T0, chat_record, task_record

ISSUE_COLUMNS = [
    "id", "started_at", "finished_at", "kind", "profile", "model", "catelog", "status", "taskid",
    "usage_id", "prompt", "params", "prompt_tokens", "completion_tokens", "cached_tokens",
    "total_tokens", "credits", "media_seconds", "resolution", "latency_s", "ttft_s", "error",
    "video_url", "image_url", "local_path", "notebook", "usage_raw",
]  # fmt: skip


def table_columns(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [row[1] for row in conn.execute("PRAGMA table_info(calls)")]


def test_default_ledger_lives_under_yj_home(isolated_env: Path) -> None:
    ledger = default_ledger()
    assert ledger.path == isolated_env / "ledger.sqlite"
    assert len(ledger) == 0
    assert set(ISSUE_COLUMNS) <= set(table_columns(ledger.path))
    assert sorted(COLUMNS) == sorted(table_columns(ledger.path))


def test_wal_mode_and_schema_version(ledger: Ledger) -> None:
    ledger.record(chat_record())
    with sqlite3.connect(ledger.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        versions = [v for (v,) in conn.execute("SELECT version FROM schema_version ORDER BY 1")]
    # Every step applied, in order, numbered without gaps.
    assert versions == [step for step, _ in MIGRATIONS] == list(range(1, SCHEMA_VERSION + 1))
    assert ledger.schema_version() == SCHEMA_VERSION >= 2


def test_chat_rows_are_appended(ledger: Ledger) -> None:
    ledger.record(chat_record())
    ledger.record(chat_record(status="interrupted", total_tokens=5, error="stream broke"))
    rows = ledger.rows()
    assert [r["status"] for r in rows] == ["ok", "interrupted"]
    first = rows[0]
    assert first["started_at"] == T0
    assert first["params"] == {"system": "be brief", "temperature": 0.3}
    assert first["usage_raw"] == {"total_tokens": 36}
    assert (first["prompt_tokens"], first["completion_tokens"], first["total_tokens"]) == (
        10,
        26,
        36,
    )
    assert rows[1]["error"] == "stream broke"


def test_a_task_is_one_row_updated_in_place(ledger: Ledger) -> None:
    ledger.record(task_record("pending"))
    (pending,) = ledger.tasks()
    assert pending["status"] == "pending" and pending["credits"] is None
    ledger.record(task_record("running"))
    ledger.record(task_record("ok"))
    (done,) = ledger.tasks()
    assert done["id"] == pending["id"]
    assert done["status"] == "ok"
    assert done["credits"] == 25.0 and done["media_seconds"] == 4.0
    assert done["video_url"].endswith("v.mp4")
    assert done["latency_s"] == pytest.approx(30.0, abs=1e-3)
    assert len(ledger) == 1


def test_a_late_pending_never_undoes_the_end(ledger: Ledger) -> None:
    ledger.record(task_record("ok"))
    ledger.record(task_record("pending"))  # e.g. a retried report arriving late
    (row,) = ledger.tasks()
    assert row["status"] == "ok" and row["credits"] == 25.0


def test_a_resumed_task_keeps_what_the_first_row_knew(ledger: Ledger) -> None:
    """`client.wait(taskid)` in a new kernel knows no model, prompt, kind or start time."""
    ledger.record(task_record("pending", kind="image", catelog="t2i", model="wan2.2-t2i-flash"))
    ledger.record(task_record("timeout", kind="image", catelog="t2i", model="wan2.2-t2i-flash"))
    assert ledger.tasks()[0]["status"] == "timeout"
    resumed_start = T0.replace(hour=15)
    ledger.record(
        task_record(
            "ok",
            kind="video",  # a Task made from an id defaults to video
            model="",
            profile="default",
            prompt=None,
            params={},
            catelog=None,
            started_at=resumed_start,
            finished_at=resumed_start.replace(minute=1),
        )
    )
    (row,) = ledger.tasks()
    assert row["status"] == "ok" and row["error"] is None
    assert (row["kind"], row["model"], row["catelog"]) == ("image", "wan2.2-t2i-flash", "t2i")
    assert (row["profile"], row["prompt"], row["params"]) == (
        "yuanjing",
        "a cat on the moon",
        {"duration": 4},
    )
    assert row["started_at"] == T0
    assert row["latency_s"] == pytest.approx(3 * 3600 + 60, abs=1e-2)


def test_tasks_and_pending_tasks_are_plain_dicts(ledger: Ledger) -> None:
    ledger.record(chat_record())
    ledger.record(task_record("pending", taskid="a"))
    ledger.record(task_record("ok", taskid="b", started_at=T0.replace(minute=5)))
    ledger.record(task_record("timeout", taskid="c", started_at=T0.replace(minute=9)))
    assert [t["taskid"] for t in ledger.tasks()] == ["c", "b", "a"]  # newest first
    assert [t["taskid"] for t in ledger.tasks(["ok"])] == ["b"]
    assert [t["taskid"] for t in ledger.tasks(limit=1)] == ["c"]
    assert [t["taskid"] for t in ledger.pending_tasks()] == ["a"]
    assert [t["taskid"] for t in ledger.pending_tasks(include_timeout=True)] == ["c", "a"]
    assert all(isinstance(t, dict) for t in ledger.tasks())


def test_set_local_path(ledger: Ledger, tmp_path: Path) -> None:
    ledger.record(task_record("ok"))
    assert ledger.set_local_path("task-1", tmp_path / "task-1.mp4")
    assert not ledger.set_local_path("nope", "x")
    assert ledger.tasks()[0]["local_path"] == str(tmp_path / "task-1.mp4")


def test_notebook_column_from_jupyter(ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JPY_SESSION_NAME", "/home/me/notebooks/try.ipynb")
    emit(chat_record())
    monkeypatch.delenv("JPY_SESSION_NAME")
    emit(chat_record())
    assert [r["notebook"] for r in ledger.rows()] == ["/home/me/notebooks/try.ipynb", None]


# -- switches ---------------------------------------------------------------------------------


def test_prompts_off_by_env(ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YJ_LEDGER_PROMPTS", "0")
    emit(
        chat_record(
            prompt="my secret plan",
            params={"system": "sys secret", "top_p": 0.5},
            status="interrupted",
            partial_text="the secret answer, cut",
        )
    )
    emit(task_record("pending", prompt="a secret cat", params={"negative_prompt": "blur"}))
    chat, task = ledger.rows()
    assert chat["prompt"] is None and chat["params"] == {"top_p": 0.5}
    assert chat["partial_text"] is None  # the answer goes with the prompt
    assert task["prompt"] is None and task["params"] == {}
    data = b"".join(p.read_bytes() for p in ledger.path.parent.glob("ledger.sqlite*"))
    assert b"secret" not in data


def test_prompts_off_by_configure(ledger: Ledger) -> None:
    configure(prompts=False)
    emit(chat_record(prompt="hidden"))
    configure(prompts=True)
    emit(chat_record(prompt="shown"))
    assert [r["prompt"] for r in ledger.rows()] == [None, "shown"]


@pytest.mark.parametrize("value", ["0", "false", "off", "no"])
def test_ledger_off_by_env(value: str, monkeypatch: pytest.MonkeyPatch, isolated_env: Path) -> None:
    monkeypatch.setenv("YJ_LEDGER", value)
    emit(chat_record())
    assert not (isolated_env / "ledger.sqlite").exists()


def test_ledger_off_by_configure_wins_over_env(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(enabled=False)
    emit(chat_record())
    assert len(ledger) == 0
    monkeypatch.setenv("YJ_LEDGER", "0")
    configure(enabled=True)  # `%config YJMagics.ledger = True` said so explicitly
    emit(chat_record())
    assert len(ledger) == 1


def test_a_new_yj_home_gets_its_own_ledger(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    emit(chat_record())
    first = default_ledger()
    monkeypatch.setenv("YJ_HOME", str(tmp_path / "other"))
    emit(chat_record())
    emit(chat_record())
    second = default_ledger()
    assert second.path == tmp_path / "other" / "ledger.sqlite"
    assert (len(Ledger(first.path)), len(second)) == (1, 2)


def test_an_unwritable_ledger_never_breaks_the_call(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("YJ_HOME", str(blocker / "home"))
    emit(chat_record())
    emit(chat_record())
    flush()  # the writer thread writes (and fails) after the sink returned
    warnings = [r for r in caplog.records if "could not record" in r.getMessage()]
    assert len(warnings) == 1


def test_import_is_lazy_and_the_first_record_installs_the_ledger(isolated_env: Path) -> None:
    code = textwrap.dedent(
        """
        import sys, yjnb
        assert "yjnb.ledger" not in sys.modules
        from yjnb._hooks import emit
        from yjnb._types import UsageRecord
        assert "yjnb.ledger" not in sys.modules
        emit(UsageRecord(kind="chat", status="ok", model="qwen3-max", total_tokens=3))
        assert "yjnb.ledger" in sys.modules
        assert "pandas" not in sys.modules, "recording must not import pandas"
        print(len(yjnb.ledger.default_ledger()))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "1"
    assert len(Ledger(isolated_env / "ledger.sqlite")) == 1


# -- migrations -------------------------------------------------------------------------------


def test_a_v1_file_opens_and_migrates(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as conn:  # exactly what version 1 made
        conn.execute(
            "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
        )
        conn.executescript(MIGRATIONS[0][1])
        conn.execute("INSERT INTO schema_version VALUES (1, '2026-01-01T00:00:00.000000+00:00')")
        conn.execute(
            "INSERT INTO calls (started_at, kind, model, status, taskid, credits, params) "
            "VALUES ('2026-01-02T03:04:05.000000+00:00', 'video', 'viduq3-pro', 'pending', "
            "'old-task', NULL, '{}')"
        )
    assert "notebook" not in table_columns(path)

    ledger = Ledger(path)
    assert ledger.schema_version() == SCHEMA_VERSION
    assert {"notebook", "forgotten_at", "credits_estimate"} <= set(table_columns(path))
    (old,) = ledger.pending_tasks()
    assert old["taskid"] == "old-task" and old["notebook"] is None
    # The old pending task can still finish in place, and new rows carry the new column.
    ledger.record(task_record("ok", taskid="old-task", model="", started_at=T0))
    ledger.record(chat_record(), notebook="n.ipynb")
    rows = ledger.rows()
    assert [(r["taskid"], r["status"], r["notebook"]) for r in rows] == [
        ("old-task", "ok", None),
        (None, "ok", "n.ipynb"),
    ]
    assert rows[0]["model"] == "viduq3-pro"
    ledger.close()
    assert Ledger(path).schema_version() == SCHEMA_VERSION  # reopening is a no-op


def test_forget_marks_rows_and_keeps_them(ledger: Ledger) -> None:
    ledger.record(task_record("pending", taskid="p"))
    ledger.record(task_record("lost", taskid="l1", error="404 Task not found"))
    ledger.record(task_record("lost", taskid="l2"))
    ledger.record(task_record("ok", taskid="done"))
    assert ledger.forget("p") and not ledger.forget("p") and not ledger.forget("nope")
    assert ledger.pending_tasks() == []  # forgotten: not resumed
    assert ledger.forget_lost() == 2 and ledger.forget_lost() == 0
    visible = [r["taskid"] for r in ledger.tasks(forgotten=False)]
    assert visible == ["done"]
    rows = {r["taskid"]: r for r in ledger.tasks()}  # every row is still there, as it was
    assert len(rows) == 4 and rows["l1"]["status"] == "lost"
    assert rows["l1"]["error"] == "404 Task not found" and rows["l1"]["forgotten_at"] is not None
    assert rows["p"]["status"] == "pending" and rows["done"]["forgotten_at"] is None
    # A later state of a forgotten task updates its row and keeps it forgotten.
    ledger.record(task_record("ok", taskid="p"))
    assert {r["taskid"]: r["status"] for r in ledger.tasks()}["p"] == "ok"
    assert [r["taskid"] for r in ledger.tasks(forgotten=False)] == ["done"]


def test_a_newer_file_still_opens(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "new.sqlite"
    Ledger(path).record(chat_record())
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO schema_version VALUES (99, 'future')")
    ledger = Ledger(path)
    ledger.record(chat_record())
    assert len(ledger) == 2
    assert any("newer than this yjnb" in r.getMessage() for r in caplog.records)


# -- concurrency ------------------------------------------------------------------------------


def test_threads_share_one_writer(ledger: Ledger) -> None:
    def work(n: int) -> None:
        for i in range(100):
            emit(chat_record(usage_id=f"{n}-{i}"))
            emit(task_record("pending", taskid=f"{n}-{i}"))
            emit(task_record("ok", taskid=f"{n}-{i}"))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rows = ledger.rows()
    assert len(rows) == 8 * 200
    assert {r["status"] for r in rows} == {"ok"}


WRITER = textwrap.dedent(
    """
    import sys, time, pathlib
    from yjnb._hooks import emit
    from yjnb._types import UsageRecord
    n, start, tag = int(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3]
    deadline = time.monotonic() + 60
    while not start.exists() and time.monotonic() < deadline:
        time.sleep(0.002)
    for i in range(n):
        if i % 5 == 0:  # a task: two reports, one row
            for status in ("pending", "ok"):
                emit(UsageRecord(kind="video", status=status, model="viduq3-pro",
                                 taskid=f"{tag}-{i}", credits=1.0 if status == "ok" else None))
        else:
            emit(UsageRecord(kind="chat", status="ok", model="qwen3-max", usage_id=f"{tag}-{i}",
                             total_tokens=10))
    """
)


def test_four_processes_write_at_once(isolated_env: Path, tmp_path: Path) -> None:
    start = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, "500", str(start), f"p{n}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(4)
    ]
    start.touch()
    outputs = [p.communicate(timeout=100) for p in procs]
    for p, (_, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err
        assert "locked" not in err and "could not record" not in err, err
    ledger = Ledger(isolated_env / "ledger.sqlite")
    frame_rows = ledger.rows()
    assert len(frame_rows) == 2000
    assert sum(1 for r in frame_rows if r["kind"] == "video") == 400
    assert {r["status"] for r in frame_rows} == {"ok"}
    assert ledger.totals().credits == 400.0


KILLED = textwrap.dedent(
    """
    import sys
    from yjnb.ledger import Ledger
    from yjnb._types import UsageRecord
    ledger = Ledger(sys.argv[1])
    done = 0
    while True:  # batches of 20 rows, each one transaction; report after each commit
        batch = [UsageRecord(kind="chat", status="ok", model="m", usage_id=f"{done + i}",
                             prompt="x" * 2000) for i in range(20)]
        ledger.record_many(batch)
        done += 20
        print(done, flush=True)
    """
)


def test_a_writer_killed_mid_write_loses_no_committed_row(tmp_path: Path) -> None:
    path = tmp_path / "killed.sqlite"
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    committed = 0
    while committed < 400:
        line = proc.stdout.readline()
        assert line, "the writer died on its own"
        committed = int(line)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL

    ledger = Ledger(path)
    rows = ledger.rows()
    assert len(rows) >= committed
    assert len(rows) % 20 == 0, "a half-written transaction survived"
    assert sorted(int(r["usage_id"]) for r in rows) == list(range(len(rows)))
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    ledger.record(chat_record())
    assert len(ledger) == len(rows) + 1


def test_public_names() -> None:
    assert yjnb.Ledger is Ledger
    assert callable(yjnb.usage)

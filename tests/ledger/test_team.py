"""A shared ledger on a real PostgreSQL server, written by real processes through the emulator:
who and where, many writers at once, an outage, and the key kept out of every table."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import psycopg
import pytest

import yjnb
from yjnb.ledger import Ledger, default_ledger

from .test_store import WRITER

KERNEL = textwrap.dedent(
    """
    import sys
    import yjnb
    from yjnb._tasks import PollSchedule
    fast = PollSchedule(first=0.02, factor=1.5, cap=0.1, jitter=0.1)
    client = yjnb.Client(api_key=sys.argv[1], base_url=sys.argv[2], poll=fast)
    client.chat("hello from " + sys.argv[3])
    list(client.chat("and again", stream=True))
    client.video("a cat on the moon", model="viduq3-pro", duration=1)
    """
)
READER = textwrap.dedent(
    """
    import json, yjnb
    df = yjnb.usage()
    print(json.dumps([list(r) for r in df[["user", "host", "kind", "status"]].itertuples(False)]))
    """
)


def run(code: str, *args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "could not record" not in done.stderr and "cannot be reached" not in done.stderr
    return done.stdout


def every_value(url: str) -> str:
    """Every table of the database as text, rows and all."""
    with psycopg.connect(url) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            )
        ]
        return "\n".join(
            str(row) for table in tables for row in conn.execute(f"SELECT t::text FROM {table} t")
        )


def test_two_users_kernels_write_and_a_third_sees_both(
    emulator: Any, pg_url: str, tmp_path: Path
) -> None:
    emulator.set_speed(1000.0)
    for user in ("ana", "bo"):
        home = {"YJ_HOME": str(tmp_path / user), "YJ_USER": user, "YJ_LEDGER_URL": pg_url}
        run(KERNEL, emulator.api_key, emulator.url, user, env=home)
    reader = {"YJ_HOME": str(tmp_path / "lead"), "YJ_USER": "lead", "YJ_LEDGER_URL": pg_url}
    rows = json.loads(run(READER, env=reader))
    assert [(user, kind, status) for user, _, kind, status in rows] == [
        ("ana", "chat", "ok"),
        ("ana", "chat", "ok"),
        ("ana", "video", "ok"),
        ("bo", "chat", "ok"),
        ("bo", "chat", "ok"),
        ("bo", "video", "ok"),
    ]
    assert all(host for _, host, _, _ in rows)
    # Nothing went to the kernels' own files but the (empty) outbox.
    for user in ("ana", "bo"):
        assert len(Ledger(tmp_path / user / "ledger.sqlite")) == 0
    # The key is in no table of the shared database (prompts are, as asked).
    text = every_value(pg_url)
    assert "hello from ana" in text and "hello from bo" in text
    assert emulator.api_key not in text


def test_four_processes_of_500_rows_make_2000(pg_url: str, tmp_path: Path) -> None:
    start = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, "500", str(start), f"p{n}"],
            env={
                **os.environ,
                "PYTHONPATH": os.pathsep.join(sys.path),
                "YJ_HOME": str(tmp_path / f"home{n}"),
                "YJ_USER": f"user{n}",
                "YJ_LEDGER_URL": pg_url,
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(4)
    ]
    start.touch()
    outputs = [p.communicate(timeout=110) for p in procs]
    for p, (_, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err
        assert "could not record" not in err and "cannot be reached" not in err, err
    ledger = Ledger(pg_url)
    rows = ledger.rows()
    assert len(rows) == 2000
    assert sum(1 for r in rows if r["kind"] == "video") == 400
    assert {r["status"] for r in rows} == {"ok"}
    assert {r["user"] for r in rows} == {"user0", "user1", "user2", "user3"}
    assert ledger.totals().credits == 400.0
    ledger.close()


@pytest.fixture
def own_server() -> Iterator[Any]:
    """A server of this test's own: it is stopped and started again."""
    from pg_server import PgServer

    server = PgServer()
    server.start()
    yield server
    server.close()


def test_an_outage_queues_rows_locally_and_sends_them_when_back(
    own_server: Any,
    client: Any,
    isolated_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr("yjnb.ledger._team.RETRY_AFTER_S", 0.0)
    url = own_server.new_database()
    monkeypatch.setenv("YJ_LEDGER_URL", url)
    client.chat("before")
    assert len(yjnb.usage()) == 1
    own_server.stop()
    with caplog.at_level(logging.WARNING, logger="yjnb"):
        answer = client.chat("during the outage")
        assert answer.text  # the user's answer, whatever the ledger's server does
        task = client.image("a cat", model="wan2.2-t2i-flash")
        client.chat("still down")
        default_ledger().flush()
    store = default_ledger()._writer._store  # type: ignore[union-attr]
    assert store.queued() == 4  # a chat, the task's two states (upserted in order), a chat
    warnings = [r.getMessage() for r in caplog.records if "cannot be reached" in r.getMessage()]
    assert len(warnings) == 1, warnings  # one clear warning, not one per row
    assert str(isolated_env / "ledger.sqlite") in warnings[0]
    with pytest.raises(yjnb.ledger.LedgerUnavailable, match="cannot be reached"):
        yjnb.usage()
    local = sqlite3.connect(isolated_env / "ledger.sqlite")
    queued = local.execute("SELECT origin, target, queued_at, row_json FROM outbox").fetchall()
    own_server.start()
    df = yjnb.usage()
    assert list(df["prompt"]) == ["before", "during the outage", "a cat", "still down"]
    assert df.iloc[2]["taskid"] == task.taskid and df.iloc[2]["status"] == "ok"
    assert store.queued() == 0
    assert any("is back; 4 queued rows sent" in r.getMessage() for r in caplog.records)
    with psycopg.connect(url) as conn:  # exactly once on the server
        assert conn.execute("SELECT COUNT(*) FROM calls").fetchone() == (4,)
    # A sender killed after the server's commit, before its local delete: sent again, and
    # the server takes none of it twice.
    with local:
        local.executemany(
            "INSERT INTO outbox (origin, target, queued_at, row_json) VALUES (?, ?, ?, ?)", queued
        )
    local.close()
    assert len(yjnb.usage()) == 4 and store.queued() == 0


def test_a_server_restart_between_calls_costs_nothing_and_says_nothing(
    own_server: Any, client: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("YJ_LEDGER_URL", own_server.new_database())
    client.chat("before")
    assert len(yjnb.usage()) == 1  # both connections (the writer's, the reader's) are open
    assert yjnb.ledger.team_budget(1000.0, ["qwen3-max"]).passed
    own_server.stop()
    own_server.start()  # every connection this kernel had is gone
    with caplog.at_level(logging.WARNING, logger="yjnb"):
        client.chat("after")
        assert list(yjnb.usage()["prompt"]) == ["before", "after"]
        assert yjnb.ledger.team_budget(1000.0, ["qwen3-max"]).passed
    assert default_ledger()._writer._store.queued() == 0  # type: ignore[union-attr]
    assert [r.getMessage() for r in caplog.records] == []


def test_a_teammates_rows_count_for_the_team_not_for_my_day_or_my_tasks(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from .helpers import task_record

    now = datetime.now(timezone.utc)
    monkeypatch.setenv("YJ_USER", "ana")
    teammate = Ledger(pg_url)
    teammate.record(task_record("pending", taskid="ana-1", started_at=now))
    teammate.record(task_record("ok", taskid="ana-2", credits=50.0, started_at=now))
    teammate.close()
    monkeypatch.setenv("YJ_USER", "bo")
    monkeypatch.setenv("YJ_LEDGER_URL", pg_url)
    mine = default_ledger()
    mine.record(task_record("pending", taskid="bo-1", started_at=now))
    # The "today" line and budget_credits: this user's calls, as on a local file.
    assert yjnb.ledger.today_totals(fresh=True).calls == 1
    assert yjnb.ledger.today_totals(fresh=True).credits == 0.0
    # %yj_tasks and --resume: my tasks only (a teammate's are theirs, with their key).
    assert [t["taskid"] for t in mine.pending_tasks()] == ["bo-1"]
    assert {t["taskid"] for t in mine.tasks(everyone=True)} == {"ana-1", "ana-2", "bo-1"}
    # The team's view and the team budget: everyone.
    assert set(yjnb.usage()["user"]) == {"ana", "bo"}
    assert yjnb.ledger.team_budget(100.0).by_user == {"ana": 50.0}


def test_without_the_driver_rows_wait_locally_and_reads_say_what_to_install(
    pg_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from .helpers import chat_record

    monkeypatch.setitem(sys.modules, "psycopg", None)  # `import psycopg` fails, as uninstalled
    ledger = Ledger(pg_url)
    with caplog.at_level(logging.WARNING, logger="yjnb"):
        ledger.record(chat_record())
    assert "pip install 'yjnb[team]'" in caplog.text
    assert ledger._store.queued() == 1  # type: ignore[attr-defined]
    with pytest.raises(yjnb.ConfigError, match=r"needs psycopg 3: pip install 'yjnb\[team\]'"):
        ledger.rows()
    monkeypatch.delitem(sys.modules, "psycopg")
    import psycopg as _  # noqa: F401  (installed again)

    assert [r["usage_id"] for r in ledger.rows()] == ["u-1"]
    ledger.close()


def test_a_saved_path_noted_during_an_outage_waits_in_the_outbox_with_the_rows(
    own_server: Any, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("yjnb.ledger._team.RETRY_AFTER_S", 0.0)
    monkeypatch.setenv("YJ_LEDGER_URL", own_server.new_database())
    before = client.image("a dog", model="wan2.2-t2i-flash")  # its row is on the server
    assert len(yjnb.usage()) == 1
    own_server.stop()
    during = client.image("a cat", model="wan2.2-t2i-flash")  # its rows wait in the outbox
    ledger = default_ledger()
    assert ledger.set_local_path(before.taskid, "/media/dog.png")
    assert ledger.set_local_path(during.taskid, "/media/cat.png")
    store = ledger._writer._store  # type: ignore[union-attr]
    assert store.queued() == 4  # the cat's two states, then the two paths, in that order
    own_server.start()
    df = yjnb.usage()
    assert dict(zip(df["taskid"], df["local_path"], strict=True)) == {
        before.taskid: "/media/dog.png",
        during.taskid: "/media/cat.png",
    }
    assert store.queued() == 0

"""The ledger on a real PostgreSQL server: one schema, the same migrations, the same rows."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg
import pytest

import yjnb
from yjnb.ledger import SCHEMA_VERSION, Ledger, configure, default_ledger
from yjnb.ledger._bulk import generations
from yjnb.ledger._dialect import pg_ddl
from yjnb.ledger._schema import COLUMNS, MIGRATIONS, record_row, statements

from .helpers import T0, chat_record, task_record


def pg_columns(url: str, table: str = "calls") -> list[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
            "ORDER BY ordinal_position",
            (table,),
        ).fetchall()
    return [r[0] for r in rows]


def test_an_empty_database_is_migrated_to_the_current_schema(pg_url: str) -> None:
    ledger = Ledger(pg_url)
    assert ledger.shared
    assert ledger.schema_version() == SCHEMA_VERSION == 10
    assert sorted(pg_columns(pg_url)) == sorted(COLUMNS)
    with psycopg.connect(pg_url) as conn:
        kinds = dict(
            conn.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_name = 'calls'"
            ).fetchall()
        )
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_version ORDER BY 1")]
    # REAL would be 4-byte floats in PostgreSQL: credits need double precision.
    assert kinds["credits"] == "double precision"
    assert kinds["id"] == "bigint"
    assert versions == list(range(1, SCHEMA_VERSION + 1))
    ledger.close()


def test_a_version_6_database_migrates_and_keeps_its_rows(pg_url: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
        )
        for step, script in MIGRATIONS[:6]:
            for statement in statements(script):
                conn.execute(pg_ddl(statement))
            conn.execute("INSERT INTO schema_version VALUES (%s, 'then')", (step,))
        conn.execute(
            "INSERT INTO calls (started_at, kind, status, model, credits, demo) "
            "VALUES ('2026-04-01T10:00:00.000000+00:00', 'video', 'ok', 'viduq3-pro', 3.5, 0)"
        )
    assert "user" not in pg_columns(pg_url)
    ledger = Ledger(pg_url)
    assert ledger.schema_version() == SCHEMA_VERSION
    ledger.record(chat_record())
    rows = ledger.rows()
    assert [(r["kind"], r["credits"], r["user"]) for r in rows] == [
        ("video", 3.5, None),  # made before `user` existed: unknown, not made up
        ("chat", None, rows[1]["user"]),
    ]
    assert rows[1]["user"] and rows[1]["host"]
    ledger.close()


def test_kernels_opening_an_empty_database_together_migrate_it_once(pg_url: str) -> None:
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def open_one() -> None:
        ledger = Ledger(pg_url)
        barrier.wait()
        try:
            ledger.record(chat_record())
        except BaseException as exc:
            errors.append(exc)
        finally:
            ledger.close()

    threads = [threading.Thread(target=open_one) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    with psycopg.connect(pg_url) as conn:
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_version ORDER BY 1")]
        calls = conn.execute("SELECT COUNT(*) FROM calls").fetchone()
    assert versions == list(range(1, SCHEMA_VERSION + 1))
    assert calls == (6,)


def test_rows_read_back_as_from_sqlite(pg_url: str, tmp_path: Path) -> None:
    records = [
        chat_record(),
        task_record("pending"),
        task_record("running"),
        task_record("ok", credits=2.0),
        task_record("pending"),  # late: never undoes `ok`
    ]
    shared, local = Ledger(pg_url), Ledger(tmp_path / "local.sqlite")
    for ledger in (shared, local):
        for record in records:
            ledger.record(record)
    a, b = shared.frame(), local.frame()
    assert list(a.columns) == list(b.columns) == list(COLUMNS)
    assert list(a.dtypes) == list(b.dtypes)
    # SQLite's julianday() arithmetic is off by microseconds; PostgreSQL's is exact.
    same = [c for c in COLUMNS if c not in ("id", "latency_s")]
    assert a[same].astype(str).values.tolist() == b[same].astype(str).values.tolist()
    assert a["latency_s"].tolist() == pytest.approx(b["latency_s"].tolist())
    task = shared.tasks()[0]
    assert task["status"] == "ok" and task["credits"] == 2.0
    # The upsert's latency is measured from the first row's start, in PostgreSQL's time math.
    assert task["latency_s"] == pytest.approx(
        (task["finished_at"] - task["started_at"]).total_seconds()
    )
    assert shared.totals() == local.totals()
    # Since a moment: the hour leads the index's range, the moment bounds it exactly.
    for since, calls in ((T0 - timedelta(minutes=30), 2), (T0 + timedelta(microseconds=1), 0)):
        assert shared.totals(since=since) == local.totals(since=since)
        assert shared.totals(since=since).calls == calls
        assert shared._store.totals_by_world(since) == local._store.totals_by_world(since)
    for by in ("model", "kind", "day", "profile"):
        pd.testing.assert_frame_equal(shared.summary(by), local.summary(by), check_exact=False)
    assert shared.forget(task["taskid"]) and not shared.pending_tasks()
    assert shared.set_local_path(task["taskid"], "media/cat.mp4")
    assert shared.rows(since=T0)[1]["local_path"] == "media/cat.mp4"
    shared.close()
    local.close()


def test_a_batch_goes_in_one_statement_per_state_of_a_task_and_reads_as_on_sqlite(
    pg_url: str, tmp_path: Path
) -> None:
    later = T0 + timedelta(seconds=1)
    records = [
        chat_record(prompt="first"),
        task_record("pending"),
        task_record("pending", taskid="task-2", started_at=later, params={}),
        chat_record(prompt="second", credits=3, latency_s=None, ttft_s=None),  # an int: REAL
        task_record("ok", credits=2),  # a task's second state: the second statement
        task_record("failed", taskid="task-2", started_at=later, model=""),
        task_record("pending"),  # the third state: late, it never undoes `ok`
        chat_record(prompt="third", credits=1.5, usage_raw=None, params=None),
    ]
    rows = [record_row(r) for r in records]
    assert [len(part) for part in generations(rows)] == [5, 2, 1]
    shared, local = Ledger(pg_url), Ledger(tmp_path / "local.sqlite")
    for ledger in (shared, local):
        ledger.record_many(records)
    a, b = shared.frame(), local.frame()
    assert list(a.dtypes) == list(b.dtypes)
    same = [c for c in COLUMNS if c not in ("id", "latency_s")]
    assert a[same].astype(str).values.tolist() == b[same].astype(str).values.tolist()
    assert a["latency_s"].tolist() == pytest.approx(b["latency_s"].tolist(), nan_ok=True)
    task = "a cat on the moon"
    assert list(a["prompt"]) == ["first", task, "second", "third", task]
    tasks = {t["taskid"]: t for t in shared.tasks()}
    assert tasks["task-1"]["status"] == "ok" and tasks["task-1"]["credits"] == 2.0
    assert tasks["task-2"]["status"] == "failed" and tasks["task-2"]["model"] == "viduq3-pro"
    assert shared.totals() == local.totals()
    shared.close()
    local.close()


def test_user_comes_from_yj_user_else_jupyterhub_user_else_the_login(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import getpass
    import socket

    ledger = Ledger(pg_url)
    ledger.record(chat_record())
    monkeypatch.setenv("JUPYTERHUB_USER", "hub-ana")
    ledger.record(chat_record())
    monkeypatch.setenv("YJ_USER", "ana")
    ledger.record(chat_record())
    users = [r["user"] for r in ledger.rows()]
    assert users == [getpass.getuser(), "hub-ana", "ana"]
    assert {r["host"] for r in ledger.rows()} == {socket.gethostname()}
    ledger.close()


def test_the_default_ledger_follows_yj_ledger_url_then_the_magics_setting(
    pg_url: str, pg_server: Any, monkeypatch: pytest.MonkeyPatch, isolated_env: Path
) -> None:
    assert not default_ledger().shared  # nothing set: the local file, as always
    monkeypatch.setenv("YJ_LEDGER_URL", pg_url)
    assert default_ledger().url == pg_url
    other = pg_server.new_database()
    configure(url=other)
    assert default_ledger().url == other
    configure(url="")
    assert default_ledger().url == pg_url
    with pytest.raises(yjnb.ConfigError, match="must start with postgresql://"):
        configure(url="mysql://somewhere/db")


def test_a_profile_can_name_the_shared_ledger(
    pg_url: str, isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    isolated_env.mkdir(parents=True, exist_ok=True)
    (isolated_env / "config.toml").write_text(
        f'default_profile = "team"\n[profiles.team]\nledger_url = "{pg_url}"\n', encoding="utf-8"
    )
    assert default_ledger().url == pg_url
    (isolated_env / "config.toml").write_text(
        '[profiles.team]\nledger_url = "sqlite:///x"\n', encoding="utf-8"
    )
    monkeypatch.setenv("YJ_PROFILE", "team")
    with pytest.raises(yjnb.ConfigError, match=r"ledger_url .* must start with postgresql://"):
        yjnb.Client(api_key="k", base_url="http://127.0.0.1:1")

"""The experiments' answer cache shared through a team ledger's PostgreSQL server: a teammate's
run of the same cells costs nothing and names who paid; a server that is down costs only the
sharing."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg
import pytest

import yjnb
from yjnb._experiment_cache import AnswerCache

CHAT = "POST /llmage/v1/chat/completions"


def run_as(
    user: str, home: Path, emulator: Any, client_kwargs: dict[str, Any], mp: pytest.MonkeyPatch
) -> yjnb.Experiment:
    mp.setenv("YJ_USER", user)
    mp.setenv("YJ_HOME", str(home))
    data = pd.DataFrame({"product": ["lamp", "chair", "desk"]})
    return yjnb.experiment(
        data, "Describe {product}.", ["qwen3-max", "qwen-plus"], name="team",
        client=yjnb.Client(**client_kwargs),
    )  # fmt: skip


def test_a_teammates_run_is_served_from_the_shared_cache(
    emulator: Any,
    client_kwargs: dict[str, Any],
    pg_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("YJ_LEDGER_URL", pg_url)
    first = run_as("ana", tmp_path / "ana", emulator, client_kwargs, monkeypatch)
    assert emulator.count(CHAT) == 6 and not first.results["cached"].any()
    second = run_as("bo", tmp_path / "bo", emulator, client_kwargs, monkeypatch)
    assert emulator.count(CHAT) == 6  # bo paid for nothing
    assert second.results["cached"].all()
    assert second.results["text"].tolist() == first.results["text"].tolist()
    assert {o.get("cached_from") for o in second.progress.outcomes.values()} == {"ana"}
    assert set(second.results["cached_from"]) == {"ana"}  # the teammate, named in the table
    with psycopg.connect(pg_url) as conn:
        users = conn.execute('SELECT DISTINCT "user" FROM experiment_answers').fetchall()
        text = "".join(str(r) for r in conn.execute("SELECT t::text FROM experiment_answers t"))
    assert users == [("ana",)]
    assert emulator.api_key not in text
    # A cell only bo's home has is not claimed by a teammate: no cached_from on own answers.
    again = run_as("ana", tmp_path / "ana", emulator, client_kwargs, monkeypatch)
    assert all("cached_from" not in o for o in again.progress.outcomes.values())
    assert again.results["cached_from"].isna().all()


def test_without_the_server_the_cache_works_locally_with_one_warning(
    emulator: Any,
    client_kwargs: dict[str, Any],
    pg_server: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("YJ_LEDGER_URL", pg_server.url("no_such_database"))
    with caplog.at_level(logging.WARNING, logger="yjnb"):
        first = run_as("ana", tmp_path / "ana", emulator, client_kwargs, monkeypatch)
        again = run_as("ana", tmp_path / "ana", emulator, client_kwargs, monkeypatch)
    assert first.status == "done" and not first.results["cached"].any()
    assert again.results["cached"].all() and emulator.count(CHAT) == 6  # the local cache
    warnings = [r for r in caplog.records if "answer cache cannot be reached" in r.getMessage()]
    assert 1 <= len(warnings) <= 2  # once per cache opened (one per run), not once per cell


def test_the_local_file_is_looked_at_first(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("YJ_LEDGER_URL", pg_url)
    monkeypatch.setenv("YJ_USER", "ana")
    mine = AnswerCache(tmp_path / "ana")
    mine.put("k1", {"text": "ana's"}, experiment="e", run_id="r")
    monkeypatch.setenv("YJ_USER", "bo")
    theirs = AnswerCache(tmp_path / "bo")
    assert theirs.get_many(["k1", "k2"]) == {"k1": {"text": "ana's", "cached_from": "ana"}}
    theirs.put("k1", {"text": "bo's"}, experiment="e", run_id="r")  # bo's own, kept locally
    assert theirs.get_many(["k1"]) == {"k1": {"text": "bo's"}}
    assert mine.get_many(["k1"]) == {"k1": {"text": "ana's"}}  # the first answer stays shared
    mine.close()
    theirs.close()

"""The sink keeps its settings between records (`_Route`), yet follows every change of them
in the same process: the variables it reads, the switches and the default ledger."""

from __future__ import annotations

from pathlib import Path

import pytest

from yjnb._hooks import emit
from yjnb.ledger import Ledger, configure, default_ledger, flush

from .helpers import chat_record


def rows(home: Path) -> list[dict[str, object]]:
    flush()
    return Ledger(home / "ledger.sqlite").rows()


def test_the_sink_follows_its_variables_between_two_records(
    isolated_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    emit(chat_record(prompt="first"))
    monkeypatch.setenv("YJ_LEDGER", "0")
    emit(chat_record(prompt="not recorded"))
    monkeypatch.setenv("YJ_LEDGER", "1")
    monkeypatch.setenv("JPY_SESSION_NAME", "analysis.ipynb")
    emit(chat_record(prompt="from a notebook"))
    monkeypatch.setenv("YJ_LEDGER_PROMPTS", "0")
    emit(chat_record(prompt="kept out"))
    assert [(r["prompt"], r["notebook"]) for r in rows(isolated_env)] == [
        ("first", None),
        ("from a notebook", "analysis.ipynb"),
        (None, "analysis.ipynb"),
    ]

    other = tmp_path / "other home"
    monkeypatch.setenv("YJ_HOME", str(other))
    monkeypatch.delenv("YJ_LEDGER_PROMPTS")
    emit(chat_record(prompt="elsewhere"))
    assert [r["prompt"] for r in rows(other)] == ["elsewhere"]
    assert len(rows(isolated_env)) == 3


def test_the_sink_follows_the_switches_and_a_new_default_ledger(isolated_env: Path) -> None:
    emit(chat_record(prompt="one"))
    configure(enabled=False)
    emit(chat_record(prompt="off"))
    configure(enabled=True, prompts=False)
    emit(chat_record(prompt="hidden"))
    configure(prompts=True)
    first = default_ledger()
    first.close()  # a closed ledger is replaced by the next `_reset_default`, as in tests
    from yjnb.ledger import _reset_default

    _reset_default()
    emit(chat_record(prompt="after a reset"))
    assert default_ledger() is not first
    assert [r["prompt"] for r in rows(isolated_env)] == ["one", None, "after a reset"]

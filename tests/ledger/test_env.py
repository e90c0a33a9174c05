"""The sink's environment reads follow `os.environ` as `os.environ.get` does."""

from __future__ import annotations

import os

import pytest

from yjnb.ledger._env import getenv


def test_getenv_sees_every_change_made_through_os_environ(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("YJNB_ENV_PROBE", raising=False)
    assert getenv("YJNB_ENV_PROBE") is None
    monkeypatch.setenv("YJNB_ENV_PROBE", "réglé")
    assert getenv("YJNB_ENV_PROBE") == "réglé" == os.environ.get("YJNB_ENV_PROBE")
    os.environ["YJNB_ENV_PROBE"] = "changed"
    assert getenv("YJNB_ENV_PROBE") == "changed"
    del os.environ["YJNB_ENV_PROBE"]
    assert getenv("YJNB_ENV_PROBE") is None
    assert getenv("PATH") == os.environ.get("PATH")


def test_getenv_falls_back_to_a_replaced_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "environ", {"YJNB_ENV_PROBE": "plain dict"})
    assert getenv("YJNB_ENV_PROBE") == "plain dict"


def test_decoded_values_are_remembered_within_a_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    from yjnb.ledger import _env

    for i in range(3 * _env._DECODED_MAX):
        monkeypatch.setenv("YJNB_ENV_PROBE", f"value {i} é")
        assert getenv("YJNB_ENV_PROBE") == f"value {i} é"
        assert len(_env._decoded) <= _env._DECODED_MAX


def test_watch_values_change_exactly_when_a_variable_does(monkeypatch: pytest.MonkeyPatch) -> None:
    from yjnb.ledger._env import Watch

    monkeypatch.delenv("YJNB_ENV_PROBE", raising=False)
    watch = Watch("YJNB_ENV_PROBE", "PATH")
    before = watch.values()
    assert watch.values() == before
    monkeypatch.setenv("YJNB_ENV_PROBE", "on")
    set_once = watch.values()
    assert set_once != before
    monkeypatch.setenv("YJNB_ENV_PROBE", "off")
    assert watch.values() != set_once
    monkeypatch.delenv("YJNB_ENV_PROBE")
    assert watch.values() == before


def test_watch_falls_back_to_a_replaced_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    from yjnb.ledger._env import Watch

    monkeypatch.setattr(os, "environ", {"YJNB_ENV_PROBE": "plain dict"})
    assert Watch("YJNB_ENV_PROBE", "YJNB_ENV_UNSET").values() == ("plain dict", None)

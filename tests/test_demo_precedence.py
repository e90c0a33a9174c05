"""What is chosen in code beats YJ_DEMO: every combination, through a real `yjnb.Client`.

The notebook's `%yj_config --profile` is covered by tests/notebook/commands/
test_config_precedence.py; the order itself is documented in `yjnb._config` and the README.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import yjnb
from yjnb._demo import STATE_FILE, read_state

EXT_URL = "http://127.0.0.1:9"  # never contacted: making a client sends nothing
ARG_URL = "http://127.0.0.1:10"

# (what the code chooses, expected demo?, expected base URL or None for the demo emulator,
#  expected source of the demo decision), with YJ_DEMO set and not set.
CHOICES: dict[str, dict[str, Any]] = {
    "profile": {"kwargs": {"profile": "ext"}, "url": EXT_URL, "source": "argument profile 'ext'"},
    "base_url": {"kwargs": {"base_url": ARG_URL}, "url": ARG_URL, "source": "argument base_url"},
    "api_key": {
        "kwargs": {"api_key": "sk-explicit-0000000000"},
        "url": "https://opencomputing.ai",
        "source": "argument api_key",
    },
}


@pytest.fixture
def ext_profile(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolated_env.mkdir(parents=True, exist_ok=True)
    (isolated_env / "config.toml").write_text(
        f'[profiles.ext]\nbase_url = "{EXT_URL}"\nkey_env = "EXT_KEY"\n', encoding="utf-8"
    )
    monkeypatch.setenv("EXT_KEY", "sk-ext-00000000000000")
    monkeypatch.setenv("YJ_API_KEY", "sk-env-00000000000000")


@pytest.mark.parametrize("yj_demo", ["1", None], ids=["YJ_DEMO=1", "no YJ_DEMO"])
@pytest.mark.parametrize("choice", [*CHOICES, "nothing"])
@pytest.mark.parametrize("cls", [yjnb.Client, yjnb.AsyncClient], ids=["Client", "AsyncClient"])
def test_what_code_chooses_beats_yj_demo(
    ext_profile: None,
    isolated_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    yj_demo: str | None,
    choice: str,
    cls: Any,
) -> None:
    if yj_demo is not None:
        monkeypatch.setenv("YJ_DEMO", yj_demo)
    chosen = CHOICES.get(choice)
    client = cls(**(chosen["kwargs"] if chosen else {}))
    s = client.settings
    if chosen is not None:  # chosen in code: never the emulator, YJ_DEMO or not
        assert (s.demo, s.base_url, s.sources["demo"]) == (False, chosen["url"], chosen["source"])
        assert not (isolated_env / STATE_FILE).exists()  # no emulator was started
    elif yj_demo:  # nothing chosen: YJ_DEMO decides, and the demo emulator answers
        found = read_state(isolated_env)
        assert found is not None and s.demo and s.base_url == found.url
        assert (s.sources["demo"], s.sources["base_url"]) == ("env YJ_DEMO", "demo emulator")
    else:
        assert (s.demo, s.base_url) == (False, "https://opencomputing.ai")
        assert s.sources["base_url"] == "built-in profile 'yuanjing'"


def test_demo_true_in_code_still_means_the_emulator(
    ext_profile: None, isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("YJ_DEMO", "0")
    client = yjnb.Client(profile="ext", demo=True)
    found = read_state(isolated_env)
    assert found is not None and client.settings.demo and client.base_url == found.url
    assert client.settings.sources["demo"] == "argument demo"


def test_an_explicit_demo_profile_is_demo_whatever_yj_demo_says(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("YJ_DEMO", "0")
    client = yjnb.Client(profile="demo")
    found = read_state(isolated_env)
    assert found is not None and client.settings.demo and client.base_url == found.url

"""In a notebook, a profile chosen with %yj_config --profile, %config or -p beats YJ_DEMO, and
%yj_config says where each value came from. The calls go where the settings say: the test's
emulator is the "real" platform here; the demo emulator is another process."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from chat_helpers import CHAT, run

from yjnb._demo import STATE_FILE, read_state

EXT_KEY = "sk-ext-for-the-real-one-0001"

# How the profile is chosen: (the line magic or %config run first, -p on the cell, the label
# %yj_config shows for the profile's source).
WAYS: dict[str, tuple[tuple[str, str] | None, str, str]] = {
    "%yj_config --profile": (("yj_config", "--profile ext"), "", "%yj_config --profile"),
    "%config YJMagics.profile": (("config", "YJMagics.profile = 'ext'"), "", "%config"),
    "-p on the cell": (None, "-p ext", "-p on the cell"),
    "nothing": (None, "", ""),
}


@pytest.fixture
def ext(shell: Any, emulator: Any, isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Profile `ext` on the test's emulator, with its own key variable."""
    isolated_env.mkdir(parents=True, exist_ok=True)
    (isolated_env / "config.toml").write_text(
        f'[profiles.ext]\nbase_url = "{emulator.url}"\nkey_env = "EXT_KEY"\n', encoding="utf-8"
    )
    emulator.add_key(EXT_KEY)
    monkeypatch.setenv("EXT_KEY", EXT_KEY)
    return shell


@pytest.mark.parametrize("yj_demo", [True, False], ids=["YJ_DEMO=1", "no YJ_DEMO"])
@pytest.mark.parametrize("way", list(WAYS))
def test_a_chosen_profile_beats_yj_demo_and_says_so(
    ext: Any,
    emulator: Any,
    isolated_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    yj_demo: bool,
    way: str,
) -> None:
    if yj_demo:
        monkeypatch.setenv("YJ_DEMO", "1")
    first, cell_option, label = WAYS[way]
    if first is not None:
        ext.run_line_magic(*first)
    before = emulator.count(CHAT)
    shown = run(ext, cell_option, "echo: where am I")
    assert shown.error is None and ext.user_ns["_yj"].text == "where am I"
    demo_expected = yj_demo and way == "nothing"
    assert emulator.count(CHAT) == before + (0 if demo_expected else 1)
    assert (read_state(isolated_env) is not None) == demo_expected
    if way == "-p on the cell":  # for its cell only: %yj_config shows the settings without it
        return
    table = run(ext, "", kind="yj_config").outputs[-1].data["text/plain"]
    rows = dict(re.split(r"\s{2,}", line, maxsplit=1) for line in table.splitlines())
    if demo_expected:
        assert rows["mode"].startswith("DEMO") and "from env YJ_DEMO" in rows["mode"]
        assert rows["state file"] == str(isolated_env / STATE_FILE)
        assert rows["base URL"].endswith("(from demo emulator)")
        return
    assert rows["mode"].startswith("real calls (from ")
    if way == "nothing":
        assert rows["profile"] == "yuanjing (from default)"
        assert rows["base URL"] == f"{emulator.url} (from env YJ_BASE_URL)"
    else:
        assert rows["profile"].startswith(f"ext (from {label}")
        assert f"from {label}" in rows["mode"]
        assert rows["base URL"] == f"{emulator.url} (from profile 'ext' in the config file)"
        assert rows["API key"].endswith("(from env EXT_KEY)")
    assert rows["home"] == f"{isolated_env} (from env YJ_HOME)"

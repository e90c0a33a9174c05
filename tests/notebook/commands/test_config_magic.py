"""%load_ext's key hint, %yj_config, and the key never shown anywhere."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from chat_helpers import run
from conftest import TestingShell as FreshShell
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

KEY = "sk-test-S3CRET-do-not-show-9f2a"
MASKED = "sk-t…9f2a"


@pytest.fixture
def keyed(shell: Any, emulator: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The shell, with a distinctive key the emulator accepts."""
    emulator.add_key(KEY)
    monkeypatch.setenv("YJ_API_KEY", KEY)
    return shell


def _load(monkeypatch: pytest.MonkeyPatch) -> str:
    ip = FreshShell()
    try:
        with capture_output() as cap:
            ip.run_line_magic("load_ext", "yjnb")
            ip.run_cell("x = 1")  # a cell run after loading repeats nothing
        return cap.stdout
    finally:
        ip.run_line_magic("unload_ext", "yjnb")
        InteractiveShell.clear_instance()


def test_load_ext_without_a_key_says_how_to_give_one(monkeypatch: pytest.MonkeyPatch) -> None:
    out = _load(monkeypatch)
    assert out.count("no API key") == 1
    for way in ("YJ_API_KEY", ".env", "%yj_config --key"):
        assert way in out


def test_load_ext_with_a_key_or_in_demo_says_nothing_of_keys(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("YJ_API_KEY", KEY)
    assert _load(monkeypatch) == ""
    monkeypatch.delenv("YJ_API_KEY")
    monkeypatch.setenv("YJ_DEMO", "1")
    assert "demo mode" in _load(monkeypatch)


def test_config_shows_the_settings_with_the_key_masked(keyed: Any, isolated_env: Path) -> None:
    shown = run(keyed, "", kind="yj_config")
    assert shown.error is None and len(shown.outputs) == 1
    data = shown.outputs[0].data
    for mime in ("text/plain", "text/html"):
        text = data[mime]
        assert f"{MASKED} (from env YJ_API_KEY)" in text
        assert str(isolated_env / "ledger.sqlite") in text
        assert "yuanjing" in text and "qwen3-max" in text
    assert KEY not in shown.everything()


def test_config_shows_the_shared_ledger_with_its_password_masked(
    keyed: Any, monkeypatch: pytest.MonkeyPatch, isolated_env: Path
) -> None:
    monkeypatch.setenv("YJ_LEDGER_URL", "postgresql://team:hunter2@db.internal/yjnb")
    shown = run(keyed, "", kind="yj_config")
    text = shown.outputs[0].data["text/plain"]
    assert "postgresql://team:***@db.internal/yjnb (shared; from env YJ_LEDGER_URL" in text
    assert str(isolated_env / "ledger.sqlite") in text  # where rows wait if it is down
    assert "hunter2" not in shown.everything()
    keyed.run_line_magic("config", "YJMagics.ledger_url = 'postgresql://me@other/db'")
    text = run(keyed, "", kind="yj_config").outputs[0].data["text/plain"]
    assert "postgresql://me@other/db (shared; from %config YJMagics.ledger_url" in text


def test_the_key_is_in_no_output(keyed: Any, magics: Any, emulator: Any) -> None:
    shown = [run(keyed, "", kind="yj_config"), run(keyed, "t2t", kind="yj_models")]
    shown.append(run(keyed, "", "echo: hello"))
    magics.stream_output = "display"
    shown.append(run(keyed, "-m qwen3-max,qwen-plus", "echo: hello"))
    emulator.set_faults(status=401, path="/llmage/v1/chat")
    shown.append(run(keyed, "", "echo: hello"))
    emulator.set_faults(drop_after=3, path="/llmage/v1/chat")
    shown.append(run(keyed, "max_tokens=30", "Tell me"))
    assert sum(s.error is not None for s in shown) == 2
    for s in shown:
        assert KEY not in s.everything()
        assert KEY not in repr(keyed.user_ns.get("_yj"))


def test_key_entered_with_getpass(
    shell: Any, magics: Any, emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("YJ_API_KEY")
    emulator.add_key(KEY)
    asked: list[str] = []

    def fake_getpass(prompt: str = "") -> str:
        asked.append(prompt)
        return f"  {KEY}\n"

    monkeypatch.setattr("getpass.getpass", fake_getpass)
    shown = run(shell, "--key", kind="yj_config")
    assert shown.error is None and len(asked) == 1
    assert KEY not in shown.everything()
    assert "%yj_config --key (YJ_API_KEY, this kernel only)" in shown.everything()
    assert os.environ["YJ_API_KEY"] == KEY  # in this process only: no file written
    shell.run_cell_magic("yj_chat", "", "echo: it works")
    assert shell.user_ns["_yj"].text == "it works"


def test_empty_key_changes_nothing(shell: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "   ")
    with pytest.raises(UsageError, match="no key entered"):
        shell.run_line_magic("yj_config", "--key")


def test_demo_switches_to_the_embedded_emulator(shell: Any, magics: Any, emulator: Any) -> None:
    magics.session.client()  # a client made before the switch is not reused
    shown = run(shell, "--demo", kind="yj_config")
    assert magics.session.demo is True and not magics.session._clients
    text = shown.outputs[0].data["text/plain"]
    assert text.startswith("mode") and "DEMO" in text and emulator.url not in text
    assert "from demo emulator" in text
    before = emulator.count("POST /llmage/v1/chat/completions")
    shell.run_cell_magic("yj_chat", "", "echo: demo answer")
    assert shell.user_ns["_yj"].text == "demo answer"
    assert emulator.count("POST /llmage/v1/chat/completions") == before  # not the test server


def test_profile_switch(shell: Any, magics: Any) -> None:
    shown = run(shell, "--profile legacy", kind="yj_config")
    assert magics.profile == "legacy"
    assert "protocol      yuanjing-legacy" in shown.outputs[0].data["text/plain"]
    with pytest.raises(UsageError, match="Unknown profile 'nope'") as err:
        shell.run_line_magic("yj_config", "--profile nope")
    assert "\n" not in str(err.value) and magics.profile == "legacy"

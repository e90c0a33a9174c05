"""A real IPython shell with yjnb loaded, pointed at the session's emulator.

Like jupysql's TestingShell, `run_cell` re-raises cell errors so a test fails loudly; expected
user errors are asserted with `pytest.raises(UsageError)`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

from yjnb._tasks import PollSchedule

FAST_POLL = PollSchedule(first=0.02, factor=1.5, cap=0.1, jitter=0.1)


class TestingShell(InteractiveShell):
    def run_cell(self, *args: Any, **kwargs: Any) -> Any:
        result = super().run_cell(*args, **kwargs)
        result.raise_error()
        return result


@pytest.fixture
def shell(emulator: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestingShell]:
    monkeypatch.setenv("YJ_API_KEY", emulator.api_key)
    monkeypatch.setenv("YJ_BASE_URL", emulator.url)
    # The current shell (as in a kernel): display() and capture_output() go through it.
    ip = TestingShell.instance()
    ip.run_line_magic("load_ext", "yjnb")
    magics = ip.magics_manager.registry["YJMagics"]
    magics.session.client_options = {"poll": FAST_POLL}
    magics.refresh_interval = 0.05
    yield ip
    ip.run_line_magic("unload_ext", "yjnb")
    TestingShell.clear_instance()  # clears InteractiveShell._instance too


@pytest.fixture
def ip(shell: TestingShell) -> TestingShell:
    return shell


@pytest.fixture
def magics(shell: TestingShell) -> Any:
    return shell.magics_manager.registry["YJMagics"]


@pytest.fixture(autouse=True)
def fresh_ledger() -> Iterator[None]:
    """A fresh default usage ledger per test: switches, session tally and file (per YJ_HOME)."""
    from yjnb.ledger import _reset_default

    _reset_default()
    yield
    _reset_default()


# -- the OpenAI-style protocols -----------------------------------------------------------------


@dataclass
class Sent:
    """One request a client sent (as `_send` got it): method, path under the base URL, body."""

    method: str
    path: str
    json: Any = None
    data: Any = None
    files: Any = None
    params: Any = None


@pytest.fixture
def profiles(shell: TestingShell, emulator: Any, isolated_env: Path) -> Path:
    """Profiles on the session emulator: `oa` (openai), `gw` (gateway, platform google) and
    `gwo` (gateway, platform openai); the key is the shell's YJ_API_KEY."""
    isolated_env.mkdir(parents=True, exist_ok=True)
    path = isolated_env / "config.toml"
    path.write_text(
        f'[profiles.oa]\nbase_url = "{emulator.url}"\nprotocol = "openai"\n\n'
        f'[profiles.gw]\nbase_url = "{emulator.url}"\nprotocol = "gateway"\n'
        'platform = "google"\n\n'
        f'[profiles.gwo]\nbase_url = "{emulator.url}"\nprotocol = "gateway"\n'
        'platform = "openai"\n',
        encoding="utf-8",
    )
    return path


@pytest.fixture
def wire(monkeypatch: pytest.MonkeyPatch) -> list[Sent]:
    """Every request the clients send during the test, in order (they are still sent)."""
    from yjnb._base import BaseClient

    original = BaseClient._send
    sent: list[Sent] = []

    async def spy(self: Any, method: str, path: str, *, stream: bool = False, **kw: Any) -> Any:
        keep = {k: kw.get(k) for k in ("json", "data", "files", "params")}
        sent.append(Sent(method, path, **keep))
        return await original(self, method, path, stream=stream, **kw)

    monkeypatch.setattr(BaseClient, "_send", spy)
    return sent

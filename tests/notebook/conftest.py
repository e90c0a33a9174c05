"""A real IPython shell with yjnb loaded, pointed at the session's emulator.

Like jupysql's TestingShell, `run_cell` re-raises cell errors so a test fails loudly; expected
user errors are asserted with `pytest.raises(UsageError)`.
"""

from __future__ import annotations

from collections.abc import Iterator
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
    magics.client_options = {"poll": FAST_POLL}
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

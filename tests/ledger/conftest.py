"""A fresh process-default ledger per test (under the test's own YJ_HOME)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from yjnb.ledger import Ledger, _reset_default, default_ledger


@pytest.fixture(autouse=True)
def fresh_ledger() -> Iterator[None]:
    _reset_default()
    yield
    _reset_default()


@pytest.fixture
def ledger() -> Ledger:
    return default_ledger()

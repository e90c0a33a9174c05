"""The hostile server, started once per session on a free loopback port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .server import HostileServer

KEY = "sk-hostile-0123456789abcdef"


@pytest.fixture(scope="session")
def hostile() -> Iterator[HostileServer]:
    server = HostileServer().start()
    yield server
    server.close()


@pytest.fixture(autouse=True)
def on_each_transport(each_transport: str) -> str:
    """Every hostile test runs on both transports (see the top conftest)."""
    return each_transport

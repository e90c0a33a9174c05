"""Two hostile media servers on loopback (two origins on one host), reset before each test,
and clients pointed at the first one."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import yjnb
from yjnb._tasks import PollSchedule

from .server import HostileMediaServer

FAST_POLL = PollSchedule(first=0.01, factor=1.5, cap=0.05, jitter=0.1)
# Characters that URL-encoding changes, so an echo of the encoded key is not the key itself.
KEY = "sk-hostile/Media+Key=0123456789abcdef"


@pytest.fixture(scope="session")
def hostile_pair() -> Iterator[tuple[HostileMediaServer, HostileMediaServer]]:
    first, second = HostileMediaServer().start(), HostileMediaServer().start()
    yield first, second
    first.close()
    second.close()


@pytest.fixture
def hostile(hostile_pair: tuple[HostileMediaServer, HostileMediaServer]) -> HostileMediaServer:
    """The platform: the base URL of the clients below."""
    for server in hostile_pair:
        server.reset()
    return hostile_pair[0]


@pytest.fixture
def elsewhere(
    hostile: HostileMediaServer, hostile_pair: tuple[HostileMediaServer, HostileMediaServer]
) -> HostileMediaServer:
    """Another origin (same host, another port): a CDN, or an attacker."""
    return hostile_pair[1]


@pytest.fixture
def client(hostile: HostileMediaServer) -> Iterator[Any]:
    with yjnb.Client(api_key=KEY, base_url=hostile.url, poll=FAST_POLL, max_retries=0) as c:
        yield c


@pytest.fixture(autouse=True)
def on_each_transport(each_transport: str) -> str:
    """Every hostile test runs on both transports (see the top conftest)."""
    return each_transport

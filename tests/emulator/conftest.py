"""Fixtures: one emulator for the whole emulator test run, reset before every test."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from yjnb.emulator import DEMO_KEY, Emulator, serve

from .helpers import ManualClock


@pytest.fixture(scope="session")
def server() -> Iterator[Emulator]:
    with serve(speed=50.0) as emu:
        yield emu


@pytest.fixture
def emu(server: Emulator) -> Emulator:
    server.reset()
    return server


@pytest.fixture
def client(emu: Emulator) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {DEMO_KEY}"}
    with httpx.Client(base_url=emu.url, headers=headers, timeout=10.0) as c:
        yield c


@pytest.fixture(scope="session")
def _clocked_server() -> Iterator[tuple[Emulator, ManualClock]]:
    clock = ManualClock()
    with serve(speed=1.0, clock=clock) as emu:
        yield emu, clock


@pytest.fixture
def clocked(_clocked_server: tuple[Emulator, ManualClock]) -> tuple[Emulator, ManualClock]:
    """An emulator whose quota windows run on a manual clock (speed 1), reset before the test."""
    emu, clock = _clocked_server
    emu.reset()
    return emu, clock

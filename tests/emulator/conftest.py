"""Fixtures: one emulator for the whole emulator test run, reset before every test."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from yjnb.emulator import DEMO_KEY, Emulator, serve


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

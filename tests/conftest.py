"""Shared fixtures: an isolated environment and one emulator on a loopback port per session."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from yjnb._tasks import PollSchedule

# Fast polling against a fast emulator: the schedule's shape is tested on its own.
FAST_POLL = PollSchedule(first=0.02, factor=1.5, cap=0.1, jitter=0.1)
EMULATOR_SPEED = 200.0


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """No test sees the developer's key, home, profile or .env file; a demo emulator a test
    started (a detached process, found by its state file) is stopped after it."""
    from yjnb._demo import stop_demo

    for name in (
        "YJ_API_KEY",
        "YJ_BASE_URL",
        "YJ_HOME",
        "YJ_DEMO",
        "YJ_PROFILE",
        "YJ_LEDGER_URL",
        "YJ_USER",
        "JUPYTERHUB_USER",
    ):
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "yjhome"
    monkeypatch.setenv("YJ_HOME", str(home))
    # A demo emulator left behind by a crashed run still ends on its own, soon.
    monkeypatch.setenv("YJ_DEMO_IDLE_EXIT", "600")
    # Tests write prices.toml between calls: look at it every time (its once-a-second look is
    # tested in tests/test_estimates.py).
    monkeypatch.setattr("yjnb._prices.RECHECK_S", 0.0)
    monkeypatch.setattr("yjnb._prices._override", None)  # no test's %config prices leaks on
    monkeypatch.chdir(tmp_path)
    yield home
    stop_demo(home)


@pytest.fixture(scope="session", autouse=True)
def no_demo_emulator_left() -> Iterator[None]:
    """Whatever demo emulator this test process started (detached) ends with the run."""
    yield
    from yjnb import _demo

    for child in _demo._children:
        if child.poll() is None:
            child.terminate()
            child.wait(timeout=10)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Any]:
    """A real PostgreSQL server for the session (tests/pg_server.py), stopped at the end."""
    from pg_server import PgServer  # tests/ is on sys.path (its conftest)

    server = PgServer()
    server.start()
    yield server
    server.close()


@pytest.fixture
def pg_url(pg_server: Any) -> str:
    """The URL of a fresh, empty database on the session's PostgreSQL server."""
    return str(pg_server.new_database())


TRANSPORTS = ("aiohttp", "httpx")


@pytest.fixture(params=TRANSPORTS)
def each_transport(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The test once on each transport: yjnb's requests straight onto aiohttp's pool (the
    default), and httpx's own client and pool (`transport="httpx"`)."""
    monkeypatch.setattr("yjnb._http.DEFAULT_TRANSPORT", request.param)
    return str(request.param)


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[Any]:
    from yjnb.emulator import serve

    with serve(speed=EMULATOR_SPEED) as emu:
        yield emu


@pytest.fixture
def emulator(emulator_server: Any) -> Iterator[Any]:
    """The session's emulator, reset before each test (counters, faults, balances, tasks)."""
    emulator_server.reset()
    emulator_server.set_speed(EMULATOR_SPEED)
    yield emulator_server
    emulator_server.set_faults()


@pytest.fixture
def client_kwargs(emulator: Any) -> dict[str, Any]:
    return {"api_key": emulator.api_key, "base_url": emulator.url, "poll": FAST_POLL}


@pytest.fixture
def client(client_kwargs: dict[str, Any]) -> Any:
    """A sync client on the session's emulator (test files may define their own)."""
    import yjnb

    return yjnb.Client(**client_kwargs)


@pytest.fixture
def records() -> Iterator[list[Any]]:
    """Every UsageRecord emitted during the test."""
    from yjnb._hooks import add_usage_sink, remove_usage_sink

    seen: list[Any] = []
    add_usage_sink(seen.append)
    yield seen
    remove_usage_sink(seen.append)


@pytest.fixture
def interrupt_main_soon() -> Iterator[Callable[[float], None]]:
    """Schedule a real SIGINT to the main thread, as a kernel interrupt sends one."""
    timers: list[threading.Timer] = []

    def schedule(delay: float) -> None:
        main = threading.main_thread().ident
        assert main is not None
        timer = threading.Timer(delay, signal.pthread_kill, (main, signal.SIGINT))
        timers.append(timer)
        timer.start()

    yield schedule
    for timer in timers:
        timer.cancel()


@pytest.fixture
def run_then_kill() -> Callable[..., None]:
    """Run `python -c script *argv` and SIGKILL it once `enough()` is true (within 60 s):
    nothing of it runs any more, as when a kernel is killed."""

    def run(script: str, argv: list[str], enough: Callable[[], bool]) -> None:
        child = subprocess.Popen([sys.executable, "-c", script, *argv])
        try:
            deadline = time.monotonic() + 60
            while not enough():
                assert child.poll() is None and time.monotonic() < deadline
                time.sleep(0.01)
        finally:
            child.kill()
            child.wait()

    return run

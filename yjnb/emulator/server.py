"""Running the emulator: :class:`Emulator` (a uvicorn server on a background thread) and
:func:`serve`, the context manager that tests, demo mode and benchmarks use."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Mapping
from types import TracebackType

import uvicorn
from starlette.applications import Starlette

from .app import create_app, quiet_uvicorn
from .quotas import Limits, limits_from
from .state import DEMO_KEY, State, initial_keys

HOST = "127.0.0.1"


def bind(port: int) -> socket.socket:
    """A loopback listening socket; port 0 picks a free one."""
    # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted sockets whose
    # proto says TCP, and without it every keep-alive response waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, port))
    return sock


def make_server(app: Starlette, log_level: str = "warning") -> uvicorn.Server:
    quiet_uvicorn()
    config = uvicorn.Config(
        app,
        log_config=None,  # leave the host process's logging setup alone
        log_level=log_level,
        access_log=False,
        lifespan="off",
        backlog=2048,  # benchmarks open hundreds of connections at once
        timeout_graceful_shutdown=1,  # stalled streams must not hold shutdown hostage
        timeout_keep_alive=30,
    )
    return uvicorn.Server(config)


class Emulator:
    """A running emulator; also the handle to steer it (faults, balances, quotas, speed).

    ``api_key``/``balance``: the key it accepts (default :data:`DEMO_KEY`) and its starting
    credits; ``keys`` maps more keys to credits. ``rpm``/``tpm``: per-key requests and tokens
    per minute of platform time (default: unlimited). ``clock``: the real clock behind the
    quota windows (default ``time.monotonic``; tests pass a manual one).
    """

    def __init__(
        self,
        port: int = 0,
        speed: float = 50.0,
        chunk_delay: float = 0.0,
        keys: Mapping[str, float] | None = None,
        *,
        api_key: str | None = None,
        balance: float | None = None,
        rpm: int | None = None,
        tpm: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        limits = limits_from({"rpm": rpm, "tpm": tpm})
        self.state = State(
            initial_keys(keys, api_key, balance),
            speed=speed,
            chunk_delay=chunk_delay,
            limits=limits,
            clock=clock,
        )
        self.app = create_app(self.state)
        self.api_key = api_key or DEMO_KEY
        self._port = port
        self._sock: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    # lifecycle -------------------------------------------------------------------------
    def start(self, timeout: float = 10.0) -> Emulator:
        if self._thread is not None:
            return self
        self.state.closing = False
        self._sock = bind(self._port)
        self._port = self._sock.getsockname()[1]
        self._server = make_server(self.app)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, name="yjnb-emulator"
        )
        self._thread.daemon = True  # never keep a kernel or test run alive
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.close()
                raise RuntimeError("the yjnb emulator failed to start")
            time.sleep(0.005)
        return self

    def close(self) -> None:
        self.state.closing = True
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._sock is not None:
            self._sock.close()
        self._server = self._thread = self._sock = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # introspection and control ---------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{HOST}:{self._port}"

    @property
    def port(self) -> int:
        return self._port

    @property
    def counts(self) -> dict[str, int]:
        return dict(self.state.counts)

    def count(self, name: str) -> int:
        """Requests received on ``"METHOD /path"`` (faulted ones included)."""
        return self.state.counts.get(name, 0)

    def set_faults(self, **spec: object) -> None:
        """Server-wide faults (see :mod:`yjnb.emulator.faults`); no arguments clears them."""
        self.state.faults.set(spec)

    def set_limits(self, rpm: int | None = None, tpm: int | None = None) -> None:
        """Per-key quotas from now on (``None``: unlimited); no arguments lifts them.

        Each key's current window keeps what it has counted; ``reset()`` restores the
        limits the emulator started with.
        """
        self.state.quotas.set(limits_from({"rpm": rpm, "tpm": tpm}))

    @property
    def limits(self) -> Limits:
        return self.state.quotas.limits

    def set_balance(self, key: str, credits: float) -> None:
        self.state.set_balance(key, credits)

    def add_key(self, key: str, credits: float = 1_000_000.0) -> None:
        self.state.set_balance(key, credits)

    def balance(self, key: str) -> float:
        return self.state.balance(key)

    def set_speed(self, speed: float) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.state.speed = speed

    def advance(self, seconds: float) -> None:
        """Move the task clock forward by ``seconds`` of platform time (before ``speed``)."""
        self.state.advance(seconds)

    def set_chunk_delay(self, seconds: float) -> None:
        self.state.chunk_delay = seconds

    def reset(self) -> None:
        self.state.reset()

    def __repr__(self) -> str:
        return f"<Emulator {self.url} speed={self.state.speed}>"


def serve(
    port: int = 0,
    speed: float = 50.0,
    chunk_delay: float = 0.0,
    keys: Mapping[str, float] | None = None,
    *,
    api_key: str | None = None,
    balance: float | None = None,
    rpm: int | None = None,
    tpm: int | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Emulator:
    """Start an emulator on a loopback port in a background thread (options: :class:`Emulator`).

    Use it as a context manager (``with serve() as emu:``) or call ``close()`` yourself.
    """
    emulator = Emulator(
        port=port,
        speed=speed,
        chunk_delay=chunk_delay,
        keys=keys,
        api_key=api_key,
        balance=balance,
        rpm=rpm,
        tpm=tpm,
        clock=clock,
    )
    return emulator.start()

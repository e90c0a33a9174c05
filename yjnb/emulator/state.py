"""Mutable emulator state: keys and balances, quotas, request counters, tasks, jobs, media.

``tasks`` are the Yuanjing (``/llmage``) tasks; ``jobs`` the OpenAI-style videos and async
gateway images (``/v1`` and ``/{platform}/v1``); ``files`` the PNGs behind image URLs.

The server thread mutates it while the controlling thread (tests, ``Emulator``) reads and
adjusts it, so multi-step changes take a lock; nothing awaits while holding it.
"""

from __future__ import annotations

import math
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .faults import FaultBoard
from .quotas import NO_LIMITS, Limits, PlatformClock, QuotaBoard

DEMO_KEY = "yj-demo-0000000000000000"
DEFAULT_CREDITS = 1_000_000.0


@dataclass
class Task:
    """One submitted image or video task."""

    taskid: str
    key: str
    model: str
    catelog: str
    prompt: str
    credits: float
    usage: dict[str, object]
    created: float
    kind: str  # "video" or "image"
    fault: str | None = None  # "fail" or "stuck"
    offset0: float = 0.0  # State.clock_offset when submitted; advance() moves only later time
    media: dict[str, str] = field(default_factory=dict)  # "image"/"video" -> /tmp/... path


@dataclass
class Job:
    """One OpenAI-style video or async image job (``/v1`` and the gateway)."""

    id: str
    key: str
    kind: str  # "video" or "image"
    model: str
    prompt: str
    created: float  # time.monotonic() at submission
    created_at: int  # unix seconds, as reported
    offset0: float = 0.0
    platform: str | None = None  # None on /v1; a job is only visible where it was made
    fault: str | None = None  # "fail" or "stuck"
    params: dict[str, Any] = field(default_factory=dict)
    references: int = 0  # input images / references received
    remixed_from: str | None = None


def initial_keys(
    keys: Mapping[str, float] | None = None,
    api_key: str | None = None,
    balance: float | None = None,
) -> dict[str, float]:
    """The keys an emulator accepts and their starting credits.

    Without ``keys``: only ``api_key`` (default :data:`DEMO_KEY`) with ``balance`` (default
    :data:`DEFAULT_CREDITS`). With ``keys``: those, plus ``api_key`` if given.
    """
    if api_key is not None and (not api_key or any(c.isspace() for c in api_key)):
        raise ValueError("api_key must be a non-empty string without spaces")
    if balance is not None and not math.isfinite(balance):
        raise ValueError("balance must be a finite number")
    if keys is not None and api_key is None:
        if balance is not None:
            # With several keys there is no "the" key for a lone balance to belong to.
            raise ValueError("balance= sets api_key's credits; with keys= give credits there")
        return dict(keys)
    out = dict(keys or {})
    key = api_key or DEMO_KEY
    out[key] = float(balance) if balance is not None else out.get(key, DEFAULT_CREDITS)
    return out


class State:
    """Everything the app needs besides the request.

    ``clock`` is the real clock (seconds) behind the quota windows; tests pass a manual one.
    """

    def __init__(
        self,
        keys: Mapping[str, float] | None = None,
        speed: float = 1.0,
        chunk_delay: float = 0.0,
        limits: Limits = NO_LIMITS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._initial_keys = dict(keys) if keys is not None else {DEMO_KEY: DEFAULT_CREDITS}
        self._initial_speed = speed
        self._initial_chunk_delay = chunk_delay
        self.lock = threading.Lock()
        self.faults = FaultBoard()
        self.clock = PlatformClock(clock, speed)
        self.quotas = QuotaBoard(limits, self.clock)
        self.balances: dict[str, float] = {}
        self.counts: dict[str, int] = {}
        self.tasks: dict[str, Task] = {}
        self.jobs: dict[str, Job] = {}
        self.files: dict[str, bytes] = {}  # /files/<name> -> PNG bytes
        self.media: dict[str, tuple[str, str]] = {}  # path -> (kind, prompt)
        self.seen_sys: set[tuple[str, str]] = set()
        self.chunk_delay = chunk_delay
        self.clock_offset = 0.0  # platform seconds added by ``advance``
        self.closing = False  # set on shutdown so stalled and slow streams let go at once
        # Bumped by reset(): a request that began before a reset must not charge after it.
        self.epoch = 0
        self.reset()

    def reset(self) -> None:
        """Counters, faults, quotas, tasks, balances, speed back to how they started."""
        with self.lock:
            self.epoch += 1
            self.balances = dict(self._initial_keys)
            self.counts = {}
            self.tasks = {}
            self.jobs = {}
            self.files = {}
            self.media = {}
            self.seen_sys = set()
            self.speed = self._initial_speed
            self.chunk_delay = self._initial_chunk_delay
            self.clock_offset = 0.0
        self.faults.clear()
        self.quotas.reset()

    @property
    def speed(self) -> float:
        return self.clock.speed

    @speed.setter
    def speed(self, speed: float) -> None:
        # Through the clock, so the quota windows keep their elapsed time across the change.
        self.clock.set_speed(speed)

    def count(self, name: str) -> None:
        with self.lock:
            self.counts[name] = self.counts.get(name, 0) + 1

    def known(self, key: str) -> bool:
        return key in self.balances

    def balance(self, key: str) -> float:
        return self.balances.get(key, 0.0)

    def set_balance(self, key: str, credits: float) -> None:
        with self.lock:
            self.balances[key] = float(credits)

    def try_charge(self, key: str, credits: float) -> bool:
        """Charge up front; False (and no charge) when the balance cannot cover it."""
        with self.lock:
            have = self.balances.get(key, 0.0)
            if have <= 0 or have < credits:
                return False
            self.balances[key] = have - credits
            return True

    def charge(self, key: str, credits: float, epoch: int) -> None:
        """Charge after the fact (chat); the balance may go negative, like a metered bill.

        `epoch` is `self.epoch` when the request began; after a reset it no longer counts.
        """
        with self.lock:
            if epoch == self.epoch:
                self.balances[key] = self.balances.get(key, 0.0) - credits

    def new_taskid(self) -> str:
        """An 18-digit id like the seed's ``936759404378734592``."""
        with self.lock:
            while True:
                taskid = str(900_000_000_000_000_000 + secrets.randbelow(99_999_999_999_999_999))
                if taskid not in self.tasks:
                    return taskid

    def add_task(self, task: Task) -> None:
        with self.lock:
            self.tasks[task.taskid] = task
            for kind, path in task.media.items():
                self.media[path] = (kind, task.prompt)

    def add_job(self, job: Job, files: dict[str, bytes] | None = None) -> None:
        with self.lock:
            self.jobs[job.id] = job
            self.files.update(files or {})

    def add_files(self, files: dict[str, bytes]) -> None:
        with self.lock:
            self.files.update(files)

    def elapsed(self, task: Task | Job) -> float:
        """Seconds of platform time since submission (wall time scaled by speed)."""
        return (time.monotonic() - task.created) * self.speed + self.clock_offset - task.offset0

    def advance(self, seconds: float) -> None:
        """Move every task's clock forward, so tests can step through states exactly."""
        with self.lock:
            self.clock_offset += seconds
        self.clock.advance(seconds)

    def stats(self) -> dict[str, object]:
        with self.lock:
            return {
                "counts": dict(self.counts),
                "balances": dict(self.balances),
                "tasks": len(self.tasks),
                "jobs": len(self.jobs),
                "speed": self.speed,
                "limits": self.quotas.limits.describe(),
                "chunk_delay": self.chunk_delay,
                "faults": self.faults.describe(),
            }

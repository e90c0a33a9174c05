"""Per-key quotas: requests per minute (``rpm``) and tokens per minute (``tpm``).

Every API key has its own fixed window: it opens with the key's first request and lasts one
minute of platform time (real seconds × ``speed``, moved forward by ``advance``), so at
``speed=60`` a minute passes in one real second. Within a window a key may make ``rpm``
requests and spend ``tpm`` tokens: a chat's prompt + completion tokens, the usage it
reports, taken when the answer is produced (before its first byte is sent).

Beyond either limit the answer is 429 with ``Retry-After``: the real seconds, rounded up,
until the window closes, which is exactly when the next window admits the request. A
fixed window is used rather than a sliding one for that reason: one wait, the same for both
limits, equal to ``x-ratelimit-reset-*``. Refused requests still count as requests (OpenAI
documents that unsuccessful requests contribute to the per-minute limit); they spend no
tokens. A chat that needs more than ``tpm`` on its own can never pass: 429 without
``Retry-After``.

With no limits set (the default) no window is kept and no header is added.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

WINDOW_SECONDS = 60.0  # platform seconds
RATE_LIMIT_CODE = "rate_limit_exceeded"  # the OpenAI-style ``code`` of a quota 429


class PlatformClock:
    """Platform seconds: the real clock × ``speed`` + ``advance``-d seconds.

    Integrated piecewise, so changing the speed never moves platform time backwards.
    ``real`` is injectable: tests pass a manual clock and get exact waits.
    """

    def __init__(self, real: Callable[[], float], speed: float) -> None:
        self._real = real
        self._lock = threading.Lock()
        self._since_real = real()
        self._since_platform = 0.0
        self._speed = speed

    def now(self) -> float:
        with self._lock:
            return self._since_platform + (self._real() - self._since_real) * self._speed

    @property
    def speed(self) -> float:
        return self._speed

    def set_speed(self, speed: float) -> None:
        with self._lock:
            now = self._real()
            self._since_platform += (now - self._since_real) * self._speed
            self._since_real = now
            self._speed = speed

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._since_platform += seconds


@dataclass(frozen=True)
class Limits:
    """Per-key limits per minute; ``None``: unlimited."""

    rpm: int | None = None
    tpm: int | None = None

    @property
    def active(self) -> bool:
        return self.rpm is not None or self.tpm is not None

    def describe(self) -> dict[str, int | None]:
        return {"rpm": self.rpm, "tpm": self.tpm}


NO_LIMITS = Limits()


def _limit(name: str, raw: object) -> int | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
        raise ValueError(f"Invalid limit: {name}={raw!r} (a positive integer or null)")
    return raw


def limits_from(spec: Mapping[str, object]) -> Limits:
    """Validate ``{"rpm": N, "tpm": N}`` (either may be missing or null)."""
    unknown = set(spec) - {"rpm", "tpm"}
    if unknown:
        raise ValueError(f"Unknown limit: {', '.join(sorted(unknown))} (rpm, tpm)")
    return Limits(rpm=_limit("rpm", spec.get("rpm")), tpm=_limit("tpm", spec.get("tpm")))


def duration(seconds: float) -> str:
    """OpenAI's ``x-ratelimit-reset-*`` format: ``800ms``, ``40s``, ``1.5s``, ``1m0s``."""
    seconds = max(0.0, round(seconds, 3))
    if 0 < seconds < 1:
        return f"{round(seconds * 1000)}ms"
    minutes, rest = divmod(seconds, 60.0)
    text = f"{rest:.3f}".rstrip("0").rstrip(".") + "s"
    return f"{int(minutes)}m{text}" if minutes else text


@dataclass
class Window:
    """One key's current minute."""

    start: float  # platform seconds
    requests: int = 0
    tokens: int = 0


@dataclass(frozen=True)
class Refusal:
    """Why a request is refused: the message and the headers of its 429."""

    message: str
    headers: dict[str, str]


class QuotaBoard:
    """The limits and every key's window; shared by the server and the controlling thread."""

    def __init__(self, limits: Limits, clock: PlatformClock) -> None:
        self._initial = limits
        self._limits = limits
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str, Window] = {}

    @property
    def limits(self) -> Limits:
        return self._limits

    def set(self, limits: Limits) -> None:
        """New limits; the current windows and what they counted stay."""
        with self._lock:
            self._limits = limits

    def reset(self) -> None:
        """The limits the board started with, and no window."""
        with self._lock:
            self._limits = self._initial
            self._windows = {}

    def _window(self, key: str, now: float) -> Window:
        window = self._windows.get(key)
        if window is None or now >= window.start + WINDOW_SECONDS:
            window = self._windows[key] = Window(start=now)
        return window

    def _wait(self, window: Window, now: float) -> float:
        """Real seconds until ``window`` closes."""
        return max(0.0, window.start + WINDOW_SECONDS - now) / self._clock.speed

    def _refusal(self, what: str, used: int, requested: int, window: Window, now: float) -> Refusal:
        wait = self._wait(window, now)
        limit = self._limits.rpm if what == "requests" else self._limits.tpm
        short = "RPM" if what == "requests" else "TPM"
        message = (
            f"Rate limit reached for {what} per min ({short}): Limit {limit}, Used {used}, "
            f"Requested {requested}. Please try again in {duration(wait)}."
        )
        # Rounded up: a client that sleeps Retry-After seconds finds the window closed.
        retry_after = max(1, math.ceil(round(wait, 6)))
        return Refusal(message, {"Retry-After": str(retry_after)})

    def admit(self, key: str) -> Refusal | None:
        """Count one request of ``key``; a refusal when the window has no request left."""
        if not self._limits.active:
            return None
        with self._lock:
            now = self._clock.now()
            window = self._window(key, now)
            used = window.requests
            window.requests += 1  # refused requests count too, as on OpenAI
            rpm = self._limits.rpm
            if rpm is not None and used >= rpm:
                return self._refusal("requests", used, 1, window, now)
            return None

    def spend(self, key: str, tokens: int) -> Refusal | None:
        """Take ``tokens`` from ``key``'s window; a refusal, taking nothing, if they don't fit."""
        tpm = self._limits.tpm
        if tpm is None:
            return None
        with self._lock:
            now = self._clock.now()
            window = self._window(key, now)
            if tokens > tpm:
                message = (
                    f"Request too large for tokens per min (TPM): Limit {tpm}, "
                    f"Requested {tokens}. The input or output tokens must be reduced."
                )
                return Refusal(message, {})  # no wait would help: no Retry-After
            if window.tokens + tokens > tpm:
                return self._refusal("tokens", window.tokens, tokens, window, now)
            window.tokens += tokens
            return None

    def headers(self, key: str) -> dict[str, str]:
        """``x-ratelimit-*`` for ``key`` now; empty when no limit is set."""
        limits = self._limits
        if not limits.active:
            return {}
        with self._lock:
            now = self._clock.now()
            window = self._windows.get(key)
            if window is not None and now >= window.start + WINDOW_SECONDS:
                window = None
            reset = duration(self._wait(window, now)) if window else "0s"
            used = {"requests": window.requests, "tokens": window.tokens} if window else {}
        out: dict[str, str] = {}
        for what, limit in (("requests", limits.rpm), ("tokens", limits.tpm)):
            if limit is not None:
                out[f"x-ratelimit-limit-{what}"] = str(limit)
                out[f"x-ratelimit-remaining-{what}"] = str(max(0, limit - used.get(what, 0)))
                out[f"x-ratelimit-reset-{what}"] = reset
        return out

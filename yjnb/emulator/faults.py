"""Fault injection: the ``X-Emulator-Fault`` header and server-wide fault rules.

Header syntax: ``X-Emulator-Fault: key=value;key=value`` (spaces ignored). Keys:

==================  =====================================================================
``latency=S``       sleep S seconds before answering
``first_byte=S``    stream: sleep S seconds before the first chunk
``status=503``      answer with that status and ``{"error": ...}`` (any 4xx/5xx)
``rate_limit=1``    answer 429 ``{"error": "Too many requests"}`` with ``Retry-After``
``retry_after=S``   the ``Retry-After`` value for ``rate_limit`` (default 1)
``drop_after=N``    stream: abort the connection after N chunks (incomplete chunked body)
``no_finish=1``     stream: end cleanly after the content, without finish chunks or [DONE]
``bad_chunk_after=N`` stream: after N chunks send a ``data:`` line that is not JSON
``stall_after=N``   stream: after N chunks go silent (until the client leaves, at most 1 h)
``task=fail``       the task ends FAILED with a reason; ``task=stuck``: RUNNING forever
                    (``/v1`` and gateway videos and async images: ``failed``/``FAILURE``
                    with ``fail_reason`` halfway through, or ``processing`` at 99%)
``chunk_delay=S``   stream: sleep S seconds between chunks
==================  =====================================================================

Server-wide rules (``Emulator.set_faults`` or ``POST /_emulator/faults``) take the same keys
plus ``path=/prefix`` (only requests whose path starts with it) and ``times=N`` (only the
next N matching requests). Header values override server-wide ones key by key.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace

_FLOATS = ("latency", "first_byte", "retry_after", "chunk_delay")
_INTS = ("status", "drop_after", "bad_chunk_after", "stall_after")
_FLAGS = ("rate_limit", "no_finish")
_TASK_MODES = ("fail", "stuck")


@dataclass(frozen=True)
class Faults:
    """One request's effective faults; ``None`` means "not set"."""

    latency: float | None = None
    first_byte: float | None = None
    status: int | None = None
    rate_limit: bool = False
    retry_after: float | None = None
    drop_after: int | None = None
    no_finish: bool = False
    bad_chunk_after: int | None = None
    stall_after: int | None = None
    task: str | None = None
    chunk_delay: float | None = None

    def merged(self, other: Faults | None) -> Faults:
        """``self`` with every field that ``other`` sets taken from ``other``."""
        if other is None:
            return self
        changes = {}
        for f in fields(other):
            value = getattr(other, f.name)
            if value is not None and value is not False:
                changes[f.name] = value
        return replace(self, **changes)

    @property
    def streams_plainly(self) -> bool:
        """True when no stream fault is set (the fast path may batch chunks)."""
        return (
            self.drop_after is None
            and not self.no_finish
            and self.bad_chunk_after is None
            and self.stall_after is None
        )


NO_FAULTS = Faults()


def _number(key: str, raw: object, kind: type) -> float | int:
    try:
        value = kind(raw)
    except (TypeError, ValueError):
        raise ValueError(f"Invalid fault value: {key}={raw}") from None
    if value < 0:
        raise ValueError(f"Invalid fault value: {key}={raw}")
    return value


def build(spec: Mapping[str, object]) -> Faults:
    """Validate a mapping of fault keys (header or JSON) into :class:`Faults`."""
    values: dict[str, object] = {}
    for key, raw in spec.items():
        if key in _FLOATS:
            values[key] = float(_number(key, raw, float))
        elif key in _INTS:
            values[key] = int(_number(key, raw, int))
        elif key in _FLAGS:
            values[key] = str(raw).lower() not in ("0", "false", "no", "")
        elif key == "task":
            if raw not in _TASK_MODES:
                raise ValueError(f"Invalid fault value: task={raw} (fail|stuck)")
            values[key] = raw
        else:
            raise ValueError(f"Unknown fault key: {key}")
    status = values.get("status")
    if isinstance(status, int) and not 400 <= status <= 599:
        raise ValueError(f"Invalid fault value: status={status} (400-599)")
    return Faults(**values)  # type: ignore[arg-type]


def parse_header(text: str) -> Faults:
    """Parse ``key=value;key=value``."""
    spec: dict[str, str] = {}
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        key, sep, value = part.partition("=")
        if not sep:
            raise ValueError(f"Invalid fault: {part!r} (expected key=value)")
        key = key.strip()
        if key in ("path", "times"):
            raise ValueError(f"Invalid fault: {key}= applies to server-wide faults only")
        spec[key] = value.strip()
    return build(spec)


@dataclass
class Rule:
    """A server-wide fault rule."""

    faults: Faults
    path: str | None = None
    times: int | None = None


class FaultBoard:
    """The server-wide rule, shared by the server thread and the controlling thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rule: Rule | None = None

    def set(self, spec: Mapping[str, object]) -> None:
        """Replace the rule; an empty spec clears it."""
        rest = dict(spec)
        path = rest.pop("path", None)
        times = rest.pop("times", None)
        rule = None
        if rest:
            rule = Rule(
                faults=build(rest),
                path=str(path) if path is not None else None,
                times=int(_number("times", times, int)) if times is not None else None,
            )
        with self._lock:
            self._rule = rule

    def clear(self) -> None:
        with self._lock:
            self._rule = None

    def take(self, path: str) -> Faults | None:
        """The faults for one request on ``path``, consuming one of ``times``."""
        rule = self._rule
        if rule is None:  # the common case takes no lock
            return None
        with self._lock:
            rule = self._rule
            if rule is None or (rule.path is not None and not path.startswith(rule.path)):
                return None
            if rule.times is not None:
                rule.times -= 1
                if rule.times <= 0:
                    self._rule = None
            return rule.faults

    def describe(self) -> dict[str, object] | None:
        rule = self._rule
        if rule is None:
            return None
        out: dict[str, object] = {
            f.name: getattr(rule.faults, f.name)
            for f in fields(rule.faults)
            if getattr(rule.faults, f.name) not in (None, False)
        }
        if rule.path is not None:
            out["path"] = rule.path
        if rule.times is not None:
            out["times"] = rule.times
        return out

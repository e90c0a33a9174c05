"""Keeping the API key where it belongs: which URLs may carry it, and what may leave the core.

- The key goes only to the exact origin (scheme, host, port; default ports normalised) of the
  base URL: `same_origin`. An `http://` twin of an `https://` base never gets it.
- Whatever a server sends back is redacted with the client's key (`errors._redact`) before it
  reaches an exception, a `Task` (and so a card or a ledger row) or a log: `redact_task`,
  `scrub_errors`.
- An exception leaving the core chains nothing (`__context__`, `__cause__`): an httpx error
  there holds the request, and the request holds the Authorization header.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, TypeVar

import httpx

from ._errors import YJError, redact
from ._types import Task

__all__ = [
    "REDIRECT_STATUSES",
    "detached",
    "origin",
    "redact_task",
    "same_origin",
    "scrub_errors",
    "scrubbed",
]

E = TypeVar("E", bound=BaseException)
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin(url: str | httpx.URL) -> tuple[str, str, int | None]:
    """(scheme, host, port) with the scheme's default port filled in.

    Parsed by httpx, the parser that decides where the connection goes, so that no URL can
    look like one host here and connect to another.
    """
    parsed = httpx.URL(url)
    scheme = parsed.scheme.lower()
    return scheme, parsed.host.lower(), parsed.port or _DEFAULT_PORTS.get(scheme)


def same_origin(url: str | httpx.URL, base: str | httpx.URL) -> bool:
    """Whether `url` is on the exact origin of `base` (and has a host at all)."""
    try:
        here = origin(url)
        return bool(here[1]) and here == origin(base)
    except httpx.InvalidURL:
        return False


def _redact_deep(value: Any, secret: str) -> Any:
    if isinstance(value, str):
        return redact(value, secret)
    if isinstance(value, dict):
        return {k: _redact_deep(v, secret) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_deep(v, secret) for v in value]
    return value


def redact_task(task: Task, secret: str) -> Task:
    """Redact what the server said in `task` (its failure reason, usage and metadata), in
    place: the card, the usage record and `TaskFailed` all read from it."""
    if task.error:
        task.error = redact(task.error, secret)
    if task.usage is not None:
        task.usage = _redact_deep(task.usage, secret)
    if task.detail is not None:
        task.detail = _redact_deep(task.detail, secret)
    return task


def detached(exc: E) -> E:
    """`exc` chaining nothing. `raise ... from None` is not enough: it hides `__context__`
    from tracebacks but keeps it, and with it the httpx request."""
    exc.__cause__ = None
    exc.__context__ = None
    exc.__suppress_context__ = True
    return exc


def scrubbed(exc: E, secret: str | None) -> E:
    """`exc` with the key redacted from its message and string attributes, chaining nothing."""
    exc.args = tuple(redact(a, secret) if isinstance(a, str) else a for a in exc.args)
    for name, value in list(vars(exc).items()):
        if isinstance(value, str):
            setattr(exc, name, redact(value, secret))
    return detached(exc)


def scrub_errors(secret: str | None) -> _Scrubber:
    """`with scrub_errors(key):` scrubs (`scrubbed`) every `YJError` leaving the block."""
    return _Scrubber(secret)


class _Scrubber:
    """The exception itself goes on, changed: raising a new one from here would chain the old
    one again."""

    def __init__(self, secret: str | None) -> None:
        self.secret = secret

    def __enter__(self) -> _Scrubber:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if isinstance(exc, YJError):
            scrubbed(exc, self.secret)  # and it propagates: None never swallows it

"""The exception tree. Every error yjnb raises on purpose is a `YJError`.

    YJError
    ├── ValidationError           bad input, caught before any request is sent
    ├── ConfigError               no key, unknown profile, unreadable config file
    ├── APIError                  the platform answered with an error status
    │   ├── BadRequestError           400 (also 404, 422)
    │   │   └── TaskLost                  a task's status is 404: the service does not know it
    │   ├── AuthenticationError       401 / 403
    │   ├── InsufficientBalanceError  429 "Insufficient balance"
    │   ├── RateLimitError            any other 429
    │   ├── ServerError               5xx
    │   └── MalformedResponse         a 2xx that is not what was promised: not JSON, the wrong
    │                                 shape, or over `Limits.max_body_bytes`; keeps an excerpt
    ├── APIConnectionError        no answer: connect failure, timeout, dropped connection, or
    │                             none complete within `Limits.deadline_s`
    ├── StreamInterrupted         a stream broke before its finish signal (dropped, garbled,
    │                             stalled, over a limit, left); keeps the partial text
    ├── TaskFailed                a media task ended FAILED; keeps the task
    └── TaskTimeout               the wait deadline passed; the task still runs and can be resumed

Messages are one line, say what was wrong and, where there is one, what to do. They never
contain the API key: `redact` is applied to every message built from server or request text.
Each limit of `yjnb.Limits` names itself in the message that reports it.
"""

from __future__ import annotations

import itertools
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, quote_plus

from ._status import status_word

if TYPE_CHECKING:
    from ._types import Task

__all__ = [
    "APIConnectionError",
    "APIError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigError",
    "InsufficientBalanceError",
    "MalformedResponse",
    "RateLimitError",
    "ServerError",
    "StreamInterrupted",
    "TaskFailed",
    "TaskLost",
    "TaskTimeout",
    "ValidationError",
    "YJError",
]

_BEARER = re.compile(r"(?i)(bearer\s+)[^\s\"',;]+")
# A run of this many characters of a key is taken for the key itself: a server may echo it cut
# short, wrapped over two lines or cut by an excerpt. Shorter runs are common text.
_KEY_PIECE = 8


def redact(text: str, *secrets: str | None) -> str:
    """Remove bearer tokens and the given secrets from `text`: each secret as it is,
    URL-encoded, and any piece of it at least `_KEY_PIECE` characters long."""
    text = _BEARER.sub(r"\1***", text)
    for secret in secrets:
        if secret:
            text = _hide_pieces(text, secret)
    return text


def _hide_pieces(text: str, secret: str) -> str:
    """Every character inside a `_KEY_PIECE`-long window that is also in the secret (or its
    URL-encoded form) is hidden; each hidden run becomes one ``***``."""
    forms = sorted({secret, quote(secret, safe=""), quote_plus(secret)}, key=len, reverse=True)
    for form in forms:
        text = text.replace(form, "***")
    pieces = {form[i : i + _KEY_PIECE] for form in forms for i in range(len(form) - _KEY_PIECE + 1)}
    hidden = [False] * len(text)
    for start in range(len(text) - _KEY_PIECE + 1):
        if text[start : start + _KEY_PIECE] in pieces:
            hidden[start : start + _KEY_PIECE] = [True] * _KEY_PIECE
    if not any(hidden):
        return text
    runs = itertools.groupby(zip(text, hidden, strict=True), key=lambda pair: pair[1])
    return "".join("***" if hide else "".join(c for c, _ in run) for hide, run in runs)


class YJError(Exception):
    """Base class of every error yjnb raises on purpose."""


class ValidationError(YJError, ValueError):
    """Input that the platform would reject (or charge for in vain), found before sending.

    `problems` lists every problem found, one line each; `str()` joins them.
    """

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(self.problems))


class ConfigError(YJError):
    """Settings that cannot work: no API key, an unknown profile, an unreadable config file."""


class APIError(YJError):
    """The platform answered with an error status. `status_code` and `message` are kept."""

    hint: str = ""

    def __init__(
        self, message: str, *, status_code: int, method: str = "", url: str = "", body: Any = None
    ) -> None:
        self.message = message
        self.status_code = status_code
        self.method = method
        self.url = url
        self.body = body
        text = f"{status_code} {message}"
        if method and url:
            text += f" ({method} {url})"
        if self.hint:
            text += f". {self.hint}"
        super().__init__(text)


class BadRequestError(APIError):
    """400, 404 or 422: the request itself is wrong; retrying will not help."""


class TaskLost(BadRequestError):
    """The service does not know the task (404 on its status): made elsewhere, on a demo
    emulator that is gone, or expired. The ledger marks it `lost` with the reason and
    `%yj_tasks --resume` never polls it again; `task` holds it."""

    def __init__(self, task: Task, error: APIError) -> None:
        self.task = task
        self.reason = str(error)
        super().__init__(
            f"task {task.taskid} is not known to this service ({error.message}); "
            "marked lost, not polled again",
            status_code=error.status_code,
            method=error.method,
            url=error.url,
            body=error.body,
        )


class AuthenticationError(APIError):
    """401 or 403: the API key is missing, wrong or not allowed."""

    hint = "Check the key: set YJ_API_KEY, put it in a .env file, or use %yj_config --key"


class InsufficientBalanceError(APIError):
    """429 "Insufficient balance": the account has no credits left. Never retried."""

    hint = "Top up the account on https://ai.opencomputing.cn (user menu > finance), then retry"


class RateLimitError(APIError):
    """429 for too many requests. `retry_after` is the server's advice in seconds, if any."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kw)


class ServerError(APIError):
    """5xx: the platform failed. Reads and chats are retried; a media submission is not (it may
    have created a task that costs money)."""


class MalformedResponse(APIError):
    """A 2xx answer that is not what the protocol promises: not JSON, JSON of the wrong shape,
    or larger than `Limits.max_body_bytes` (decompressed). Retrying will not help.

    `excerpt` holds the start of what came back, with the key redacted. A protocol raises it
    with the reason only; the client adds the status, the request and the excerpt.
    """

    def __init__(
        self, message: str, *, status_code: int = 200, excerpt: str = "", **kw: Any
    ) -> None:
        self.excerpt = excerpt
        super().__init__(message, status_code=status_code, body=excerpt, **kw)


class APIConnectionError(YJError):
    """No usable answer: the connection failed, timed out or was dropped."""


class StreamInterrupted(YJError):
    """A chat stream ended without its finish signal, sent garbage, stalled, or was cancelled.

    Nothing is lost: `partial_text` and `partial_reasoning` hold what had arrived, and
    `result` is a `ChatResult` with `finish_reason="interrupted"` when one could be built.
    `malformed` is true when the server sent a chunk that could not be read (a stream broken
    that way is started again, as a dropped one is: see `RetryPolicy.stream_retries`).
    """

    def __init__(
        self,
        message: str,
        *,
        partial_text: str = "",
        partial_reasoning: str = "",
        result: Any = None,
        malformed: bool = False,
    ) -> None:
        self.partial_text = partial_text
        self.partial_reasoning = partial_reasoning
        self.result = result
        self.malformed = malformed
        super().__init__(f"{message} (kept {len(partial_text)} characters of partial text)")


class TaskFailed(YJError):
    """A media task ended FAILED. `task` holds its id, status and the platform's reason."""

    def __init__(self, task: Task) -> None:
        self.task = task
        reason = task.error or "no reason given"
        super().__init__(f"task {task.taskid} failed: {reason}")


class TaskTimeout(YJError):
    """The wait deadline passed. The task still runs: `client.wait(err.task)` resumes it."""

    def __init__(self, task: Task, timeout: float) -> None:
        self.task = task
        self.timeout = timeout
        super().__init__(
            f"task {task.taskid} still {status_word(task.status)} after {timeout:g} s; "
            f"it keeps running: resume with client.wait({task.taskid!r})"
        )

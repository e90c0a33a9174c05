"""When a failed request is sent again, and how long to wait first.

DESIGN.md, "Retries finish the job, and never buy twice". Each request says what sending it
again could cost (`RetryKind`, set where a protocol builds it); `RETRIED_ON` is the one table
of what each kind is retried on:

| what went wrong                                     | READ (GET) | CHAT (POST) | MEDIA (POST) |
|-----------------------------------------------------|:----------:|:-----------:|:------------:|
| could not connect (the request never left)          |    yes     |     yes     |     yes      |
| dropped before any answer (no response bytes)       |    yes     |     yes     |      no      |
| no answer within the read timeout                   |    yes     |     no      |      no      |
| the answer broke off midway                         |    yes     |     no      |      no      |
| 408 Request Timeout                                 |    yes     |     yes     |      no      |
| 409 Conflict                                        |     no     |     yes     |      no      |
| 429 rate limit                                      |    yes     |     yes     |     yes      |
| 5xx (but 501, 505)                                  |    yes     |     yes     |      no      |
| 429 Insufficient balance, 400, 401, 403, 404, 422   |     no     |     no      |      no      |

A chat stream that breaks after its answer began is a different matter: the request was
answered, so `send` does not retry it. The stream starts it again from scratch, at most
`RetryPolicy.stream_retries` times (default 1), when it broke in one of the `StreamBreak`
ways (the connection dropped, it ended without a finish signal, a chunk could not be read),
and never once the caller has left it. Stalls, deadlines, size limits and errors the server
reports mid-stream are not restarted: the same request would most likely end the same way.

A media submission that failed ambiguously may have created a task: sending it again could
pay for a second video, so it is only retried when the server surely did nothing with it.

The wait before a retry is the longest hint the answer gives: `Retry-After` (seconds or an
HTTP date) and `retry-after-ms`; a 429 with neither falls back on the exhausted quota's
`x-ratelimit-reset-requests`/`-tokens` ("1s", "6m0s", "250ms"), which also refine a
whole-second `Retry-After` that merely rounds them up. Up to 10 % (at most 0.25 s) is added
so that clients told the same wait do not all come back at once. Without a hint: exponential
backoff with jitter. A hint longer than `max_wait` is not
waited out: the error is raised at once, carrying the wait (`RateLimitError.retry_after`).
"""

from __future__ import annotations

import asyncio
import contextvars
import email.utils
import enum
import random
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from ._types import RetryKind

__all__ = [
    "RETRIED_ON",
    "Failure",
    "RetryKind",
    "RetryPolicy",
    "StreamBreak",
    "on_rate_limited",
    "parse_duration",
    "parse_retry_after",
    "status_failure",
    "wait_hint",
]


class Failure(enum.Enum):
    """What went wrong with one attempt, in the terms the retry table is written in."""

    CONNECT = "could not connect"  # ConnectError, ConnectTimeout, PoolTimeout
    DROPPED = "dropped before any answer"  # nothing of the answer had arrived
    TIMEOUT = "no answer within the read timeout"
    BROKEN = "the answer broke off midway"
    REQUEST_TIMEOUT = "408"
    CONFLICT = "409"
    RATE_LIMITED = "429 rate limit"
    SERVER = "5xx"


class StreamBreak(enum.Enum):
    """How a chat stream broke after its answer began, in the words the live view shows;
    each is a reason to start the stream again (`RetryPolicy.restart_delay`)."""

    DROPPED = "connection dropped"
    TRUNCATED = "cut without a finish signal"
    MALFORMED = "malformed chunk"


RETRIED_ON: Mapping[RetryKind, frozenset[Failure]] = {
    RetryKind.READ: frozenset(
        {
            Failure.CONNECT,
            Failure.DROPPED,
            Failure.TIMEOUT,
            Failure.BROKEN,
            Failure.REQUEST_TIMEOUT,
            Failure.RATE_LIMITED,
            Failure.SERVER,
        }
    ),
    RetryKind.CHAT: frozenset(
        {
            Failure.CONNECT,
            Failure.DROPPED,
            Failure.REQUEST_TIMEOUT,
            Failure.CONFLICT,
            Failure.RATE_LIMITED,
            Failure.SERVER,
        }
    ),
    RetryKind.MEDIA: frozenset({Failure.CONNECT, Failure.RATE_LIMITED}),
}

# Told of every 429 that is about to be waited out (with the wait), in the context that sent
# it: the experiments' adaptive limiter halves its concurrency on one (`yjnb._limiter`).
on_rate_limited: contextvars.ContextVar[Callable[[float], None] | None] = contextvars.ContextVar(
    "yjnb_on_rate_limited", default=None
)

# 501 Not Implemented and 505 HTTP Version Not Supported answer the same way every time.
_FINAL_5XX = frozenset({501, 505})


def status_failure(status: int, *, out_of_credit: bool = False) -> Failure | None:
    """The retry table's name for an error status; None for one that is never retried
    (400, 401, 403, 404, 422, a 429 that means the balance is spent, ...)."""
    if status == 408:
        return Failure.REQUEST_TIMEOUT
    if status == 409:
        return Failure.CONFLICT
    if status == 429:
        return None if out_of_credit else Failure.RATE_LIMITED
    if 500 <= status <= 599 and status not in _FINAL_5XX:
        return Failure.SERVER
    return None


# -- the server's hints ---------------------------------------------------------------------

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def parse_duration(value: str | None) -> float | None:
    """Seconds from an OpenAI-style duration ("1s", "6m0s", "250ms", "1h2m3.5s"), or from
    plain seconds ("2.5"); None when it is neither."""
    if not value:
        return None
    text = value.strip().lower()
    try:
        return max(float(text), 0.0)
    except ValueError:
        pass
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    return sum(float(number) * _UNIT_SECONDS[unit] for number, unit in parts)


def parse_retry_after(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):  # not a date either: no hint
        return None
    return max(parsed.timestamp() - now(), 0.0)


def wait_hint(
    headers: Mapping[str, str], status: int, now: Callable[[], float] = time.time
) -> float | None:
    """The wait an answer asks for, in seconds; None if it names none.

    `Retry-After` and `retry-after-ms` say when to come back: the longer one wins. Only a
    429 without either falls back on `x-ratelimit-reset-{requests,tokens}` (of the quota
    whose `x-ratelimit-remaining-*` is 0, or the longer when neither is): they tell when
    the quota is whole again, often much later than the next request is let through.

    A 429's `Retry-After` in whole seconds is the reset of its spent quota rounded up: when
    that reset lies within the second before it, the reset is the same moment said more
    exactly, and is the wait (a quota's next window used from its start, not up to a second
    later: the run under a quota would idle that long at every window).
    """
    asked = [parse_retry_after(headers.get("retry-after"), now)]
    millis = parse_duration(headers.get("retry-after-ms"))
    asked.append(None if millis is None else millis / 1000)
    given = [hint for hint in asked if hint is not None]
    if status != 429:
        return max(given) if given else None
    reset = _quota_reset(headers)
    if not given:
        return reset
    hint = max(given)
    if millis is None and reset is not None and hint.is_integer() and hint - 1 < reset <= hint:
        return reset
    return hint


def _quota_reset(headers: Mapping[str, str]) -> float | None:
    """When the spent quota is whole again (the longer reset when which one is not said)."""
    quotas = ("requests", "tokens")
    spent = [q for q in quotas if headers.get(f"x-ratelimit-remaining-{q}", "").strip() == "0"]
    resets = [parse_duration(headers.get(f"x-ratelimit-reset-{q}")) for q in spent or quotas]
    known = [hint for hint in resets if hint is not None]
    return max(known) if known else None


# -- the policy -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """How often to retry, and how long to wait. `sleep` and `clock` are injectable so tests
    can see the waits without spending them."""

    max_retries: int = 3
    stream_retries: int = 1  # how often a broken chat stream is started again
    backoff_base: float = 0.5  # the first backoff is 3/4 to 1 times this
    backoff_cap: float = 8.0
    max_wait: float = 60.0  # a hint longer than this is not waited out
    hint_jitter: float = 0.1  # up to 10 % more than a hint: clients told alike spread out
    # ... but at most this many seconds: 10 % of a quota's 9 s wait left its next window idle
    # for up to 0.9 s, while the limiter already bounds how many of a kernel's calls return.
    hint_jitter_cap: float = 0.25
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, repr=False)
    clock: Callable[[], float] = field(default=time.time, repr=False)

    def backoff(self, attempt: int) -> float:
        """Exponential with jitter, for a failure that gave no hint. The jitter stays within
        the top quarter, so each wait is longer than the one before (up to the cap)."""
        ceiling = min(self.backoff_cap, self.backoff_base * 2**attempt)
        return random.uniform(ceiling * 0.75, ceiling)

    def delay(self, attempt: int, hint: float | None = None) -> float | None:
        """Seconds to wait before retry number `attempt + 1`; None: don't retry (the
        attempts are used up, or the server asks for a wait longer than `max_wait`)."""
        if attempt >= self.max_retries:
            return None
        if hint is None:
            return self.backoff(attempt)
        if hint > self.max_wait:
            return None
        return hint + random.uniform(0.0, min(hint * self.hint_jitter, self.hint_jitter_cap))

    def restart_delay(self, restarts: int) -> float | None:
        """Seconds to wait before starting a broken stream again for the `restarts + 1`th
        time; None when `stream_retries` are used up. The stream was answered, so there is no
        hint to honour: exponential backoff with jitter, as for any retry without one."""
        if restarts >= self.stream_retries:
            return None
        return self.backoff(restarts)

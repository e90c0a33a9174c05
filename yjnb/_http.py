"""The httpx client factory, the retry policy and the mapping of error statuses to exceptions.

Retry rules (DESIGN.md): a GET is retried on connection errors, timeouts, 408, rate-limit 429
and 5xx, with jittered exponential backoff that honours `Retry-After`. A POST is retried only
when the connection never opened (a resubmitted video task costs the user money). 400, 401,
403, 404, 422 and "Insufficient balance" are never retried.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from ._bounded import read_capped
from ._errors import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    BadRequestError,
    InsufficientBalanceError,
    RateLimitError,
    ServerError,
    redact,
)

USER_AGENT = "yjnb/0.1"
RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})
# The platform's connect/pool timeouts are short; reads are long because video submission
# with files and first tokens of big models can take a while. A stream that stalls longer
# than `read` raises StreamInterrupted.
DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=120.0, write=60.0, pool=30.0)
# How much of an error answer is read for its message.
ERROR_BODY_BYTES = 64 * 1024


@dataclass(frozen=True)
class RetryPolicy:
    """How many times, and how long to wait, before giving up on a retryable failure."""

    max_retries: int = 3
    backoff_base: float = 0.5
    backoff_cap: float = 8.0
    retry_after_cap: float = 60.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.retry_after_cap)
        ceiling = min(self.backoff_cap, self.backoff_base * 2**attempt)
        return random.uniform(ceiling / 2, ceiling)  # jitter keeps many clients apart


# httpcore checks every pooled connection on each request event, so one big pool costs
# O(connections) per request under fan-out. A few smaller pools, used in turn, measured
# 1.15x the ideal for 1,000 chats with 100 in flight against 1.35x for one pool of 200
# (benchmarks/client.py). Keep-alive per pool stays at or below its share of the traffic:
# an idle set larger than that made httpcore's checks blow up (15 s instead of 2.5 s).
POOL_SHARDS = 4
SHARD_LIMITS = httpx.Limits(max_connections=50, max_keepalive_connections=25)


class HTTPPool:
    """`POOL_SHARDS` httpx clients sharing one SSL context, handed out in turn."""

    def __init__(
        self, *, timeout: httpx.Timeout | float | None = None, headers: Mapping[str, str] | None
    ) -> None:
        ssl_context = httpx.create_ssl_context()  # built once: loading CA certs is slow
        self._clients = [
            httpx.AsyncClient(
                timeout=DEFAULT_TIMEOUT if timeout is None else timeout,
                headers={"User-Agent": USER_AGENT, **(headers or {})},
                limits=SHARD_LIMITS,
                follow_redirects=False,
                verify=ssl_context,
            )
            for _ in range(POOL_SHARDS)
        ]
        self._turn = 0

    def next(self) -> httpx.AsyncClient:
        self._turn = (self._turn + 1) % len(self._clients)
        return self._clients[self._turn]

    async def aclose(self) -> None:
        for client in self._clients:
            await client.aclose()


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        return None if parsed is None else max(parsed.timestamp() - time.time(), 0.0)


def error_details(response: httpx.Response, content: bytes | None = None) -> tuple[str, str | None]:
    """(message, code): the platform's `{"error": "..."}` text, or OpenAI-style
    `{"error": {"message": ..., "code": ...}}`, or a short excerpt of whatever came back.

    `content` is the body when it was read apart from the response (capped, streamed)."""
    raw = response.content if content is None else content
    try:
        body = json.loads(raw)
    except ValueError:
        text = raw.decode("utf-8", "replace").strip()
        return text[:200] or response.reason_phrase or "error", None
    if isinstance(body, dict):
        err = body.get("error")
        code = None
        if isinstance(err, dict):
            code = str(err["code"]) if err.get("code") else None
            err = err.get("message") or err.get("code")
        if err:
            return str(err), code
        for key in ("message", "detail", "msg"):
            if body.get(key):
                return str(body[key]), code
    return str(body)[:200], None


def is_balance_error(status: int, message: str, code: str | None = None) -> bool:
    """429 means two things: out of credit (never retried) or too fast (retried)."""
    if status != 429:
        return False
    # Yuanjing says "Insufficient balance"; OpenAI-style services send code insufficient_quota.
    return code == "insufficient_quota" or "balance" in message.lower()


def api_error(
    response: httpx.Response, *, secret: str | None = None, content: bytes | None = None
) -> APIError:
    """Map an error response to the exception tree, with the key redacted from every string."""
    status = response.status_code
    raw_message, code = error_details(response, content)
    message = redact(raw_message, secret)
    request = response.request
    common: dict[str, Any] = {
        "status_code": status,
        "method": request.method,
        "url": redact(str(request.url.copy_with(query=None)), secret),
        "body": message,
    }
    if status in (400, 404, 422):
        return BadRequestError(message, **common)
    if status in (401, 403):
        return AuthenticationError(message, **common)
    if status == 429:
        if is_balance_error(status, message, code):
            return InsufficientBalanceError(message, **common)
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return RateLimitError(message, retry_after=retry_after, **common)
    if status >= 500:
        return ServerError(message, **common)
    return APIError(message, **common)


def connection_error(exc: BaseException, url: str, secret: str | None = None) -> APIConnectionError:
    kind = type(exc).__name__
    detail = redact(str(exc) or kind, secret)
    return APIConnectionError(f"could not reach {redact(url, secret)}: {kind}: {detail}")


async def send(
    http: httpx.AsyncClient,
    request: httpx.Request,
    *,
    idempotent: bool,
    policy: RetryPolicy,
    secret: str | None = None,
    stream: bool = False,
) -> httpx.Response:
    """Send `request` under the retry rules and return a 2xx response or raise.

    With `stream=True` the body is not read; the caller must close the response.
    """
    url = str(request.url.copy_with(query=None))
    attempt = 0
    while True:
        try:
            response = await http.send(request, stream=stream)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            # The request never reached the server: safe to retry for any method.
            if attempt >= policy.max_retries:
                raise connection_error(exc, url, secret) from None
        except httpx.TransportError as exc:
            # It may have reached the server: only idempotent requests are retried.
            if not idempotent or attempt >= policy.max_retries:
                raise connection_error(exc, url, secret) from None
        else:
            if response.status_code < 400:
                return response
            # An error needs only its message: a body that never ends must not hang it.
            content = (await read_capped(response, ERROR_BODY_BYTES))[0] if stream else None
            error = api_error(response, secret=secret, content=content)
            await response.aclose()
            retryable = (
                idempotent
                and response.status_code in RETRYABLE_STATUS
                and not isinstance(error, InsufficientBalanceError)
            )
            if not retryable or attempt >= policy.max_retries:
                raise error
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            await asyncio.sleep(policy.delay(attempt, retry_after))
            attempt += 1
            continue
        await asyncio.sleep(policy.delay(attempt))
        attempt += 1

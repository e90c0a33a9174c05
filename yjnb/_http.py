"""The httpx client factory, sending under the retry rules, and the mapping of error
statuses to exceptions.

What is retried, and how long `send` waits first, is `yjnb._retry`'s table: every request
says what sending it again could cost (`RetryKind`: a read, a chat, or a paid media
submission), and a failure is retried only where that table says so.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from ._bounded import read_capped
from ._errors import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    BadRequestError,
    ConfigError,
    InsufficientBalanceError,
    RateLimitError,
    ServerError,
    YJError,
    redact,
)
from ._retry import (
    RETRIED_ON,
    Failure,
    RetryKind,
    RetryPolicy,
    on_rate_limited,
    status_failure,
    wait_hint,
)
from ._transport import AiohttpClient, HTTPClient

__all__ = [
    "DEFAULT_TIMEOUT",
    "HTTPClient",
    "HTTPPool",
    "RetryKind",
    "RetryPolicy",
    "api_error",
    "check_transport",
    "error_details",
    "is_balance_error",
    "send",
]

USER_AGENT = "yjnb/0.1"
# The platform's connect/pool timeouts are short; reads are long because video submission
# with files and first tokens of big models can take a while. A stream that stalls longer
# than `read` raises StreamInterrupted.
DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=120.0, write=60.0, pool=30.0)
# How much of an error answer is read for its message.
ERROR_BODY_BYTES = 64 * 1024


# One pool of this many connections. Under fan-out httpcore re-checked every pooled
# connection on each request (O(connections) per request: CPU-bound at 100 in flight, which
# four sharded pools only softened); aiohttp's pool does not (see `_transport`).
POOL_LIMITS = httpx.Limits(max_connections=200, max_keepalive_connections=200)
# What `transport=None` means: "aiohttp" (yjnb's requests straight onto aiohttp's pool) or
# "httpx" (httpx's own client and pool). Tests run the same behaviour on both.
DEFAULT_TRANSPORT = "aiohttp"


def check_transport(transport: object) -> httpx.AsyncBaseTransport | str:
    """`transport` if yjnb can send through it; a `ConfigError` otherwise."""
    if isinstance(transport, httpx.AsyncBaseTransport):
        return transport
    if transport == "aiohttp" or transport == "httpx":
        return str(transport)
    raise ConfigError(
        f"transport={transport!r} is not known; use 'aiohttp', 'httpx' or an "
        "httpx.AsyncBaseTransport"
    )


class HTTPPool:
    """The client every request goes out through (`HTTPClient`): aiohttp's pool by default;
    `transport=` gives httpx's client over that httpx transport, `"httpx"` over httpx's own."""

    def __init__(
        self, *, timeout: httpx.Timeout | float | None = None,
        headers: Mapping[str, str] | None, transport: httpx.AsyncBaseTransport | str | None = None,
    ) -> None:  # fmt: skip
        timeout = httpx.Timeout(DEFAULT_TIMEOUT if timeout is None else timeout)
        headers = {"User-Agent": USER_AGENT, **(headers or {})}
        transport = check_transport(DEFAULT_TRANSPORT if transport is None else transport)
        ssl_context = httpx.create_ssl_context()  # built once: loading CA certs is slow
        self._client: HTTPClient
        if transport == "aiohttp":
            direct = AiohttpClient(
                timeout=timeout, headers=headers, ssl_context=ssl_context, limits=POOL_LIMITS
            )
            weakref.finalize(self, direct.forget)  # a pool nobody closed closes quietly
            self._client = direct
        else:
            self._client = httpx.AsyncClient(
                timeout=timeout, headers=headers, follow_redirects=False, limits=POOL_LIMITS,
                verify=ssl_context, transport=transport if not isinstance(transport, str) else None,
            )  # fmt: skip

    def next(self) -> HTTPClient:
        return self._client

    async def aclose(self) -> None:
        await self._client.aclose()


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
        return RateLimitError(message, retry_after=wait_hint(response.headers, status), **common)
    if status >= 500:
        return ServerError(message, **common)
    return APIError(message, **common)


def connection_error(
    exc: BaseException, request: httpx.Request, secret: str | None = None
) -> APIConnectionError:
    # The URL is built here, for an error only: copying it costs a parse on the hot path.
    url = redact(str(request.url.copy_with(query=None)), secret)
    kind = type(exc).__name__
    detail = redact(str(exc) or kind, secret)
    return APIConnectionError(f"could not reach {url}: {kind}: {detail}")


# -- sending under the retry rules ----------------------------------------------------------


@dataclass
class Failed:
    """One attempt that did not work: what went wrong (None: never retried), the error to
    raise if it is not retried, and the wait the server asked for."""

    failure: Failure | None
    error: YJError
    hint: float | None = None


def transport_failure(exc: httpx.TransportError) -> Failure | None:
    """The retry table's name for a transport error before any answer arrived."""
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
        return Failure.CONNECT  # nothing was sent
    if isinstance(exc, httpx.ReadTimeout):
        return Failure.TIMEOUT
    if isinstance(exc, (httpx.NetworkError, httpx.WriteTimeout, httpx.RemoteProtocolError)):
        return Failure.DROPPED
    return None  # a proxy error, a URL httpx cannot send, ...: the same again next time


class ReadAhead(httpx.AsyncByteStream):
    """A response body whose first chunk was read before `send` returned, to tell a
    connection dropped before any answer (retried) from one dropped in the middle of it.

    An iterator object, not an async generator: a reader that stops early (a stream left at
    its end) leaves no generator for the garbage collector to close on a finished loop."""

    def __init__(self, first: bytes, rest: AsyncIterator[bytes], source: Any) -> None:
        self._first = first
        self._rest = rest
        self._source = source

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    async def __anext__(self) -> bytes:
        first, self._first = self._first, b""
        return first or await self._rest.__anext__()

    async def aclose(self) -> None:
        # The source's generator, suspended; or the source itself, an iterator of its own
        # (aiohttp's body): closed once, below.
        close = getattr(self._rest, "aclose", None) if self._rest is not self._source else None
        if close is not None:
            await close()
        await self._source.aclose()


async def read_ahead(response: httpx.Response) -> None:
    """Wait for the first bytes of the body (or its end) and keep them for the reader."""
    source = response.stream
    assert isinstance(source, httpx.AsyncByteStream)
    rest = source.__aiter__()
    try:
        first = await rest.__anext__()
    except StopAsyncIteration:
        first = b""
    response.stream = ReadAhead(first, rest, source)


async def error_body(response: httpx.Response) -> bytes:
    """At most `ERROR_BODY_BYTES` of an error answer: enough for its message, and a body that
    never ends cannot hang the call. Closes the response."""
    try:
        return (await read_capped(response, ERROR_BODY_BYTES))[0]
    except httpx.TransportError:
        return b""  # the message falls back on the status's reason phrase


async def attempt(
    http: HTTPClient, request: httpx.Request, kind: RetryKind, *, secret: str | None,
    stream: bool, clock: Callable[[], float],
) -> httpx.Response | Failed:  # fmt: skip
    """Send once: the answer (its body read unless `stream`), or what went wrong."""
    try:
        response = await http.send(request, stream=True)
    except httpx.TransportError as exc:
        return Failed(transport_failure(exc), connection_error(exc, request, secret))
    status = response.status_code
    if status >= 400:
        error = api_error(response, secret=secret, content=await error_body(response))
        out_of_credit = isinstance(error, InsufficientBalanceError)
        failure = status_failure(status, out_of_credit=out_of_credit)
        return Failed(failure, error, wait_hint(response.headers, status, clock))
    began = False  # whether any byte of the body had arrived
    try:
        if 200 <= status < 300 and Failure.DROPPED in RETRIED_ON[kind]:
            await read_ahead(response)
        began = True
        if not stream:
            await response.aread()
    except httpx.TransportError as exc:
        await response.aclose()
        failure = Failure.BROKEN if began else transport_failure(exc)
        return Failed(failure, connection_error(exc, request, secret))
    except BaseException:  # cancelled (a deadline, an interrupt): the connection is let go
        await response.aclose()
        raise
    return response


async def send(
    http: HTTPClient,
    request: httpx.Request,
    *,
    kind: RetryKind,
    policy: RetryPolicy,
    secret: str | None = None,
    stream: bool = False,
) -> httpx.Response:
    """Send `request` under the retry rules for its `kind` and return a 2xx response or raise.

    With `stream=True` the body is not read (only its first bytes have arrived); the caller
    must close the response.
    """
    retries = 0
    while True:
        outcome = await attempt(
            http, request, kind, secret=secret, stream=stream, clock=policy.clock
        )
        if isinstance(outcome, httpx.Response):
            return outcome
        retried = outcome.failure is not None and outcome.failure in RETRIED_ON[kind]
        wait = policy.delay(retries, outcome.hint) if retried else None
        if wait is None:
            raise not_sent_again(outcome, kind)
        told = on_rate_limited.get() if outcome.failure is Failure.RATE_LIMITED else None
        if told is not None:
            told(wait)
        await policy.sleep(wait)
        retries += 1


def not_sent_again(failed: Failed, kind: RetryKind) -> YJError:
    """The error to raise; for a media submission that failed in a way that may have made
    the task anyway, it says so (sending it again could have paid for two)."""
    error = failed.error
    refused_or_unsent = failed.failure is None or failed.failure in RETRIED_ON[RetryKind.MEDIA]
    if kind is not RetryKind.MEDIA or refused_or_unsent:
        return error
    note = "not sent again: the task may have been created, check before submitting it again"
    if isinstance(error, APIError):
        return type(error)(
            f"{error.message}; {note}", status_code=error.status_code, method=error.method,
            url=error.url, body=error.body,
        )  # fmt: skip
    return APIConnectionError(f"{error}; {note}")

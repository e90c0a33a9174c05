"""httpx's API over aiohttp's connection pool (the `httpx-aiohttp` transport), with aiohttp's
errors mapped to the httpx errors that say whether the request left.

Why aiohttp underneath: under fan-out httpcore's pool re-checks every pooled connection on
each request, which made 100 chats in flight CPU-bound; aiohttp's pool does not
(benchmarks/client.py measures both side by side). The rest of yjnb keeps httpx's API.

Why the mapping: httpx-aiohttp turns every `aiohttp.ClientConnectionError` into
`httpx.ConnectTimeout`, so a server that dropped the connection after reading a request
would look like one that was never reached, and a media submission would be sent, and paid
for, twice. Here only a connection that could not be opened is a connect error.
"""

from __future__ import annotations

import asyncio
import ssl
import urllib.request
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

__all__ = ["PooledTransport", "httpx_error"]


def httpx_error(exc: BaseException) -> httpx.TransportError:
    """The httpx error for an aiohttp one (or for httpx-aiohttp's mapping of it)."""
    cause = exc.__cause__ if isinstance(exc, httpx.TransportError) and exc.__cause__ else exc
    message = str(cause) or type(cause).__name__
    if isinstance(cause, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(message)  # no connection within the pool/connect timeout
    if isinstance(cause, aiohttp.ClientConnectorError):
        return httpx.ConnectError(message)  # refused, unknown host, TLS handshake
    if isinstance(cause, (aiohttp.ServerTimeoutError, asyncio.TimeoutError)):
        return httpx.ReadTimeout(message)
    if isinstance(cause, (aiohttp.ServerDisconnectedError, aiohttp.ClientResponseError)):
        return httpx.RemoteProtocolError(message)  # closed, or not HTTP: it may have been read
    if isinstance(cause, (aiohttp.ClientError, OSError)):
        return httpx.ReadError(message)  # reset, payload cut short, ...
    if isinstance(exc, httpx.TransportError):
        return exc
    return httpx.ReadError(message)


class MappedStream(httpx.AsyncByteStream):
    """A response body whose read errors come out as the right httpx errors. An iterator
    object, not an async generator: one left unfinished has nothing to finalize."""

    def __init__(self, source: Any) -> None:
        self._source = source
        self._chunks: AsyncIterator[bytes] | None = None

    def __aiter__(self) -> AsyncIterator[bytes]:
        self._chunks = self._source.__aiter__()
        return self

    async def __anext__(self) -> bytes:
        assert self._chunks is not None
        try:
            return await self._chunks.__anext__()
        except (httpx.TransportError, aiohttp.ClientError, OSError, asyncio.TimeoutError) as exc:
            raise httpx_error(exc) from None

    async def aclose(self) -> None:
        close = getattr(self._chunks, "aclose", None)  # httpx-aiohttp's reading generator
        if close is not None:
            await close()
        await self._source.aclose()


class PooledTransport(AiohttpTransport):
    """One aiohttp session: `max_connections` in all, TLS from one context, no cookie jar of
    its own (httpx keeps cookies), proxies from the environment (`HTTPS_PROXY`, `NO_PROXY`,
    ...) as httpx would."""

    def __init__(self, *, ssl_context: ssl.SSLContext, limits: httpx.Limits) -> None:
        super().__init__(verify=ssl_context, limits=limits, client=self._session)
        self._loop: asyncio.AbstractEventLoop | None = None

    def _session(self) -> aiohttp.ClientSession:
        # Made on the first request, inside the event loop the session is bound to.
        self._loop = asyncio.get_running_loop()
        connector = aiohttp.TCPConnector(
            limit=self.limits.max_connections or 0,
            keepalive_timeout=self.limits.keepalive_expiry,
            ssl=self.ssl_context,
        )
        # Reading the environment on every request (proxies, and .netrc with them) cost
        # more CPU than the rest of the request: it is done only where a proxy is set.
        proxied = bool(urllib.request.getproxies())
        return aiohttp.ClientSession(
            connector=connector, cookie_jar=aiohttp.DummyCookieJar(), trust_env=proxied
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = await super().handle_async_request(request)
        except (httpx.TransportError, aiohttp.ClientError, OSError, asyncio.TimeoutError) as exc:
            raise httpx_error(exc) from None
        response.stream = MappedStream(response.stream)
        return response

    def forget(self) -> None:
        """Close the pool of a client nobody closed (a script that ended, a second
        `asyncio.run`), when no coroutine can be awaited any more: its sockets are closed,
        and aiohttp is not left to print "Unclosed client session" (httpx's pool is quiet)."""
        session, loop = self.client, self._loop
        if not isinstance(session, aiohttp.ClientSession) or session.closed or loop is None:
            return
        connector = session.connector
        session.detach()  # the session now counts as closed
        if connector is None:
            return
        # `close()` would have to be awaited; its synchronous half closes every socket.
        close_now = connector._close
        if loop.is_running() and not _runs_on(loop):
            loop.call_soon_threadsafe(close_now)
        else:
            close_now()


def _runs_on(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False

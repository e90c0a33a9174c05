"""An answer as aiohttp reads it, behind httpx's `Response` (`AiohttpResponse`), and aiohttp's
errors as the httpx errors that say whether a request left (`httpx_error`). Part of the
transport (`_transport.py`, which re-exports these names): the answer's side of it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import httpx

__all__ = [
    "AIOHTTP_ERRORS",
    "CHUNK_BYTES",
    "AiohttpBody",
    "AiohttpResponse",
    "BodyReads",
    "httpx_error",
]

# What the body of an answer is read in: a gzip bomb is counted at most this much at a time.
CHUNK_BYTES = 16 * 1024


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
    if isinstance(cause, aiohttp.InvalidURL):
        return httpx.UnsupportedProtocol(message)  # nothing was sent: never retried
    if isinstance(cause, (aiohttp.ClientError, OSError)):
        return httpx.ReadError(message)  # reset, payload cut short, ...
    if isinstance(exc, httpx.TransportError):
        return exc
    return httpx.ReadError(message)


AIOHTTP_ERRORS = (aiohttp.ClientError, OSError, asyncio.TimeoutError)


class AiohttpBody(httpx.AsyncByteStream):
    """An answer's body as aiohttp reads it, its errors as httpx errors. An iterator object,
    not an async generator: one left unfinished has nothing to finalize."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response
        self._content = response.content
        self._error: httpx.TransportError | None = None  # raised once what arrived is read

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    async def __anext__(self) -> bytes:
        if self._error is None:
            try:
                chunk = await self._content.read(CHUNK_BYTES)
            except AIOHTTP_ERRORS as exc:
                self._error = httpx_error(exc)
            else:
                if not chunk:
                    raise StopAsyncIteration
                return chunk
        # aiohttp's reads raise a body's error before what it buffered: an answer whose
        # last bytes came with the end of its connection lost them (a partial answer paid
        # for). Those bytes are handed out first.
        left = _buffered(self._content, CHUNK_BYTES)
        if left:
            return left
        raise self._error

    async def aclose(self) -> None:
        # A body left unread closes its connection; a finished one is back in the pool.
        try:
            await self._response.__aexit__(None, None, None)
        except AIOHTTP_ERRORS as exc:
            raise httpx_error(exc) from None


def _buffered(content: aiohttp.StreamReader, limit: int) -> bytes:
    """Up to `limit` bytes aiohttp holds for a body that failed. Its buffer is private, so
    looked up with care: nothing where this aiohttp keeps it elsewhere."""
    read = getattr(content, "_read_nowait", None)
    if read is None or not getattr(content, "_buffer", None):
        return b""
    try:
        return bytes(read(limit))
    except Exception:  # another aiohttp's internals: the error is raised as before
        return b""


class AiohttpResponse(httpx.Response):
    """An `httpx.Response` whose body aiohttp reads. Its httpx headers, extensions and history
    are made only when something reads them (an error, a redirect, a download): on the hot
    path nothing does. A body sent as is (no Content-Encoding) is handed on in the reads it
    came in, without httpx's decoder and re-chunking layers."""

    def __init__(self, answer: aiohttp.ClientResponse, request: httpx.Request) -> None:
        # What `httpx.Response(status, headers=..., stream=..., request=...)` sets, but lazily.
        self.status_code = answer.status
        self._request = request
        self.next_request = None
        self.is_closed = False
        self.is_stream_consumed = False
        self.default_encoding = "utf-8"
        self.stream = AiohttpBody(answer)
        self._num_bytes_downloaded = 0
        self._answer = answer

    @property
    def headers(self) -> httpx.Headers:
        made = self.__dict__.get("headers")
        if made is None:
            made = self.__dict__["headers"] = httpx.Headers(self._answer.raw_headers)
        return made

    @headers.setter
    def headers(self, value: httpx.Headers) -> None:
        self.__dict__["headers"] = value

    @property
    def extensions(self) -> dict[str, Any]:
        made = self.__dict__.get("extensions")
        if made is None:
            made = self.__dict__["extensions"] = {"http_version": b"HTTP/1.1"}
            if self._answer.reason:
                made["reason_phrase"] = self._answer.reason.encode("ascii", "replace")
        return made

    @extensions.setter
    def extensions(self, value: dict[str, Any]) -> None:
        self.__dict__["extensions"] = value

    @property
    def history(self) -> list[httpx.Response]:
        return self.__dict__.setdefault("history", [])

    @history.setter
    def history(self, value: list[httpx.Response]) -> None:
        self.__dict__["history"] = value

    async def aclose(self) -> None:
        """As httpx's, without its context manager (a generator per call): an error of the
        close carries the request all the same."""
        stream = self.stream
        assert isinstance(stream, httpx.AsyncByteStream)
        if not self.is_closed:
            self.is_closed = True
            try:
                await stream.aclose()
            except httpx.RequestError as exc:
                exc.request = self.request
                raise

    def aiter_bytes(self, chunk_size: int | None = None) -> AsyncIterator[bytes]:
        if chunk_size is not None or "content-encoding" in self._answer.headers:
            return super().aiter_bytes(chunk_size)
        if self.is_stream_consumed:
            raise httpx.StreamConsumed()
        if self.is_closed:
            raise httpx.StreamClosed()
        self.is_stream_consumed = True
        return BodyReads(self)


class BodyReads:
    """A response's reads, closing it at the end. An iterator object, not an async
    generator: one left unfinished (a stream the caller left) has nothing to finalize."""

    __slots__ = ("_done", "_reads", "_response")

    def __init__(self, response: httpx.Response) -> None:
        assert isinstance(response.stream, httpx.AsyncByteStream)
        self._response = response
        self._reads = response.stream.__aiter__()
        self._done = False

    def __aiter__(self) -> BodyReads:
        return self

    async def __anext__(self) -> bytes:
        if self._done:  # asked again after the end (a second `async for`): still the end
            raise StopAsyncIteration
        try:
            return await self._reads.__anext__()
        except StopAsyncIteration:
            self._done = True
            await self._response.aclose()
            raise

"""The transports under yjnb, behind one interface (`HTTPClient`: httpx's `build_request` and
`send`), with aiohttp's errors mapped to the httpx errors that say whether the request left.

Two transports answer it:

- `AiohttpClient`, the default: yjnb's requests go straight onto aiohttp's connection pool.
  It builds the `httpx.Request` itself (JSON encoded once, the URL parsed once per URL and
  kept) and hands back a real `httpx.Response` whose body aiohttp reads, so the rest of yjnb
  keeps httpx's API: headers, decoding (the `Limits` count decompressed bytes), errors.
- `httpx.AsyncClient` over any httpx transport (`transport=` on the client: httpx's own pool,
  a proxy mount, `httpx.MockTransport`, ...).

Why aiohttp underneath: under fan-out httpcore's pool re-checks every pooled connection on
each request, which made 100 chats in flight CPU-bound; aiohttp's pool does not. Why not
httpx's client over an aiohttp transport (`httpx-aiohttp`, what yjnb had before): httpx's
request building, cookie extraction and response wrapping then cost twice raw aiohttp's whole
request (benchmarks/client.py measures them side by side).

Why the mapping: an `aiohttp.ClientConnectionError` may come from a server that dropped the
connection after reading a request; taken for one never reached, a media submission would
be sent, and paid for, twice. Here only a connection that could not be opened is a connect
error.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import urllib.request
from collections.abc import AsyncIterator, Mapping
from typing import Any, Protocol

import aiohttp
import httpx
import yarl

__all__ = ["AiohttpClient", "AiohttpResponse", "HTTPClient", "OutgoingRequest", "httpx_error"]

# What the body of an answer is read in: a gzip bomb is counted at most this much at a time.
CHUNK_BYTES = 16 * 1024
# Parsed URLs kept per client: the chat endpoint, the models, ... (polls carry a task id).
URL_CACHE_SIZE = 64

try:  # the encodings httpx can decode, as httpx itself announces them
    from httpx._decoders import SUPPORTED_DECODERS

    ACCEPT_ENCODING = ", ".join(name for name in SUPPORTED_DECODERS if name != "identity")
except ImportError:  # pragma: no cover (a future httpx)
    ACCEPT_ENCODING = "gzip, deflate"


class HTTPClient(Protocol):
    """What yjnb sends through: `httpx.AsyncClient`'s `build_request`, `send` and `aclose`."""

    def build_request(
        self, method: str, url: httpx.URL | str, *, headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None, json: Any = None,
        data: Mapping[str, Any] | None = None, files: Any = None,
    ) -> httpx.Request: ...  # fmt: skip

    async def send(self, request: httpx.Request, *, stream: bool = False) -> httpx.Response: ...

    async def aclose(self) -> None: ...


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


_AIOHTTP_ERRORS = (aiohttp.ClientError, OSError, asyncio.TimeoutError)


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
            except _AIOHTTP_ERRORS as exc:
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
        except _AIOHTTP_ERRORS as exc:
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


class OutgoingRequest(httpx.Request):
    """An `httpx.Request` that keeps what aiohttp sends (the parsed URL, the headers yjnb
    sets, the body), so nothing is encoded or parsed twice. Its httpx headers (with the Host
    and Content-Length that `httpx.Request(content=...)` adds), its stream and extensions are
    made only when something reads them: on the hot path nothing does, and every object a
    request holds while it waits for its answer is one more for the garbage collector."""

    def __init__(
        self, method: str, url: httpx.URL, wire_url: yarl.URL, headers: dict[str, str],
        body: bytes | None, defaults: Mapping[str, str],
    ) -> None:  # fmt: skip
        self.method = method
        self.url = url
        self.wire_url = wire_url
        self.wire_headers = headers  # this request's own; the session sends the defaults
        self.wire_body = body
        self._defaults = defaults
        self._content = body or b""  # `.content`, as `httpx.Request(content=...)` has it

    @property
    def headers(self) -> httpx.Headers:
        made = self.__dict__.get("headers")
        if made is None:
            sent = merged(self._defaults, self.wire_headers)
            listed = [("Host", self.url.netloc.decode("ascii")), *sent.items()]
            if self.wire_body is not None or self.method in ("POST", "PUT", "PATCH"):
                listed.append(("Content-Length", str(len(self._content))))
            made = self.__dict__["headers"] = httpx.Headers(listed)
        return made

    @headers.setter
    def headers(self, value: httpx.Headers) -> None:
        self.__dict__["headers"] = value

    @property
    def stream(self) -> httpx.ByteStream:
        made = self.__dict__.get("stream")
        if made is None:
            made = self.__dict__["stream"] = httpx.ByteStream(self._content)
        return made

    @stream.setter
    def stream(self, value: Any) -> None:
        self.__dict__["stream"] = value

    @property
    def extensions(self) -> dict[str, Any]:
        return self.__dict__.setdefault("extensions", {})

    @extensions.setter
    def extensions(self, value: dict[str, Any]) -> None:
        self.__dict__["extensions"] = value


class AiohttpClient:
    """`build_request` and `send` as `httpx.AsyncClient` has them, for yjnb's requests, onto
    one aiohttp session: `max_connections` in all, TLS from one context, cookies kept,
    proxies from the environment (`HTTPS_PROXY`, `NO_PROXY`, ...) as httpx would, redirects
    never followed (yjnb decides: `_base`, `_media`)."""

    def __init__(
        self, *, timeout: httpx.Timeout, headers: Mapping[str, str], ssl_context: ssl.SSLContext,
        limits: httpx.Limits,
    ) -> None:  # fmt: skip
        # Sent by the session: a request adds only its own (the key, its Content-Type).
        self._headers = {"Accept": "*/*", "Accept-Encoding": ACCEPT_ENCODING, **headers}
        self._ssl_context = ssl_context
        self._limits = limits
        # httpx's pool timeout is aiohttp's `connect`: getting a connection, opening included.
        self._timeout = aiohttp.ClientTimeout(
            total=None, connect=timeout.pool, sock_connect=timeout.connect, sock_read=timeout.read
        )
        self._urls: dict[str, tuple[httpx.URL, yarl.URL]] = {}
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- requests -----------------------------------------------------------------------------

    def build_request(
        self, method: str, url: httpx.URL | str, *, headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None, json: Any = None,
        data: Mapping[str, Any] | None = None, files: Any = None,
    ) -> httpx.Request:  # fmt: skip
        """The request, as `httpx.AsyncClient.build_request` would make it. Raises what httpx
        raises for a body it cannot encode (`TypeError`, `ValueError`) or a bad URL."""
        parsed, wire_url = self._url(url, params)
        sent = dict(headers) if headers else {}
        body: bytes | None = None
        if files or data:  # multipart or a form: encoded by httpx, then read once
            form = httpx.Request(method, parsed, data=data, files=files)
            body = form.read()
            sent["Content-Type"] = form.headers["Content-Type"]
        elif json is not None:
            body = _json_bytes(json)
            sent["Content-Type"] = "application/json"
        return OutgoingRequest(method.upper(), parsed, wire_url, sent, body, self._headers)

    def _url(
        self, url: httpx.URL | str, params: Mapping[str, str] | None
    ) -> tuple[httpx.URL, yarl.URL]:
        """The URL (`params`, if any, as its query), parsed once and kept when it can be."""
        key = url if isinstance(url, str) and not params else None
        if key is not None and key in self._urls:
            return self._urls[key]
        parsed = httpx.URL(url, params=params) if params else httpx.URL(url)  # as httpx does
        pair = parsed, yarl.URL(str(parsed), encoded=True)  # already encoded by httpx
        if key is not None:
            if len(self._urls) >= URL_CACHE_SIZE:
                self._urls.clear()
            self._urls[key] = pair
        return pair

    async def send(self, request: httpx.Request, *, stream: bool = False) -> httpx.Response:
        """Send `request` (redirects are not followed); errors are httpx's transport errors."""
        if isinstance(request, OutgoingRequest):
            url, headers, body = request.wire_url, request.wire_headers, request.wire_body
        else:  # built elsewhere: sent as httpx would send it
            url, body = yarl.URL(str(request.url), encoded=True), await request.aread() or None
            skipped = ("host", "content-length", "transfer-encoding")
            headers = {k: v for k, v in request.headers.items() if k not in skipped}
        session = self._session if self._session is not None else self._open()
        try:
            answer = await session.request(
                request.method, url, headers=headers, data=body, allow_redirects=False,
                timeout=self._timeout,
            )  # fmt: skip
        except _AIOHTTP_ERRORS as exc:
            raise httpx_error(exc) from None
        response = AiohttpResponse(answer, request)
        if not stream:
            await response.aread()
        return response

    # -- the session --------------------------------------------------------------------------

    def _open(self) -> aiohttp.ClientSession:
        """The session, made on the first request, inside the event loop it is bound to."""
        self._loop = asyncio.get_running_loop()
        connector = aiohttp.TCPConnector(
            limit=self._limits.max_connections or 0,
            keepalive_timeout=self._limits.keepalive_expiry,
            ssl=self._ssl_context,
        )
        # Reading the environment on every request (proxies, and .netrc with them) cost
        # more CPU than the rest of the request: it is done only where a proxy is set.
        proxied = bool(urllib.request.getproxies())
        self._session = aiohttp.ClientSession(
            connector=connector,
            headers=self._headers,
            cookie_jar=aiohttp.CookieJar(unsafe=True),  # as httpx's client: IP hosts too
            trust_env=proxied,
            auto_decompress=False,  # httpx decodes, so the limits count inflated bytes
            skip_auto_headers=("User-Agent",),  # yjnb's own, from the headers
        )
        return self._session

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    def forget(self) -> None:
        """Close the pool of a client nobody closed (a script that ended, a second
        `asyncio.run`), when no coroutine can be awaited any more: its sockets are closed,
        and aiohttp is not left to print "Unclosed client session" (httpx's pool is quiet)."""
        session, loop = self._session, self._loop
        if session is None or session.closed or loop is None:
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


# JSON as httpx encodes it: compact, UTF-8, NaN refused (a `ValueError`). One encoder, made
# once: `json.dumps` with options makes a new one per call.
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def merged(defaults: Mapping[str, str], headers: Mapping[str, str]) -> dict[str, str]:
    """`defaults` with `headers` over them, names compared case-insensitively (as httpx and
    aiohttp merge a client's headers with a request's)."""
    out = dict(defaults)
    for name, value in headers.items():
        for default in [d for d in out if d.lower() == name.lower() and d != name]:
            del out[default]
        out[name] = value
    return out


def _json_bytes(value: Any) -> bytes:
    return _JSON.encode(value).encode()


def _runs_on(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False

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
error. The answer's side (its body, the response, the mapping) is in `_transport_answer.py`.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import urllib.request
from collections.abc import Mapping
from typing import Any, Protocol

import aiohttp
import httpx
import yarl

from ._transport_answer import (
    AIOHTTP_ERRORS,
    AiohttpResponse,
    httpx_error,
)

__all__ = ["AiohttpClient", "AiohttpResponse", "HTTPClient", "OutgoingRequest", "httpx_error"]

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
        except AIOHTTP_ERRORS as exc:
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

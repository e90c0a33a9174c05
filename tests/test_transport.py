"""The transports under yjnb (its requests straight onto aiohttp's pool, or httpx's own client):
their errors say whether a request left, which decides what is retried; the request sent is
the one httpx would build. A raw socket server on loopback misbehaves on purpose and counts
the requests it read. The behaviour tests run on both transports."""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
import threading
from collections.abc import Callable, Iterator

import aiohttp
import httpx
import pytest

import yjnb
from yjnb._retry import RetryPolicy
from yjnb._transport import AiohttpClient

Handler = Callable[[socket.socket, bytes], None]
ANSWER = {"content": "ok", "usage": {"prompt_tokens": 1, "completion_tokens": 1}}


class RawServer:
    """Reads each request's head and hands the connection to `handler`."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[bytes] = []
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except (TimeoutError, OSError):
                continue
            with conn:
                head = conn.recv(65536)
                if head:
                    self.requests.append(head.split(b"\r\n", 1)[0])
                    self.handler(conn, head)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self._sock.close()


@pytest.fixture
def serve_raw() -> Iterator[Callable[[Handler], RawServer]]:
    servers: list[RawServer] = []

    def start(handler: Handler) -> RawServer:
        servers.append(RawServer(handler))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def hang_up(conn: socket.socket, head: bytes) -> None:
    """Read the request, then close without a word: it may well have been acted on."""


def answer_json(conn: socket.socket, head: bytes) -> None:
    body = json.dumps(ANSWER).encode()
    conn.sendall(
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n"
        + f"content-length: {len(body)}\r\n\r\n".encode()
        + body
    )


@pytest.mark.usefixtures("each_transport")
def test_a_video_submission_whose_connection_was_dropped_is_not_sent_again(
    serve_raw: Callable[[Handler], RawServer],
) -> None:
    server = serve_raw(hang_up)
    client = yjnb.Client(api_key="sk-x", base_url=server.url)
    with pytest.raises(yjnb.APIConnectionError, match="the task may have been created"):
        client.video("a cat", model="viduq3-pro", duration=1, wait=False)
    assert server.requests == [b"POST /llmage/v1/video/generations HTTP/1.1"]


@pytest.mark.usefixtures("each_transport")
def test_a_chat_whose_connection_was_dropped_before_any_answer_is_sent_again(
    serve_raw: Callable[[Handler], RawServer],
) -> None:
    answers = iter([hang_up, answer_json])
    server = serve_raw(lambda conn, head: next(answers)(conn, head))
    client = yjnb.Client(api_key="sk-x", base_url=server.url)
    client.aio._retry = RetryPolicy(sleep=lambda seconds: asyncio.sleep(0))
    assert client.chat("hi").text == "ok"
    assert len(server.requests) == 2


@pytest.mark.usefixtures("each_transport")
def test_proxies_from_the_environment_are_used(
    serve_raw: Callable[[Handler], RawServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy = serve_raw(answer_json)
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    client = yjnb.Client(api_key="sk-x", base_url="http://platform.invalid")
    assert client.chat("hi").text == "ok"
    assert proxy.requests == [b"POST http://platform.invalid/llmage/v1/chat/completions HTTP/1.1"]


@pytest.mark.parametrize(
    ("raised", "mapped"),
    [
        (aiohttp.ServerDisconnectedError(), httpx.RemoteProtocolError),
        (aiohttp.ClientOSError(104, "Connection reset by peer"), httpx.ReadError),
        (aiohttp.ClientPayloadError("Response payload is not completed"), httpx.ReadError),
        (aiohttp.SocketTimeoutError("Timeout on reading data from socket"), httpx.ReadTimeout),
        (aiohttp.ConnectionTimeoutError("Connection timeout"), httpx.ConnectTimeout),
    ],
)
def test_only_a_connection_that_never_opened_is_a_connect_error(
    raised: BaseException, mapped: type[httpx.TransportError]
) -> None:
    from yjnb._transport_answer import httpx_error

    # httpx-aiohttp alone maps every aiohttp connection error to ConnectTimeout ("never sent").
    wrapped = httpx.ConnectTimeout(str(raised))
    wrapped.__cause__ = raised
    assert type(httpx_error(wrapped)) is mapped
    assert type(httpx_error(raised)) is mapped


def answer_gzipped(conn: socket.socket, head: bytes) -> None:
    body = gzip.compress(json.dumps(ANSWER).encode())
    conn.sendall(
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-encoding: gzip\r\n"
        + f"connection: close\r\ncontent-length: {len(body)}\r\n\r\n".encode()
        + body
    )


@pytest.mark.usefixtures("each_transport")
def test_a_compressed_answer_is_decoded(serve_raw: Callable[[Handler], RawServer]) -> None:
    server = serve_raw(answer_gzipped)
    assert yjnb.Client(api_key="sk-x", base_url=server.url).chat("hi").text == "ok"


@pytest.mark.usefixtures("each_transport")
def test_cookies_the_platform_sets_are_sent_back(
    serve_raw: Callable[[Handler], RawServer],
) -> None:
    heads: list[bytes] = []

    def set_cookie(conn: socket.socket, head: bytes) -> None:
        heads.append(head)
        body = json.dumps(ANSWER).encode()
        conn.sendall(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n"
            + b"set-cookie: lb=node-7; Path=/\r\n"
            + f"content-length: {len(body)}\r\n\r\n".encode()
            + body
        )

    server = serve_raw(set_cookie)
    client = yjnb.Client(api_key="sk-x", base_url=server.url)
    client.chat("hi")
    client.chat("again")
    assert b"lb=node-7" not in heads[0].lower()
    assert b"cookie: lb=node-7" in heads[1].lower()  # a load balancer's sticky session


def test_a_custom_httpx_transport_is_used() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=ANSWER)

    client = yjnb.Client(
        api_key="sk-x", base_url="http://platform.test", transport=httpx.MockTransport(handler)
    )
    assert client.chat("hi").text == "ok"
    assert [str(r.url) for r in seen] == ["http://platform.test/llmage/v1/chat/completions"]
    assert seen[0].headers["authorization"] == "Bearer sk-x"


def test_an_unknown_transport_is_refused_before_any_request() -> None:
    with pytest.raises(yjnb.ConfigError, match="transport='curl' is not known"):
        yjnb.AsyncClient(api_key="sk-x", base_url="http://platform.test", transport="curl")


@pytest.mark.parametrize(
    "call",
    [
        {"json": {"model": "m", "messages": [{"role": "user", "content": "héllo"}], "n": 1.5}},
        {"params": {"task_id": "t 1/2", "x": "ä"}},
        {"data": {"prompt": "a cat"}, "files": [("image", ("a.png", b"\x89PNG", "image/png"))]},
        {"headers": {"user-agent": "mine/1", "X-Extra": "1"}, "json": []},
    ],
)
def test_the_request_built_for_aiohttp_is_the_one_httpx_builds(call: dict[str, object]) -> None:
    """What the direct path sends (and shows in errors) is what httpx's client would send."""
    headers = {"User-Agent": "yjnb/0.1", "X-Default": "d"}
    url = "http://platform.test:8080/base/v1/tasks?fixed=1"
    ours = AiohttpClient(
        timeout=httpx.Timeout(5.0), headers=headers, ssl_context=httpx.create_ssl_context(),
        limits=httpx.Limits(),
    ).build_request("POST", url, **call)  # type: ignore[arg-type]  # fmt: skip
    theirs = httpx.AsyncClient(headers=headers).build_request("POST", url, **call)  # type: ignore[arg-type]
    theirs.read()  # a multipart body is a stream until read
    assert (ours.method, ours.url) == (theirs.method, theirs.url)
    assert str(ours.wire_url) == str(theirs.url)  # type: ignore[attr-defined]
    if "files" in call:  # a multipart boundary is random: the same parts, another boundary
        boundary = theirs.headers["content-type"].split("boundary=")[1].encode()
        ours_boundary = ours.headers["content-type"].split("boundary=")[1].encode()
        assert ours.content.replace(ours_boundary, boundary) == theirs.content
    else:
        assert ours.content == theirs.content
    expected = {k: v for k, v in theirs.headers.multi_items() if k != "connection"}
    got = dict(ours.headers.multi_items())
    if "files" in call:
        expected.pop("content-type"), got.pop("content-type")
    assert got == expected
    assert len(ours.headers.get_list("user-agent")) == 1


def test_the_response_from_aiohttp_reads_as_httpx_s(
    serve_raw: Callable[[Handler], RawServer],
) -> None:
    """Headers, reason, history and body of the direct path's response, as httpx gives them."""

    def answer(conn: socket.socket, head: bytes) -> None:
        conn.sendall(
            b"HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json\r\n"
            b"Retry-After: 3\r\nx-ratelimit-reset-requests: 2s\r\nset-cookie: a=1\r\n"
            b'set-cookie: b=2\r\nconnection: close\r\ncontent-length: 11\r\n\r\n{"error":1}'
        )

    server = serve_raw(answer)

    async def fetch() -> tuple[httpx.Response, httpx.Response]:
        ours = AiohttpClient(
            timeout=httpx.Timeout(5.0), headers={}, ssl_context=httpx.create_ssl_context(),
            limits=httpx.Limits(),
        )  # fmt: skip
        async with httpx.AsyncClient() as plain:
            theirs = await plain.get(server.url)
        got = await ours.send(ours.build_request("GET", server.url))
        await ours.aclose()
        return got, theirs

    got, theirs = asyncio.run(fetch())
    assert got.headers.multi_items() == theirs.headers.multi_items()
    assert got.headers.get_list("set-cookie") == ["a=1", "b=2"]
    assert (got.status_code, got.reason_phrase, got.http_version) == (
        429,
        "Too Many Requests",
        "HTTP/1.1",
    )
    assert got.history == [] and not got.is_success
    assert got.json() == theirs.json() == {"error": 1}
    assert got.request.url == httpx.URL(server.url)


def test_an_answer_read_ahead_then_read_is_closed_once_and_a_close_error_names_the_request(
    serve_raw: Callable[[Handler], RawServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The chat path (`read_ahead`, then `read_capped`) closes aiohttp's body once; an error
    of the close is an httpx error that carries the request, as httpx's own close makes it."""
    from yjnb._bounded import read_capped
    from yjnb._http import read_ahead
    from yjnb._transport_answer import AiohttpBody

    closes: list[int] = []
    close = AiohttpBody.aclose

    async def counted(self: AiohttpBody) -> None:
        closes.append(1)
        await close(self)

    monkeypatch.setattr(AiohttpBody, "aclose", counted)
    server = serve_raw(answer_json)

    async def fetch() -> tuple[bytes, bool, httpx.Request, httpx.Request]:
        ours = AiohttpClient(
            timeout=httpx.Timeout(5.0), headers={}, ssl_context=httpx.create_ssl_context(),
            limits=httpx.Limits(),
        )  # fmt: skip
        request = ours.build_request("GET", server.url)
        response = await ours.send(request, stream=True)
        await read_ahead(response)
        body, more = await read_capped(response, 1 << 20)
        failing = await ours.send(ours.build_request("GET", server.url), stream=True)

        async def broken(self: AiohttpBody) -> None:
            raise httpx.ReadError("reset")

        monkeypatch.setattr(AiohttpBody, "aclose", broken)
        with pytest.raises(httpx.ReadError) as info:
            await failing.aclose()
        monkeypatch.setattr(AiohttpBody, "aclose", close)
        await ours.aclose()
        return body, more, info.value.request, failing.request

    body, more, named, sent = asyncio.run(fetch())
    assert (json.loads(body), more) == (ANSWER, False)
    assert closes == [1]
    assert named is sent

"""The transport under yjnb (httpx over aiohttp's pool): its errors say whether a request
left, which decides what is retried. A raw socket server on loopback misbehaves on purpose
and counts the requests it read."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Callable, Iterator

import aiohttp
import httpx
import pytest

import yjnb
from yjnb._retry import RetryPolicy

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


def test_a_video_submission_whose_connection_was_dropped_is_not_sent_again(
    serve_raw: Callable[[Handler], RawServer],
) -> None:
    server = serve_raw(hang_up)
    client = yjnb.Client(api_key="sk-x", base_url=server.url)
    with pytest.raises(yjnb.APIConnectionError, match="the task may have been created"):
        client.video("a cat", model="viduq3-pro", duration=1, wait=False)
    assert server.requests == [b"POST /llmage/v1/video/generations HTTP/1.1"]


def test_a_chat_whose_connection_was_dropped_before_any_answer_is_sent_again(
    serve_raw: Callable[[Handler], RawServer],
) -> None:
    answers = iter([hang_up, answer_json])
    server = serve_raw(lambda conn, head: next(answers)(conn, head))
    client = yjnb.Client(api_key="sk-x", base_url=server.url)
    client.aio._retry = RetryPolicy(sleep=lambda seconds: asyncio.sleep(0))
    assert client.chat("hi").text == "ok"
    assert len(server.requests) == 2


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
    from yjnb._transport import httpx_error

    # httpx-aiohttp alone maps every aiohttp connection error to ConnectTimeout ("never sent").
    wrapped = httpx.ConnectTimeout(str(raised))
    wrapped.__cause__ = raised
    assert type(httpx_error(wrapped)) is mapped
    assert type(httpx_error(raised)) is mapped

"""A deliberately hostile platform: every scenario answers every request in one bad way.

The scenario is the first path segment, so a client is pointed at one through its base URL:
`Client(base_url=server.base("gzip_bomb"))` asks `/gzip_bomb/llmage/v1/tasks?taskid=...`.
What a scenario sends may depend on what was asked (chat, streamed chat, models, a task
status or a submission), read from the rest of the path and the JSON body.

Endless answers are generators that never stop on their own: the client has to end them.
Drips are scaled down (`DRIP_S` per byte instead of the 2 s of the report) so that a test
with small `Limits` ends quickly; the shape of the attack is the same.
"""

from __future__ import annotations

import asyncio
import functools
import json
import socket
import threading
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

HOST = "127.0.0.1"
DRIP_S = 0.02
BLOCK = 64 * 1024
SSE = "text/event-stream"


@dataclass(frozen=True)
class Asked:
    """What a request asks for, as far as a scenario cares."""

    path: str  # after the scenario segment, e.g. "/llmage/v1/chat/completions"
    stream: bool
    authorization: str

    @property
    def chat(self) -> bool:
        return self.path.endswith("/chat/completions")

    @property
    def models(self) -> bool:
        return self.path.endswith("/models")


async def asked(request: Request) -> Asked:
    body = await request.body()
    try:
        sent = json.loads(body) if body else {}
    except ValueError:
        sent = {}  # multipart: a task submission
    stream = isinstance(sent, dict) and sent.get("stream") is True
    return Asked(
        "/" + request.path_params["rest"], stream, request.headers.get("authorization", "")
    )


def event(obj: object) -> bytes:
    return b"data: " + json.dumps(obj).encode() + b"\n\n"


def token(text: str) -> bytes:
    return event({"choices": [{"delta": {"content": text}}]})


async def forever(piece: bytes, pause: float = 0.0) -> AsyncIterator[bytes]:
    """`piece` again and again; a pause of 0 still lets the server notice a disconnect."""
    while True:
        yield piece
        await asyncio.sleep(pause)


async def after(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    yield first
    async for piece in rest:
        yield piece


async def drip(data: bytes) -> AsyncIterator[bytes]:
    """`data` one byte at a time, `DRIP_S` apart, again and again."""
    while True:
        for i in range(len(data)):
            yield data[i : i + 1]
            await asyncio.sleep(DRIP_S)


# -- scenarios: malformed answers ---------------------------------------------------------------


async def not_json(a: Asked) -> Response:
    """A 200 that is an HTML page (a proxy's, say), echoing the key it was sent."""
    page = f"<html><body>Welcome!\n<!-- you sent {a.authorization} --></body></html>"
    if a.chat and a.stream:
        return Response(f"data: {page}\n\n", media_type=SSE)
    return Response(page, media_type="text/html")


async def wrong_types(a: Asked) -> Response:
    """JSON of the wrong shape: models `{"data": 5}`, `message.content` 5, a delta that is a
    string, a task status that is a list, a submission whose task id is an object."""
    if a.models:
        return JSONResponse({"data": 5})
    if a.chat and a.stream:
        body = event({"choices": [{"delta": "str"}]}) + b"data: [DONE]\n\n"
        return Response(body, media_type=SSE)
    if a.chat:
        return JSONResponse({"choices": [{"message": {"content": 5}}]})
    if a.path.endswith("/tasks"):
        return JSONResponse(["RUNNING"])
    return JSONResponse({"taskid": {"id": "t-1"}, "status": "CREATED"})


async def stream_content_number(a: Asked) -> Response:
    """A streamed chat whose content is a number."""
    body = event({"choices": [{"delta": {"content": 5}}]}) + b"data: [DONE]\n\n"
    return Response(body, media_type=SSE)


async def stream_error_echo(a: Asked) -> Response:
    """A stream that breaks off with an error echoing the key it was sent."""
    error = event({"error": f"rejected: you sent {a.authorization}"})
    return Response(token("Hello, ") + error, media_type=SSE)


_REFUSED_AFTER_ONE: set[str] = set()


async def stream_cut_then_refused(a: Asked) -> Response:
    """A stream cut without a finish signal, echoing the key it was sent; any later request
    with the same key is refused (400). One unique key per test keeps tests apart."""
    if a.authorization in _REFUSED_AFTER_ONE:
        return JSONResponse({"error": "refused"}, status_code=400)
    _REFUSED_AFTER_ONE.add(a.authorization)
    return Response(token(f"Hello, you sent {a.authorization}"), media_type=SSE)


async def task_fails_later(a: Asked) -> Response:
    """A submission that works, then a task status that is not JSON."""
    if a.path.endswith("/generations"):
        return JSONResponse({"taskid": "t-hostile-1", "status": "CREATED"})
    return Response("<html>maintenance</html>", media_type="text/html")


# -- scenarios: endless and oversized answers ---------------------------------------------------


async def endless_body(a: Asked) -> Response:
    """A JSON answer that never ends (fast)."""
    head = b'{"choices": [{"message": {"content": "'
    return StreamingResponse(after(head, forever(b"a" * BLOCK)), media_type="application/json")


async def endless_error(a: Asked) -> Response:
    """A 500 whose error message never ends."""
    head = b'{"error": "'
    body = after(head, forever(b"x" * BLOCK))
    return StreamingResponse(body, status_code=500, media_type="application/json")


async def endless_stream(a: Asked) -> Response:
    """Tokens forever, fast, and never a finish signal."""
    return StreamingResponse(forever(token("all work and no play ") * 100), media_type=SSE)


async def endless_line(a: Asked) -> Response:
    """One SSE line that never ends."""
    head = b'data: {"choices": [{"delta": {"content": "'
    return StreamingResponse(after(head, forever(b"a" * BLOCK)), media_type=SSE)


@functools.cache
def gzip_bomb_bytes() -> bytes:
    """A task status of about 510 KB that inflates to 512 MiB (level 9 deflate of spaces)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    out = [packer.compress(b'{"taskid": "t-bomb", "status": "RUNNING", "pad": "')]
    block = b" " * (1 << 20)
    out += [packer.compress(block) for _ in range(512)]
    out += [packer.compress(b'"}'), packer.flush()]
    return b"".join(out)


async def gzip_bomb(a: Asked) -> Response:
    bomb = gzip_bomb_bytes()
    headers = {"Content-Encoding": "gzip"}
    return Response(bomb, media_type="application/json", headers=headers)


# -- scenarios: slow drips ----------------------------------------------------------------------


async def drip_body(a: Asked) -> Response:
    """A JSON answer sent one byte at a time, forever: the read timeout never fires."""
    return StreamingResponse(drip(b'{"choices": [{"message": {"content": "' + b"a" * 64))


async def drip_line(a: Asked) -> Response:
    """A stream whose first event arrives one byte at a time and never ends."""
    head = b'data: {"choices": [{"delta": {"content": "'
    return StreamingResponse(drip(head + b"a" * 64), media_type=SSE)


async def drip_events(a: Asked) -> Response:
    """Whole (short) events, one byte at a time: the stream makes progress, slowly, forever."""
    return StreamingResponse(drip(event({"content": "a"})), media_type=SSE)


SCENARIOS: dict[str, Callable[[Asked], Awaitable[Response]]] = {
    f.__name__: f
    for f in (
        not_json, wrong_types, stream_content_number, stream_error_echo,
        stream_cut_then_refused, task_fails_later,
        endless_body,
        endless_error, endless_stream, endless_line, gzip_bomb, drip_body, drip_line,
        drip_events,
    )
}  # fmt: skip


async def dispatch(request: Request) -> Response:
    scenario = SCENARIOS.get(request.path_params["scenario"])
    if scenario is None:
        return JSONResponse({"error": "no such scenario"}, status_code=404)
    return await scenario(await asked(request))


def create_app() -> Starlette:
    route = Route("/{scenario}/{rest:path}", dispatch, methods=["GET", "POST"])
    return Starlette(routes=[route])


class HostileServer:
    """The app under uvicorn on a free loopback port, in a daemon thread."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._sock.bind((HOST, 0))
        self.port = self._sock.getsockname()[1]
        config = uvicorn.Config(
            create_app(),
            log_config=None,
            log_level="critical",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,  # endless answers must not hold shutdown hostage
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def base(self, scenario: str) -> str:
        """The base URL that makes a client talk to `scenario`."""
        assert scenario in SCENARIOS, scenario
        return f"{self.url}/{scenario}"

    def start(self) -> HostileServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the hostile server did not start")
            time.sleep(0.005)
        return self

    def close(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()
